"""One lock per enterprise: every write that changes an enterprise's titles, events or reports takes it first.

`lock_enterprise` runs `SELECT … FOR UPDATE` on the enterprise's row (PostgreSQL; SQLite has one
writer at a time, which serialises these writes already: there it does nothing). A second
request for the same enterprise waits until the first commits or rolls back, and then sees what
the first wrote: its check ("already holds this title", "this level has given its opinion",
"version 3 is stale") refuses the duplicate with a 409 instead of both succeeding. Anything the session had loaded before the lock may be older than
the lock, so the enterprise, its loaded titles and the row being changed are expired (after a
flush: nothing pending is lost) and reload on next use — only these: expiring the whole session
would make a long unit of work such as seed-demo quadratic. See docs/concurrency.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from registry.enterprises.models import Enterprise
from registry.pipeline.models import Application, Objection
from registry.titles.models import Certification

#: rows that belong to one enterprise (lock the enterprise to change them) and how to find it
OWNED = {
    Certification: lambda row_id: sa.select(Certification.__table__.c.enterprise_id).where(
        Certification.__table__.c.id == row_id),
    Application: lambda row_id: sa.select(Application.__table__.c.enterprise_id).where(
        Application.__table__.c.id == row_id),
    Objection: lambda row_id: sa.select(Application.__table__.c.enterprise_id).join_from(
        Objection.__table__, Application.__table__).where(Objection.__table__.c.id == row_id),
}


def lock_enterprise(session: Session, enterprise_id: int) -> None:
    """Hold the enterprise's row lock until the transaction ends; reload what the session holds of it."""
    if _serialised(session):
        # One writer at a time: nobody can commit while this write transaction runs, so nothing
        # it read can be stale (a deferred transaction that read first fails with "database is
        # locked" instead of writing over a newer snapshot — a 409 too). Nothing to do.
        return
    session.flush()  # nothing pending is lost by the expiry below
    table = Enterprise.__table__
    # Core statement: the region criteria (registry.regions.scoping) apply to ORM selects, and the service
    # checks the region itself right after; a lock on a row outside it reveals and changes nothing.
    session.execute(sa.select(table.c.id).where(table.c.id == enterprise_id).with_for_update())
    found = _held(session, Enterprise, enterprise_id)
    if found is not None:  # its titles, reports and their collections reload on next use
        for cert in found.__dict__.get("certifications", ()):
            session.expire(cert)
        session.expire(found)


def lock_enterprises(session: Session, enterprise_ids: list[int], chunk: int = 2000) -> None:
    """`lock_enterprise` for many at once (a bulk write): the rows locked in ascending id order, a chunk a
    statement, so two bulk writers never wait for each other crosswise. Nothing loaded is expired: the
    bulk writers read what they change after the lock, below the ORM."""
    if _serialised(session):
        return
    session.flush()
    table, ids = Enterprise.__table__, sorted(set(enterprise_ids))
    for start in range(0, len(ids), chunk):
        session.execute(sa.select(table.c.id).where(table.c.id.in_(ids[start:start + chunk]))
                        .order_by(table.c.id).with_for_update())


def lock_enterprise_of(session: Session, model: type[Certification | Application | Objection], row_id: int) -> None:
    """Lock the enterprise that owns the `model` row `row_id` (nothing when there is no such row)."""
    if _serialised(session):
        return
    owner = session.execute(OWNED[model](row_id)).scalar()
    if owner is None:
        return  # the caller's load answers 404
    lock_enterprise(session, owner)
    found = _held(session, model, row_id)
    if found is not None:
        session.expire(found)


def _serialised(session: Session) -> bool:
    """Tell whether the database runs one writer at a time (SQLite)."""
    return session.get_bind().dialect.name == "sqlite"


def _held(session: Session, model: type, row_id: int) -> object | None:
    """Return the object the session already holds for that row (no SQL)."""
    return session.identity_map.get(identity_key(model, row_id))
