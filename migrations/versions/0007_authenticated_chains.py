"""authenticated dialogue and timeline: each message and status event is a
link of a hash chain under the report's key, closed by a head on the report.
Reports written before are marked unsealed (sealed = 0): their chains are
computed at a handler's first view, when the key is at hand.

Revision ID: 0007_authenticated_chains
Revises: 0006_recipient_statements
Create Date: 2026-12-02 16:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0007_authenticated_chains'
down_revision = '0006_recipient_statements'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('dialogue_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dialogue_head', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('timeline_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('timeline_head', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.alter_column('sealed', server_default=None)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_mac', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_mac', sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_column('chain_mac')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('chain_mac')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for column in ('timeline_head', 'timeline_count', 'dialogue_head', 'dialogue_count', 'sealed'):
            batch_op.drop_column(column)
