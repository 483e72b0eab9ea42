"""report manifest: the channel, exclusions, answers and files a report was
sent with, sealed under its key, so that rows a database writer changes
cannot redirect or unexclude it

Revision ID: 0009_report_manifest
Revises: 0008_keyed_audit_lanes
Create Date: 2026-12-02 18:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0009_report_manifest'
down_revision = '0008_keyed_audit_lanes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manifest_ct', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('manifest_ct')
