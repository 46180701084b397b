"""One place that maps refusals to HTTP: JSON for /api/, Chinese pages for the UI.

401 not logged in, 403 role not allowed, 404 not found or outside the region, 409 conflicts,
422 validation ({"errors": {field: [messages]}}), 429 login locked (account or address). Every error rolls the
request's transaction back, so a failed request changes nothing.

The database decides races (docs/concurrency.md): a unique constraint that refuses a second
identical row (IntegrityError), a versioned UPDATE that lost (StaleDataError), a lock wait that
ended in a deadlock or "database is locked" all become a domain Conflict (409) with a Chinese
message naming the field — never a 500, and never a word about rows the caller cannot see (a
USCC registered in another region is only "已登记").
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from registry.accounts.access import NotLoggedIn
from registry.accounts.auth import AccountLocked, AddressThrottled, LoginFailed
from registry.accounts.second_factor import SecondFactorFailed, SecondFactorRequired
from registry.domain import errors as domain
from registry.platform.extensions import get_session
from registry.web.api import BodyTooLarge

STATUS: list[tuple[type[domain.DomainError], int]] = [
    (BodyTooLarge, 413), (NotLoggedIn, 401), (LoginFailed, 401), (AccountLocked, 429), (AddressThrottled, 429),
    (SecondFactorFailed, 401), (SecondFactorRequired, 401),
    (domain.PermissionDenied, 403),
    (domain.NotFound, 404), (domain.Conflict, 409), (domain.RuleViolation, 422),
    (domain.CalendarDataMissing, 422), (domain.PolicyError, 500),
]

TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持的请求方式",
          409: "操作冲突", 413: "文件过大", 422: "输入有误", 429: "请稍后再试", 500: "服务器错误",
          503: "服务暂不可用"}


#: what a unique constraint protects, by constraint name: (field, message)
UNIQUE_MESSAGES: dict[str, tuple[str, str]] = {
    "uq_enterprises_uscc": ("uscc", "该统一社会信用代码已登记 / this USCC is already registered"),
    "uq_annual_reports_enterprise_id_year": (
        "year", "该企业该年度的年度报告刚由他人录入，请刷新后查看或更正 / this year's report was just recorded"),
    "uq_applications_batch_id_enterprise_id": ("enterprise_id", "该企业已在本批次申报 / already applied"),
    "uq_opinions_application_id_round_level": (
        "level", "该级推荐意见已出具（可能是重复提交），请刷新后查看 / this level has already given its opinion"),
    "uq_imports_source_id": ("", "该试运行已确认导入，不会重复导入 / this dry run has already been confirmed"),
    "uq_batches_tier_year_name": ("name", "同一层级、年度已有同名批次 / a batch of this name exists"),
    "uq_pool_members_pool_id_enterprise_id": ("enterprise_id", "该企业已在培育库中 / already in the pool"),
    "uq_users_username": ("username", "用户名已被使用 / username taken"),
    "uq_proposals_pending_key": ("proposal", "同一变更已在等待确认（可能是重复提交），请勿重复提交 / already proposed"),
    "uq_certifications_live_title": (
        "tier", "该企业已持有同一认定日期的该称号（可能是重复提交），请刷新后查看 / this title was already granted"),
}
DUPLICATE = "与已有记录重复（可能是重复提交），请刷新后查看 / duplicates an existing record"
CHANGED = "该记录刚被他人修改，请刷新后重试 / the record was changed by someone else; reload and retry"
BUSY = "其他用户正在修改同一记录，请稍后重试 / another change to the same record is in progress; retry"
BROKEN = "输入不符合数据规则，未保存，请检查后重试 / the input breaks a rule of the database; nothing was saved"
#: SQLite names the columns, not the constraint: "UNIQUE constraint failed: enterprises.uscc"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$", re.M)


def _unique_names() -> dict[str, str]:
    """Map "table.col, table.col" (SQLite's wording) to the constraint's name."""
    from registry.platform.db import Base

    names: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        uniques = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
        for item in [*uniques, *(i for i in table.indexes if i.unique)]:
            names[", ".join(f"{table.name}.{c.name}" for c in item.columns)] = str(item.name)
    return names


def constraint_of(exc: sa_exc.IntegrityError) -> str | None:
    """Return the name of the constraint an IntegrityError broke (None when the driver does not say)."""
    diag = getattr(exc.orig, "diag", None)  # psycopg
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    match = _SQLITE_UNIQUE.search(str(exc.orig))
    return _unique_names().get(match.group(1).strip()) if match else None


def is_lock_conflict(exc: sa_exc.OperationalError | sa_exc.DBAPIError) -> bool:
    """Tell whether a database error means "lost a race" (deadlock, serialization, SQLite busy)."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in ("40001", "40P01", "55P03"):  # serialization failure, deadlock, lock not available
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def as_conflict(exc: Exception) -> domain.DomainError | None:
    """Translate a database race or constraint refusal into a domain refusal (None: not one)."""
    if isinstance(exc, StaleDataError):
        return domain.StaleVersion(CHANGED)
    if isinstance(exc, sa_exc.IntegrityError):
        name = constraint_of(exc)
        if name in UNIQUE_MESSAGES:
            field, message = UNIQUE_MESSAGES[name]
            return domain.Conflict(message, field=field) if field else domain.Conflict(message)
        code, text = getattr(exc.orig, "sqlstate", None), str(exc.orig)
        if code == "23505" or text.startswith("UNIQUE constraint failed"):
            return domain.Conflict(DUPLICATE)
        if code == "23503" or "FOREIGN KEY constraint failed" in text:  # what it refers to went away meanwhile
            return domain.Conflict(CHANGED)
        return domain.RuleViolation.on("_schema", BROKEN)  # a CHECK or NOT NULL the schemas did not foresee
    if isinstance(exc, sa_exc.DBAPIError) and is_lock_conflict(exc):
        return domain.Conflict(BUSY)
    return None


#: what the database raises when a concurrent writer won (caught by the page flows and mapped here)
DB_CONFLICTS = (StaleDataError, sa_exc.IntegrityError, sa_exc.OperationalError)


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
    if code == 413:  # werkzeug's own text is English; say what the limit is
        limit = current_app.config["MAX_CONTENT_LENGTH"] - 1024 * 1024
        message = (f"文件过大：上传的文件不能超过 {limit / 1024 / 1024:,.0f} MB，请拆分文件后上传"
                   " / request too large")
        return _respond(code, message, {"error": message})
    return _respond(code, TITLES.get(code, exc.name), {"error": exc.description or exc.name})


def handle_database(exc: Exception) -> tuple:
    """Map a lost race (unique constraint, stale version, lock) to 409, a CHECK to 422; a database that fails to 503."""
    refusal = as_conflict(exc)
    if refusal is None:
        message = "数据库暂时无法访问，请稍后重试 / the database is unavailable"
        return _respond(503, message, {"error": message})
    return handle_domain(refusal)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(domain.DomainError, handle_domain)
    app.register_error_handler(ValidationError, handle_validation)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    for kind in DB_CONFLICTS:
        app.register_error_handler(kind, handle_database)
