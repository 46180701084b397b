"""Export of ~100,000 roster rows to .xlsx, against openpyxl write-only writing the same rows alone.

The product figure is the whole export as `flask export-roster` runs it (query, formatting, cell
sanitising, workbook); the floor writes the very rows the export produced — fetched beforehand,
not timed — into a write-only workbook with the same header.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from openpyxl import Workbook

from bench.timing import Figure, not_measured, once
from registry.cli.base import today_in
from registry.domain.actors import system_actor
from registry.enterprises.queries import RosterFilter
from registry.policies.rules import load_rules
from registry.titles.models import Certification

TIER = "innovative_sme"


def available() -> str | None:
    """Why the export cannot be measured, or None."""
    try:
        from registry.roster.export import export_roster, rows  # noqa: F401
    except ImportError as exc:
        return f"roster export not yet available ({exc})"
    return None


def _region_for(app: Flask, rows: int) -> str | None:
    """The province whose innovative_sme titles come nearest `rows` (None: the whole roster is near enough)."""
    with app.extensions["registry.sessionmaker"]() as session:
        total = session.scalar(sa.select(sa.func.count()).where(Certification.tier == TIER)) or 0
        if total <= rows * 1.3:
            return None
        # literal positions: with bound ones PostgreSQL cannot match the GROUP BY to the select list
        province = sa.func.substr(Certification.region_code, sa.literal_column("1"), sa.literal_column("2"))
        counts = session.execute(sa.select(province, sa.func.count()).where(Certification.tier == TIER)
                                 .group_by(province)).all()
    province, _ = min(counts, key=lambda pc: abs(pc[1] - rows))
    return f"{province}0000"


def _floor(rows: list[list], headers: list[str]) -> float:
    def write() -> int:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("企业名录")
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.tell()

    seconds, _ = once(write)
    return seconds


def measure(app: Flask, rows: int = 100_000) -> Figure:
    """Time export_roster to an .xlsx file against the bare write of the same rows."""
    why = available()
    if why:
        return not_measured("roster export to .xlsx", why)
    from registry.roster import export

    actor, today = system_actor("cli", "bench-export"), today_in("Asia/Shanghai")
    flt = RosterFilter(tier=TIER, region=_region_for(app, rows), sort="region")
    with app.extensions["registry.sessionmaker"]() as session, tempfile.TemporaryDirectory() as tmp:
        names = load_rules(session, app.extensions["registry.policies"]).tier_names()
        path = Path(tmp) / "roster.xlsx"
        seconds, count = once(lambda: export.export_roster(session, actor=actor, names=names, f=flt,
                                                           today=today, path=path))
        size = path.stat().st_size
        data = list(export.rows(session, actor=actor, names=names, f=flt, today=today))
    floor = _floor(data, export.HEADERS)
    where = f"region {flt.region}" if flt.region else "the whole roster"
    return Figure(f"roster export, {count:,} rows to .xlsx", seconds, floor, "openpyxl write-only, same rows",
                  target_ratio=2.0, note=f"tier {TIER} in {where}; {size / 1e6:.1f} MB")

