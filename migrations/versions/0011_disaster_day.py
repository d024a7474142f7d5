"""The disaster day: which operators' desk a case's card went to, and cards folded into a list of waiting
reports while a group's queue is long.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('desk_chat_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_ref', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_batch_ref'), ['batch_ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_batch_ref'))
        batch_op.drop_column('batch_ref')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('desk_chat_id')
