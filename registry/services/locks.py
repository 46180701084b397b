"""One lock per enterprise: every write that changes an enterprise's titles, events or reports takes it first.

`lock_enterprise` runs `SELECT … FOR UPDATE` on the enterprise's row (PostgreSQL; SQLite has one
writer at a time and ignores FOR UPDATE). A second request for the same enterprise waits until the
first commits or rolls back, and then sees what the first wrote: its check ("already holds this
title", "this level has given its opinion", "version 3 is stale") refuses the duplicate with a
409 instead of both succeeding. Anything the session had loaded before the lock may be older than
the lock, so the session's objects are expired (after a flush: nothing pending is lost) and
reload on next use. See docs/concurrency.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.models import Application, Certification, Enterprise

#: rows that belong to one enterprise: lock the enterprise to change them
OWNED = {Certification: Certification.enterprise_id, Application: Application.enterprise_id}


def lock_enterprise(session: Session, enterprise_id: int | sa.ScalarSelect[int]) -> None:
    """Hold the enterprise's row lock until the transaction ends; reload what the session holds."""
    session.flush()
    # Core statement: the region criteria (registry.scoping) apply to ORM selects, and the
    # service checks the region itself right after; a lock on a row outside it changes nothing.
    session.execute(sa.select(Enterprise.__table__.c.id).where(Enterprise.__table__.c.id == enterprise_id)
                    .with_for_update())
    session.expire_all()


def lock_enterprise_of(session: Session, model: type[Certification] | type[Application], row_id: int) -> None:
    """Lock the enterprise that owns the `model` row `row_id` (nothing when there is no such row)."""
    column = OWNED[model]
    table = model.__table__
    owner = sa.select(table.c[column.key]).where(table.c.id == row_id).scalar_subquery()
    lock_enterprise(session, owner)
