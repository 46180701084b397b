"""The contacts' masked forms stored beside their ciphertext (issue 19): lists and exports decrypt nothing.

`enterprises.contact_name_masked`, `contact_email_masked` and `contact_phone_masked` hold what a page,
the API and a default export show (138****1234, z***@example.org, 张*), made by the one masking function
(registry/domain/personal.py `mask_field`); the application keeps them in step wherever a contact is
written (registry/enterprises/models.py). Existing rows are filled here by decrypting their contacts with
the environment's keyring, as migration 0016 encrypted them (REGISTRY_PI_KEY, REGISTRY_PI_KEYS for older
key ids, REGISTRY_PI_INDEX_KEY; outside production the checkout's development keyring) — run the upgrade
with the keys the application has. Downgrade drops the three columns (the ciphertext is untouched).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 14:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from registry.domain.personal import CONTACT_FIELDS, mask_field
from registry.platform.pi_crypto import current

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        for name in CONTACT_FIELDS:
            batch_op.add_column(sa.Column(f'{name}_masked', sa.Text(), nullable=True))
    keyring, conn = current(), op.get_bind()
    t = sa.table('enterprises', sa.column('id'), *(sa.column(c) for c in CONTACT_FIELDS),
                 *(sa.column(f'{c}_masked') for c in CONTACT_FIELDS))
    stored = sa.or_(*(t.c[c].is_not(None) for c in CONTACT_FIELDS))
    update = (t.update().where(t.c.id == sa.bindparam('row_id'))
              .values({f'{c}_masked': sa.bindparam(f'm_{c}') for c in CONTACT_FIELDS}))
    last = 0
    while True:  # in batches by id: a million rows are never held at once
        rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in CONTACT_FIELDS))
                            .where(stored, t.c.id > last).order_by(t.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(update, [{'row_id': row.id, **{f'm_{c}': _masked(keyring, c, getattr(row, c)) for c in CONTACT_FIELDS}}
                              for row in rows])
        last = rows[-1].id


def _masked(keyring, field: str, stored: str | None) -> str | None:  # noqa: ANN001
    """The masked form of a stored (encrypted) contact value."""
    return None if stored is None else mask_field(field, keyring.decrypt(stored, f'enterprises.{field}'))

def downgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        for name in reversed(list(CONTACT_FIELDS)):
            batch_op.drop_column(f'{name}_masked')
