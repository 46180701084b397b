"""Dialect-aware INSERT … ON CONFLICT DO NOTHING RETURNING, for SQLite and PostgreSQL alike.

The run ledger, the reminder ledger and the outbox all rely on a unique key to make a second
attempt a no-op. Whether a row was inserted is read from RETURNING, never from rowcount:
SQLAlchemy 2.1 reports -1 on PostgreSQL for both outcomes (PITFALLS §1.6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500  # rows per statement: well under both backends' bound-parameter limits


def insert_ignore(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]], *,
                  conflict: Iterable[str]) -> list[int]:
    """Insert `rows`, skipping those that collide on the `conflict` columns; return new ids."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
            .returning(table.c.id))
    # One statement with the rows as parameters: SQLAlchemy batches them ("insertmanyvalues",
    # CHUNK rows a page) under a statement compiled once and cached. A .values(rows) statement
    # is compiled afresh for every call — a daily scan spent most of its time there (bench/).
    result = session.execute(stmt, [dict(r) for r in rows],
                             execution_options={"insertmanyvalues_page_size": CHUNK})
    return list(result.scalars())
