"""Dialect-aware INSERT … ON CONFLICT DO NOTHING RETURNING, for SQLite and PostgreSQL alike.

The run ledger, the reminder ledger and the outbox all rely on a unique key to make a second
attempt a no-op. Whether a row was inserted is read from RETURNING, never from rowcount:
SQLAlchemy 2.1 reports -1 on PostgreSQL for both outcomes (PITFALLS §1.6).

On PostgreSQL many rows go in as one array per column (`INSERT … SELECT … FROM unnest(…)`):
psycopg does not cache the parsing of a statement longer than 4 KB, and parsing the thousands of
placeholders of SQLAlchemy's multi-row VALUES pages cost ~100 µs a row (bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500  # rows per statement: well under both backends' bound-parameter limits
ARRAY_CHUNK = 10_000  # rows per statement as arrays (PostgreSQL): one parameter per column
_ARRAY_SAFE = (sa.String, sa.Integer, sa.Date, sa.DateTime, sa.Boolean, sa.Enum)  # plain scalars


def insert_ignore(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]], *,
                  conflict: Iterable[str]) -> list[int]:
    """Insert `rows`, skipping those that collide on the `conflict` columns; return new ids."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        found = _insert_arrays(session, table, rows, conflict)
        if found is not None:
            return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
            .returning(table.c.id))
    # One statement with the rows as parameters: SQLAlchemy batches them ("insertmanyvalues",
    # CHUNK rows a page) under a statement compiled once and cached. A .values(rows) statement
    # is compiled afresh for every call — a daily scan spent most of its time there (bench/).
    result = session.execute(stmt, [dict(r) for r in rows],
                             execution_options={"insertmanyvalues_page_size": CHUNK})
    return list(result.scalars())


def _insert_arrays(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                   conflict: Iterable[str]) -> list[int] | None:
    """`insert_ignore` on PostgreSQL as INSERT … SELECT … FROM unnest(:column, …); None if it does not apply.

    It applies to more than one row, all with the same columns, all of plain scalar types.
    """
    columns = list(rows[0])
    kinds = [table.c[name].type for name in columns]
    if (len(rows) < 2 or not all(isinstance(getattr(k, "impl_instance", k), _ARRAY_SAFE) for k in kinds)
            or any(r.keys() != rows[0].keys() for r in rows)):
        return None
    arrays = [sa.bindparam(name, type_=postgresql.ARRAY(kind)) for name, kind in zip(columns, kinds, strict=True)]
    source = sa.func.unnest(*arrays).table_valued(*columns).render_derived()
    stmt = (postgresql.insert(table).from_select(columns, sa.select(*[source.c[n] for n in columns]))
            .on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c.id))
    found: list[int] = []
    for start in range(0, len(rows), ARRAY_CHUNK):
        part = rows[start:start + ARRAY_CHUNK]
        found.extend(session.execute(stmt, {name: [r[name] for r in part] for name in columns}).scalars())
    return found
