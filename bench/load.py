"""Fresh bench databases and the fastest correct bulk path into them.

PostgreSQL: COPY … FROM STDIN with psycopg's `write_row`, all tables in one transaction;
SQLite: `executemany` in one transaction, values converted by SQLAlchemy's own bind processors
(so the app reads back exactly what it would have written). Secondary indexes are dropped before
the load and recreated from their stored definitions afterwards; unique constraints and foreign
keys stay on, so the load is checked as the app's writes are. Nothing here touches a database
other than the bench's own: `registry_bench` on a PostgreSQL server (or the name in
$REGISTRY_BENCH_DB, so that two runs can share a server), or the given SQLite file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import UTC
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from registry.audit.models import STORED_JSON, CanonicalJSON
from registry.platform.db import Base, UTCDateTime

BENCH_DB = os.environ.get("REGISTRY_BENCH_DB", "registry_bench")  #: another name keeps parallel runs apart
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_URL = f"sqlite:///{DATA_DIR / 'registry-bench.db'}"
#: the per-connection part of docs/operations.md's PostgreSQL settings (the server-wide ones —
#: shared_buffers, effective_cache_size — are the server's own: a shared server is not reconfigured)
SESSION_SETTINGS = ("-c work_mem=32MB -c maintenance_work_mem=512MB -c random_page_cost=1.1 "
                    "-c effective_io_concurrency=200 -c jit=off")


def bench_url(url: str | None) -> tuple[str, str | None]:
    """Return the bench database's URL and, for PostgreSQL, the URL to administer it from."""
    url = url or DEFAULT_URL
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url, None
    admin_db = parsed.database if parsed.database and parsed.database != BENCH_DB else "postgres"
    admin = parsed.set(database=admin_db).render_as_string(hide_password=False)
    bench = parsed.set(database=BENCH_DB)
    if "options" not in bench.query:  # the session-level settings docs/operations.md gives for 1M
        bench = bench.update_query_dict({"options": SESSION_SETTINGS})
    return bench.render_as_string(hide_password=False), admin


def recreate(url: str, admin: str | None) -> None:
    """Start from an empty database: a new SQLite file, or `registry_bench` dropped and created."""
    if admin is None:
        path = Path(make_url(url).database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    _admin(admin, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)', f'CREATE DATABASE "{BENCH_DB}"')


def drop(admin: str | None) -> None:
    """Drop the PostgreSQL bench database (SQLite files are kept under bench/data/)."""
    if admin is not None:
        _admin(admin, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def _admin(admin: str, *statements: str) -> None:
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def secondary_indexes(engine: Engine, tables: Iterable[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the plain indexes on `tables` (not primary keys or constraints)."""
    names = list(tables)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("""
                SELECT i.relname, pg_get_indexdef(ix.indexrelid) FROM pg_index ix
                JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
                WHERE t.relname = ANY(%(tables)s) AND NOT ix.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
                ORDER BY i.relname""", {"tables": names}).all()
        else:
            marks = ", ".join("?" for _ in names)
            rows = conn.exec_driver_sql(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY name", tuple(names)).all()
    return [(name, sql) for name, sql in rows]


def _fast(column: sa.Column, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """A C-speed equivalent of the column's SQLite bind processor (checked against it on first use)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return lambda v: None if v is None else v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(kind, sa.Numeric):
        return lambda v: None if v is None else float(v)
    if isinstance(kind, CanonicalJSON):  # the audit trail's changes: as the app writes it (verify's quick path)
        return STORED_JSON.encode
    if isinstance(kind, sa.JSON):
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(kind, sa.Boolean | sa.Enum | sa.String | sa.Integer):
        return None  # sqlite3 binds these Python values as the processor would
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _converters(dialect: sa.Dialect, table: str, columns: tuple[str, ...]) -> list[Callable[[Any], Any] | None]:
    """What SQLAlchemy would send the driver for each column, computed fast."""
    table_ = Base.metadata.tables[table]
    return [_fast(table_.c[name], dialect) for name in columns]


def _check(dialect: sa.Dialect, table: str, columns: tuple[str, ...], row: tuple, converted: tuple) -> None:
    """Refuse to load if a fast conversion differs from the app's own bind processor."""
    table_ = Base.metadata.tables[table]
    for name, value, fast in zip(columns, row, converted, strict=True):
        kind = table_.c[name].type
        if isinstance(kind, sa.types.TypeDecorator) and not isinstance(kind, UTCDateTime | CanonicalJSON):
            # an encrypted column (registry/platform/pi_crypto.py) binds a fresh nonce every time:
            # compare what the app reads back instead
            if kind.process_result_value(fast, dialect) != value:
                raise AssertionError(f"{table}.{name}: bulk conversion does not read back as {value!r}")
            continue
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        expected = process(value) if process else value
        if expected != fast and not (isinstance(expected, int) and expected == int(fast)):
            raise AssertionError(f"{table}.{name}: bulk conversion {fast!r} != app's {expected!r}")


class BulkLoader:
    """Writes row lists into one open transaction on the raw driver connection."""

    def __init__(self, engine: Engine, columns: dict[str, tuple[str, ...]]) -> None:
        self.engine, self.columns = engine, columns
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.driver = self.raw.driver_connection
        self.counts: dict[str, int] = {}
        self._convert = {t: _converters(engine.dialect, t, cols) for t, cols in columns.items()}
        if not self.postgres:
            self.driver.execute("PRAGMA cache_size=-262144")  # 256 MB for the index builds
            self.driver.execute("BEGIN")

    def write(self, table: str, rows: list[tuple]) -> None:
        """Append `rows` (in `columns[table]` order) to `table`."""
        if not rows:
            return
        cols = self.columns[table]
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        if self.postgres:
            types = [Base.metadata.tables[table].c[c].type for c in cols]
            json_at = [(i, STORED_JSON.encode if isinstance(kind, CanonicalJSON) else _dumps)
                       for i, kind in enumerate(types) if isinstance(kind, sa.JSON | CanonicalJSON)]
            # the encrypted contacts (registry/platform/pi_crypto.py) are stored as the app stores them
            sealed = [(i, kind) for i, kind in enumerate(types)
                      if isinstance(kind, sa.types.TypeDecorator) and not isinstance(kind, UTCDateTime | CanonicalJSON)]
            if sealed:
                dialect = self.engine.dialect
                rows = [list(row) for row in rows]
                for row in rows:
                    for i, kind in sealed:
                        row[i] = kind.process_bind_param(row[i], dialect)
            with self.driver.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i, dumps in json_at:
                            row[i] = dumps(row[i])
                    copy.write_row(row)
            return
        convert = [(i, f) for i, f in enumerate(self._convert[table]) if f is not None]
        if convert:
            first = rows[0]
            rows = [_applied(row, convert) for row in rows]
            _check(self.engine.dialect, table, cols, first, rows[0])
        marks = ", ".join("?" for _ in cols)
        self.driver.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)

    def execute(self, sql: str, params: tuple = ()) -> None:
        """Run one statement inside the load's transaction."""
        if self.postgres:
            with self.driver.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params)
        else:
            self.driver.execute(sql, params)

    def commit(self) -> None:
        """Commit the load and give the connection back."""
        self.driver.commit() if self.postgres else self.driver.execute("COMMIT")
        self.raw.close()


def _applied(row: tuple, convert: list[tuple[int, Callable[[Any], Any]]]) -> tuple:
    values = list(row)
    for i, f in convert:
        values[i] = f(values[i])
    return tuple(values)


def finish(engine: Engine, indexes: list[tuple[str, str]], tables: Iterable[str]) -> None:
    """Recreate the dropped indexes, move PostgreSQL's id sequences past the loaded ids, analyze."""
    with engine.connect() as conn:
        for _, create in indexes:
            conn.exec_driver_sql(create)
        if engine.dialect.name == "postgresql":
            for table in tables:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
        conn.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")  # fresh statistics and visibility map
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def drop_indexes(engine: Engine, indexes: list[tuple[str, str]]) -> None:
    """Drop the given indexes before a bulk load."""
    with engine.connect() as conn:
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.commit()
