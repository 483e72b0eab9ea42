"""The overdue filter read from indexes alone: the received-order index
carries the deadline columns, so the first overdue page is found by reading
index entries, not the row of every newer case; the two overdue indexes
carry id and channel_id, so its count needs no row either

Revision ID: 0021_overdue_from_indexes
Revises: 0020_case_counts
Create Date: 2026-12-08 00:20:00.000000
"""
from alembic import op


revision = '0021_overdue_from_indexes'
down_revision = '0020_case_counts'
branch_labels = None
depends_on = None

BEFORE = {
    "ix_reports_received": ["received_on", "id", "channel_id"],
    "ix_reports_status_acknowledge_due": ["status", "acknowledge_due"],
    "ix_reports_status_feedback_due": ["status", "feedback_on", "feedback_due"],
}
AFTER = {
    "ix_reports_received": ["received_on", "id", "channel_id", "status", "acknowledge_due", "feedback_on",
                            "feedback_due"],
    "ix_reports_status_acknowledge_due": ["status", "acknowledge_due", "id", "channel_id"],
    "ix_reports_status_feedback_due": ["status", "feedback_on", "feedback_due", "id", "channel_id"],
}


def _replace(indexes: dict) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="reports")
        op.create_index(name, "reports", columns)


def upgrade() -> None:
    _replace(AFTER)


def downgrade() -> None:
    _replace(BEFORE)
