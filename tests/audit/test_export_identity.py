"""The fast audit export (issue 19: plain rows, each field's name looked up once per key, one safety check per
row) writes the very bytes the per-cell export wrote before it, on both backends: the earlier implementation is
kept here as the reference and both run on the same trail — formula-like, control-character and JSON values,
unnamed keys and actions, contacts stored in clear (masked when shown), events without changes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from registry.audit import export
from registry.audit import trail as audit
from registry.audit.queries import (
    BEIJING,
    AuditFilter,
    action_name,
    actor_label,
    entity_name,
    field_changes,
)
from registry.domain.actors import Actor, Role
from registry.platform.cells import drain, safe_cell
from registry.regions.scoping import scope_session
from tests.conftest import NOW, officer_of
from tests.factories import make_enterprise

# --- the export as it was before issue 19's fast path (registry/audit/export.py at 8991617)


def _old_select(actor, f):
    return export._select(actor, f)  # the statement is unchanged (8991617 had the same); only the row work moved


def old_rows(session, actor, f) -> Iterator[list[Any]]:
    result = session.execute(_old_select(actor, f).execution_options(yield_per=1000))
    for event in result:
        head = [safe_cell(v) for v in (
            event.occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            actor_label(event.actor_kind, event.actor_name), action_name(event.action),
            entity_name(event.entity_type), event.entity_id, event.enterprise_name, event.region_name)]
        tail = [safe_cell(v) for v in (event.reason_code, event.document_no, event.note, event.request_id, event.ip)]
        changes = field_changes(event.entity_type, event.changes or {}) or [None]
        for change in changes:
            if change is None:
                yield [*head, None, None, None, *tail]
            else:
                yield [*head, safe_cell(change.label), safe_cell(change.before), safe_cell(change.after), *tail]


def old_csv(session, actor, f) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export.HEADERS)
    for row in old_rows(session, actor, f):
        writer.writerow(["" if v is None else v for v in row])
    return drain(buffer)


# --- a trail with every kind of awkward value

EVIL = '=HYPERLINK("http://evil","点我")'
AWKWARD = [EVIL, "  +1", "-12.50", "@x", "\t制表", "中\x01间", "行一\n=行二", "", "普通", "x" * 40_000]


@pytest.fixture
def trail(session, admin):
    at = datetime(2026, 3, 5, 1, 2, 3, tzinfo=UTC)
    ent = make_enterprise(session, admin, name="台州甲有限公司")
    hz = make_enterprise(session, admin, region_code="330106", name="杭州乙有限公司")
    clerk = Actor(kind="user", name=EVIL, role=Role.OFFICER, region_code="331000", ip="=1.2.3.4", request_id="@req")
    for i, text in enumerate(AWKWARD):
        changes = {"name": [text, f"新{text}"], "contact_phone": [None, "13812345678"],  # a contact in clear
                   "contact_email": ["a@b.cn", text], "status": ["active", "revoked"], "role": [None, "officer"],
                   "scope": [None, "=write"], "is_active": [True, False], "revenue": [Decimal("1.50"), None],
                   "on": [None, date(2020, 2, 29)], "nested": [[1, [2, text]], {"b": None, "a": [True, 0.1]}],
                   "unknown_key": [None, text], "single": text, "n": [3, 4], "": [None, ""]}
        if i % 3 == 1:  # a short one
            changes = {k: v for k, v in changes.items() if k in ("name", "single")}
        audit.record(session, actor=clerk if i % 2 else admin, action=("enterprise.updated", "made.up")[i % 2],
                     entity_type=("enterprise", "test", "user")[i % 3], entity_id=(ent.id, None, 7)[i % 3],
                     enterprise_id=(ent.id, hz.id, None)[i % 3], region_code=("331002", "330106", None)[i % 3],
                     changes=changes, at=at + timedelta(hours=i),
                     why=audit.Why(text[:8] or None, text[:40] or None, text))
    audit.record(session, actor=admin, action="enterprise.updated", entity_type="enterprise", entity_id=ent.id,
                 enterprise_id=ent.id, region_code="331002", changes={}, at=NOW)
    return ent


FILTERS = [AuditFilter(), AuditFilter(region="331000"), AuditFilter(action="made."), AuditFilter(entity_type="user"),
           AuditFilter(since=date(2026, 3, 5), until=date(2026, 3, 5)), AuditFilter(actor="HYPERLINK")]


@pytest.mark.parametrize("f", FILTERS)
def test_the_fast_export_writes_the_bytes_the_per_cell_export_wrote(session, admin, trail, f):
    for actor in (admin, officer_of("331000"), officer_of("330100")):
        before = old_csv(session, actor, f)
        out = io.BytesIO()
        count = export.write_csv(session, actor, f, out)
        assert out.getvalue() == before
        old = list(old_rows(session, actor, f))
        assert [list(r) for r in export.rows(session, actor, f)] == old  # the .xlsx's cells too
        assert count == len(old)
        assert b"".join(export.csv_chunks(session, actor, f, batch=3)) == before


def test_the_reference_is_not_vacuous(session, admin, trail):
    out = io.BytesIO()
    count = export.write_csv(session, admin, AuditFilter(), out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    cells = {c for r in rows[1:] for c in r}
    assert count == len(rows) - 1 > 50
    assert "'" + EVIL in cells and "中间" in cells
    assert "138****5678" in cells  # an enterprise's contact, stored in clear, shown masked
    assert "'=write" in cells and "否" in cells and max(len(c) for c in cells) == 32767


def test_the_fast_export_keeps_the_sessions_region_scope(session, admin, trail):
    everything = old_csv(session, admin, AuditFilter())
    scope_session(session, "331000")
    try:
        out = io.BytesIO()
        export.write_csv(session, admin, AuditFilter(), out)
        assert out.getvalue() == old_csv(session, admin, AuditFilter()) != everything
    finally:
        scope_session(session, None)


def test_the_time_is_beijings_to_the_second_in_any_year(session, admin):
    """The time formatted by the database (issue 19) is the one Python formats: seconds cut, not rounded
    (999,999 µs), and Beijing's summer time of 1986–1991 (SQLite leaves those to Python)."""
    ent = make_enterprise(session, admin, name="台州丙有限公司")
    for at in (datetime(2026, 3, 5, 15, 59, 59, 999_999, tzinfo=UTC), datetime(1988, 7, 1, 1, 2, 3, tzinfo=UTC),
               datetime(1991, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)):
        audit.record(session, actor=admin, action="enterprise.updated", entity_type="enterprise", entity_id=ent.id,
                     enterprise_id=ent.id, region_code="331002", changes={"name": ["甲", "乙"]}, at=at)
    out = io.BytesIO()
    export.write_csv(session, admin, AuditFilter(), out)
    assert out.getvalue() == old_csv(session, admin, AuditFilter())
    text = out.getvalue().decode("utf-8-sig")
    assert "2026-03-05 23:59:59" in text and "1988-07-01 10:02:03" in text and "1992-01-01 07:59:59" in text
