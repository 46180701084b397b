"""Issue 16 §7: the chain's hash function is a setting recorded per event (SHA-256 or SM3), so a chain may
switch; the head is anchored with HMAC-SM3 under a separate key; verify handles both (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from config.settings import Settings, SettingsError
from registry.audit import trail as audit
from registry.audit.models import AuditChainHead, AuditEvent
from registry.platform.digests import hmac_sm3_hex, sm3_available, sm3_hex
from tests.audit.helpers import drop_guards, tamper
from tests.factories import make_enterprise

KEY = b"k" * 32
OTHER_KEY = b"x" * 32


def use(session, algorithm: str, key: bytes | None = KEY) -> None:
    """Chain the session's next events as a deployment with these settings would."""
    session.info[audit.CHAIN_KEY] = audit.ChainConfig(algorithm, key)


@pytest.fixture
def switched(session, admin):
    """Two SHA-256 events, two SM3 events, one SHA-256 event again: their ids."""
    for algorithm in ("sha256", "sha256", "sm3", "sm3", "sha256"):
        use(session, algorithm)
        make_enterprise(session, admin)
    rows = session.execute(sa.select(AuditEvent.id, AuditEvent.hash_alg).order_by(AuditEvent.id)).all()
    assert [r.hash_alg for r in rows] == ["sha256", "sha256", "sm3", "sm3", "sha256"]
    return [r.id for r in rows]


def test_sm3_is_the_gbt_32905_function_and_hmac_sm3_is_keyed():
    assert sm3_available()
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # GB/T 32905 A.1
    assert sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"  # A.2
    assert hmac_sm3_hex(KEY, b"m") != hmac_sm3_hex(OTHER_KEY, b"m") and len(hmac_sm3_hex(KEY, b"m")) == 64


def test_the_algorithm_and_the_anchor_key_are_settings():
    settings = Settings.from_env({"REGISTRY_SECRET_KEY": "k"})
    assert settings.audit_hash == "sha256" and settings.audit_anchor_key == ""
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_AUDIT_HASH": "SM3"}).audit_hash == "sm3"
    config = audit.ChainConfig.of(Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_AUDIT_HASH": "sm3",
                                                      "REGISTRY_AUDIT_ANCHOR_KEY": "a" * 64}))
    assert config == audit.ChainConfig("sm3", b"a" * 64) and "a" * 64 not in repr(config)
    for name, bad in (("REGISTRY_AUDIT_HASH", "md5"), ("REGISTRY_AUDIT_ANCHOR_KEY", "short"),
                      ("REGISTRY_AUDIT_ANCHOR_KEY", "k" * 40)):  # the last one: the same as the secret key
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({"REGISTRY_SECRET_KEY": "k" * 40, name: bad})


def test_a_chain_that_switches_algorithm_midway_verifies_and_is_anchored(session, switched):
    result = audit.verify(session)
    assert result.ok and result.anchored and result.checked == 5
    head = session.get(AuditChainHead, 1)
    assert head.anchor == audit.anchor_of(KEY, None, audit.GENESIS, switched[-1], head.last_hash)
    sm3_event = session.get(AuditEvent, switched[2])
    values = {f: getattr(sm3_event, f) for f in audit.HASHED_FIELDS}
    assert sm3_event.hash == audit.event_hash(values, "sm3") != audit.event_hash(values, "sha256")


def test_events_appended_in_bulk_are_chained_by_the_setting(session, admin):
    entries = [audit.Entry("x.done", "thing", n, {"n": [None, n]}) for n in range(3)]
    use(session, "sm3")
    audit.record_many(session, actor=admin, entries=entries, at=audit_time())
    use(session, "sha256")
    audit.record_many(session, actor=admin, entries=entries, at=audit_time())
    assert audit.verify(session).anchored
    assert session.scalars(sa.select(AuditEvent.hash_alg).order_by(AuditEvent.id)).all() == ["sm3"] * 3 + ["sha256"] * 3


def audit_time():
    from tests.conftest import NOW
    return NOW


@pytest.mark.parametrize("position", [1, 2], ids=["sha256-event", "sm3-event"])
def test_tampering_is_found_under_each_algorithm(session, switched, position):
    event_id = switched[position]
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET actor_name = 'forger' WHERE id = :id", id=event_id)
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == event_id and "does not match its hash" in result.problem


@pytest.mark.parametrize("to", ["sha256", "sm3", "md5"])
def test_relabelling_an_events_algorithm_is_found(session, switched, to):
    event_id = switched[0] if to != "sha256" else switched[2]
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET hash_alg = :alg WHERE id = :id", alg=to, id=event_id)
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == event_id


def test_a_tail_rewritten_with_its_head_is_found_by_the_anchor(session, switched):
    """The forger recomputes the last event's hash and the head, but cannot renew the HMAC-SM3 anchor."""
    drop_guards(session.connection())
    last = session.get(AuditEvent, switched[-1])
    values = {f: getattr(last, f) for f in audit.HASHED_FIELDS} | {"note": "forged"}
    forged = audit.event_hash(values, "sm3")
    tamper(session, "UPDATE audit_events SET note = 'forged', hash_alg = 'sm3', hash = :h WHERE id = :id",
           h=forged, id=last.id)
    tamper(session, "UPDATE audit_chain_head SET last_hash = :h", h=forged)
    assert audit.verify(session, anchor_key=None).ok  # the links alone hold: only the anchor can tell
    result = audit.verify(session)
    assert not result.ok and "锚点不符" in result.problem


def test_a_wrong_anchor_key_fails_and_a_missing_anchor_fails(session, switched):
    assert audit.verify(session, anchor_key=KEY).anchored
    wrong = audit.verify(session, anchor_key=OTHER_KEY)
    assert not wrong.ok and "锚点不符" in wrong.problem and wrong.first_bad_id == switched[-1]
    tamper(session, "UPDATE audit_chain_head SET anchor = NULL")
    missing = audit.verify(session)
    assert not missing.ok and "没有 HMAC-SM3 锚点" in missing.problem
    unkeyed = audit.verify(session, anchor_key=None)
    assert unkeyed.ok and not unkeyed.anchored  # without a key the links are checked, the anchor is not claimed


def test_the_cli_reports_the_anchor_and_the_algorithm(tmp_path):
    from registry import create_app
    from tests.conftest import ROOT

    settings = Settings(env="testing", secret_key="t", database_url=f"sqlite:///{tmp_path / 'a.db'}",
                        policy_dir=ROOT / "config" / "policies", audit_hash="sm3", audit_anchor_key="a" * 64)
    app = create_app(settings)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    made = runner.invoke(args=["create-user", "li", "--role", "officer", "--region", "331000", "--email", "l@x.cn",
                               "--password-stdin"], input="Long-enough-1\n")
    assert made.exit_code == 0, made.output
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "锚点相符" in ok.output and "sm3" in ok.output, ok.output
    wrong = create_app(settings.with_overrides(audit_anchor_key="b" * 64)).test_cli_runner().invoke(
        args=["audit", "verify"])
    assert wrong.exit_code == 1 and "锚点不符" in wrong.output, wrong.output
    unkeyed = create_app(settings.with_overrides(audit_anchor_key="")).test_cli_runner()
    assert unkeyed.invoke(args=["create-token", "li", "--label", "x"]).exit_code == 0  # leaves the anchor stale
    stale = runner.invoke(args=["audit", "verify"])
    assert stale.exit_code == 1 and "锚点不符" in stale.output
    refused = runner.invoke(args=["audit", "anchor"])
    assert refused.exit_code == 1 and "不予重新锚定" in refused.output
    app.extensions["registry.engine"].dispose()
