"""Operations kit: each worker loop's last heartbeat, so `/metrics` on any web process can tell a stopped loop.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'heartbeats',
        sa.Column('process', sa.String(length=100), nullable=False),
        sa.Column('loop', sa.String(length=16), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('process', 'loop'),
    )
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_heartbeats_beat_at'), ['beat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_heartbeats_beat_at'))
    op.drop_table('heartbeats')
