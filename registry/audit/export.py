"""Export a filtered audit trail to .xlsx or CSV: one row per changed field, Beijing time, Chinese headers.

Rows stream from the database in batches (plain column rows, no ORM identity map) into an
constant-memory workbook (rustpy-xlsxwriter, registry/platform/cells.py) or CSV chunks, so a large trail never sits in memory at once. Every
text cell passes `safe_cell` (no formula injection). The CSV starts with a BOM so Excel reads it
as UTF-8.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
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
from registry.platform.cells import csv_stream, needs_care, safe_cell, write_sheet
from registry.regions.models import Region
from registry.regions.scoping import with_scope

HEADERS = ("时间(北京时间)", "操作人", "操作", "对象", "对象编号", "企业", "地区", "字段", "原值", "新值",
           "原因", "文号", "备注", "请求号", "IP")
WIDTHS = (20, 24, 16, 12, 10, 28, 12, 18, 28, 28, 16, 22, 30, 18, 16)
BATCH = 1000


def _select(actor: Actor, f: AuditFilter) -> sa.Select[Any]:
    return (sa.select(AuditEvent.occurred_at, AuditEvent.actor_kind, AuditEvent.actor_name, AuditEvent.action,
                      AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.changes, AuditEvent.reason_code,
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


def _shown(key: str, names: Mapping[str, str], value: Any) -> str:
    """display_value(key, value), the common case (text) without its checks."""
    if value.__class__ is str:
        return names.get(value, value)
    return display_value(key, value)


def _changes(entity_type: str, changes: dict[str, Any]) -> list[tuple[str, str, str]]:
    """field_changes(entity_type, changes) as (label, before, after) for the file, per-field work cached."""
    changes = shown_changes(entity_type, changes)
    out = []
    for key, label, names in _fields(entity_type, tuple(changes)):
        value = changes[key]
        before, after = value if isinstance(value, list) and len(value) == 2 else (None, value)
        out.append((label, _shown(key, names, before), _shown(key, names, after)))
    return out


def rows(session: Session, actor: Actor, f: AuditFilter) -> Iterator[Sequence[Any]]:
    """Yield the export's rows (without the header), safe for a spreadsheet.

    Plain rows from the session's connection (its region scope kept), each field's name and value names
    looked up once per set of keys, an event's texts checked at once for all its rows (needs_care): no
    Python call per cell (issue 19). An event that needs care goes through safe_cell cell by cell.
    """
    stmt = with_scope(session, _select(actor, f))
    result = session.connection().execute(stmt, execution_options={"yield_per": BATCH})
    for (occurred_at, actor_kind, actor_name, action, entity_type, entity_id, changes, reason_code, document_no,
         note, request_id, ip, enterprise_name, region_name) in result:
        when = occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        who, what, kind = actor_label(actor_kind, actor_name), action_name(action), entity_name(entity_type)
        shown = _changes(entity_type, changes or {}) or [(None, None, None)]
        texts = [when, who, what, kind, enterprise_name, region_name, reason_code, document_no, note, request_id, ip]
        texts.extend(v for change in shown for v in change[1:])  # the labels are safe already
        careful = needs_care(texts)
        for label, before, after in shown:
            row = (when, who, what, kind, entity_id, enterprise_name, region_name, label, before, after,
                   reason_code, document_no, note, request_id, ip)
            yield [safe_cell(v) for v in row] if careful else row


def write_xlsx(session: Session, actor: Actor, f: AuditFilter, out: IO[bytes]) -> int:
    """Write the filtered trail as a workbook to `out`; return the number of data rows."""
    return write_sheet(out, sheet="审计记录", headers=HEADERS, rows=rows(session, actor, f), widths=WIDTHS)


def csv_chunks(session: Session, actor: Actor, f: AuditFilter, batch: int = 500) -> Iterator[bytes]:
    """Yield the filtered trail as UTF-8 CSV (with BOM) in chunks, for a streamed response."""
    return csv_stream(HEADERS, rows(session, actor, f), batch)


def write_csv(session: Session, actor: Actor, f: AuditFilter, out: IO[bytes]) -> int:
    """Write the filtered trail as CSV to a binary file; return the number of data rows."""
    counted: list[int] = []
    for chunk in csv_stream(HEADERS, rows(session, actor, f), BATCH, counted):
        out.write(chunk)
    return counted[0]
