"""The web tier: the JSON API under /api/v1 and the Chinese pages, stateless between requests.

Sessions are signed cookies; throttling counters and tokens live in the database; nothing is
kept in process memory, so any number of gunicorn workers on any number of hosts can serve.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

csrf = CSRFProtect()


class BoundedInt(IntegerConverter):
    """`<int:id>` only up to 2**31-1 (an INTEGER column): a larger id is a 404, not a database overflow."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002  werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Configure security, register blueprints and error handlers."""
    from registry.accounts import access as auth
    from registry.web import api, errors, headers, labels, pages
    from registry.web.pages import helpers

    settings = app.config["REGISTRY"]
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production, REMEMBER_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_DURATION=timedelta(days=7), PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        # the largest request: an import file (REGISTRY_IMPORT_MAX_UPLOAD_MB) and its form around it
        MAX_CONTENT_LENGTH=settings.import_limits.upload_bytes + 1024 * 1024, WTF_CSRF_TIME_LIMIT=8 * 3600,
        JSON_AS_ASCII=False,
        IMPORTS_INLINE=False,  # True: queued imports are processed in the request (tests), not by the jobs process
        IMPORTS_API_INLINE_MAX_BYTES=2 * 1024 * 1024,  # a larger API upload is queued (202), see api/imports.py
    )
    app.json.ensure_ascii = False
    if settings.trusted_proxies > 0:  # only then is X-Forwarded-* written by someone we trust
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    helpers.init_app(app)
    labels.init_app(app)
    app.before_request(_search_statistics)
    csrf.exempt(api.bp)  # API writes are JSON or bearer-authenticated; see api.check_csrf
    app.url_map.converters["int"] = BoundedInt  # before the routes are added
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)


def _search_statistics() -> None:
    """Keep this process's view of the names' common character pairs fresh (at most one read of PostgreSQL's
    statistics every ten minutes; registry/enterprises/queries.py CommonPairs)."""
    from registry.enterprises.queries import COMMON_PAIRS
    from registry.platform.extensions import get_session

    if COMMON_PAIRS.due(time.monotonic()):
        COMMON_PAIRS.refresh(get_session())
