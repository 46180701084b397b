"""Region scoping of every read, enforced once: a session option that adds WHERE region LIKE prefix.

A request (or job) sets the actor's region on its session with `scope_session`; from then on
every ORM SELECT of a region-scoped model through that session carries the region criterion —
lists, counts, search, relationship loads — via SQLAlchemy's `with_loader_criteria` recipe
("Adding global WHERE / ON criteria"). `session.get()` can be served from the identity map
without SQL, so services also check `require_scope` on loads by id; writes are checked there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from registry.audit.models import AuditEvent
from registry.domain.regions import code_range, region_prefix
from registry.enterprises.models import Enterprise
from registry.proposals.models import Proposal
from registry.reminders.models import OutboxMessage, Reminder
from registry.roster.models import ImportRun
from registry.titles.models import Certification

SCOPED = (Enterprise, Certification, Reminder, AuditEvent, ImportRun, Proposal)
KEY = "registry.region_prefix"


def scope_session(session: Session, region_code: str | None) -> None:
    """Restrict every read through `session` to `region_code` (None or 000000: everything)."""
    if region_code and region_code != "000000":
        session.info[KEY] = region_prefix(region_code)
    else:
        session.info.pop(KEY, None)


@lru_cache(maxsize=4096)  # one per region prefix (about 3,000 codes): built once, not on every statement
def _criteria(prefix: str):  # noqa: ANN202
    """The loader criteria of a prefix, a tuple of immutable options shared by every statement that needs them
    (building the seven with_loader_criteria for each statement was ~0.4 ms of it under cProfile: bench/RESULTS.md, issue 19)."""
    low, high = code_range(prefix)  # a range, not LIKE: indexes on region_code can seek it
    options = [with_loader_criteria(model, lambda cls: cls.region_code.between(low, high), include_aliases=True)
               for model in SCOPED]
    # Audit events and outbox rows without a region are nationwide: hidden from regional users.
    options.append(with_loader_criteria(OutboxMessage, lambda cls: sa.and_(
        cls.region_code.is_not(None), cls.region_code.between(low, high)), include_aliases=True))
    return tuple(options)


@event.listens_for(Session, "do_orm_execute")
def _add_region_criteria(state: ORMExecuteState) -> None:
    prefix = state.session.info.get(KEY)
    if prefix and state.is_select and not state.is_column_load and not state.is_relationship_load:
        state.statement = state.statement.options(*_criteria(prefix))


def with_scope(session: Session, stmt: sa.Select) -> sa.Select:  # type: ignore[type-arg]
    """Return `stmt` with the region criteria `session` adds to its ORM reads, for running it on the
    session's connection as plain rows (an export's fast path, no ORM loading): same rows, same scope."""
    return scoped(stmt, scope_of(session))


def scope_of(session: Session) -> str | None:
    """The region prefix `session`'s reads are restricted to (None: everywhere)."""
    return session.info.get(KEY)


def scoped(stmt: sa.Select, prefix: str | None) -> sa.Select:  # type: ignore[type-arg]
    """Return `stmt` with the region criteria of `prefix` (`scope_of` a session), as `with_scope` adds them."""
    return stmt.options(*_criteria(prefix)) if prefix else stmt


@contextmanager
def unscoped(session: Session) -> Iterator[Session]:
    """Lift the region restriction for a whole-database check (e.g. verifying the audit chain)."""
    saved = session.info.pop(KEY, None)
    try:
        yield session
    finally:
        if saved is not None:
            session.info[KEY] = saved
