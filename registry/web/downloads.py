"""File responses for the API and the pages: Chinese file names that every browser saves correctly.

A Chinese name goes in `filename*` (RFC 5987, UTF-8 percent-encoded), which current browsers
prefer; `filename` carries a plain ASCII fallback for the rest. Werkzeug's send_file derives its
fallback by dropping the non-ASCII characters ("企业名录.xlsx" → ".xlsx"), hence our own header.

Downloads read from the database through `spooled_download`: the response body is a generator
that, when the server first iterates it, opens a session of its own (read-only: on SQLite a
DEFERRED transaction that never takes the write lock; scoped to the actor's region), writes the
whole file into a spooled temporary file (memory up to SPOOL_BYTES, then disk), and closes the
session in a `finally` — before the first byte goes out. Only then are the file's chunks sent.
So the database work is one short read whatever the client does: a slow client holds a temporary
file, not a connection or a snapshot; a client that goes away mid-download closes the generator
(its `finally` removes the file); a client that goes away before the body is read never opens a
session at all. The request's own session is never used after the view returned (the teardown
closes it). The view itself checks permission and existence first, so a 403/404 is a normal
response, not a broken download.

Every download is audited (issue 16 point 5: who, what filter, how many rows). The row count is
known only once the file is written, so the event is recorded in the download's own session right
after `produce` returned and before the first byte goes out: `writing` ends the read transaction
and begins a short writing one (IMMEDIATE on SQLite, waiting like any other writer), the event is
appended to the chain and committed. That write does not wait: when another transaction holds
the chain (a long import apply holds SQLite's write lock, or PostgreSQL's chain-head row), the
event — stamped with the download's time — is logged at WARNING and handed to a recorder thread
that appends it as soon as the chain is free (a reader never waits for a writer; issue 13). Any
other failure to record means the file is not sent (an exception before the first chunk): no
personal data leaves without its trail.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response, current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Actor
from registry.platform.db import NOWAIT_MS, set_read_only, utcnow, writing
from registry.platform.extensions import release
from registry.regions.scoping import scope_session, unscoped

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
ATTR_CHARS = "!#$&+-.^_`|~"  #: RFC 5987 attr-char besides letters and digits (left unencoded)
SPOOL_BYTES = 8 * 1024 * 1024  #: a download larger than this is spooled to a temporary file, not memory
CHUNK = 64 * 1024  #: bytes per chunk sent
RECORD_ATTEMPTS = 3  #: a deferred download event is tried this often (each waits out the busy timeout)
log = logging.getLogger(__name__)

Produce = Callable[[Session, IO[bytes]], int | None]  #: writes the file to the binary file given; returns its rows


@dataclass(frozen=True)
class Audited:
    """How a download appears in the audit trail: who, which action on what, and the filter used."""

    actor: Actor
    action: str  #: e.g. export.roster (labelled in registry/audit/queries.py ACTION_NAMES)
    entity_type: str
    entity_id: int | None = None
    filter: Mapping[str, Any] = field(default_factory=dict)  #: the criteria given (empty ones left out)


def criteria(flt: object) -> dict[str, Any]:
    """Return a filter dataclass's non-empty criteria as a plain dict (for the event's `filter`)."""
    values = getattr(flt, "__dict__", {}) or {}
    return {k: audit.plain(v) for k, v in values.items() if not (v is None or v == "" or v is False)}  # 0 stays


def content_disposition(name: str, fallback: str) -> str:
    """Return an attachment header naming the file `name` (with the ASCII `fallback` for old clients)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}"


def spooled_download(produce: Produce, *, region_code: str | None, name: str, fallback: str,
                     audited: Audited, mimetype: str = XLSX) -> Response:
    """Return a download whose body `produce` writes from a short read-only session of its own (see above).

    `produce(session, out)` must use only the session it is given (never the request's) and
    values computed in the view; `region_code` scopes that session like the request's. The
    download is recorded as `audited` says, with the row count `produce` returned.
    """
    factory = current_app.extensions["registry.sessionmaker"]
    clock = current_app.extensions.get("registry.clock", utcnow)  # captured: the body runs outside the request
    deferred = current_app.extensions.setdefault("registry.download_audit_threads", [])
    record = _Record(audited, name, mimetype, clock, factory, deferred)
    return Response(_spooled(factory, produce, region_code, record), content_type=mimetype,
                    headers={"Content-Disposition": content_disposition(name, fallback)})


@dataclass(frozen=True)
class _Record:
    audited: Audited
    name: str
    mimetype: str
    clock: Callable[[], datetime]
    factory: Callable[[], Session]
    deferred: list[threading.Thread]  #: the app's recorder threads still running (tests join them)

    def __call__(self, session: Session, rows: int | None) -> None:
        """Append the download's event now, or — if another transaction holds the chain — hand it to a recorder."""
        a = self.audited
        changes = {"filename": self.name, "format": "csv" if self.mimetype.startswith("text/csv") else "xlsx",
                   "filter": dict(a.filter), "row_count": rows}
        values = dict(actor=a.actor, action=a.action, entity_type=a.entity_type, entity_id=a.entity_id,
                      region_code=a.actor.region_code, at=self.clock(),
                      changes={k: [None, v] for k, v in changes.items()})
        try:
            with writing(session, wait=False), unscoped(session):
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(sa.text(f"SET LOCAL lock_timeout = '{NOWAIT_MS}ms'"))
                audit.record(session, **values)
                session.commit()
        except OperationalError:  # the chain is held by a long writer (an import): do not make the reader wait
            session.rollback()
            log.warning("download event deferred until the audit chain is free: %s",
                        json.dumps(audit.plain(dict(values, actor=a.actor.__dict__)), ensure_ascii=False))
            thread = threading.Thread(target=self._later, args=(values,), name="download-audit", daemon=True)
            self.deferred.append(thread)
            thread.start()

    def _later(self, values: dict[str, Any]) -> None:
        """Append the event in a session of this thread's own, waiting for the chain like any writer."""
        try:
            for attempt in range(1, RECORD_ATTEMPTS + 1):
                try:
                    with self.factory() as session:
                        audit.record(session, **values)
                        session.commit()
                    return
                except OperationalError:
                    if attempt == RECORD_ATTEMPTS:
                        log.exception("download event NOT recorded after %d attempts: %s", attempt,
                                      json.dumps(audit.plain(dict(values, actor=values["actor"].__dict__)),
                                                 ensure_ascii=False))
        finally:
            try:
                self.deferred.remove(threading.current_thread())
            except ValueError:
                pass


def _spooled(factory: Callable[[], Session], produce: Produce, region_code: str | None,
             record: _Record) -> Iterator[bytes]:
    """Read the file in a session opened and closed here, record it, then send it chunk by chunk."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        session = factory()
        try:
            set_read_only(session, True)
            scope_session(session, region_code)
            rows = produce(session, out)
            record(session, rows)
        finally:
            release(session)  # rolled back and closed: before the first byte, however the client behaves
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk
