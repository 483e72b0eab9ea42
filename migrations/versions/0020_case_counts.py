"""case_counts: how many cases each channel holds per track and status,
kept at every change (portal/models/case_counts.py), filled here from the
reports already stored

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
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "track", "status", "shard", name="pk_case_counts"),
    )
    op.execute("INSERT INTO case_counts (channel_id, track, status, shard, cases) "
               "SELECT channel_id, track, status, 0, count(*) FROM reports WHERE channel_id IS NOT NULL "
               "GROUP BY channel_id, track, status")


def downgrade() -> None:
    op.drop_table("case_counts")
