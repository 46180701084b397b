"""Published lists of names only (issue 17 §6): `name_lists` holds a 公告名单 read and matched for review.

Each list keeps its rows as read and matched (JSON), the title it grants (tier, 认定日期, 批次, 文号,
认定机关) and, once an officer confirmed it, what each row became; see docs/name-lists.md.
Downgrade drops the table.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 12:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'name_lists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('status', sa.Enum('reviewing', 'applied', 'discarded', name='status', native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column('tier', sa.String(length=32), nullable=False),
        sa.Column('recognized_on', sa.Date(), nullable=False),
        sa.Column('batch', sa.String(length=64), nullable=True),
        sa.Column('document_no', sa.String(length=128), nullable=True),
        sa.Column('authority', sa.String(length=128), nullable=True),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('rows', sa.JSON(), nullable=False),
        sa.Column('outcome', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('applied_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_name_lists_user_id_users')),
        sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_name_lists_applied_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_name_lists')),
    )
    op.create_index(op.f('ix_name_lists_region_code'), 'name_lists', ['region_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_name_lists_region_code'), table_name='name_lists')
    op.drop_table('name_lists')
