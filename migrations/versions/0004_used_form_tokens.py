"""used form tokens: a report form becomes at most one report, also when it
is sent twice at once (portal/models/submission.py)

Revision ID: 0004_used_form_tokens
Revises: 0003_inbox_track_index
Create Date: 2026-11-27 04:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0004_used_form_tokens'
down_revision = '0003_inbox_track_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'used_form_tokens',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('held_receipt', sa.LargeBinary(), nullable=True),
        sa.Column('used_on', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_used_form_tokens')),
    )


def downgrade() -> None:
    op.drop_table('used_form_tokens')
