"""Places: a case's desa/kelurahan and kecamatan from the regency's gazetteer, how they were found, and the
accuracy of the reporter's pin.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('desa_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('kecamatan_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('place_match', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('place_distance_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('location_accuracy_m', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_kecamatan_code'), ['kecamatan_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_kecamatan_code'))
        batch_op.drop_column('location_accuracy_m')
        batch_op.drop_column('place_distance_m')
        batch_op.drop_column('place_match')
        batch_op.drop_column('kecamatan_code')
        batch_op.drop_column('desa_code')
