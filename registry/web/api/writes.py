"""The one shape of an API write: load the body, call the service as the caller, commit once, dump."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, jsonify, request
from marshmallow import Schema

from registry.accounts.access import current_actor
from registry.platform.extensions import get_session
from registry.web.api import load

Written = TypeVar("Written")


def written(body: type[Schema] | None, service: Callable[..., Written], dump: Callable[[Written], dict[str, Any]],
            status: int = 200, *, optional_body: bool = False, **given: Any) -> tuple[Response, int]:
    """Run one write request: load the body, call `service` as the caller with `given` and the body's fields,
    commit (the request owns the transaction), and answer `dump` of what the service returns.

    Without a `body` schema the request carries none; with `optional_body`, a request without a JSON body is
    read as `{}`.
    """
    if body is None:
        data: dict[str, Any] = {}
    else:
        data = load(body(), request.get_json(silent=True) or {}) if optional_body else load(body())
    session = get_session()
    result = service(session, actor=current_actor(), **given, **data)
    session.commit()
    return jsonify(dump(result)), status
