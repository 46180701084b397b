"""JSON API under /api/v1: one blueprint, one module per resource (imported at the bottom).

A view parses input with a marshmallow schema, calls one service, commits, and dumps the result.
Errors are mapped in registry/web/errors.py, never here.
"""

from __future__ import annotations

from typing import Any

import json
import re

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


class BadJson(DomainError):
    """A JSON body that is not acceptable JSON: malformed, too deep, NaN/Infinity (400)."""


class BodyTooLarge(DomainError):
    """A JSON body larger than MAX_JSON_BYTES (413)."""


MAX_JSON_DEPTH = 32  #: objects/arrays nested deeper are refused before parsing
MAX_JSON_BYTES = 1024 * 1024  #: JSON bodies are small records; files go as multipart
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def json_depth(raw: bytes) -> int:
    """Return how deep objects and arrays nest in `raw`, without parsing it (strings skipped)."""
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw))
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_constant(name: str) -> None:
    raise ValueError(name)


@bp.before_request
def check_json_body() -> None:
    """Refuse a JSON body that is huge, nests too deep or is not strict JSON, before anything parses it.

    Python's parser recurses per level (a deep body would end in RecursionError, a 500) and
    accepts NaN and Infinity, which no column holds.
    """
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not request.is_json:
        return
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise BodyTooLarge(f"请求体过大（上限 {MAX_JSON_BYTES // 1024} KB） / JSON body too large")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise BodyTooLarge(f"请求体过大（上限 {MAX_JSON_BYTES // 1024} KB） / JSON body too large")
    if not raw.strip():
        return
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadJson(f"请求体嵌套过深（上限 {MAX_JSON_DEPTH} 层） / JSON nested too deeply")
    try:
        json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadJson("请求体不是有效的 JSON / body is not valid JSON") from None


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


from registry.web.api import accounts, audit, certifications, enterprises, imports, meta, pipeline, pipeline_batches, proposals, reminders, session  # noqa: E402, F401  (routes register on import)
