"""Uploaded roster files and their error workbooks encrypted at rest (issue 16 §6): they hold contacts'
names, phones and e-mails as uploaded. `imports.content` and `imports.error_workbook` keep their binary
type and hold `sm4gcm:<key id>:` + nonce + ciphertext + tag (registry/platform/pi_crypto.py
EncryptedBytes); existing files are encrypted with the environment's keyring, downgrade decrypts them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 11:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from registry.platform.pi_crypto import current

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COLUMNS = ('content', 'error_workbook')


def _rewrite(change) -> None:  # noqa: ANN001
    conn = op.get_bind()
    imports = sa.table('imports', sa.column('id'), *(sa.column(c, sa.LargeBinary) for c in COLUMNS))
    for row in conn.execute(sa.select(imports.c.id, *(imports.c[c] for c in COLUMNS))).mappings().all():
        values = {c: change(bytes(row[c]), f'imports.{c}') for c in COLUMNS if row[c] is not None}
        if values:
            conn.execute(imports.update().where(imports.c.id == row['id']).values(**values))


def upgrade() -> None:
    _rewrite(current().encrypt_bytes)


def downgrade() -> None:
    _rewrite(current().decrypt_bytes)
