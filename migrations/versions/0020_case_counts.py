"""case_counts: how many cases each channel holds per track and status, and
how many of them exclude each handler, kept at every change
(portal/models/case_counts.py); key_grants.case_open, kept with the case's
status; both filled here from what is already stored

Revision ID: 0020_case_counts
Revises: 0019_orderless_reporter_tables
Create Date: 2026-12-07 15:30:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0020_case_counts'
down_revision = '0019_orderless_reporter_tables'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_counts",
        sa.Column("channel_id", sa.String(22), sa.ForeignKey("channels.id", ondelete="CASCADE",
                                                             name="fk_case_counts_channel_id_channels"),
                  nullable=False),
        sa.Column("track", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("excluded_user_id", sa.String(22), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "track", "status", "excluded_user_id", "shard", name="pk_case_counts"),
    )
    op.execute("INSERT INTO case_counts (channel_id, track, status, excluded_user_id, shard, cases) "
               "SELECT channel_id, track, status, '', 0, count(*) FROM reports WHERE channel_id IS NOT NULL "
               "GROUP BY channel_id, track, status")
    op.execute("INSERT INTO case_counts (channel_id, track, status, excluded_user_id, shard, cases) "
               "SELECT r.channel_id, r.track, r.status, e.user_id, 0, count(*) FROM reports r "
               "JOIN exclusions e ON e.report_id = r.id WHERE r.channel_id IS NOT NULL "
               "GROUP BY r.channel_id, r.track, r.status, e.user_id")
    with op.batch_alter_table("key_grants") as batch:
        batch.add_column(sa.Column("case_open", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE key_grants SET case_open = (SELECT status != 'closed' FROM reports "
               "WHERE reports.id = key_grants.report_id)")
    op.create_index("ix_key_grants_user_open", "key_grants", ["user_id", "case_open", "report_id"])


def downgrade() -> None:
    op.drop_index("ix_key_grants_user_open", table_name="key_grants")
    with op.batch_alter_table("key_grants") as batch:
        batch.drop_column("case_open")
    op.drop_table("case_counts")
