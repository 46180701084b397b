"""Re-encrypting every stored secret under the current key, so an old key can be retired (issue 16 §6/§7).

After REGISTRY_PI_KEY names a new key (the old one kept in REGISTRY_PI_KEYS), `flask pi rekey` rewrites
each value still under an old key id: the contact columns, objectors' contacts, TOTP secrets, uploaded
files and their error workbooks. Values already under the current key are left alone, so a rerun changes
nothing; the blind indexes do not change (their key is separate). One audit event records the key id and
how many values were rewritten per column. Never commits.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require
from registry.platform.pi_crypto import PREFIX, current

#: (table, column, binary): every column stored encrypted (registry/platform/pi_crypto.py)
ENCRYPTED = (("enterprises", "contact_name", False), ("enterprises", "contact_email", False),
             ("enterprises", "contact_phone", False), ("objections", "contact", False),
             ("users", "totp_secret", False), ("imports", "content", True), ("imports", "error_workbook", True))


def _key_id(stored: str | bytes) -> str:
    text = stored.decode(errors="replace") if isinstance(stored, bytes) else stored
    prefix, _, rest = text.partition(":")
    return rest.partition(":")[0] if prefix == PREFIX else ""


def rekey(session: Session, *, actor: Actor, at: datetime) -> dict[str, int]:
    """Rewrite every value not under the current key id; return how many per `table.column`."""
    require(actor, Action.MANAGE_USERS)  # the operator (cli) — no person's role holds key custody
    keyring = current()
    # through the connection: ciphertext moves under another key, no recorded value changes (the event below says so)
    conn = session.connection()
    done: dict[str, int] = {}
    for table, column, binary in ENCRYPTED:
        t = sa.table(table, sa.column("id"), sa.column(column, sa.LargeBinary if binary else sa.Text))
        name, count = f"{table}.{column}", 0
        for row_id, stored in conn.execute(sa.select(t.c.id, t.c[column]).where(t.c[column].is_not(None))).all():
            stored = bytes(stored) if binary else stored
            if _key_id(stored) == keyring.current_id:
                continue
            fresh = (keyring.encrypt_bytes(keyring.decrypt_bytes(stored, name), name) if binary
                     else keyring.encrypt(keyring.decrypt(stored, name), name))
            conn.execute(t.update().where(t.c.id == row_id).values({column: fresh}))
            count += 1
        done[name] = count
    if any(done.values()):
        audit.record(session, actor=actor, action="pi.rekeyed", entity_type="keyring", entity_id=None,
                     region_code="000000", at=at,
                     changes={"key_id": [None, keyring.current_id], **{k: [None, v] for k, v in done.items() if v}})
    return done
