"""Exports — the roster and the audit trail, to .xlsx and CSV — each against its true floor.

The product figure is the whole export as `flask export-roster` (or the audit download) runs it:
query, formatting, masking, cell sanitising, file. The floor writes the very rows the export
produced — fetched beforehand, not timed — with the fastest writer installed: for .xlsx
rustpy-xlsxwriter (rust_xlsxwriter, constant-memory mode) given ready-made row dicts, for CSV
the csv module alone (`writerows`). Both write to a file on the same disk as the export does.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from bench import timing
from bench.timing import Figure, not_measured, once
from registry.audit.models import AuditEvent
from registry.cli.base import today_in
from registry.domain.actors import system_actor
from registry.enterprises.queries import RosterFilter
from registry.policies.rules import load_rules
from registry.titles.models import Certification

TIER = "innovative_sme"
XLSX_FLOOR = "rustpy-xlsxwriter (constant memory), same rows as dicts"
CSV_FLOOR = "csv module writerows, same rows"


def available() -> str | None:
    """Why the export cannot be measured, or None."""
    try:
        from registry.roster.export import export_roster, rows  # noqa: F401
    except ImportError as exc:
        return f"roster export not yet available ({exc})"
    try:
        import rustpy_xlsxwriter  # noqa: F401
    except ImportError as exc:
        return f"rustpy-xlsxwriter is not installed ({exc}): pip install -r requirements.txt"
    return None


def _province_nearest(app: Flask, column: Any, where: Any, rows: int, per_row: float = 1.0) -> str | None:
    """The province whose rows come nearest `rows` (None: the whole table is near enough)."""
    with app.extensions["registry.sessionmaker"]() as session:
        total = session.scalar(sa.select(sa.func.count()).where(where)) or 0
        if total * per_row <= rows * 1.3:
            return None
        # literal positions: with bound ones PostgreSQL cannot match the GROUP BY to the select list
        province = sa.func.substr(column, sa.literal_column("1"), sa.literal_column("2"))
        counts = session.execute(sa.select(province, sa.func.count()).where(where, column.is_not(None))
                                 .group_by(province)).all()
    province, _ = min(counts, key=lambda pc: abs(pc[1] * per_row - rows))
    return f"{province}0000"


def xlsx_floor(rows: list[list[Any]], headers: list[str] | tuple[str, ...], sheet: str) -> tuple[float, int]:
    """Seconds (and peak memory) for rustpy-xlsxwriter writing `rows` under `headers` to a temporary file."""
    from rustpy_xlsxwriter import write_worksheet

    keys = tuple(headers)
    records = [dict(zip(keys, row, strict=True)) for row in rows]  # the writer's input, made beforehand
    with tempfile.TemporaryFile() as out:
        seconds, _ = once(lambda: write_worksheet(records, out, sheet_name=sheet, freeze_row=1,
                                                  datetime_format="yyyy-mm-dd"))
    return seconds, timing.last_peak or 0


def csv_floor(rows: list[list[Any]], headers: list[str] | tuple[str, ...]) -> tuple[float, int]:
    """Seconds (and peak memory) for the csv module writing `rows` (UTF-8 with BOM) to a temporary file."""
    with tempfile.TemporaryFile("w", encoding="utf-8-sig", newline="") as out:
        def write() -> None:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(headers)
            writer.writerows(rows)
            out.flush()
        seconds, _ = once(write)
    return seconds, timing.last_peak or 0


def _pair(label: str, kind: str, run: Callable[[Path], int], data: list[list[Any]], headers: Any, sheet: str,
          note: str) -> Figure:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{kind}"
        seconds, count = once(lambda: run(path))
        memory, size = timing.last_peak, path.stat().st_size
    if count != len(data):
        raise RuntimeError(f"{label}: the export wrote {count} rows, the floor has {len(data)}")
    if kind == "xlsx":
        floor, floor_memory = xlsx_floor(data, headers, sheet)
        return Figure(f"{label}, {count:,} rows to .xlsx", seconds, floor, XLSX_FLOOR, target_ratio=3.0,
                      note=f"{note}; {size / 1e6:.1f} MB", memory=memory, floor_memory=floor_memory)
    floor, floor_memory = csv_floor(data, headers)
    return Figure(f"{label}, {count:,} rows to CSV", seconds, floor, CSV_FLOOR, target_ratio=2.0,
                  note=f"{note}; {size / 1e6:.1f} MB", memory=memory, floor_memory=floor_memory)


def measure(app: Flask, rows: int = 100_000) -> list[Figure]:
    """The roster and the audit trail exported to .xlsx and CSV, each against its floor."""
    why = available()
    if why:
        return [not_measured("exports", why)]
    from registry.audit import export as audit_export
    from registry.audit.queries import AuditFilter
    from registry.roster import export

    actor, today = system_actor("cli", "bench-export"), today_in("Asia/Shanghai")
    flt = RosterFilter(tier=TIER, region=_province_nearest(app, Certification.region_code,
                                                           Certification.tier == TIER, rows), sort="region")
    # an enterprise.created event lists ~10 fields, one row each
    audit_flt = AuditFilter(region=_province_nearest(app, AuditEvent.region_code, AuditEvent.id > 0, rows, 10.0))
    figures = []
    with app.extensions["registry.sessionmaker"]() as session:
        names = load_rules(session, app.extensions["registry.policies"]).tier_names()
        data = list(export.rows(session, actor=actor, names=names, f=flt, today=today))
        where = f"tier {TIER} in {f'region {flt.region}' if flt.region else 'the whole roster'}"
        for kind in ("xlsx", "csv"):
            figures.append(_pair("roster export", kind, lambda path: export.export_roster(
                session, actor=actor, names=names, f=flt, today=today, path=path), data, export.HEADERS,
                "企业名录", where))
        trail = list(audit_export.rows(session, actor, audit_flt))
        where = f"events of region {audit_flt.region or 'all'}, one row per changed field"
        for kind, write in (("xlsx", audit_export.write_xlsx), ("csv", audit_export.write_csv)):
            def run(path: Path, write: Callable[..., int] = write) -> int:
                with path.open("wb") as out:
                    return write(session, actor, audit_flt, out)
            figures.append(_pair("audit export", kind, run, trail, audit_export.HEADERS, "审计记录", where))
        session.rollback()
    return figures
