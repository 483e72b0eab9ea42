"""recipient statements: which key may receive a channel's report keys is
decided by the trust anchor's signature, pinned outside the database; key
grants wait for a holder's consent (who asked, who refused)

Revision ID: 0006_recipient_statements
Revises: 0005_sessions_without_report
Create Date: 2026-12-02 15:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0006_recipient_statements'
down_revision = '0005_sessions_without_report'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recipient_statements',
        sa.Column('id', sa.String(length=22), nullable=False),
        sa.Column('user_id', sa.String(length=22), nullable=False),
        sa.Column('channel_id', sa.String(length=22), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('key_version', sa.Integer(), nullable=False),
        sa.Column('not_before', sa.Date(), nullable=False),
        sa.Column('not_after', sa.Date(), nullable=True),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_recipient_statements_channel_id_channels'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recipient_statements_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recipient_statements')),
        sa.UniqueConstraint('user_id', 'channel_id', 'key_version',
                            name='uq_recipient_statements_user_channel_version'),
    )
    op.create_index(op.f('ix_recipient_statements_user_id'), 'recipient_statements', ['user_id'], unique=False)
    with op.batch_alter_table('key_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by', sa.String(length=22), nullable=True))
        batch_op.add_column(sa.Column('refused_by', sa.String(length=22), nullable=True))
        batch_op.add_column(sa.Column('refused_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_key_grants_requested_by_users'), 'users', ['requested_by'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_key_grants_refused_by_users'), 'users', ['refused_by'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('key_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_key_grants_refused_by_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_key_grants_requested_by_users'), type_='foreignkey')
        batch_op.drop_column('refused_on')
        batch_op.drop_column('refused_by')
        batch_op.drop_column('requested_by')
    op.drop_index(op.f('ix_recipient_statements_user_id'), table_name='recipient_statements')
    op.drop_table('recipient_statements')
