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
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO
from urllib.parse import quote

from flask import Response, current_app
from sqlalchemy.orm import Session

from registry.db import set_read_only
from registry.extensions import release
from registry.scoping import scope_session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
ATTR_CHARS = "!#$&+-.^_`|~"  #: RFC 5987 attr-char besides letters and digits (left unencoded)
SPOOL_BYTES = 8 * 1024 * 1024  #: a download larger than this is spooled to a temporary file, not memory
CHUNK = 64 * 1024  #: bytes per chunk sent

Produce = Callable[[Session, IO[bytes]], object]  #: writes the file from the database to the binary file given


def content_disposition(name: str, fallback: str) -> str:
    """Return an attachment header naming the file `name` (with the ASCII `fallback` for old clients)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}"


def spooled_download(produce: Produce, *, region_code: str | None, name: str, fallback: str,
                     mimetype: str = XLSX) -> Response:
    """Return a download whose body `produce` writes from a short read-only session of its own (see above).

    `produce(session, out)` must use only the session it is given (never the request's) and
    values computed in the view; `region_code` scopes that session like the request's.
    """
    factory = current_app.extensions["registry.sessionmaker"]
    return Response(_spooled(factory, produce, region_code), content_type=mimetype,
                    headers={"Content-Disposition": content_disposition(name, fallback)})


def _spooled(factory: Callable[[], Session], produce: Produce, region_code: str | None) -> Iterator[bytes]:
    """Read the file in a session opened and closed here, then send it chunk by chunk."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        session = factory()
        try:
            set_read_only(session, True)
            scope_session(session, region_code)
            produce(session, out)
        finally:
            release(session)  # rolled back and closed: before the first byte, however the client behaves
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk
