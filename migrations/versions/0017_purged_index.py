"""purged index: the ids of purged cases, which the inbox leaves out,
read from a partial index instead of testing each case row (a deep inbox
page read every row before it)

Revision ID: 0017_purged_index
Revises: 0016_unit_periods
Create Date: 2026-12-06 23:30:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0017_purged_index'
down_revision = '0016_unit_periods'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_reports_purged', 'reports', ['id', 'purged_on'],
                    postgresql_where=sa.text('purged_on IS NOT NULL'), sqlite_where=sa.text('purged_on IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_reports_purged', table_name='reports')
