"""Export a filtered audit trail to .xlsx or CSV: one row per changed field, Beijing time, Chinese headers.

Rows stream from the database in batches (plain column rows, no ORM identity map) into an
constant-memory workbook (rustpy-xlsxwriter, registry/platform/cells.py) or CSV chunks, so a large trail never sits in memory at once. Every
text cell passes `safe_cell` (no formula injection). The CSV starts with a BOM so Excel reads it
as UTF-8.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit.models import AuditEvent
from registry.audit.queries import (
    _FIELD_ORDER,
    _VALUE_NAMES,
    BEIJING,
    AuditFilter,
    action_name,
    actor_label,
    conditions,
    display_value,
    entity_name,
    field_name,
    shown_changes,
)
from registry.domain.actors import Actor
from registry.enterprises.models import Enterprise
from registry.platform.cells import csv_head, needs_care, safe_cell, write_sheet
from registry.regions.models import Region
from registry.regions.scoping import with_scope

HEADERS = ("时间(北京时间)", "操作人", "操作", "对象", "对象编号", "企业", "地区", "字段", "原值", "新值",
           "原因", "文号", "备注", "请求号", "IP")
WIDTHS = (20, 24, 16, 12, 10, 28, 12, 18, 28, 28, 16, 22, 30, 18, 16)
BATCH = 1000


#: an event's time as the file shows it, written by PostgreSQL (its time-zone data is the IANA database, as
#: zoneinfo's): occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") without a datetime per event
_PG_WHEN = sa.func.to_char(sa.func.timezone(BEIJING.key, AuditEvent.occurred_at), "YYYY-MM-DD HH24:MI:SS")


#: the same on SQLite, which stores the UTC time as text (YYYY-MM-DD HH:MM:SS.ffffff): its seconds cut before
#: adding Beijing's +8 hours, which it has been since 1991; an earlier time (summer time 1986–1991) comes as
#: stored after "UTC ", for Python to convert
_STORED = sa.type_coerce(AuditEvent.occurred_at, sa.String())
_SQLITE_WHEN = sa.type_coerce(sa.case((_STORED >= "1992-01-01", sa.func.strftime(
    "%Y-%m-%d %H:%M:%S", sa.func.substr(_STORED, 1, 19), "+8 hours")), else_="UTC " + _STORED), sa.String())


def _select(actor: Actor, f: AuditFilter, dialect: str | None = None) -> sa.Select[Any]:
    """The export's statement; for a `dialect` the time comes formatted (mostly, see _SQLITE_WHEN) and on
    PostgreSQL the changes as their JSON text (json.loads here is cheaper than psycopg's jsonb loader)."""
    when = {"postgresql": _PG_WHEN, "sqlite": _SQLITE_WHEN}.get(dialect or "", AuditEvent.occurred_at)
    changes = sa.cast(AuditEvent.changes, sa.Text()) if dialect == "postgresql" else AuditEvent.changes
    return (sa.select(when, AuditEvent.actor_kind, AuditEvent.actor_name, AuditEvent.action,
                      AuditEvent.entity_type, AuditEvent.entity_id, changes, AuditEvent.reason_code,
                      AuditEvent.document_no, AuditEvent.note, AuditEvent.request_id, AuditEvent.ip,
                      Enterprise.name.label("enterprise_name"), Region.name.label("region_name"))
            .outerjoin(Enterprise, Enterprise.id == AuditEvent.enterprise_id)
            .outerjoin(Region, Region.code == AuditEvent.region_code)
            .where(*conditions(actor, f)).order_by(AuditEvent.id.desc()))


@functools.lru_cache(maxsize=4096)
def _fields(entity_type: str, keys: tuple[str, ...]) -> tuple[tuple[str, str, Mapping[str, str]], ...]:
    """An event's changed fields in the order field_changes shows them, each with its Chinese name made
    safe and its value names (registry/audit/queries.py): worked out once per kind of record and set of keys
    (an import's events all change the same fields), not once per event."""
    order = sorted(keys, key=lambda k: (_FIELD_ORDER.get(k, len(_FIELD_ORDER)), k))
    return tuple((key, safe_cell(field_name(entity_type, key)), _VALUE_NAMES.get(key, {})) for key in order)


def _changes(entity_type: str, changes: dict[str, Any], texts: list[Any]) -> list[tuple[str, str, str]]:
    """field_changes(entity_type, changes) as (label, before, after) for the file, per-field work cached; each
    before and after is added to `texts` too. A value shows as display_value(key, value) shows it, the common
    cases (none, text) inline."""
    changes = shown_changes(entity_type, changes)
    out = []
    for key, label, names in _fields(entity_type, tuple(changes)):
        value = changes[key]
        before, after = value if isinstance(value, list) and len(value) == 2 else (None, value)
        before = "" if before is None else names.get(before, before) if before.__class__ is str else display_value(
            key, before)
        after = "" if after is None else names.get(after, after) if after.__class__ is str else display_value(
            key, after)
        out.append((label, before, after))
        texts += (before, after)
    return out


def _events(session: Session, actor: Actor, f: AuditFilter) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]],
                                                                         tuple[Any, ...], bool]]:
    """Each event of the export as (its cells before the field's, its (field, before, after) rows, its cells after
    them, whether its texts need care): plain rows from the session's connection (its region scope kept), each
    field's name and value names looked up once per set of keys, an event's texts checked at once for all its
    rows (needs_care): no Python call per cell (issue 19). The labels are safe already."""
    stmt = with_scope(session, _select(actor, f, session.get_bind().dialect.name))
    result = session.connection().execute(stmt, execution_options={"yield_per": BATCH})
    for (occurred_at, actor_kind, actor_name, action, entity_type, entity_id, changes, reason_code, document_no,
         note, request_id, ip, enterprise_name, region_name) in result:
        if occurred_at.__class__ is not str:  # a datetime: a dialect that does not format it
            when = occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        elif occurred_at.startswith("UTC "):  # SQLite, before 1992: the stored UTC time
            when = datetime.fromisoformat(occurred_at[4:]).replace(tzinfo=UTC).astimezone(BEIJING).strftime(
                "%Y-%m-%d %H:%M:%S")
        else:
            when = occurred_at
        if changes.__class__ is str:  # PostgreSQL: the JSON text
            changes = json.loads(changes)
        who, what, kind = actor_label(actor_kind, actor_name), action_name(action), entity_name(entity_type)
        texts = [when, who, what, kind, enterprise_name, region_name, reason_code, document_no, note, request_id, ip]
        shown = _changes(entity_type, changes or {}, texts) or [(None, None, None)]
        yield ((when, who, what, kind, entity_id, enterprise_name, region_name), shown,
               (reason_code, document_no, note, request_id, ip), needs_care(texts))


def rows(session: Session, actor: Actor, f: AuditFilter) -> Iterator[Sequence[Any]]:
    """Yield the export's rows (without the header), safe for a spreadsheet: one per changed field of each event
    (`_events`); an event that needs care goes through safe_cell cell by cell."""
    for head, shown, tail, careful in _events(session, actor, f):
        for change in shown:
            row = (*head, *change, *tail)
            yield [safe_cell(v) for v in row] if careful else row


#: what ends a part of a row written on its own: the csv module quotes a field holding a character of its line
#: terminator, so CR LF must be in it as in the file's; NUL is in no cell that needs no care (ILLEGAL_CHARACTERS)
_PART_END = "\r\n\x00"


def _csv(session: Session, actor: Actor, f: AuditFilter, batch: int, counted: list[int] | None = None,
         ) -> Iterator[bytes]:
    """The file in chunks of about `batch` rows: what csv_stream writes for `rows()`, with an event's cells
    before and after its fields written once for all its rows (a row is three parts joined by commas, the
    same bytes as the whole row written at once: no part is a single empty field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=_PART_END)
    whole = csv.writer(buffer, lineterminator="\r\n")
    yield csv_head(HEADERS)
    lines: list[str] = []
    count = 0
    for head, shown, tail, careful in _events(session, actor, f):
        count += len(shown)
        if careful:
            whole.writerows([safe_cell(v) for v in (*head, *change, *tail)] for change in shown)
            lines.append(buffer.getvalue())
        else:
            writer.writerow(head)
            writer.writerow(tail)
            writer.writerows(shown)
            first, last, *middle, _ = buffer.getvalue().split(_PART_END)
            first, last = first + ",", "," + last + "\r\n"
            lines.extend(first + part + last for part in middle)
        buffer.seek(0)
        buffer.truncate()
        if len(lines) >= batch:
            yield "".join(lines).encode()
            lines.clear()
    if lines:
        yield "".join(lines).encode()
    if counted is not None:
        counted.append(count)


def write_xlsx(session: Session, actor: Actor, f: AuditFilter, out: IO[bytes]) -> int:
    """Write the filtered trail as a workbook to `out`; return the number of data rows."""
    return write_sheet(out, sheet="审计记录", headers=HEADERS, rows=rows(session, actor, f), widths=WIDTHS)


def csv_chunks(session: Session, actor: Actor, f: AuditFilter, batch: int = 500) -> Iterator[bytes]:
    """Yield the filtered trail as UTF-8 CSV (with BOM) in chunks, for a streamed response."""
    return _csv(session, actor, f, batch)


def write_csv(session: Session, actor: Actor, f: AuditFilter, out: IO[bytes]) -> int:
    """Write the filtered trail as CSV to a binary file; return the number of data rows."""
    counted: list[int] = []
    for chunk in _csv(session, actor, f, BATCH, counted):
        out.write(chunk)
    return counted[0]
