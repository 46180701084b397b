"""The hash chain on SQLite and PostgreSQL: canonical round trips, and tampering that verify must catch.

Tampering runs on the test's own transaction: the triggers are dropped there (DDL is
transactional on both backends) and come back with the rollback at the end of the test.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditChainHead, AuditEvent
from tests.audit.helpers import MESSAGE, drop_guards, tamper
from tests.factories import make_enterprise

TABLE = AuditEvent.__table__


@pytest.fixture
def chain(session, admin):
    """Five events made through the services; their ids, oldest first."""
    for _ in range(5):
        make_enterprise(session, admin)
    ids = list(session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))
    assert len(ids) == 5 and audit.verify(session).ok
    return ids


def row(session, event_id):
    columns = [TABLE.c[name] for name in (*audit.HASHED_FIELDS, "hash")]
    return dict(session.connection().execute(sa.select(*columns).where(TABLE.c.id == event_id)).mappings().one())


def rewrite(session, event_id, **values):
    session.connection().execute(sa.update(TABLE).where(TABLE.c.id == event_id).values(**values))


def test_canonical_encoding_survives_the_round_trip(session, admin):
    at = datetime(2026, 3, 5, 1, 2, 3, 456789, tzinfo=UTC)
    changes = {
        "name": ["旧名称有限公司", "新名称（集团）有限公司 ☃ 😀"],
        "revenue": [Decimal("1234.50"), Decimal("-0.01")],
        "founded_on": [None, date(2020, 2, 29)],
        "nested": [[1, [2, "三"]], {"b": None, "a": [True, False, 0.1]}],
        "big": [None, 2**62],
        "quotes": ['a"b\\c\n\t', "</script> ' ;"],
        7: [None, "an int key"],
        "tuple": (1, 2),
    }
    event_id = audit.record(session, actor=admin, action="test.round_trip", entity_type="test", entity_id=None,
                         changes=changes, at=at, why=audit.Why("r", "文〔2026〕1号", "备注\r\n第二行"))
    session.expire_all()
    stored = row(session, event_id)
    assert stored["occurred_at"] == at  # microseconds kept on both backends
    assert stored["changes"]["revenue"] == ["1234.50", "-0.01"] and stored["changes"]["7"] == [None, "an int key"]
    assert audit.event_hash(stored) == stored["hash"]
    assert audit.verify(session).ok


def test_naive_time_is_refused(session, admin):
    with pytest.raises(ValueError):
        audit.record(session, actor=admin, action="x", entity_type="x", entity_id=None, changes={},
                     at=datetime(2026, 1, 1))


def test_the_database_refuses_update_and_delete(session, chain):
    for sql in ("UPDATE audit_events SET note = 'x'", "DELETE FROM audit_events",
                *(["TRUNCATE audit_events"] if session.bind.dialect.name == "postgresql" else [])):
        with pytest.raises(sa.exc.DBAPIError) as err, session.begin_nested():
            tamper(session, sql)
        assert MESSAGE in str(err.value)
    assert audit.verify(session).checked == 5


def test_a_changed_value_is_named(session, chain):
    drop_guards(session.connection())
    original = row(session, chain[2])["changes"]
    rewrite(session, chain[2], changes={**original, "contact_email": [None, "forged@example.com"]})
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id, result.checked) == (False, chain[2], 2)
    assert "content does not match" in result.problem


def test_a_value_that_no_longer_reads_back_is_named_not_a_crash(session, chain):
    if session.bind.dialect.name == "postgresql":
        pytest.skip("PostgreSQL's json and timestamptz types refuse such values")
    drop_guards(session.connection())
    tamper(session, "UPDATE audit_events SET changes = 'not json' WHERE id = :id", id=chain[1])
    tamper(session, "UPDATE audit_events SET occurred_at = 'yesterday' WHERE id = :id", id=chain[3])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id, result.checked) == (False, chain[1], 1)
    assert "content does not match" in result.problem


def test_a_deleted_row_is_named(session, chain):
    drop_guards(session.connection())
    tamper(session, "DELETE FROM audit_events WHERE id = :id", id=chain[1])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, chain[1]) and "missing" in result.problem


def test_a_deleted_last_row_is_named(session, chain):
    drop_guards(session.connection())
    tamper(session, "DELETE FROM audit_events WHERE id = :id", id=chain[-1])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, chain[-1])


def test_swapped_rows_are_caught(session, chain):
    drop_guards(session.connection())
    a, b = row(session, chain[1]), row(session, chain[3])
    content = {k: v for k, v in a.items() if k != "id"}, {k: v for k, v in b.items() if k != "id"}
    rewrite(session, chain[1], **{**content[1], "hash": "f" * 64})
    rewrite(session, chain[3], **content[0])
    rewrite(session, chain[1], hash=content[1]["hash"])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, chain[1])


def test_renumbering_to_hide_a_gap_is_caught(session, chain):
    drop_guards(session.connection())
    tamper(session, "DELETE FROM audit_events WHERE id = :id", id=chain[1])
    for event_id in chain[2:]:
        tamper(session, "UPDATE audit_events SET id = :new WHERE id = :old", new=event_id - 1, old=event_id)
    tamper(session, "UPDATE audit_chain_head SET last_event_id = :id", id=chain[-1] - 1)
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, chain[1])


def forge_tail(session, chain, start):
    """Change event `start` and recompute every hash after it, as a careful forger would."""
    prev = row(session, start - 1)["hash"] if start > chain[0] else audit.GENESIS
    for event_id in range(start, chain[-1] + 1):
        values = row(session, event_id)
        values["prev_hash"] = prev
        if event_id == start:
            values["note"] = "改过的备注"
        values["hash"] = audit.event_hash(values)
        rewrite(session, event_id, note=values["note"], prev_hash=prev, hash=values["hash"])
        prev = values["hash"]
    return prev


def test_a_recomputed_tail_is_caught_by_the_chain_head(session, chain):
    drop_guards(session.connection())
    forge_tail(session, chain, chain[2])
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, chain[-1]) and "chain head" in result.problem


def test_a_tail_rewritten_with_its_head_needs_an_anchor(session, chain):
    anchored = row(session, chain[3])["hash"]
    drop_guards(session.connection())
    forged = forge_tail(session, chain, chain[2])
    tamper(session, "UPDATE audit_chain_head SET last_hash = :h", h=forged)
    assert audit.verify(session).ok  # self-consistent: only a hash kept elsewhere can tell
    result = audit.verify(session, anchors={chain[3]: anchored})
    assert (result.ok, result.first_bad_id) == (False, chain[3]) and "anchor" in result.problem


def test_a_lowered_chain_head_is_caught(session, chain):
    before_last = row(session, chain[-2])["hash"]
    tamper(session, "UPDATE audit_chain_head SET last_event_id = :id, last_hash = :h", id=chain[-2], h=before_last)
    result = audit.verify(session)
    assert (result.ok, result.first_bad_id) == (False, chain[-1])


def test_an_anchor_beyond_the_end_fails(session, chain):
    result = audit.verify(session, anchors={chain[-1] + 10: "a" * 64})
    assert not result.ok and result.first_bad_id == chain[-1] + 10


def test_verify_reports_the_head_for_anchoring(session, chain):
    result = audit.verify(session)
    head = session.get(AuditChainHead, 1)
    assert (result.head_id, result.head_hash) == (chain[-1], head.last_hash)
