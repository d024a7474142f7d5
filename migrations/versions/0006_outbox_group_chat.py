"""Outbox: the group a message goes to, so a group's lanes send one message at a time, most urgent first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 04:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_chat', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_outbox_group', ['channel', 'group_chat', 'status'], unique=False)
    # Messages still waiting keep their place: a group lane is "<group id>#…" (answers to button presses are
    # "cb:…" and stay outside).
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('chat_id', sa.String),
                      sa.column('status', sa.String), sa.column('group_chat', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.chat_id)
                        .where(outbox.c.status.in_(('pending', 'sending')), outbox.c.chat_id.like('-%'))).all()
    for row in rows:
        conn.execute(outbox.update().where(outbox.c.id == row.id).values(group_chat=row.chat_id.split('#')[0]))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_group')
        batch_op.drop_column('group_chat')
