"""Writing many new rows by the driver's fastest path: COPY on PostgreSQL, executemany on SQLite.

For the bulk import's inserts and its audit events (hundreds of thousands of rows, ids already
known). `session.execute(table.insert(), rows)` spends more time in SQLAlchemy than in the
database: it builds every row's parameters anew and runs each value through its column type's
bind processor — the same UTC timestamp 100,000 times over. Here each column's processor is
looked up once (the same processor SQLAlchemy would apply, so the stored values are the same),
a value that is the very object the row before had (a shared timestamp, date or status) is
converted once, and the driver gets plain tuples: `COPY … FROM STDIN` on PostgreSQL (far cheaper
for the server than one INSERT per row), `executemany` on SQLite.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

_NOTHING = object()


def insert_rows(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                as_is: Collection[str] = ()) -> None:
    """INSERT `rows` (all with the keys of the first) into `table` in the session's transaction.

    Columns a row leaves out get their constant default, as INSERT would give them. Triggers,
    constraints and foreign keys apply as to any INSERT. Nothing is returned: give the ids in the
    rows when they are needed afterwards. The columns named in `as_is` are given as the driver
    takes them (a JSON column as its JSON text): their type's bind processor is skipped.
    """
    if not rows:
        return
    session.flush()
    conn = session.connection()
    dialect = conn.dialect
    given = list(rows[0])
    defaults = _defaults(table, given)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(table.c[n].name) for n in (*given, *defaults))
    target = dialect.identifier_preparer.format_table(table)
    convert = _converter(table, given, defaults, dialect, as_is)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    statement = f"COPY {target} ({columns}) FROM STDIN"
    try:
        if dialect.name == "postgresql":
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(convert(row))
        else:
            marks = ", ".join("?" for _ in range(len(given) + len(defaults)))
            statement = f"INSERT INTO {target} ({columns}) VALUES ({marks})"
            cursor.executemany(statement, [convert(row) for row in rows])
    except dialect.loaded_dbapi.Error as exc:
        # as SQLAlchemy's own INSERT would raise it (IntegrityError for a unique key a concurrent
        # import took first), so the web layer answers 409 rather than 500
        raise sa.exc.DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()


def _defaults(table: sa.Table, given: list[str]) -> dict[str, Any]:
    """The constant Python-side defaults of the columns a row leaves out (INSERT would apply them).

    A default worked out per row (a callable, a SQL expression) is refused: give the value.
    """
    defaults = {}
    for column in table.columns:
        if column.key in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"insert_rows: give {table.name}.{column.key} (its default is not a constant)")
        defaults[column.key] = column.default.arg
    return defaults


def _converter(table: sa.Table, given: list[str], defaults: dict[str, Any], dialect: sa.Dialect,
               as_is: Collection[str] = ()) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Return a function turning a row into the tuple of driver values: `given` columns, then `defaults`.

    Each value goes through its column type's bind processor, as SQLAlchemy's own INSERT does
    (but those of `as_is`, already the driver's values).
    """
    processors = [None if n in as_is else table.c[n].type.dialect_impl(dialect).bind_processor(dialect)
                  for n in (*given, *defaults)]
    constant = tuple(v if p is None else p(v) for v, p in zip(defaults.values(), processors[len(given):], strict=True))
    typed = [(i, p) for i, p in enumerate(processors[:len(given)]) if p is not None]
    pick = operator.itemgetter(*given) if len(given) > 1 else lambda row: (row[given[0]],)
    last_in: list[Any] = [_NOTHING] * len(given)
    last_out: list[Any] = [None] * len(given)

    def convert(row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = list(pick(row))
        for i, process in typed:
            value = values[i]
            if value is last_in[i]:
                values[i] = last_out[i]
            else:
                last_in[i] = value
                values[i] = last_out[i] = process(value)
        return (*values, *constant)

    return convert
