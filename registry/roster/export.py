"""Export the roster to .xlsx (rustpy-xlsxwriter, constant memory) or CSV (UTF-8 with BOM): one row per title.

Each row carries the enterprise's fields and its latest annual figures, under the import's own
Chinese headers, so an exported file re-imports to the same registry state. The filters are the
roster's (RosterFilter: q, region, tier, status, expiring_within_days, as_of); rows are limited
to the actor's region whatever the session. Without a title filter, enterprises holding no title
are listed too (with empty title columns), so nothing of the roster is lost. Every text cell
passes safe_cell (formula injection, illegal characters).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.actors import Action, Actor, require
from registry.domain.lifecycle import STATUS_NAMES
from registry.domain.personal import CONTACT_FIELDS
from registry.enterprises.models import HOLDER_KIND_NAMES, SIZE_NAMES, ZONE_TYPE_NAMES, AnnualReport, Enterprise
from registry.enterprises.queries import SORTS, RosterFilter, certification_conditions, in_region, roster_select
from registry.platform.cells import drain, safe_cell, write_sheet
from registry.regions.models import Region
from registry.roster.imports.columns import EXPORT_COLUMNS, Column
from registry.titles.models import Certification


def headers(columns: tuple[Column, ...] = EXPORT_COLUMNS) -> list[str]:
    """Return the export's header row: each field's catalogue label with its unit (营业收入（元）)."""
    return [c.header for c in columns]


HEADERS = headers()
WIDE = {"name": 36, "uscc": 22, "tier": 22, "document_no": 26, "authority": 20, "audit_firm": 28,
        "contact_email": 26, "batch": 16}
BATCH = 1000
_LATEST = (sa.select(AnnualReport.enterprise_id, sa.func.max(AnnualReport.year).label("year"))
           .group_by(AnnualReport.enterprise_id).subquery("latest"))


def _source(field: str) -> Any:
    """Return the column an export field is read from."""
    if field == "region_name":
        return Region.name
    for model in (Enterprise, Certification, AnnualReport):
        if field in model.__table__.c:
            return getattr(model, field)
    raise KeyError(field)


COLUMNS = [_source(c.field).label(c.field) for c in EXPORT_COLUMNS if c.field != "no"]
#: the default (masked) export's columns: the contacts' stored masked forms, no encrypted column read (issue 19)
MASKED = [getattr(Enterprise, f"{c.field}_masked").label(c.field) if c.field in CONTACT_FIELDS
          else _source(c.field).label(c.field) for c in EXPORT_COLUMNS if c.field != "no"]
_NO = [c.field for c in EXPORT_COLUMNS].index("no")  #: where the row number goes


def _select(actor: Actor, f: RosterFilter, today: date, unmasked: bool) -> sa.Select[Any]:
    conditions = certification_conditions(f, today)
    wanted = roster_select(f, today).with_only_columns(Enterprise.id).order_by(None)
    stmt = sa.select(*(COLUMNS if unmasked else MASKED)).select_from(Enterprise).outerjoin(Region, Region.code == Enterprise.region_code)
    join = stmt.join if conditions else stmt.outerjoin  # a title filter lists matching titles only
    stmt = join(Certification, Certification.enterprise_id == Enterprise.id)
    stmt = (stmt.outerjoin(_LATEST, _LATEST.c.enterprise_id == Enterprise.id)
            .outerjoin(AnnualReport, sa.and_(AnnualReport.enterprise_id == Enterprise.id,
                                             AnnualReport.year == _LATEST.c.year)))
    order = SORTS.get(f.sort, SORTS["name"])
    return (stmt.where(Enterprise.id.in_(wanted), in_region(Enterprise.region_code, actor.region_code), *conditions)
            .order_by(*order, Enterprise.id, Certification.recognized_on, Certification.id))


def _shown(field: str, value: Any, names: dict[str, str]) -> Any:
    """Show codes the way the import reads them back: tier and size by Chinese name, status in Chinese."""
    if value is None:
        return None
    if field == "tier":
        return names.get(value, value)
    if field == "status":
        return STATUS_NAMES.get(value, value)
    if field == "size_class":
        return SIZE_NAMES.get(value, value)
    if field == "holder_kind":
        return HOLDER_KIND_NAMES.get(value, value)
    if field == "zone_type":
        return ZONE_TYPE_NAMES.get(value, value)
    return value


def rows(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter,
         today: date, unmasked: bool = False) -> Iterator[list[Any]]:
    """Yield the export's data rows (without the header), safe for a spreadsheet.

    The contact's name, phone and e-mail are masked (138****1234: the masked forms stored beside the
    ciphertext, so nothing is decrypted) unless `unmasked` — which the caller allows only to a role
    that may (registry/privacy/unmask.py) and records as pi.unmask.
    A masked file re-imports without touching the contacts: the import reads a masked value that
    matches the stored one as unchanged (registry/roster/imports/diff.py).
    """
    require(actor, Action.READ)
    if unmasked:
        require(actor, Action.UNMASK_PI)
    shown = [_cell(c.field, names) for c in EXPORT_COLUMNS if c.field != "no"]
    result = session.execute(_select(actor, f, today, unmasked).execution_options(yield_per=BATCH))
    # positional tuples, one prepared function per column: the per-cell work is what the row needs
    for number, row in enumerate(result, start=1):
        cells = [show(value) for show, value in zip(shown, row, strict=True)]
        cells.insert(_NO, number)
        yield cells


def _cell(field: str, names: dict[str, str]) -> Any:
    """The function that turns a stored value of `field` into its cell (shown, made safe)."""
    if field in ("tier", "status", "size_class", "holder_kind", "zone_type"):
        return lambda value: safe_cell(_shown(field, value, names))
    return safe_cell


def write_xlsx(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
               out: IO[bytes], unmasked: bool = False) -> int:
    """Write the roster as a workbook (constant memory: rows stream into the writer) to `out`; return the rows."""
    return write_sheet(out, sheet="企业名录", headers=HEADERS,
                       rows=rows(session, actor=actor, names=names, f=f, today=today, unmasked=unmasked),
                       widths=[WIDE.get(c.field, 14) for c in EXPORT_COLUMNS], freeze_col=2)


def csv_chunks(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
               batch: int = 500) -> Iterator[bytes]:
    """Yield the roster as UTF-8 CSV with a BOM (so Excel reads it), in chunks for a streamed response."""
    yield from _csv(rows(session, actor=actor, names=names, f=f, today=today), batch)


def _csv(data: Iterator[list[Any]], batch: int = 500) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HEADERS)
    for number, row in enumerate(data, start=1):
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
        if number % batch == 0:
            yield drain(buffer)
    yield drain(buffer)


def write_csv(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
              out: IO[bytes], unmasked: bool = False) -> int:
    """Write the roster as CSV (UTF-8 with BOM) to `out`; return the number of data rows."""
    count = 0

    def counted() -> Iterator[list[Any]]:
        """Yield the rows, counting them."""
        nonlocal count
        for row in rows(session, actor=actor, names=names, f=f, today=today, unmasked=unmasked):
            count += 1
            yield row

    for chunk in _csv(counted()):
        out.write(chunk)
    return count


def export_roster(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
                  path: Path, unmasked: bool = False) -> int:
    """Write the roster to `path`: .csv as CSV, anything else as .xlsx; return the number of data rows."""
    write = write_csv if path.suffix.lower() == ".csv" else write_xlsx
    with path.open("wb") as out:
        return write(session, actor=actor, names=names, f=f, today=today, out=out, unmasked=unmasked)
