"""Import of a 100,000-row .xlsx — dry run, then apply — against its floor: read the file, write the rows raw.

The file is a provincial list as an office would upload it: new enterprises of Zhejiang, each
granted 创新型中小企业 in a recent batch, with last year's figures, under the import's own
Chinese headers. A provincial officer imports it; each run commits like the CLI command does.

The floor (issue 19) is python-calamine reading the same file plus the very rows the apply wrote
(every table's new rows: enterprises, titles, terms, events, reports, audit events, the run) written
back raw, in one transaction on the driver: COPY on PostgreSQL, executemany on SQLite, with every
index, unique constraint and foreign key in place. To write them again the applied rows are first
deleted inside that transaction (not timed; the audit events cannot be deleted, so their copies
take ids past the chain's end), and the transaction is rolled back afterwards.
"""

from __future__ import annotations

import io
import json
import random
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from bench import timing
from bench.generate import officer_name
from bench.synth import company_name, make_uscc
from bench.timing import Figure, not_measured, once
from config.import_limits import MB, ImportLimits
from registry.accounts.models import User
from registry.cli.base import today_in
from registry.domain.actors import Actor, Role
from registry.platform.db import Base
from registry.policies.rules import load_rules
from registry.regions.models import Region

FIELDS = ("no", "name", "uscc", "region_code", "tier", "recognized_on", "batch", "document_no", "authority",
          "industry_code", "size_class", "founded_on", "contact_name", "contact_email", "contact_phone", "year",
          "revenue", "main_business_revenue", "rd_expense", "employees", "rd_staff", "debt_ratio",
          "invention_patents", "audit_report_code", "audit_firm", "submitted_on")


def available() -> str | None:
    """Why the import cannot be measured, or None."""
    try:
        from registry.roster.imports import run_import  # noqa: F401
        from registry.roster.imports.columns import BY_FIELD  # noqa: F401
    except ImportError as exc:
        return f"roster import not yet available ({exc})"
    return None


def workbook(districts: list[str], rows: int, seed: int = 11, series: str = "MB") -> bytes:
    """A .xlsx of `rows` new Zhejiang enterprises with an innovative_sme grant each (USCCs of `series`)."""
    from registry.roster.imports.columns import BY_FIELD

    rng, today = random.Random(seed), today_in("Asia/Shanghai")
    recognized = today - timedelta(days=20)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("创新型中小企业名单")
    sheet.append([BY_FIELD[f].header for f in FIELDS])
    for n in range(1, rows + 1):
        district = districts[n % len(districts)]
        revenue = rng.randint(8, 900) * 1_000_000
        sheet.append([
            n, company_name("浙江", 5_000_000 + n, rng), make_uscc(district, n, series=series), district,
            "创新型中小企业", recognized, f"{recognized.year}年第4批", f"浙经信企业〔{recognized.year}〕300号",
            "浙江省经济和信息化厅", f"C{rng.randint(13, 43)}", rng.choice(("中型", "小型", "微型")),
            datetime(rng.randint(1995, 2019), rng.randint(1, 12), rng.randint(1, 28)),
            "王伟", f"new{n}@example-enterprise.cn", f"0571-8{n:07d}", today.year - 1, revenue,
            revenue * 0.85, revenue * rng.randint(2, 9) / 100, (staff := rng.randint(30, 900)),
            rng.randint(5, min(120, staff)),
            rng.randint(20, 75), rng.randint(0, 30), f"ZJ{n:08d}", "某会计师事务所",
            datetime(today.year, rng.randint(1, 4), rng.randint(1, 28))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _officer(app: Flask) -> Actor:
    with app.extensions["registry.sessionmaker"]() as session:
        user = session.query(User).filter_by(username=officer_name("33")).one()
        return Actor(kind="user", name=user.username, role=Role.OFFICER, region_code=user.region_code, user_id=user.id)


#: 100,000 rows of 26 columns (2.6 million cells, a 140 MB sheet as openpyxl writes it) are beyond
#: the default import limits (config/import_limits.py); the bench raises them as an operator would
LIMITS = ImportLimits(cells=3_000_000, entry_bytes=200 * MB, total_bytes=250 * MB, shared_strings=2_000_000,
                      shared_strings_bytes=100 * MB)


def _run(app: Flask, actor: Actor, content: bytes, mode: str) -> tuple[float, dict]:
    from registry.roster.imports import run_import

    def go() -> dict:
        with app.extensions["registry.sessionmaker"]() as session:
            rules = load_rules(session, app.extensions["registry.policies"])
            run = run_import(session, actor=actor, rules=rules, filename="bench-list.xlsx", content=content,
                             mode=mode, at=datetime.now(UTC), today=today_in("Asia/Shanghai"), limits=LIMITS)
            session.commit()
            return {"status": run.status, "counts": run.counts, "errors": run.errors[:3]}

    return once(go)


def _id_tables() -> list[sa.Table]:
    """The tables with an integer id, parents first."""
    return [t for t in Base.metadata.sorted_tables if "id" in t.c and isinstance(t.c.id.type, sa.Integer)]


def _last_ids(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.scalar(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0))) for t in _id_tables()}


def _written(engine: sa.Engine, before: dict[str, int]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every row the apply added, as the driver returns it, table by table (parents first)."""
    out = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        mark = "%s" if engine.dialect.name == "postgresql" else "?"
        for table in _id_tables():
            columns = [f'"{c.name}"' for c in table.c]
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table.name} WHERE id > {mark} ORDER BY id",
                           (before[table.name],))
            rows = cursor.fetchall()
            if rows:
                out[table.name] = (columns, [tuple(r) for r in rows])
        raw.rollback()
    finally:
        raw.close()
    return out


def _floor(engine: sa.Engine, content: bytes, written: dict[str, tuple[list[str], list[tuple]]]) -> tuple[float, int]:
    """Seconds (and peak memory) to read `content` with calamine and write `written` raw; rolled back."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    driver = raw.driver_connection
    try:
        cursor = driver.cursor()
        if not postgres:
            cursor.execute("BEGIN")
        mark = "%s" if postgres else "?"
        for name in reversed(list(written)):  # children first
            if name != "audit_events":
                cursor.execute(f"DELETE FROM {name} WHERE id >= {mark}", (written[name][1][0][0],))
        offset = 0
        if "audit_events" in written:
            cursor.execute("SELECT MAX(id) FROM audit_events")
            offset = cursor.fetchone()[0] - written["audit_events"][1][0][0] + 1
        def is_json(column: sa.Column) -> bool:  # a TypeDecorator over JSON too (audit's CanonicalJSON)
            kind = column.type
            return isinstance(kind, sa.JSON) or isinstance(getattr(kind, "impl_instance", None), sa.JSON)

        json_columns = {name: [i for i, c in enumerate(cols) if is_json(Base.metadata.tables[name].c[c.strip('"')])]
                        for name, (cols, _) in written.items()}

        def write() -> None:
            CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
            for name, (cols, rows) in written.items():
                if name == "audit_events":  # copies past the chain's end, under hashes of their own (unique)
                    at = cols.index('"hash"')
                    rows = [(r[0] + offset, *r[1:at], format(r[0] + offset, "064x"), *r[at + 1:]) for r in rows]
                if postgres:
                    with cursor.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                        at = json_columns[name]
                        for row in rows:
                            if at:
                                row = list(row)
                                for i in at:
                                    row[i] = None if row[i] is None else json.dumps(row[i], ensure_ascii=False)
                            copy.write_row(row)
                else:
                    cursor.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES "
                                       f"({', '.join('?' for _ in cols)})", rows)

        seconds, _ = once(write)
        memory = timing.last_peak or 0
    finally:
        driver.rollback() if postgres else driver.execute("ROLLBACK")
        raw.close()
    return seconds, memory


def measure(app: Flask, rows: int = 100_000) -> list[Figure]:
    """Dry run and apply of a `rows`-row workbook, each against reading it and writing its rows raw."""
    why = available()
    if why:
        return [not_measured("roster import", why)]
    engine = app.extensions["registry.engine"]
    with app.extensions["registry.sessionmaker"]() as session:
        districts = [code for (code,) in session.query(Region.code).filter(
            Region.level == "district", Region.code.startswith("33")).order_by(Region.code)]
    content = workbook(districts, rows, seed=int(time.time()) % 1000, series=f"M{int(time.time()) % 10}")
    read_s, grid = once(lambda: CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python())
    actor = _officer(app)
    runs = []
    before = _last_ids(engine)
    for mode in ("dry_run", "apply"):
        seconds, result = _run(app, actor, content, mode)
        expected = "validated" if mode == "dry_run" else "applied"
        if result["status"] != expected:
            raise RuntimeError(f"bench import {mode}: {result}")
        runs.append((mode, seconds, timing.last_peak, result))
    written = _written(engine, before)
    floor, floor_memory = _floor(engine, content, written)
    how = "COPY" if engine.dialect.name == "postgresql" else "executemany"
    wrote = ", ".join(f"{name} {len(r):,}" for name, (_, r) in written.items())
    return [Figure(f"roster import, {rows:,} rows .xlsx, {mode}", seconds, floor,
                   f"python-calamine read + the applied rows written raw ({how})",
                   target_ratio=2.5 if mode == "dry_run" else 3.0, memory=memory, floor_memory=floor_memory,
                   note=f"{len(content) / 1e6:.1f} MB, {len(grid) - 1:,} data rows; calamine read alone "
                        f"{read_s:.2f} s; the floor wrote {wrote}; counts {result['counts']}")
            for mode, seconds, memory, result in runs]
