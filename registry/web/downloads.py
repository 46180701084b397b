"""File responses for the API and the pages: Chinese file names that every browser saves correctly.

A Chinese name goes in `filename*` (RFC 5987, UTF-8 percent-encoded), which current browsers
prefer; `filename` carries a plain ASCII fallback for the rest. Werkzeug's send_file derives its
fallback by dropping the non-ASCII characters ("企业名录.xlsx" → ".xlsx"), hence our own header.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO
from urllib.parse import quote

from flask import Response, request
from werkzeug.wsgi import wrap_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
ATTR_CHARS = "!#$&+-.^_`|~"  #: RFC 5987 attr-char besides letters and digits (left unencoded)


def content_disposition(name: str, fallback: str) -> str:
    """Return an attachment header naming the file `name` (with the ASCII `fallback` for old clients)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}"


def download(body: bytes | Iterable[bytes], *, name: str, fallback: str, mimetype: str = XLSX) -> Response:
    """Return `body` (bytes, or chunks to stream) as a file download."""
    return Response(body, content_type=mimetype, headers={"Content-Disposition": content_disposition(name, fallback)})


def download_file(file: IO[bytes], *, name: str, fallback: str, mimetype: str = XLSX) -> Response:
    """Stream an open file (e.g. a spooled temporary file) as a download; the file is closed afterwards."""
    file.seek(0)
    return Response(wrap_file(request.environ, file), content_type=mimetype, direct_passthrough=True,
                    headers={"Content-Disposition": content_disposition(name, fallback)})
