"""Delivery channels and the in-app inbox (issue 18 §8).

`channel_targets`: a user's or an office's DingTalk robot, WeCom robot or 浙政钉 recipient (address and
secret SM4-GCM ciphertext). `inbox_messages`: each reminder in each recipient's 站内消息.
`outbox_messages` gains `channel` (existing rows are e-mail), `target_id` and `attempted_at` (a robot's
rate limit counts the attempts of the last minute). Downgrade drops the channel rows of the outbox
first (an e-mail-only outbox cannot hold them), then the columns and tables.

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-06 12:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0025'
branch_labels = None
depends_on = None

CHANNELS = ('email', 'dingtalk', 'wecom', 'zzd')


def upgrade() -> None:
    op.create_table(
        'channel_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('dingtalk', 'wecom', 'zzd', name='channel_kind', native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('region_code', sa.String(length=6), nullable=True),
        sa.Column('label', sa.String(length=64), nullable=False),
        sa.Column('address', sa.Text(), nullable=False),
        sa.Column('secret', sa.Text(), nullable=True),
        sa.Column('include_subregions', sa.Boolean(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(user_id IS NULL) <> (region_code IS NULL)', name=op.f('ck_channel_targets_one_owner')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_channel_targets_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_targets')),
    )
    op.create_index(op.f('ix_channel_targets_user_id'), 'channel_targets', ['user_id'])
    op.create_index(op.f('ix_channel_targets_region_code'), 'channel_targets', ['region_code'])
    op.create_table(
        'inbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=False),
        sa.Column('reminder_id', sa.Integer(), nullable=True),
        sa.Column('region_code', sa.String(length=6), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_messages_user_id_users')),
        sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_inbox_messages_reminder_id_reminders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_messages')),
        sa.UniqueConstraint('user_id', 'dedupe_key', name=op.f('uq_inbox_messages_user_id_dedupe_key')),
    )
    op.create_index('ix_inbox_messages_user_read', 'inbox_messages', ['user_id', 'read_at'])
    op.create_index(op.f('ix_inbox_messages_reminder_id'), 'inbox_messages', ['reminder_id'])
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum(*CHANNELS, name='outbox_channel', native_enum=False,
                                                         create_constraint=True, length=16),
                                      server_default='email', nullable=False))
        batch_op.add_column(sa.Column('target_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_target_id_channel_targets'), 'channel_targets',
                                    ['target_id'], ['id'])
        batch_op.create_index('ix_outbox_messages_target_attempted', ['target_id', 'attempted_at'])


def downgrade() -> None:
    op.execute("DELETE FROM outbox_messages WHERE channel <> 'email'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_target_attempted')
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_target_id_channel_targets'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_outbox_messages_outbox_channel'), type_='check')
        batch_op.drop_column('attempted_at')
        batch_op.drop_column('target_id')
        batch_op.drop_column('channel')
    op.drop_index(op.f('ix_inbox_messages_reminder_id'), table_name='inbox_messages')
    op.drop_index('ix_inbox_messages_user_read', table_name='inbox_messages')
    op.drop_table('inbox_messages')
    op.drop_index(op.f('ix_channel_targets_region_code'), table_name='channel_targets')
    op.drop_index(op.f('ix_channel_targets_user_id'), table_name='channel_targets')
    op.drop_table('channel_targets')
