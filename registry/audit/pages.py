"""The audit page (审计日志): the trail with the API's filters, a per-field before/after view, export, chain check.

What an actor sees is decided by registry/audit/queries.py (auditors and officers their
region, nationwide admins everything); the region filter only narrows inside that and offers the
actor's own subtree. The chain check walks the whole chain, unscoped, as the API does: the chain
is one, so a regional auditor must be able to tell that nobody tampered with any of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template, request, url_for
from sqlalchemy.orm import Session
from wtforms import DateField, IntegerField, SelectField, ValidationError
from wtforms.validators import NumberRange, Optional

from registry.accounts.access import current_actor, requires
from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.audit.queries import (
    ACTION_NAMES,
    EARLIEST,
    ENTITY_NAMES,
    LATEST,
    AuditFilter,
    FieldChange,
    action_name,
    entity_name,
    field_changes,
    search,
    shown_changes,
)
from registry.domain.actors import Action, Actor
from registry.enterprises.models import SIZE_NAMES, Enterprise
from registry.platform.extensions import get_session
from registry.regions.scoping import unscoped
from registry.roster.pages import region_choices
from registry.web import labels
from registry.web.pages import bp
from registry.web.pages.forms import PageForm, _optional_text, choices
from registry.web.pages.helpers import clamped_page, region_name, tier_name

PER_PAGE = 50
MAX_ID = 2**31 - 1  #: ids are INTEGER columns: a larger number would be a database error on PostgreSQL
MAX_PAGE = 10**6  #: far past any trail; keeps OFFSET a small number
FILTERS = ("entity_type", "entity_id", "enterprise_id", "actor", "action", "since", "until", "region")


def in_range(_form: PageForm, field: DateField) -> None:
    """Refuse a date no trail can hold (and whose day bounds would overflow)."""
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(f"日期应在 {EARLIEST.year} 年至 {LATEST.year} 年之间")


class AuditFilterForm(PageForm):
    """The trail's filters, read from the query string (GET: no CSRF needed)."""

    class Meta:  # noqa: D106
        csrf = False

    entity_type = SelectField("对象类型", validators=[Optional()])
    entity_id = IntegerField("对象编号", validators=[Optional(), NumberRange(1, MAX_ID)])
    enterprise_id = IntegerField("企业编号", validators=[Optional(), NumberRange(1, MAX_ID)])
    actor = _optional_text("操作人（用户名，可部分匹配）", 128)
    action = SelectField("操作", validators=[Optional()])
    since = DateField("起始日期（北京时间）", validators=[Optional(), in_range])
    until = DateField("截止日期（北京时间）", validators=[Optional(), in_range])
    region = SelectField("地区", validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        """The range must not end before it starts."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("截止日期不能早于起始日期")


def action_choices() -> list[tuple[str, str]]:
    """Return every named action, after "all of X" prefixes for the kinds with several actions."""
    prefixes = [code.split(".")[0] for code in ACTION_NAMES]
    groups = [(f"{p}.", f"{entity_name(p)}（全部操作）") for p in dict.fromkeys(prefixes)
              if p in ENTITY_NAMES and prefixes.count(p) > 1]
    return [("", "全部操作"), *groups, *ACTION_NAMES.items()]


def _offer(pairs: list[tuple[str, str]], asked: str | None) -> list[tuple[str, str]]:
    """Keep a value the query string asks for even if it has no name here (the API accepts any)."""
    if asked and len(asked) <= 64 and asked not in dict(pairs):
        return [*pairs, (asked, asked)]
    return pairs


def filter_form(actor: Actor) -> AuditFilterForm:
    """Build the filter form from the query string with its choices."""
    form = AuditFilterForm(formdata=request.args)
    form.entity_type.choices = choices(_offer([("", "全部对象"), *ENTITY_NAMES.items()],
                                              request.args.get("entity_type")))
    form.action.choices = choices(_offer(action_choices(), request.args.get("action")))
    form.region.choices = region_choices(actor)
    return form


def audit_filter(form: AuditFilterForm) -> AuditFilter:
    """Turn the valid fields of the form into an AuditFilter (an invalid one is ignored and shown)."""
    form.validate()
    return AuditFilter(**{name: None if form[name].errors or form[name].data in ("", None) else form[name].data
                          for name in FILTERS})


def query_args(f: AuditFilter) -> dict[str, Any]:
    """Return the filter as query-string arguments (for paging, the chain check and the export links)."""
    args = {name: getattr(f, name) for name in FILTERS if getattr(f, name) not in (None, "")}
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in args.items()}


@bp.app_template_filter("local_seconds")
def local_seconds(at: datetime) -> str:
    """Show a UTC instant in the configured zone (北京时间) to the second, as the trail needs."""
    return at.astimezone(ZoneInfo(current_app.config["REGISTRY"].timezone)).strftime("%Y-%m-%d %H:%M:%S")


def reason_label(code: str | None) -> str:
    """Return a reason code's Chinese name (a flag's cause or any policy's revocation reason)."""
    return labels.reason_name(code)


#: codes the trail stores that a person reads better by name (the export keeps the codes)
CODE_NAMES: dict[str, Callable[[str], str]] = {
    "tier": tier_name,
    "region_code": region_name,
    "size_class": lambda code: SIZE_NAMES.get(code, code),
}


def _raw(value: Any) -> tuple[Any, Any]:
    return tuple(value) if isinstance(value, list) and len(value) == 2 else (None, value)  # type: ignore[return-value]


def readable(change: FieldChange, entity_type: str = "", raw: Any = None) -> FieldChange:
    """Name the codes in a changed field (tiers, regions, sizes, policies, reasons, users, statuses, JSON)."""
    name = CODE_NAMES.get(change.field)
    if name is not None:
        return replace(change, before=name(change.before) if change.before else "",
                       after=name(change.after) if change.after else "")
    before, after = _raw(raw)
    return replace(change, before=labels.field_value(entity_type, change.field, before, change.before),
                   after=labels.field_value(entity_type, change.field, after, change.after))


def plain_action(code: str) -> str:
    """Return an action's Chinese name; an action without one is named by its kind of record."""
    name = action_name(code)
    if name != code:
        return name
    kind, _, verb = code.partition(".")
    return f"{entity_name(kind) if kind in ENTITY_NAMES else '记录'}：{VERB_NAMES.get(verb, '其他操作')}"


#: the verbs of actions that have no name of their own yet
VERB_NAMES = {"created": "新建", "updated": "修改", "deleted": "删除", "applied": "已导入", "validated": "已校验",
              "queued": "已排队", "failed": "失败", "sent": "已发送", "resent": "重发", "run": "运行", "started": "开始",
              "finished": "完成", "revoked": "吊销", "locked": "锁定", "unlocked": "解锁"}


@dataclass(frozen=True)
class EventView:
    """One event as a person reads it."""

    event: AuditEvent
    actor: str
    action: str
    entity: str
    enterprise_name: str | None
    changes: list[FieldChange]
    reason: str


def event_views(session: Session, events: list[AuditEvent]) -> list[EventView]:
    """Return readable views of `events`, with the names of their enterprises (one query)."""
    ids = {e.enterprise_id for e in events if e.enterprise_id is not None}
    stmt = sa.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))
    names: dict[int, str] = {i: n for i, n in session.execute(stmt)} if ids else {}
    return [EventView(e, labels.actor_name(e.actor_kind, e.actor_name), plain_action(e.action),
                      entity_name(e.entity_type) + (f" #{e.entity_id}" if e.entity_id is not None else ""),
                      names.get(e.enterprise_id),
                      [readable(c, e.entity_type, shown_changes(e.entity_type, e.changes or {}).get(c.field))
                       for c in field_changes(e.entity_type, e.changes or {})],
                      reason_label(e.reason_code))
            for e in events]


def enterprise_history(actor: Actor, enterprise_id: int) -> tuple[list[EventView], int]:
    """Return the newest page of an enterprise's trail and how many events it has in all."""
    session = get_session()
    events, total = search(session, actor, AuditFilter(enterprise_id=enterprise_id), 1, PER_PAGE)
    return event_views(session, events), total


def verification() -> audit.Verification | None:
    """Walk the whole chain when the chain check was asked for (?verify=1)."""
    if request.args.get("verify") != "1":
        return None
    with unscoped(get_session()) as session:
        return audit.verify(session)


@bp.get("/audit", endpoint="audit")  # the endpoint the menu (helpers.NAV) names
@requires(Action.READ_AUDIT, Action.READ_SECURITY)
def audit_trail():
    """List the events the actor may see that match the filters, newest first."""
    session, actor = get_session(), current_actor()
    form = filter_form(actor)
    f = audit_filter(form)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    events, total, page, pages = clamped_page(lambda n: search(session, actor, f, n, PER_PAGE), page, PER_PAGE)
    args = query_args(f)
    exports = {fmt: url_for("api.export_audit", fmt=fmt, **args) for fmt in ("xlsx", "csv")}
    return render_template("audit.html", form=form, rows=event_views(session, events), total=total, page=page,
                           pages=pages, args=args, exports=exports,
                           verification=verification())
