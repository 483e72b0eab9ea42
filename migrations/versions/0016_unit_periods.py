"""unit periods: when a unit could be chosen, so that a quarter's unit
table has a cell only for units reporters could choose in it (a retired
or later unit is a known zero, which let a reader of the rule pin the
hidden units beside it: statistics review)

Revision ID: 0016_unit_periods
Revises: 0015_story_hours_dropped
Create Date: 2026-12-06 23:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0016_unit_periods'
down_revision = '0015_story_hours_dropped'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('retired_on', sa.Date(), nullable=True))
    # A unit already retired: from the day of the migration on (its true day is not known).
    op.execute(sa.text("UPDATE units SET retired_on = CURRENT_DATE WHERE NOT active"))


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('retired_on')
        batch_op.drop_column('created_on')
