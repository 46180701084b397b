"""Personal information encrypted at rest (issue 16 §6): SM4-GCM contact columns, HMAC-SM3 blind indexes.

`enterprises.contact_name/contact_email/contact_phone` and `objections.contact` become text columns
holding `sm4gcm:<key id>:<…>` (registry/platform/pi_crypto.py); `enterprises.contact_phone_index`
and `contact_email_index` (indexed) hold the HMAC-SM3 of the normalised phone and e-mail for exact
search. Existing rows are encrypted here with the environment's keyring (REGISTRY_PI_KEY,
REGISTRY_PI_INDEX_KEY; outside production the checkout's development keyring) — run the upgrade
with the keys the application will have.

Downgrade decrypts every value back into the former VARCHAR columns (with the keys that encrypted
them: REGISTRY_PI_KEYS for old ones) and drops the index columns.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from registry.platform.pi_crypto import current

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

ENTERPRISE = {'contact_name': 64, 'contact_email': 254, 'contact_phone': 32}
INDEXED = {'contact_phone': 'phone', 'contact_email': 'email'}
OBJECTION = {'contact': 200}


def _rewrite(table: str, columns: list[str], change, extra=None) -> None:  # noqa: ANN001
    """Rewrite every non-null value of `columns` with `change(value, "table.column")` (and `extra` columns)."""
    conn = op.get_bind()
    t = sa.table(table, sa.column('id'), *(sa.column(c) for c in columns), *(sa.column(c) for c in (extra or {})))
    rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).mappings().all()
    for row in rows:
        values = {c: None if row[c] is None else change(row[c], f'{table}.{c}') for c in columns}
        if extra:
            values.update({name: make(row) for name, make in extra.items()})
        if any(row[c] is not None for c in columns):
            conn.execute(t.update().where(t.c.id == row['id']).values(**values))


def upgrade() -> None:
    keyring = current()
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        for name in ENTERPRISE:
            batch_op.alter_column(name, existing_type=sa.String(length=ENTERPRISE[name]), type_=sa.Text(),
                                  existing_nullable=True)
        batch_op.add_column(sa.Column('contact_phone_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('contact_email_index', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_enterprises_contact_phone_index'), ['contact_phone_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_contact_email_index'), ['contact_email_index'], unique=False)
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.alter_column('contact', existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False)
    index = {f'{c}_index': (lambda row, c=c: keyring.blind_index(INDEXED[c], row[c])) for c in INDEXED}
    _rewrite('enterprises', list(ENTERPRISE), keyring.encrypt, extra=index)
    _rewrite('objections', list(OBJECTION), keyring.encrypt)


def downgrade() -> None:
    keyring = current()
    _rewrite('enterprises', list(ENTERPRISE), keyring.decrypt)
    _rewrite('objections', list(OBJECTION), keyring.decrypt)
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.alter_column('contact', existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False)
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_contact_email_index'))
        batch_op.drop_index(batch_op.f('ix_enterprises_contact_phone_index'))
        batch_op.drop_column('contact_email_index')
        batch_op.drop_column('contact_phone_index')
        for name in ENTERPRISE:
            batch_op.alter_column(name, existing_type=sa.Text(), type_=sa.String(length=ENTERPRISE[name]),
                                  existing_nullable=True)
