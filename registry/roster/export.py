"""Export the roster to .xlsx (rustpy-xlsxwriter, constant memory) or CSV (UTF-8 with BOM): one row per title.

Each row carries the enterprise's fields and its latest annual figures, under the import's own
Chinese headers, so an exported file re-imports to the same registry state. The filters are the
roster's (RosterFilter: q, region, tier, status, expiring_within_days, as_of); rows are limited
to the actor's region whatever the session. Without a title filter, enterprises holding no title
are listed too (with empty title columns), so nothing of the roster is lost. Every text cell
passes safe_cell (formula injection, illegal characters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.actors import Action, Actor, require
from registry.domain.personal import CONTACT_FIELDS
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.queries import SORTS, RosterFilter, certification_conditions, in_region, roster_select
from registry.platform.cells import (
    copy_csv_lines,
    csv_head,
    csv_stream,
    csv_text,
    driver_lookup,
    safe_cell,
    safe_rows,
    sql_cell,
    sqlite_cell,
    sqlite_csv_lines,
    sqlite_line,
    write_sheet,
)
from registry.platform.value_names import VALUE_NAMES
from registry.regions.models import Region
from registry.regions.scoping import with_scope
from registry.roster.imports.columns import EXPORT_COLUMNS, Column
from registry.titles.models import Certification


def headers(columns: tuple[Column, ...] = EXPORT_COLUMNS) -> list[str]:
    """Return the export's header row: each field's catalogue label with its unit (营业收入（元）)."""
    return [c.header for c in columns]


HEADERS = headers()
WIDE = {"name": 36, "uscc": 22, "tier": 22, "document_no": 26, "authority": 20, "audit_firm": 28,
        "contact_email": 26, "batch": 16}
BATCH = 1000
_EARLIER = sa.orm.aliased(AnnualReport)
#: each exported enterprise's latest report year, looked up per enterprise on the (enterprise_id, year) key:
#: a grouped subquery aggregated every report of the roster first (1,880,115 rows at 1,000,000, issue 19)
_LATEST_YEAR = (sa.select(sa.func.max(_EARLIER.year)).where(_EARLIER.enterprise_id == Enterprise.id)
                .correlate(Enterprise).scalar_subquery())
#: the same report by its id (SQLite): one step down the (enterprise_id, year) key gives the row's id, where the
#: year takes a step for max(year) and another for the row
_LATEST_ID = (sa.select(_EARLIER.id).where(_EARLIER.enterprise_id == Enterprise.id).order_by(_EARLIER.year.desc())
              .limit(1).correlate(Enterprise).scalar_subquery())


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
assert EXPORT_COLUMNS[0].field == "no"  #: the row number comes first  # noqa: S101


def _latest_report() -> Any:
    """Each enterprise's latest annual report as a LATERAL subquery (PostgreSQL): one backward step on the
    (enterprise_id, year) key per enterprise. The correlated max(year) in the join condition above it was
    evaluated twice per enterprise inside a hash join (200,000 times for 100,000 rows, ~40% of the query)."""
    latest = (sa.select(AnnualReport).where(AnnualReport.enterprise_id == Enterprise.id)
              .order_by(AnnualReport.year.desc()).limit(1).correlate(Enterprise).lateral("latest_report"))
    return sa.orm.aliased(AnnualReport, latest)


def _select(actor: Actor, f: RosterFilter, today: date, columns: list[Any], report: Any = AnnualReport,
            by_id: bool = False) -> sa.Select[Any]:
    """The export's statement; `report` is AnnualReport (joined on the latest year, or on the latest report's id
    if `by_id`) or `_latest_report()`."""
    conditions = certification_conditions(f, today)
    wanted = roster_select(f, today).with_only_columns(Enterprise.id).order_by(None)
    stmt = sa.select(*columns).select_from(Enterprise).outerjoin(Region, Region.code == Enterprise.region_code)
    join = stmt.join if conditions else stmt.outerjoin  # a title filter lists matching titles only
    stmt = join(Certification, Certification.enterprise_id == Enterprise.id)
    if report is AnnualReport and by_id:
        stmt = stmt.outerjoin(AnnualReport, AnnualReport.id == _LATEST_ID)
    elif report is AnnualReport:
        stmt = stmt.outerjoin(AnnualReport, sa.and_(AnnualReport.enterprise_id == Enterprise.id,
                                                    AnnualReport.year == _LATEST_YEAR))
    else:
        stmt = stmt.outerjoin(report, sa.true())
    order = SORTS.get(f.sort, SORTS["name"])
    return (stmt.where(Enterprise.id.in_(wanted), in_region(Enterprise.region_code, actor.region_code), *conditions)
            .order_by(*order, Enterprise.id, Certification.recognized_on, Certification.id))


#: the columns whose stored code the file shows by name (the import reads the names back): tier by the
#: policies' names, the others by the one field → names table the pages use too
NAMED = ("tier", "status", "size_class", "holder_kind", "zone_type")


def _names(field: str, names: Mapping[str, str]) -> Mapping[str, str]:
    """The names a NAMED column's codes show as: the policies' tier names, or the field's VALUE_NAMES."""
    return names if field == "tier" else VALUE_NAMES[field]


def _named(field: str, column: Any, names: Mapping[str, str], shown: Callable[[str], str] = str,
           unnamed: Callable[[Any], Any] | None = None) -> Any:
    """The column's code as its name, in SQL: CASE code WHEN … THEN name … ELSE code END (a code without a
    name shows as it is, or as `unnamed` makes it), each name as `shown` makes it. Typed as plain text: the
    stored code, never the enum it maps to."""
    code = sa.type_coerce(column, sa.String())
    table = _names(field, names)
    other = code if unnamed is None else unnamed(column)
    if not table:
        return other
    return sa.type_coerce(sa.case(*((code == k, sa.literal(shown(v), sa.String())) for k, v in table.items()),
                                  else_=other), sa.String())


def _columns(names: Mapping[str, str], unmasked: bool, report: Any = AnnualReport) -> list[Any]:
    """The select list: every export column but the row number, codes named in SQL, the annual figures read
    from `report` (see _select)."""
    out = []
    for c, column in zip((c for c in EXPORT_COLUMNS if c.field != "no"), COLUMNS if unmasked else MASKED, strict=True):
        if report is not AnnualReport and column.element.table is AnnualReport.__table__:
            column = getattr(report, c.field).label(c.field)
        if c.field in NAMED:
            out.append(_named(c.field, column.element, names).label(c.field))
        else:
            out.append(column)
    return out


#: positions (in a data row, after the row number) of the columns that may hold text: the others hold
#: numbers, dates or None, which safe_cell leaves as they are
_TEXT = [i + 1 for i, col in enumerate(MASKED) if isinstance(col.type, sa.String)]


def rows(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter,
         today: date, unmasked: bool = False) -> Iterator[Sequence[Any]]:
    """Yield the export's data rows (without the header), safe for a spreadsheet.

    The contact's name, phone and e-mail are masked (138****1234: the masked forms stored beside the
    ciphertext, so nothing is decrypted) unless `unmasked` — which the caller allows only to a role
    that may (registry/privacy/unmask.py) and records as pi.unmask.
    A masked file re-imports without touching the contacts: the import reads a masked value that
    matches the stored one as unchanged (registry/roster/imports/diff.py).

    Plain rows streamed from the session's connection (its region scope kept, no ORM loading), codes
    named in SQL, each row's text checked at once (safe_rows): no Python call per cell (issue 19).
    """
    require(actor, Action.READ)
    if unmasked:
        require(actor, Action.UNMASK_PI)
    report = _latest_report() if session.get_bind().dialect.name == "postgresql" else AnnualReport
    stmt = with_scope(session, _select(actor, f, today, _columns(names, unmasked, report), report))
    result = session.connection().execute(stmt, execution_options={"yield_per": BATCH})
    done = 0
    for part in result.partitions():  # BATCH rows a fetch
        yield from safe_rows([(number, *row) for number, row in enumerate(part, start=done + 1)], _TEXT)
        done += len(part)


def write_xlsx(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
               out: IO[bytes], unmasked: bool = False) -> int:
    """Write the roster as a workbook (constant memory: rows stream into the writer) to `out`; return the rows."""
    return write_sheet(out, sheet="企业名录", headers=HEADERS,
                       rows=rows(session, actor=actor, names=names, f=f, today=today, unmasked=unmasked),
                       widths=[WIDE.get(c.field, 14) for c in EXPORT_COLUMNS], freeze_col=2)


def _copy_columns(names: Mapping[str, str], report: Any) -> list[Any]:
    """The masked export's select list for COPY (PostgreSQL): every cell as the server writes it
    (registry/platform/cells.py copy_csv_lines)."""
    return [sql_cell(c.element).label(c.name) for c in _columns(names, unmasked=False, report=report)]


def _csv(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
         unmasked: bool, batch: int, counted: list[int] | None = None) -> Iterator[bytes]:
    """The CSV file in chunks. The default (masked) file is written by the database — on PostgreSQL by COPY, on
    SQLite a line a row (_sqlite_lines) —: the cells never become Python values, which cost more than writing them
    (issue 19); the same bytes."""
    if unmasked:
        yield from csv_stream(HEADERS, rows(session, actor=actor, names=names, f=f, today=today, unmasked=True),
                              batch, counted)
        return
    require(actor, Action.READ)
    if session.get_bind().dialect.name != "postgresql":
        yield csv_head(HEADERS)
        yield from _sqlite_lines(session, actor=actor, names=names, f=f, today=today, batch=batch, counted=counted)
        return
    report = _latest_report()
    stmt = with_scope(session, _select(actor, f, today, _copy_columns(names, report), report))
    yield csv_head(HEADERS)
    yield from copy_csv_lines(session.connection(), stmt, _TEXT, batch, counted)


#: (position in a data row, format) of the NUMERIC columns: SQLite returns a float (or an int), which SQLAlchemy
#: makes Decimal("%.2f" % value) and the csv module writes as that same text
_NUMBERS = [(i + 1, f"%.{col.type.scale}f") for i, col in enumerate(MASKED)
            if isinstance(col.type, sa.Numeric) and col.type.scale is not None]


def _sqlite_lines(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
                  batch: int, counted: list[int] | None) -> Iterator[bytes]:
    """The masked file's lines on SQLite (registry/platform/cells.py sqlite_csv_lines): SQLite writes each row as
    one text — codes named and quoted as the csv module quotes their names, numbers printed as Python prints them
    or marked unsure — and Python checks and finishes a batch at a time: a Python value per row, not per cell
    (issue 19: fetching the 35 cells of 100,000 rows cost more than the csv module's whole floor)."""
    if f.tier:  # every row holds that title (certification_conditions): the other names are never shown
        names = {f.tier: names[f.tier]} if f.tier in names else {}
    cells, quoted = [], []
    for c, column in zip((c for c in EXPORT_COLUMNS if c.field != "no"), MASKED, strict=True):
        if c.field not in NAMED:
            cells.append(sqlite_cell(column.element))
            continue
        cells.append(_named(c.field, column.element, names, csv_text, sqlite_cell))
        table = {k: csv_text(v) for k, v in _names(c.field, names).items()}
        counts = [(k, v.count('"') + v.count(",")) for k, v in table.items() if v.count('"') + v.count(",")]
        if counts:
            code = sa.type_coerce(column.element, sa.String())
            quoted.append(sa.case(*((code == k, sa.literal_column(str(n))) for k, n in counts),
                                  else_=sa.literal_column("0")))
    columns = [sqlite_line(cells), sum(quoted[1:], quoted[0]) if quoted else sa.literal_column("0"),
               Enterprise.id, Certification.id]
    key = sa.bindparam("again_enterprise", 0, sa.Integer()), sa.bindparam("again_title", 0, sa.Integer())
    lookup = driver_lookup(session.connection(), with_scope(session, _row_select(names, *key)), *(k.key for k in key))

    def again(key: Sequence[Any]) -> Sequence[Any]:
        """A row SQLite could not write as Python would, read as values by its key (enterprise, title or None)."""
        (values,) = lookup(*key)
        return _python_cells(values)

    stmt = with_scope(session, _select(actor, f, today, columns, by_id=True))
    yield from sqlite_csv_lines(session.connection(), stmt, len(cells), _TEXT, again, batch, counted)


def _row_select(names: Mapping[str, str], enterprise: Any, title: Any) -> sa.Select[Any]:
    """One row of the masked export by its key — the enterprise and its title (NULL: an enterprise without one, as
    the export lists it without a title filter) —, joined as _select joins it: no filter, no order (the key came
    from the export's own statement)."""
    return (sa.select(*_columns(names, unmasked=False)).select_from(Enterprise)
            .outerjoin(Region, Region.code == Enterprise.region_code)
            .outerjoin(Certification, sa.and_(Certification.enterprise_id == Enterprise.id, Certification.id == title))
            .outerjoin(AnnualReport, sa.and_(AnnualReport.enterprise_id == Enterprise.id,
                                             AnnualReport.year == _LATEST_YEAR))
            .where(Enterprise.id == enterprise))


def _python_cells(values: Sequence[Any]) -> list[Any]:
    """A row read on the driver (SQLite) as rows() makes it: numbers formatted as SQLAlchemy's Decimal prints them
    (inf, nan: Decimal's names), text safe_cell'ed."""
    row = [None, *values]
    for i, shape in _NUMBERS:
        if row[i] is not None:
            text = shape % row[i]
            row[i] = text if text[-1].isdigit() else str(Decimal(text))
    for i in _TEXT:
        row[i] = safe_cell(row[i])
    return row[1:]


def csv_chunks(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
               batch: int = 500) -> Iterator[bytes]:
    """Yield the roster as UTF-8 CSV with a BOM (so Excel reads it), in chunks for a streamed response."""
    yield from _csv(session, actor=actor, names=names, f=f, today=today, unmasked=False, batch=batch)


def write_csv(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
              out: IO[bytes], unmasked: bool = False) -> int:
    """Write the roster as CSV (UTF-8 with BOM) to `out`; return the number of data rows."""
    counted: list[int] = []
    for chunk in _csv(session, actor=actor, names=names, f=f, today=today, unmasked=unmasked, batch=BATCH,
                      counted=counted):
        out.write(chunk)
    return counted[0]


def export_roster(session: Session, *, actor: Actor, names: dict[str, str], f: RosterFilter, today: date,
                  path: Path, unmasked: bool = False) -> int:
    """Write the roster to `path`: .csv as CSV, anything else as .xlsx; return the number of data rows."""
    write = write_csv if path.suffix.lower() == ".csv" else write_xlsx
    with path.open("wb") as out:
        return write(session, actor=actor, names=names, f=f, today=today, out=out, unmasked=unmasked)
