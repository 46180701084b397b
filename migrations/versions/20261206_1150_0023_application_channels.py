"""Recommendation channels of an application (issue 17): the channel of the tier's policy it came
through (e.g. central_enterprise: 中央企业每家推荐数量不超过3家), the recommending unit (the 中央企业's
or 行业协会's name) and whether it is outside the quota (前三批单项冠军培育企业). Existing rows have
no channel. Downgrade drops the three columns, the CHECK and the index.

Revision ID: 0023
Revises: 0026
Create Date: 2026-12-06 11:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('channel_unit', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('outside_quota', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_applications_channel'),
            "(channel IS NULL AND channel_unit IS NULL AND NOT outside_quota)"
            " OR (channel IS NOT NULL AND channel_unit IS NOT NULL)")
        batch_op.create_index('ix_applications_batch_id_channel', ['batch_id', 'channel', 'channel_unit'])


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_batch_id_channel')
        batch_op.drop_constraint(op.f('ck_applications_channel'), type_='check')
        batch_op.drop_column('outside_quota')
        batch_op.drop_column('channel_unit')
        batch_op.drop_column('channel')
