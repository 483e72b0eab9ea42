"""named recipient statements: a statement also binds the name reporters
see, so that swapping two handlers' names in the database unanchors both

Revision ID: 0010_named_statements
Revises: 0009_report_manifest
Create Date: 2026-12-02 20:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0010_named_statements'
down_revision = '0009_report_manifest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recipient_statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recipient_statements', schema=None) as batch_op:
        batch_op.drop_column('display_name')
