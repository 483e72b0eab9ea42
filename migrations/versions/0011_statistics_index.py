"""statistics index: closings per quarter read from an index on
status_events (insights/tables.py), so freezing a quarter stays fast at
100 000 cases

Revision ID: 0011_statistics_index
Revises: 0010_named_statements
Create Date: 2026-12-02 20:30:00.000000
"""
from alembic import op


revision = '0011_statistics_index'
down_revision = '0010_named_statements'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_status_events_status_day', 'status_events', ['status', 'occurred_on', 'report_id', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_status_events_status_day', table_name='status_events')
