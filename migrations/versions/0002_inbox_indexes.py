"""inbox indexes: covering sort indexes, overdue branches, exclusions by handler

The inbox reads a page of ids from the index of its sort order and checks
visibility (channel_id, id) in the same index; the overdue filter uses one
index per branch of its OR; the inbox count subtracts a handler's exclusions;
the "waiting for access" count reads the open cases (a partial index) and the
handler's own keys.
See portal/reports/inbox.py and the "Inbox" section of docs/benchmarks.md.

Revision ID: 0002_inbox_indexes
Revises: 0001_initial
Create Date: 2026-11-27 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0002_inbox_indexes'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

# name -> (columns after this revision, columns before it or None when new)
REPORT_INDEXES = {
    'ix_reports_channel_status_received': (['channel_id', 'status', 'received_on', 'id'],
                                           ['channel_id', 'status', 'received_on']),
    'ix_reports_received': (['received_on', 'id', 'channel_id'], None),
    'ix_reports_acknowledge_due': (['acknowledge_due', 'id', 'channel_id'], ['acknowledge_due']),
    'ix_reports_feedback_due': (['feedback_due', 'id', 'channel_id'], ['feedback_due']),
    'ix_reports_status_acknowledge_due': (['status', 'acknowledge_due'], None),
    'ix_reports_status_feedback_due': (['status', 'feedback_on', 'feedback_due'], None),
}


def upgrade() -> None:
    for name, (columns, before) in REPORT_INDEXES.items():
        if before is not None:
            op.drop_index(name, table_name='reports')
        op.create_index(name, 'reports', columns, unique=False)
    open_cases = sa.text("status != 'closed'")
    op.create_index('ix_reports_open', 'reports', ['channel_id', 'id', 'status'], unique=False,
                    postgresql_where=open_cases, sqlite_where=open_cases)
    op.create_index('ix_exclusions_user', 'exclusions', ['user_id', 'report_id'], unique=False)
    op.create_index('ix_report_keys_user', 'report_keys', ['user_id', 'report_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_keys_user', table_name='report_keys')
    op.drop_index('ix_exclusions_user', table_name='exclusions')
    op.drop_index('ix_reports_open', table_name='reports')
    for name, (_columns, before) in REPORT_INDEXES.items():
        op.drop_index(name, table_name='reports')
        if before is not None:
            op.create_index(name, 'reports', before, unique=False)
