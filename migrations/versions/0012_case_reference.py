"""case reference: a readable, random reference for every case (K7QM-4TXP),
given to the cases that exist as well

Revision ID: 0012_case_reference
Revises: 0011_statistics_index
Create Date: 2026-12-03 09:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

from portal.domain.case_reference import STORED_LENGTH, new_reference

revision = '0012_case_reference'
down_revision = '0011_statistics_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(STORED_LENGTH), nullable=True))
    connection = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.String), sa.column('reference', sa.String))
    taken = set()
    for (report_id,) in connection.execute(sa.select(reports.c.id)).all():
        reference = new_reference()
        while reference in taken:
            reference = new_reference()
        taken.add(reference)
        connection.execute(reports.update().where(reports.c.id == report_id).values(reference=reference))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(STORED_LENGTH), nullable=False)
        batch_op.create_index('ix_reports_reference', ['reference'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_reference')
        batch_op.drop_column('reference')
