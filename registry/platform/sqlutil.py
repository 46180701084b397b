"""Dialect-aware INSERT … ON CONFLICT DO NOTHING RETURNING, for SQLite and PostgreSQL alike.

The run ledger, the reminder ledger and the outbox all rely on a unique key to make a second
attempt a no-op. Whether a row was inserted is read from RETURNING, never from rowcount:
SQLAlchemy 2.1 reports -1 on PostgreSQL for both outcomes (PITFALLS §1.6).

On PostgreSQL many rows are COPYed into a temporary table and inserted from it in one statement:
psycopg does not cache the parsing of a statement longer than 4 KB, and parsing the thousands of
placeholders of SQLAlchemy's multi-row VALUES pages cost ~100 µs a row; arrays of values, one per
column, cost the driver's array dumping, in Python, element by element (bench/RESULTS.md).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500  # rows per statement: well under both backends' bound-parameter limits
_COPY_SAFE = (sa.String, sa.Integer, sa.Date, sa.DateTime, sa.Boolean, sa.Enum)  # plain scalars


def insert_ignore(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]], *,
                  conflict: Iterable[str]) -> list[int]:
    """Insert `rows`, skipping those that collide on the `conflict` columns; return new ids."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        found = _insert_copied(session, table, rows, conflict)
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


def _insert_copied(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                   conflict: Iterable[str]) -> list[int] | None:
    """`insert_ignore` on PostgreSQL: the rows COPYed into a temporary table of the same column types, then
    one INSERT … SELECT … ON CONFLICT DO NOTHING in their order (ids are drawn in that order, as one by one);
    None if it does not apply.

    It applies to more than one row, all with the same columns, all of plain scalar types. Arrays of
    values (`INSERT … SELECT … FROM unnest(…)`) were dumped element by element in Python by the driver
    (its array dumper quotes each text): a catch-up scan's 28,000 e-mails took 0.86 s of CPU that way
    and 0.22 s copied (bench/RESULTS.md).
    """
    columns = list(rows[0])
    types = [table.c[name].type for name in columns]
    if (len(rows) < 2 or not all(isinstance(getattr(k, "impl_instance", k), _COPY_SAFE) for k in types)
            or any(r.keys() != rows[0].keys() for r in rows)):
        return None
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    temp = quote(f"insert_ignore_{table.name}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "
                         f"SELECT {names}, 0 AS insert_order FROM {quote(table.name)} WITH NO DATA")
    values_of = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    processed = [(i, process) for i, kind in enumerate(types) if (process := kind.bind_processor(conn.dialect))]
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {temp} ({names}, insert_order) FROM STDIN") as copy:
        for order, row in enumerate(rows):
            values = [*values_of(row), order]
            for i, process in processed:  # the few columns whose type converts (UTC timestamps, enums)
                values[i] = process(values[i])
            copy.write_row(values)
    source = sa.table(f"insert_ignore_{table.name}", *(sa.column(name) for name in columns), sa.column("insert_order"))
    stmt = (postgresql.insert(table).from_select(columns, sa.select(*(source.c[name] for name in columns))
                                                 .order_by(source.c.insert_order))
            .on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c.id))
    found = list(session.execute(stmt).scalars())
    conn.exec_driver_sql(f"DROP TABLE {temp}")
    return found
