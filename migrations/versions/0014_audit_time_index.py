"""audit time index: the admin's audit log is read newest first and by
date range (organisation/audit_view.py), which without an index sorts the
whole log on every page

Revision ID: 0014_audit_time_index
Revises: 0013_retention
Create Date: 2026-12-06 21:30:00.000000
"""
from alembic import op


revision = '0014_audit_time_index'
down_revision = '0013_retention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_events_at', 'audit_events', ['at'])


def downgrade() -> None:
    op.drop_index('ix_audit_events_at', table_name='audit_events')
