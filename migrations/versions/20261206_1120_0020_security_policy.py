"""The security administrator's policy values (issue 16 §4): one row, values within the 等保 bounds.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 11:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'security_policy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_policy')),
    )


def downgrade() -> None:
    op.drop_table('security_policy')
