"""keyed audit log in lanes: events go to one of several chains (no global
tail lock) keyed with a MAC key outside the database; events written before
stay unkeyed at the start of lane 0 (format 0). Signed heads of the anchor.

Revision ID: 0008_keyed_audit_lanes
Revises: 0007_authenticated_chains
Create Date: 2026-12-02 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0008_keyed_audit_lanes'
down_revision = '0007_authenticated_chains'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('format', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint('pk_audit_events', type_='primary')
        batch_op.create_primary_key('pk_audit_events', ['lane', 'seq'])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('lane', server_default=None)
        batch_op.alter_column('format', server_default=None)
    op.create_table(
        'audit_heads',
        sa.Column('id', sa.String(length=22), nullable=False),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        sa.Column('heads', sa.Text(), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_heads')),
    )


def downgrade() -> None:
    op.drop_table('audit_heads')
    # Keyed events of other lanes do not fit one unkeyed chain: they go.
    op.execute("DELETE FROM audit_events WHERE lane != 0")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('pk_audit_events', type_='primary')
        batch_op.create_primary_key('pk_audit_events', ['seq'])
        batch_op.drop_column('format')
        batch_op.drop_column('lane')
