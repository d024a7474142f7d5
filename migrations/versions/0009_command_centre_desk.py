"""The command centre's desk: how a report arrived (chat or a call entered by an operator, with the caller),
its class of 112 traffic, the first operator action, drills.

Chat cases get `intake` from their reporter's channel and `first_action_at` from the first timeline entry by
someone other than the reporter and the system.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('testers', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drills'))
    )
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drills_stopped_at'), ['stopped_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('entered_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('caller_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('caller_phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('traffic_class', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('first_action_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('drill', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_cases_drill'), ['drill'], unique=False)

    op.execute("UPDATE cases SET intake = (SELECT r.channel FROM reporters r WHERE r.id = cases.reporter_id)")
    op.execute("UPDATE cases SET first_action_at = (SELECT min(e.at) FROM case_events e JOIN reporters r"
               " ON r.id = cases.reporter_id WHERE e.case_id = cases.id AND e.actor <> 'system'"
               " AND e.actor <> r.channel || ':' || r.external_id)")
    op.execute("UPDATE cases SET traffic_class = 'prank' WHERE state = 'rejected' AND reject_reason = 'hoax'")
    op.execute("UPDATE cases SET traffic_class = 'emergency' WHERE verified_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_drill'))
        batch_op.drop_column('drill')
        batch_op.drop_column('first_action_at')
        batch_op.drop_column('traffic_class')
        batch_op.drop_column('caller_phone')
        batch_op.drop_column('caller_name')
        batch_op.drop_column('entered_by')
        batch_op.drop_column('intake')

    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drills_stopped_at'))

    op.drop_table('drills')
