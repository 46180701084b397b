"""Verify's quick path (issue 19) on SQLite and PostgreSQL: the database writes each event's canonical
bytes and Python only hashes them. The bytes must be those `canonical` hashes; a tampered column of
any kind must be named exactly as the Python re-encoding (the path verify always had) names it;
events written before `changes` was stored canonically still verify."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
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
    text, source = audit._text_sql(conn.dialect)
    return dict(conn.execute(sa.text(f"SELECT e.id, {text} FROM {source}")).all())


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
    "UPDATE audit_events SET occurred_at = CAST(occurred_at AS BLOB) WHERE id = :id",
    "UPDATE audit_events SET actor_name = CAST(actor_name AS BLOB) WHERE id = :id",
    "UPDATE audit_events SET changes = '{\"x\":[null,\"a\"]},\"document_no\": null' WHERE id = :id",
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


@pytest.mark.parametrize("sql", [
    # the key after `changes` and its value moved into the `changes` text
    "UPDATE audit_events SET changes = changes || ',\"document_no\":' || json_quote(document_no), document_no = NULL"
    " WHERE id = :id",
    # `changes` cut short and the rest moved to the next column
    "UPDATE audit_events SET changes = substr(changes, 1, length(changes) - 1), document_no = '}' || document_no"
    " WHERE id = :id",
    # a text that is no JSON at all, ending in the next key's name
    "UPDATE audit_events SET changes = changes || ',\"document_no\"' WHERE id = :id",
])
def test_a_changes_text_that_is_no_json_cannot_take_its_neighbours_place(session, events, sql, monkeypatch):
    """SQLite splices `changes` into the bytes without checking it is JSON (json_valid cost as much as
    hashing): the keys around it still fix where it starts and ends, so no shift gives the same bytes."""
    if session.bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json type holds JSON only")
    honest = quick_texts(session)[events[0]]
    drop_guards(session.connection())
    tamper(session, sql, id=events[0])
    assert quick_texts(session)[events[0]] not in (None, honest)
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[0])
    assert result == python_verdict(session, monkeypatch)


@pytest.mark.parametrize("text", ["no json", '{"x":[null, "a"]}'])
def test_a_rewritten_changes_whose_hash_was_recomputed_breaks_the_next_link(session, events, text):
    """Rewriting `changes` and recomputing the event's hash to fit its new bytes: the quick path
    passes the event (its bytes hash) and names the next one's link; the Python path would name the
    event itself, as it already did for a JSON text that is not canonical. Caught either way."""
    if session.bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json type holds JSON only")
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET changes = :text WHERE id = :id", text=text, id=events[0])
    forged = hashlib.sha256(quick_texts(session)[events[0]].encode()).hexdigest()
    tamper(session, "UPDATE audit_events SET hash = :hash WHERE id = :id", hash=forged, id=events[0])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[1])
    assert "link broken" in result.problem


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


def numbered(session, admin, at, count: int) -> None:
    """`count` events in one pass, the n-th recording n."""
    audit.record_many(session, actor=admin, at=at, entries=[
        audit.Entry("test.n", "test", n, {"n": [None, n]}) for n in range(count)])


def test_a_long_chain_walks_in_quick_pages_and_names_a_late_change(session, admin, python_walks, monkeypatch):
    monkeypatch.setattr(audit, "_PAGE_SIZE", 7)
    numbered(session, admin, datetime(2026, 1, 1, tzinfo=UTC), 40)
    assert audit.verify(session).checked == 40 and python_walks == []
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET entity_id = 99 WHERE id = 31")
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id, result.checked) == (False, 31, 30)
    assert "content does not match" in result.problem


def sparse_ids(session) -> list[int]:
    """The events PostgreSQL's one-statement check hands to Python (the others it found fitting)."""
    conn = session.connection()
    last = conn.execute(sa.select(sa.func.max(TABLE.c.id))).scalar()
    return [row[0] for row in conn.execute(audit._sparse_sql(conn.dialect, ()), {"after": 0, "upto": last, "last": last})]


def test_postgresql_hands_python_only_what_does_not_fit(session, events, monkeypatch):
    """The one statement: the first event, the last, and each one that does not hash or link; a
    changed column, a deleted row and a broken link are each named as the Python path names them."""
    if session.bind.dialect.name != "postgresql":
        pytest.skip("SQLite walks quick pages (no one-statement check)")
    drop_guards(session.connection())
    sha256 = [e for e in events if session.get(AuditEvent, e).hash_alg == "sha256"]
    sm3 = sorted(set(events) - set(sha256))  # (their text is hashed in Python: always handed over)
    assert sparse_ids(session) == sorted({events[0], events[-1], *sm3})
    tamper(session, "UPDATE audit_events SET actor_name = 'forged' WHERE id = :id", id=events[4])
    assert events[4] in sparse_ids(session)
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[4]) and "does not match" in result.problem
    assert result == python_verdict(session, monkeypatch)
    tamper(session, "DELETE FROM audit_events WHERE id = :id", id=events[2])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[2]) and "missing" in result.problem
    assert result == python_verdict(session, monkeypatch)
    tamper(session, "UPDATE audit_events SET prev_hash = :h WHERE id = :id", h="0" * 64, id=events[1])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[1]) and "link broken" in result.problem
    assert result == python_verdict(session, monkeypatch)


def test_anchors_in_the_middle_of_the_chain_are_checked(session, events, monkeypatch):
    """An anchored event the one statement found fitting is still handed over and held to its anchor."""
    stored = dict(session.execute(sa.select(AuditEvent.id, AuditEvent.hash)).all())
    assert audit.verify(session, {events[1]: stored[events[1]], events[5]: stored[events[5]]}).ok
    result = audit.verify(session, {events[1]: stored[events[1]], events[5]: "f" * 64})
    assert (result.ok, result.first_bad_id) == (False, events[5]) and "anchored" in result.problem
    with monkeypatch.context() as m:
        m.setattr(audit, "_quick_sql", lambda dialect: None)
        assert result == audit.verify(session, {events[1]: stored[events[1]], events[5]: "f" * 64})


def test_a_control_character_outside_the_free_text_is_re_encoded_alone(session, admin, python_walks, monkeypatch):
    """PostgreSQL escapes only backslashes and quotes outside the note and the document number (and
    that is JSON's escaping for such strings: they take the quick way); an event with a line break
    in another string does not hash there and is re-encoded in Python — that event alone — and
    accepted; tampered afterwards it is named as the Python path names it."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    quoted = replace(admin, name='引号"与\\反斜杠\\"/ \u2028\x7f😀', ip='"::1\\', request_id="\\")
    audit.record(session, actor=quoted, action='test."q"', entity_type="test\\", entity_id=1, changes={}, at=at,
                 region_code='"\\', why=audit.Why('r"\\', "文\\号", "注"))
    audit.record(session, actor=replace(admin, name="两行\n的\t名字\x01"), action="test.x",
                 entity_type="test", entity_id=1, changes={}, at=at, why=audit.Why("r\n", "文\r号", "注\n释"))
    numbered(session, admin, at, 5)
    result = audit.verify(session)
    assert (result.ok, result.checked) == (True, 7)
    assert python_walks == ([[2]] if session.bind.dialect.name == "postgresql" else [])
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET entity_id = 2 WHERE id = 2")
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, 2)
    assert result == python_verdict(session, monkeypatch)


def test_the_one_statement_walks_in_spans_and_names_a_gap_wider_than_one(session, admin, python_walks, monkeypatch):
    monkeypatch.setattr(audit, "_SPARSE_SPAN", 4)
    numbered(session, admin, datetime(2026, 1, 1, tzinfo=UTC), 30)
    assert (audit.verify(session).checked, python_walks) == (30, [])
    drop_guards(session.connection())
    tamper(session, "DELETE FROM audit_events WHERE id BETWEEN 10 AND 20")
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id, result.checked) == (False, 10, 9) and "missing" in result.problem
    assert result == python_verdict(session, monkeypatch)


@pytest.mark.parametrize("sql", [
    "UPDATE audit_events SET changes = '{' WHERE id = :id",  # invalid JSON
    "UPDATE audit_events SET changes = '' WHERE id = :id",
    "UPDATE audit_events SET changes = x'00ff7b7d' WHERE id = :id",  # a blob of any bytes
    "UPDATE audit_events SET changes = CAST(x'7bff7d' AS TEXT) WHERE id = :id",  # text that is no UTF-8
    "UPDATE audit_events SET note = CAST(x'c3' AS TEXT) WHERE id = :id",
    "UPDATE audit_events SET changes = CAST(x'7b2278223a5b6e756c6c2c317d5d7d' AS TEXT) || char(0) WHERE id = :id",
    # text with escaped quotes that spells the keys after it
    "UPDATE audit_events SET changes = '{\"x\":\"a\\\",\\\"document_no\\\":\\\"b\"}' WHERE id = :id",
    "UPDATE audit_events SET changes = changes || ',\"changes\":' || changes WHERE id = :id",
    # two fields swapped
    "UPDATE audit_events SET note = document_no, document_no = note WHERE id = :id",
    "UPDATE audit_events SET actor_kind = actor_name, actor_name = actor_kind WHERE id = :id",
    "UPDATE audit_events SET entity_type = action, action = entity_type WHERE id = :id",
])
def test_changes_and_fields_tampered_in_sql_are_named(session, events, sql, monkeypatch):
    """Tampering straight in SQL on SQLite's quick path (no json_valid): each event is named, as the Python path
    names it — a blob or a text that is no UTF-8 too (the walk stopped with the driver's decode error)."""
    if session.bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's column types refuse most of these values")
    drop_guards(session.connection())
    tamper(session, sql, id=events[0])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, events[0]), result
    assert result == python_verdict(session, monkeypatch)
