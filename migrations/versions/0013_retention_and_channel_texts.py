"""retention and channel texts: each channel's retention period and its
English name and description; the day a case was purged (crypto-shredded)

Revision ID: 0013_retention
Revises: 0012_case_reference
Create Date: 2026-12-03 15:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_retention'
down_revision = '0012_case_reference'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('description_en', sa.String(500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), nullable=False, server_default='24'))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('purged_on')
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('retention_months')
        batch_op.drop_column('description_en')
        batch_op.drop_column('name_en')
