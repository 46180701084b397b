"""JSON API under /api/v1: one blueprint, one module per resource (imported at the bottom).

A view parses input with a marshmallow schema, calls one service, commits, and dumps the result.
Errors are mapped in registry/web/errors.py, never here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from flask_wtf.csrf import validate_csrf
from marshmallow import Schema, ValidationError
from wtforms.validators import ValidationError as CsrfInvalid

from registry.domain.errors import DomainError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

@bp.before_request
def check_csrf() -> None:
    """Cookie-authenticated POSTs must be JSON or carry X-CSRFToken.

    A cross-site HTML form can only send GET or POST with a form encoding; JSON bodies and the
    other methods need a CORS preflight, which this API never grants.
    """
    actor = g.get("actor")
    if request.method != "POST" or actor is None or actor.kind != "user" or request.is_json:
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except CsrfInvalid as exc:
        raise CsrfMissing("缺少安全令牌 / X-CSRFToken required for cookie-authenticated form writes") from exc


class CsrfMissing(DomainError):
    """A cookie-authenticated non-JSON write without a CSRF token (400)."""


def load(schema: Schema, data: Any = None) -> dict[str, Any]:
    """Validate a request body (JSON by default) with `schema`. :raises ValidationError:"""
    if data is None:
        data = request.get_json(silent=True)
        if data is None:
            raise ValidationError({"_schema": ["请求体应为 JSON 对象 / body must be a JSON object"]})
    return schema.load(data)


def page_of(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """Return the list envelope of SPEC §5."""
    return {"items": items, "total": total, "page": page, "per_page": per_page}


from registry.web.api import audit, certifications, enterprises, imports, meta, pipeline, pipeline_batches, reminders, session  # noqa: E402, F401  (routes register on import)
