"""Server-side sessions, per-IP login failure counters, token scopes and expiry (issue 16).

`user_sessions` holds one row per browser login (id = SHA-256 of the cookie's secret);
`login_failures` one row per failed login per address (counted over a window, pruned as it
goes). API tokens get a scope (`read` or `write`) and an expiry: tokens that exist when this
revision runs keep full rights (`write`, what they had) and expire 90 days after the upgrade,
so operators have time to replace them. Downgrade drops the tables and the two columns.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-06 06:00:00+00:00
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('user_stamp', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=16), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_ip_failed_at', 'login_failures', ['ip', 'failed_at'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.Enum('read', 'write', name='token_scope', native_enum=False,
                                                       create_constraint=True, length=32),
                                      nullable=False, server_default='write'))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime(timezone=True)))
    grace = datetime.now(UTC) + timedelta(days=90)
    if op.get_bind().dialect.name == 'sqlite':
        grace = grace.replace(tzinfo=None)  # stored naive UTC on SQLite (registry.platform.db.UTCDateTime)
    op.execute(tokens.update().values(expires_at=grace))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('scope', server_default=None)
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_api_tokens_token_scope'), type_='check')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scope')
    op.drop_index('ix_login_failures_ip_failed_at', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
