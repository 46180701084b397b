"""Engine, sessions and column types shared by every model.

SQLite runs in WAL mode with foreign keys on, and with transactions begun explicitly (Python
3.11's sqlite3 otherwise skips BEGIN before SELECT and breaks SAVEPOINTs — PITFALLS §6.3).
A unit of work that may write begins IMMEDIATE (it takes the write lock up front, so it waits
its turn under the busy timeout instead of failing with SQLITE_BUSY_SNAPSHOT when it upgrades);
a session marked read-only (`set_read_only`: web GET requests, streamed downloads) begins
DEFERRED, reads a WAL snapshot and never takes the write lock — writers do not block it and it
blocks no writer. The mode reaches the "begin" event as the connection's `registry_begin`
execution option: a read-only session reads through `reader_of(engine)`, the engine with that
option set (RegistrySession.get_bind). PostgreSQL ignores it.
Timestamps are stored in UTC on both backends: SQLite drops tzinfo, so `UTCDateTime` converts
on the way in and re-attaches UTC on the way out.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from registry.platform import clock

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC timestamp on every backend; naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with named constraints (Alembic batch mode needs names on SQLite)."""

    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and explicit transactions."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    return engine


#: execution option of a statement PostgreSQL must plan for its own values each time (never prepared)
PLAN_EACH = "registry_plan_each"


def plan_each(stmt: sa.Select) -> sa.Select:
    """Mark `stmt` to be planned for its own parameter values on every execution (PostgreSQL; a no-op on SQLite).

    psycopg prepares a statement run five times on a connection, and PostgreSQL may then switch to a
    generic plan made without the parameters' values. For the roster search that plan is ruinous: a generic
    `name ILIKE $1` is costed as selective and served from the trigram index even for a two-character word,
    which has no trigram — a scan of the whole index (20,000 enterprises: 14–27 ms instead of the custom
    plan's 1.6 ms; bench/RESULTS.md, issue 19). Only such statements pay a planning per execution: setting
    plan_cache_mode for every statement cost the roster page's two ~1 ms each.
    """
    return stmt.execution_options(**{PLAN_EACH: True})


def run_compiled(connection: sa.Connection, stmt: sa.Executable,
                 values: Mapping[str, Any] | None = None) -> sa.CursorResult[Any]:
    """Execute `stmt` on `connection` from its compiled form kept for the dialect, with `values` for its
    `bindparam`s without a value (e.g. a page's LIMIT and OFFSET); every other value is the statement's own.

    For a statement built once and run many times (a cached roster filter's count and page, the token check):
    `connection.execute` would compute the statement's cache key on every run and match the cached compilation's
    bound values to this statement's (with the region criteria's lambdas, ~800 calls a roster page:
    bench/RESULTS.md, pagefloor). The same SQL, parameters, events (`before_cursor_execute`, `do_execute`),
    execution options and result rows as `connection.execute(stmt, values)`: only the lookups are skipped.
    """
    compiled = _compiled(stmt, connection.dialect)
    options = stmt._execution_options.merge_with(connection._execution_options)  # noqa: SLF001  as execute merges
    params = [values] if values else []
    return connection._execute_context(  # noqa: SLF001  Connection._execute_clauseelement past its cache lookup
        connection.dialect, connection.dialect.execution_ctx_cls._init_compiled, compiled, params, options,
        compiled, params, stmt, None)


@lru_cache(maxsize=1024)  # keyed by the statement object: callers keep theirs (e.g. an lru_cache of filters)
def _compiled(stmt: sa.Executable, dialect: sa.Dialect) -> Any:  # noqa: ANN401  an SQLCompiler
    return stmt.compile(dialect=dialect)


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "do_execute")
    def _unprepared(cursor, statement, parameters, context):  # noqa: ANN001, ANN202
        if context.execution_options.get(PLAN_EACH):
            cursor.execute(statement, parameters, prepare=False)  # unnamed each time: a custom plan
            return True
        return None


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # Python's lower(): SQLite's folds ASCII letters only (the roster search, registry/enterprises/queries.py)
        dbapi_connection.create_function("registry_lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        # IMMEDIATE (the default) takes the write lock up front: a deferred transaction that later
        # writes can fail at once with "database is locked" instead of waiting out the busy timeout.
        # Read-only sessions ask for DEFERRED: they never take the lock (WAL snapshot reads).
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        if mode not in BEGIN_MODES:
            raise ValueError(f"unknown SQLite begin mode {mode!r}")
        if mode != NOWAIT:
            connection.exec_driver_sql(f"BEGIN {mode}")
            connection.info[_CHANGES_AT_BEGIN] = connection.connection.dbapi_connection.total_changes
            return
        # A best-effort write (a token's last-used stamp on a read request): wait NOWAIT_MS at most for
        # the write lock, then fail ("database is locked") rather than make a reader wait for a writer.
        # Within BUSY_MEMORY_S of such a failure in this process the next ones do not wait at all: a long
        # writer (an import's one transaction, a minute and more) would otherwise cost every read request
        # NOWAIT_MS once its token's stamp or its session's last-seen mark fell due (bench/RESULTS.md, importread).
        pool = connection.engine.pool
        failed_at = _nowait_failed.get(pool)
        wait_ms = 0 if failed_at is not None and time.monotonic() - failed_at < BUSY_MEMORY_S else NOWAIT_MS
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            usual = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
            cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except sa.exc.OperationalError:
                _nowait_failed[pool] = time.monotonic()
                raise
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(usual)}")
            _nowait_failed.pop(pool, None)
        finally:
            cursor.close()


BEGIN_OPTION = "registry_begin"  #: connection execution option read by SQLite's "begin" event
NOWAIT = "IMMEDIATE_NOWAIT"  #: IMMEDIATE, but give up after NOWAIT_MS if another transaction writes
NOWAIT_MS = 100
_CHANGES_AT_BEGIN = "registry.changes_at_begin"  #: SQLite connection.info: the driver's total_changes at BEGIN
BUSY_MEMORY_S = 5.0  #: after a NOWAIT begin found the write lock taken, the next ones in the process try without waiting
_nowait_failed: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()  #: pool → when a NOWAIT begin last failed
BEGIN_MODES = frozenset({"IMMEDIATE", "DEFERRED", NOWAIT})
READ_ONLY = "registry.read_only"  #: session.info flag: this session only reads (SQLite: BEGIN DEFERRED)
NO_WAIT = "registry.no_wait"  #: session.info flag: this writing session does not wait for the write lock


class ReadOnlySessionError(RuntimeError):
    """A write (flush or INSERT/UPDATE/DELETE) in a session marked read-only: a GET or a download that writes."""


def with_begin(engine: Engine, mode: str) -> Engine:
    """Return `engine` whose SQLite transactions begin in `mode` (same pool and events); one object per mode."""
    variants = engine.__dict__.setdefault("_registry_begin_variants", {})
    if mode not in variants:
        variants[mode] = engine.execution_options(**{BEGIN_OPTION: mode})
    return variants[mode]


def reader_of(engine: Engine) -> Engine:
    """Return `engine` with deferred transactions (SQLite readers that never take the write lock)."""
    return with_begin(engine, "DEFERRED")


class RegistrySession(Session):
    """A session whose transactions begin DEFERRED on SQLite while it is marked read-only."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:  # noqa: D102  (see the class)
        found = super().get_bind(mapper, **kw)
        if isinstance(found, Engine) and found.dialect.name == "sqlite":
            if self.info.get(READ_ONLY):
                return reader_of(found)
            if self.info.get(NO_WAIT):
                return with_begin(found, NOWAIT)
        return found


@event.listens_for(Session, "before_flush")  # every session, the tests' shared one included
def _refuse_writes_when_read_only(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.deleted
                                        or any(session.is_modified(obj) for obj in session.dirty)):
        raise ReadOnlySessionError("a read-only session (GET request or download) tried to write")


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml_when_read_only(state: Any) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlySessionError("a read-only session (GET request or download) tried to write")


def set_read_only(session: Session, read_only: bool) -> None:
    """Mark `session` read-only (DEFERRED on SQLite, flushes refused) or writing (IMMEDIATE).

    Only between transactions: a transaction keeps the mode it began with (its one connection).
    :raises RuntimeError: when an engine-bound session is inside a transaction and the mode changes.
    """
    if bool(session.info.get(READ_ONLY)) == read_only:
        return
    if session.in_transaction() and not isinstance(session.bind, sa.Connection):
        raise RuntimeError("end the session's transaction before changing its read-only mode")
    if read_only:
        session.info[READ_ONLY] = True
    else:
        session.info.pop(READ_ONLY, None)


def is_read_only(session: Session) -> bool:
    """Tell whether `session` is marked read-only."""
    return bool(session.info.get(READ_ONLY))


def _own_transaction(session: Session) -> bool:
    """Tell whether `session` is in a transaction of its own engine connection (not an outer Connection's,
    like the tests' SAVEPOINT session, whose one connection keeps one mode whatever the flag)."""
    return session.in_transaction() and not isinstance(session.bind, sa.Connection)


def begin_writes(session: Session) -> None:
    """End a read-only session's reads (commit: nothing is pending) and mark it writing (IMMEDIATE next)."""
    if _own_transaction(session):
        session.commit()
    set_read_only(session, False)


def end_reads(session: Session) -> bool:
    """End a read-only session's transaction with COMMIT; tell whether it did (False: not read-only, no
    transaction, or the commit failed — the caller rolls back, as it did before).

    For a transaction that wrote nothing (a read-only session's flushes and ORM DML are refused) COMMIT is
    the same as a rollback, as `begin_writes` has it — but psycopg drops every prepared statement of the
    connection on ROLLBACK, so on PostgreSQL what every request runs (the token check, a roster page) was
    parsed and planned anew each time and never reached psycopg's prepare threshold: ~1.5 ms of a roster page
    at 100,000, where the bench's floor ran prepared (bench/RESULTS.md, pagefloor).
    """
    if not (is_read_only(session) and _own_transaction(session)) or _pending_writes(session):
        return False
    try:
        session.commit()
    except sa.exc.SQLAlchemyError:
        return False
    return True


def _pending_writes(session: Session) -> bool:
    """Whether COMMIT could persist (or, flushing, refuse) something in a read-only session's transaction: an ORM
    change not flushed (a flush would raise ReadOnlySessionError at the request's end) or, on SQLite, a row written
    on the session's connection below the ORM (not refused: `session.connection().execute(update(table))`) since
    its BEGIN. Such a transaction is rolled back, as every read-only request's was before `end_reads`."""
    if session.new or session.deleted or session.dirty:
        return True
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    began = connection.info.get(_CHANGES_AT_BEGIN)
    return began is None or connection.connection.dbapi_connection.total_changes != began


@contextmanager
def writing(session: Session, *, wait: bool = True) -> Iterator[Session]:
    """Lift a session's read-only mark for one writing transaction, then mark it read-only again.

    For the rare write a read request must make (a token's last-used stamp): a transaction in
    progress is rolled back first (redo its reads inside: on SQLite a deferred read that then
    writes fails with SQLITE_BUSY_SNAPSHOT if another writer committed in between); the writing
    transaction begins IMMEDIATE — with `wait=False` it gives up after NOWAIT_MS when another
    transaction holds the write lock (sqlalchemy.exc.OperationalError), at once within BUSY_MEMORY_S
    of such a failure in the process — and whatever the caller
    did not commit is rolled back on exit.
    """
    was = is_read_only(session)
    if _own_transaction(session):
        session.rollback()
    set_read_only(session, False)
    if not wait:
        session.info[NO_WAIT] = True
    try:
        yield session
    finally:
        try:
            if _own_transaction(session):
                session.rollback()
        finally:
            session.info.pop(NO_WAIT, None)
            set_read_only(session, was)


@contextmanager
def quick_commits(engine: Engine) -> Iterator[sa.Connection]:
    """A connection whose commits do not wait for their log to reach the disk, for a record that is cheap
    to lose on a power cut and costly to wait for, many times a second (the outbox sender's mark of each
    message the relay accepted).

    PostgreSQL: the connection runs in autocommit (each statement its own transaction, one round trip)
    with `synchronous_commit` off, reset before it returns to the pool. A commit is visible at once and
    survives the death of any process, PostgreSQL's own included; only an OS crash or power loss can lose
    the last such commits (those of the last ~0.6 s: 3 × `wal_writer_delay`), never corrupting anything.
    SQLite: a plain connection, each transaction begun and committed by the caller (or, on the driver's
    connection, a statement outside BEGIN is its own transaction: `_configure_sqlite` turns off the
    driver's implicit BEGIN); in WAL mode with synchronous=NORMAL no commit waits for an fsync, the same
    trade for every transaction.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            yield connection
            return
        quick = connection.execution_options(isolation_level="AUTOCOMMIT")
        quick.exec_driver_sql("SET synchronous_commit TO OFF")
        quick.commit()  # ends SQLAlchemy's autobegun transaction (nothing to send): callers begin their own
        try:
            yield quick
        finally:
            quick.exec_driver_sql("RESET synchronous_commit")
            quick.commit()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory on `engine` (the app's adds the audit trail's bulk-DML guard:
    registry.audit.guard.guarded_sessionmaker)."""
    return sessionmaker(bind=engine, class_=RegistrySession, expire_on_commit=False)


def utcnow() -> datetime:
    """Return the current instant in UTC (registry.platform.clock: the only clock read outside the edges)."""
    return clock.utcnow()


MONEY = sa.Numeric(18, 2)


def str_enum(enum: type[StrEnum], name: str, length: int = 32) -> sa.Enum:
    """Store an enum's values as VARCHAR with a named CHECK constraint (portable, migratable)."""
    return sa.Enum(enum, native_enum=False, create_constraint=True, length=length, name=name,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)
