"""inbox index for the track filter: counting a track's cases in the
handler's channels reads the index alone instead of every case row

Revision ID: 0003_inbox_track_index
Revises: 0002_inbox_indexes
Create Date: 2026-11-27 03:30:00.000000
"""
from alembic import op


revision = '0003_inbox_track_index'
down_revision = '0002_inbox_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_reports_channel_track_status', 'reports', ['channel_id', 'track', 'status', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_reports_channel_track_status', table_name='reports')
