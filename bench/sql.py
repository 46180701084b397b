"""The floor of a query: the very statements the app sent, replayed on the raw driver; and their plans.

`capture` records what SQLAlchemy hands the DBAPI cursor (statement text and bound parameters,
in the driver's own paramstyle), so the replay runs the same SQL with the same parameters — only
the ORM, the app and the web layer are taken away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Statement:
    """One statement as the driver received it."""

    sql: str
    params: Any
    #: the app asked for it never to be prepared (registry/platform/db.py plan_each): replayed the same way
    unprepared: bool = False

    @property
    def first_line(self) -> str:
        """A short label for reports."""
        return " ".join(self.sql.split())[:90]


@contextmanager
def capture(engine: Engine) -> Iterator[list[Statement]]:
    """Record every single-row execution on `engine` inside the block."""
    seen: list[Statement] = []

    def _record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if not executemany:
            seen.append(Statement(statement, parameters,
                                  bool(context is not None and context.execution_options.get("registry_plan_each"))))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def replayer(engine: Engine, statements: list[Statement]) -> tuple[Callable[[], int], Callable[[], None]]:
    """Return (run, close): `run` executes `statements` on one raw connection and fetches every row."""
    raw = engine.raw_connection()
    driver = raw.driver_connection

    def run() -> int:
        fetched = 0
        cur = driver.cursor()
        for s in statements:
            if s.unprepared and engine.dialect.name == "postgresql":
                cur.execute(s.sql, s.params, prepare=False)  # as the app runs it: planned for its values
            else:
                cur.execute(s.sql, s.params)
            fetched += len(cur.fetchall()) if cur.description is not None else 0  # a SET: no rows
        cur.close()
        return fetched

    def close() -> None:
        driver.rollback()
        raw.close()

    return run, close


def explain(engine: Engine, statement: Statement) -> str:
    """The plan: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        if engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.params)
            return "\n".join(row[0] for row in cur.fetchall())
        cur.execute("EXPLAIN QUERY PLAN " + statement.sql, statement.params)
        rows = cur.fetchall()
        depth = {0: -1}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)
    finally:
        raw.driver_connection.rollback()
        raw.close()


def inline(statement: Statement) -> str:
    """The statement with its parameters shown beside it (for the report)."""
    return f"{' '.join(statement.sql.split())}\n-- parameters: {statement.params!r}"
