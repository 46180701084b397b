"""Ban scope is policy data: each ban records what it bars (its revocation reason's ban_blocks).

A ban bars its revoked tier, that tier's programme, every programme of its ladder, or all
(`blocks`), and keeps the revoked title's tier, programme and ladder so the check needs no policy
lookup and does not change when a later policy version does. Rows written before this revision
get `all` — what every ban barred until now — so no existing ban silently narrows; an officer can
narrow one by hand. Downgrade drops the four columns and the CHECK.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06 06:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocks', sa.String(length=16), server_default='all', nullable=False))
        batch_op.add_column(sa.Column('tier', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('programme', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ladder', sa.String(length=64), nullable=True))
        batch_op.create_check_constraint(op.f('ck_bans_blocks'), "blocks IN ('tier', 'programme', 'ladder', 'all')")


def downgrade() -> None:
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bans_blocks'), type_='check')
        batch_op.drop_column('ladder')
        batch_op.drop_column('programme')
        batch_op.drop_column('tier')
        batch_op.drop_column('blocks')
