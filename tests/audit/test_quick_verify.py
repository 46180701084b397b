"""Verify's quick path (issue 19) on SQLite and PostgreSQL: the database writes each event's canonical
bytes and Python only hashes them. The bytes must be those `canonical` hashes; a tampered column of
any kind must be named exactly as the Python re-encoding (the path verify always had) names it;
events written before `changes` was stored canonically still verify."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from tests.audit.helpers import drop_guards, tamper

TABLE = AuditEvent.__table__
TRICKY = "".join(map(chr, range(1, 32))) + '"\\/\x7f\u2028\u2029\ufeff中文😀'


def use(session, algorithm: str) -> None:
    session.info[audit.CHAIN_KEY] = audit.ChainConfig(algorithm, None)


@pytest.fixture
def events(session, admin):
    """Seven events through `record` and `record_many`, SHA-256 and SM3, awkward values: their ids."""
    at = datetime(2026, 3, 5, 1, 2, 3, 456789, tzinfo=UTC)
    # (NUL only inside the JSON: PostgreSQL's text columns refuse it)
    changes = {"name": ["旧\x00", TRICKY], "revenue": [Decimal("1234.50"), None], "on": [None, date(2020, 2, 29)],
               "nested": [[1, [2, "三"]], {"b": None, "a": [True, False, 0.1, -1e-7, 1e300]}], "big": [None, 2**62],
               7: [None, "an int key"], "": [None, ""]}
    audit.record(session, actor=admin, action="test.a", entity_type="test", entity_id=None, changes=changes, at=at,
                 why=audit.Why("r", "文〔2026〕1号", TRICKY))
    audit.record(session, actor=admin, action="test.b", entity_type="enterprise", entity_id=5, enterprise_id=5,
                 region_code="330100", changes={}, at=at.replace(microsecond=0), why=audit.Why(note=""))
    use(session, "sm3")
    audit.record(session, actor=admin, action="test.c", entity_type="test", entity_id=6, changes=changes,
                 at=at + timedelta(days=400))
    audit.record_many(session, actor=admin, at=at, entries=[
        audit.Entry("test.d", "test", 7, {"x": [None, TRICKY]}), audit.Entry("test.e", "test", 8, {})])
    use(session, "sha256")
    audit.record_many(session, actor=admin, at=at.replace(microsecond=1), entries=[
        audit.Entry("test.f", "test", 9, changes), audit.Entry("test.g", "test", None, {"y": [1, 2]})])
    return list(session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def quick_rows(session) -> dict[int, tuple]:
    conn = session.connection()
    return {row[0]: row for row in conn.execute(audit._quick_sql(conn.dialect), {"after": 0, "size": 1000})}


def quick_texts(session) -> dict[int, str | None]:
    """Each event's canonical text as the database writes it (PostgreSQL hashes SHA-256 ones itself:
    its text is read here apart)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return dict(conn.execute(sa.text(f"SELECT id, {audit._object_sql(audit._postgresql_value)} FROM audit_events,"
                                         " LATERAL (SELECT occurred_at AT TIME ZONE 'UTC' AS utc) AS t")).all())
    return {event_id: row[4].decode() for event_id, row in quick_rows(session).items()}  # (bytes on SQLite)


@pytest.fixture
def python_walks(monkeypatch):
    """Count the pages verify had to re-encode in Python."""
    calls = []
    steps = audit._Walk.steps

    def counted(self, rows):
        rows = list(rows)
        calls.append([row[0] for row in rows])
        return steps(self, rows)

    monkeypatch.setattr(audit._Walk, "steps", counted)
    return calls


def python_verdict(session, monkeypatch) -> audit.Verification:
    """What verify says with no quick path at all (every event re-encoded in Python, as before issue 19)."""
    with monkeypatch.context() as m:
        m.setattr(audit, "_quick_sql", lambda dialect: None)
        return audit.verify(session)


def test_the_database_writes_the_bytes_canonical_hashes(session, events, python_walks):
    texts = quick_texts(session)
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        values = {name: getattr(event, name) for name in (*audit.HASHED_FIELDS, "hash_alg")}
        assert texts[event.id].encode() == audit.canonical(values, event.hash_alg), event.action
    assert {e.hash_alg for e in session.scalars(sa.select(AuditEvent))} == {"sha256", "sm3"}
    if session.bind.dialect.name == "postgresql":  # SHA-256 events hashed and found equal by the database
        assert {row[3]: bool(row[5]) for row in quick_rows(session).values()} == {"sha256": True, "sm3": False}
    result = audit.verify(session)
    assert (result.ok, result.checked) == (True, len(events))
    assert python_walks == []  # nothing re-encoded in Python


def changed(session, event_id: int, name: str):
    """A different value of column `name` of the event (None where it had one, one where it had None)."""
    value = session.connection().execute(sa.select(TABLE.c[name]).where(TABLE.c.id == event_id)).scalar_one()
    if name == "occurred_at":
        return value + timedelta(microseconds=1)
    if name == "changes":
        return {**value, "forged": [None, 1]}
    if name == "hash_alg":
        return "sm3" if value == "sha256" else "sha256"
    if name in ("prev_hash", "hash"):
        return "0" * 63 + "1"
    if name == "id":
        return value + 100
    if value is None:
        return 1 if isinstance(TABLE.c[name].type, sa.Integer) else ""
    return value + 1 if isinstance(value, int) else None if TABLE.c[name].nullable else value + "x"


@pytest.mark.parametrize("name", [*audit.HASHED_FIELDS, "hash", "hash_alg"])
@pytest.mark.parametrize("position", [1, 2, 3])  # an SHA-256 event with values, one with NULLs, an SM3 one
def test_tampering_with_any_column_is_named_as_the_python_path_names_it(session, events, name, position,
                                                                         monkeypatch):
    drop_guards(session.connection())
    event_id = events[position - 1]
    session.connection().execute(sa.update(TABLE).where(TABLE.c.id == event_id)
                                 .values({name: changed(session, event_id, name)}))
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == event_id, (name, result)
    assert result == python_verdict(session, monkeypatch)


@pytest.mark.parametrize("sql", [
    "UPDATE audit_events SET note = 'null' WHERE id = :id AND note IS NULL",
    "UPDATE audit_events SET changes = '{\"x\":[null,1]} ' WHERE id = :id",
    "UPDATE audit_events SET actor_kind = 'cli' || char(0) WHERE id = :id",
    "UPDATE audit_events SET note = x'00' WHERE id = :id",
    "UPDATE audit_events SET entity_id = 7.0000000001 WHERE id = :id",
    "UPDATE audit_events SET entity_id = '8' WHERE id = :id",
    "UPDATE audit_events SET changes = x'7b7d' WHERE id = :id",
    "UPDATE audit_events SET changes = '{\"x\":[null,\"a\"],\"document_no\":\"b\"}' WHERE id = :id",
    "UPDATE audit_events SET occurred_at = '2026-03-05T01:02:03.456789' WHERE id = :id",
    "UPDATE audit_events SET occurred_at = '2026-03-05 01:02:03.456789+00:00' WHERE id = :id",
    "UPDATE audit_events SET occurred_at = '2026-03-05 01:02:03' WHERE id = :id",
])
def test_what_only_sqlite_can_store_is_named_as_the_python_path_names_it(session, events, sql, monkeypatch):
    """SQLite stores any type in any column: blobs, reals, text in place of a timestamp."""
    if session.bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's column types refuse these values")
    drop_guards(session.connection())
    tamper(session, sql, id=events[3])
    result = audit.verify(session)
    assert result == python_verdict(session, monkeypatch)
    assert result.first_bad_id in (None, events[3])


def test_events_stored_before_changes_was_canonical_still_verify(session, events, python_walks, monkeypatch):
    """An event written with json.dumps's text (spaces, \\u escapes, keys in the order given) is
    re-encoded in Python and accepted, as before; the events after it take the quick path again."""
    drop_guards(session.connection())
    for event_id in events[2:4]:  # (not events[1]: json.dumps writes {} as canonical does)
        stored = session.connection().execute(sa.select(TABLE.c.changes).where(TABLE.c.id == event_id)).scalar_one()
        tamper(session, "UPDATE audit_events SET changes = :text WHERE id = :id",
               text=json.dumps(dict(reversed(list(stored.items())))), id=event_id)
    result = audit.verify(session)
    assert (result.ok, result.checked) == (True, len(events))
    assert python_walks and python_walks[0][0] == events[2]
    tamper(session, "UPDATE audit_events SET note = 'forged' WHERE id = :id", id=events[2])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[2])
    assert result == python_verdict(session, monkeypatch)


def test_a_long_chain_walks_in_quick_pages_and_names_a_late_change(session, admin, python_walks, monkeypatch):
    monkeypatch.setattr(audit, "_PAGE_SIZE", 7)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    audit.record_many(session, actor=admin, at=at, entries=[
        audit.Entry("test.n", "test", n, {"n": [None, n]}) for n in range(40)])
    assert audit.verify(session).checked == 40 and python_walks == []
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET entity_id = 99 WHERE id = 31")
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id, result.checked) == (False, 31, 30)
    assert "content does not match" in result.problem
