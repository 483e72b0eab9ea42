"""story hours dropped: a published story showed its hours, and the
quarter's published total less the stories' hours gave the hours of a
case without a story (statistics review); the case keeps its own hours

Revision ID: 0015_story_hours_dropped
Revises: 0014_audit_time_index
Create Date: 2026-12-06 22:40:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0015_story_hours_dropped'
down_revision = '0014_audit_time_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('published_summaries', schema=None) as batch_op:
        batch_op.drop_column('hours_saved_per_year')


def downgrade() -> None:
    with op.batch_alter_table('published_summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hours_saved_per_year', sa.Integer(), nullable=True))
