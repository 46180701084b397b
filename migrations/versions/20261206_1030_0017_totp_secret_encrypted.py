"""The TOTP secret encrypted at rest like personal data (issue 16 §3/§7, 密评: keys and secrets in storage).

`users.totp_secret` becomes a text column holding `sm4gcm:<key id>:<…>` bound to its column
(registry/platform/pi_crypto.py, the same keyring as the contact columns). Existing secrets are
encrypted with the environment's keyring; downgrade decrypts them back into VARCHAR(64).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 10:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from registry.platform.pi_crypto import current

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

COLUMN = 'users.totp_secret'


def _rewrite(change) -> None:  # noqa: ANN001
    conn = op.get_bind()
    users = sa.table('users', sa.column('id'), sa.column('totp_secret'))
    for row in conn.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))).all():
        conn.execute(users.update().where(users.c.id == row.id).values(totp_secret=change(row.totp_secret, COLUMN)))


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=True)
    _rewrite(current().encrypt)


def downgrade() -> None:
    _rewrite(current().decrypt)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=True)
