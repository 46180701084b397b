"""Personal-information keys (issue 16 §6): required in production, checked when read; migration 0016 encrypts
the rows that exist and its downgrade decrypts them (both backends)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from config.settings import Settings, SettingsError
from registry.platform import pi_crypto
from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade

KEY = "k7:" + "11" * 16
INDEX = "22" * 32


def test_production_refuses_to_start_without_the_keys():
    base = {"REGISTRY_ENV": "production", "REGISTRY_SECRET_KEY": "s" * 32}
    with pytest.raises(SettingsError, match="REGISTRY_PI_KEY and REGISTRY_PI_INDEX_KEY are required"):
        Settings.from_env(base)
    with pytest.raises(SettingsError, match="REGISTRY_PI_INDEX_KEY is required"):
        Settings.from_env({**base, "REGISTRY_PI_KEY": KEY})
    settings = Settings.from_env({**base, "REGISTRY_PI_KEY": KEY, "REGISTRY_PI_INDEX_KEY": INDEX,
                                  "REGISTRY_PI_KEYS": "k6:" + "33" * 16})
    keyring = pi_crypto.keyring_for(production=True, current=settings.pi_key, old=settings.pi_keys,
                                    index=settings.pi_index_key)
    assert keyring.current_id == "k7" and set(keyring.keys) == {"k7", "k6"}
    assert "11" * 16 not in repr(settings) and "11" * 16 not in repr(keyring)  # keys never in a log line


@pytest.mark.parametrize("variable, value, message", [
    ("REGISTRY_PI_KEY", "0011", "REGISTRY_PI_KEY must be <key id>:<32 hex digits>"),
    ("REGISTRY_PI_KEY", "k1:" + "zz" * 16, "REGISTRY_PI_KEY must be"),
    ("REGISTRY_PI_KEY", "k 1:" + "11" * 16, "REGISTRY_PI_KEY must be"),
    ("REGISTRY_PI_KEYS", "k1:12", "REGISTRY_PI_KEYS must be"),
    ("REGISTRY_PI_INDEX_KEY", "abc", "REGISTRY_PI_INDEX_KEY must be 32 to 128 hex digits"),
])
def test_a_malformed_key_is_named(variable, value, message):
    env = {"REGISTRY_PI_KEY": KEY, "REGISTRY_PI_INDEX_KEY": INDEX, variable: value}
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_development_gets_a_generated_keyring_kept_in_the_checkout(tmp_path):
    path = tmp_path / "dev-pi-keys.json"
    first = pi_crypto.development_keyring(path)
    assert first.keys == pi_crypto.development_keyring(path).keys and len(first.keys[first.current_id]) == 16
    assert first.keys != pi_crypto.development_keyring(tmp_path / "other.json").keys  # never a fixed key


def test_migration_0016_encrypts_existing_rows_and_its_downgrade_decrypts_them(empty_url):
    upgrade(empty_url, "0015")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO enterprises (id, uscc, name, region_code, contact_name, contact_phone, contact_email,"
            " version, created_at, updated_at) VALUES (1, '91331002MA0000001X', '甲', '331002', '张三',"
            " '138-0000-1234', 'Zhang@Example.org', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
            " (2, '91331002MA0000002X', '乙', '331002', NULL, NULL, NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    engine.dispose()
    upgrade(empty_url)
    keyring = pi_crypto.current()
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, contact_name, contact_phone, contact_email, contact_phone_index,"
                                    " contact_email_index FROM enterprises ORDER BY id")).all()
    engine.dispose()
    (_, name, phone, email, phone_index, email_index), empty = rows
    assert all(v.startswith(f"sm4gcm:{keyring.current_id}:") for v in (name, phone, email))
    assert keyring.decrypt(phone, "enterprises.contact_phone") == "138-0000-1234"
    assert phone_index == keyring.blind_index("phone", "13800001234")
    assert email_index == keyring.blind_index("email", "zhang@example.org")
    assert empty[1:] == (None, None, None, None, None)
    downgrade(empty_url, "0015")
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT contact_name, contact_phone, contact_email FROM enterprises"
                                    " WHERE id = 1")).one()
    engine.dispose()
    assert tuple(back) == ("张三", "138-0000-1234", "Zhang@Example.org")


def test_rekey_moves_every_value_to_the_current_key_so_the_old_one_can_go(session, admin):
    """`flask pi rekey` after a rotation: contacts, TOTP secrets and uploaded files are rewritten under the new
    key; a rerun changes nothing; then the old key may be dropped and everything still decrypts."""
    from registry.audit.models import AuditEvent
    from registry.enterprises.models import Enterprise
    from registry.platform import pi_crypto
    from registry.platform.db import utcnow
    from registry.privacy.rekey import rekey
    from registry.roster.models import ImportRun
    from tests.factories import make_enterprise

    old = pi_crypto.current()
    ent = make_enterprise(session, admin, contact_phone="13912345678", contact_name="李四")
    run = ImportRun(filename="名单.csv", mode="dry_run", status="queued", region_code="331000", content=b"13912345678")
    session.add(run)
    session.flush()
    new = pi_crypto.Keyring("k9", {"k9": bytes(range(16, 32)), **old.keys}, old.index_key)
    with pi_crypto.using(new):
        done = rekey(session, actor=admin, at=utcnow())
        assert done["enterprises.contact_phone"] >= 1 and done["imports.content"] >= 1
        assert all(v == 0 for v in rekey(session, actor=admin, at=utcnow()).values())  # a rerun: nothing left
        phone = session.execute(sa.text("SELECT contact_phone FROM enterprises WHERE id = :id"), {"id": ent.id}).scalar()
        assert phone.startswith("sm4gcm:k9:")
    retired = pi_crypto.Keyring("k9", {"k9": bytes(range(16, 32))}, old.index_key)  # the old key dropped
    with pi_crypto.using(retired):
        session.expire_all()
        assert session.get(Enterprise, ent.id).contact_phone == "13912345678"
        assert session.get(ImportRun, run.id).content == b"13912345678"
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "pi.rekeyed")).one()
    assert event.changes["key_id"] == [None, "k9"]
    session.rollback()
