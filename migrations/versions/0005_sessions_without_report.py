"""server sessions without report_id: a reporter session's report id is
sealed with its key, so a dump does not show which reports were just opened

Revision ID: 0005_sessions_without_report
Revises: 0004_used_form_tokens
Create Date: 2026-11-27 04:10:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0005_sessions_without_report'
down_revision = '0004_used_form_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions are short-lived; ending the open ones is simpler than
    # re-sealing them. Reporter sessions (the report id moves into the sealed
    # part) and enrolment sessions (their sealed layout changed) end; a
    # receipt not yet shown is kept (its page reads the old layout too).
    op.execute("DELETE FROM server_sessions WHERE kind IN ('reporter', 'enrol')")
    with op.batch_alter_table('server_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_server_sessions_report_id_reports'), type_='foreignkey')
        batch_op.drop_column('report_id')


def downgrade() -> None:
    with op.batch_alter_table('server_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_id', sa.String(length=22), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_server_sessions_report_id_reports'), 'reports',
                                    ['report_id'], ['id'], ondelete='CASCADE')
