"""the tables a reporter writes to are kept in the order of their random
primary key on SQLite (WITHOUT ROWID), so a reporter's row no longer lies
between staff rows whose times the audit log gives to the second

Revision ID: 0019_orderless_reporter_tables
Revises: 0018_purged_leave_channel
Create Date: 2026-12-07 01:10:00.000000
"""
from alembic import op


revision = '0019_orderless_reporter_tables'
down_revision = '0018_purged_leave_channel'
branch_labels = None
depends_on = None

# Parents before children, so that each copy finds the rows it refers to.
TABLES = ("reports", "report_answers", "messages", "status_events", "attachments", "attachment_chunks",
          "report_keys", "exclusions", "key_grants", "used_form_tokens", "server_sessions")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL has no rowid; its heap is reordered by the purge job
    for table in TABLES:
        # The copy is read in rowid order but stored by primary key.
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
