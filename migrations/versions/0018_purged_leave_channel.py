"""purged cases leave their channel: a purged tombstone's channel_id is
NULL, so every query by channel (the inbox, its counts, grants for a new
member, the dashboard) leaves it out by the index it already reads; the
partial index of purged ids (0017), tested against every case, was slow
with many purged cases (inbox bench: 700 ms on PostgreSQL at 50 000)

Revision ID: 0018_purged_leave_channel
Revises: 0017_purged_index
Create Date: 2026-12-06 23:59:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0018_purged_leave_channel'
down_revision = '0017_purged_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_reports_purged', table_name='reports')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.alter_column('channel_id', existing_type=sa.String(length=22), nullable=True)
    op.execute(sa.text("UPDATE reports SET channel_id = NULL WHERE purged_on IS NOT NULL"))


def downgrade() -> None:
    # A purged case's channel is not known any more: the first channel of its track stands in.
    op.execute(sa.text("UPDATE reports SET channel_id = (SELECT min(id) FROM channels "
                       "WHERE channels.track = reports.track) WHERE channel_id IS NULL"))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.alter_column('channel_id', existing_type=sa.String(length=22), nullable=False)
    op.create_index('ix_reports_purged', 'reports', ['id', 'purged_on'],
                    postgresql_where=sa.text('purged_on IS NOT NULL'), sqlite_where=sa.text('purged_on IS NOT NULL'))
