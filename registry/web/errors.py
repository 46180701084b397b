"""One place that maps refusals to HTTP: JSON for /api/, Chinese pages for the UI.

401 not logged in, 403 role not allowed, 404 not found or outside the region, 409 conflicts,
422 validation ({"errors": {field: [messages]}}), 429 login locked. Every error rolls the
request's transaction back, so a failed request changes nothing.
"""

from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from registry.domain import errors as domain
from registry.extensions import get_session
from registry.services.auth import AccountLocked, LoginFailed
from registry.web.api import BodyTooLarge
from registry.web.auth import NotLoggedIn

STATUS: list[tuple[type[domain.DomainError], int]] = [
    (BodyTooLarge, 413), (NotLoggedIn, 401), (LoginFailed, 401), (AccountLocked, 429), (domain.PermissionDenied, 403),
    (domain.NotFound, 404), (domain.Conflict, 409), (domain.RuleViolation, 422),
    (domain.CalendarDataMissing, 422), (domain.PolicyError, 500),
]

TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持的请求方式",
          409: "操作冲突", 413: "文件过大", 422: "输入有误", 429: "请稍后再试", 500: "服务器错误"}


def wants_json() -> bool:
    """Tell whether the client is an API client."""
    return request.path.startswith("/api/")


def status_of(exc: domain.DomainError) -> int:
    """Return the HTTP status of a domain refusal."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def _respond(code: int, message: str, body: dict) -> tuple:
    get_session().rollback()
    if wants_json():
        return jsonify(body), code
    if code == 401:
        return redirect(url_for("pages.login", next=request.full_path))
    return render_template("error.html", code=code, title=TITLES.get(code, "出错了"), message=message,
                           errors=body.get("errors")), code


def handle_domain(exc: domain.DomainError) -> tuple:
    """Map a domain refusal."""
    code = status_of(exc)
    if isinstance(exc, domain.RuleViolation):
        return _respond(code, exc.message, {"errors": exc.errors})
    details = {k: v for k, v in exc.details.items() if isinstance(v, str | int | list | dict | None)}
    return _respond(code, exc.message, {"error": exc.message, **details})


def handle_validation(exc: ValidationError) -> tuple:
    """Map a marshmallow shape error to 422 with field messages."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return _respond(422, "输入有误 / invalid input", {"errors": messages})


def handle_csrf(exc: CSRFError) -> tuple:
    """Refuse a form without a valid CSRF token."""
    message = "表单已过期或缺少安全令牌，请刷新页面后重试 / CSRF token missing or invalid"
    return _respond(400, message, {"error": message})


def handle_http(exc: HTTPException) -> tuple:
    """Render werkzeug's own errors (404 route, 405, 413) the same way."""
    code = exc.code or 500
    return _respond(code, TITLES.get(code, exc.name), {"error": exc.description or exc.name})


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(domain.DomainError, handle_domain)
    app.register_error_handler(ValidationError, handle_validation)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
