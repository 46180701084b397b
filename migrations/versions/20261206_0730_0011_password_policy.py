"""Password policy (issue 16 §1): password history, when a password was set, forced change.

`password_history` keeps the hashes of each user's previous passwords (the last few are compared
with a new one); `users.password_changed_at` dates the current password (expiry) and
`users.must_change_password` forces a change at the next login (after an administrator's reset).
Existing users get `password_changed_at` = the upgrade instant, so nobody is locked out at once:
their 90 days start with the upgrade. Downgrade drops the table and the two columns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:30:00+00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'password_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_history_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history')),
    )
    op.create_index(op.f('ix_password_history_user_id'), 'password_history', ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)  # stored naive UTC on SQLite (registry.platform.db.UTCDateTime)
    users = sa.table('users', sa.column('password_changed_at', sa.DateTime(timezone=True)))
    op.execute(users.update().values(password_changed_at=now))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('must_change_password', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('password_changed_at')
    op.drop_index(op.f('ix_password_history_user_id'), table_name='password_history')
    op.drop_table('password_history')
