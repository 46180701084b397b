"""The audit page (审计日志): the trail with the API's filters, a per-field before/after view, export, chain check.

What an actor sees is decided by registry/audit/queries.py (auditors and officers their
region, nationwide admins everything); the region filter only narrows inside that and offers the
actor's own subtree. The chain check walks the whole chain, unscoped, as the API does: the chain
is one, so a regional auditor must be able to tell that nobody tampered with any of it.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from wtforms import DateField, IntegerField, SelectField, ValidationError
from wtforms.validators import NumberRange, Optional

from registry.accounts.access import current_actor, requires
from registry.audit import trail as audit
from registry.audit.display import (
    event_views,
    local_seconds,
)
from registry.audit.queries import (
    ACTION_NAMES,
    EARLIEST,
    ENTITY_NAMES,
    LATEST,
    AuditFilter,
    entity_name,
    search,
)
from registry.domain.actors import Action, Actor, in_scope
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import RosterFilter, masked_only, roster_select
from registry.platform.extensions import get_session
from registry.regions.scoping import unscoped
from registry.web.pages import bp
from registry.web.pages.choices import region_choices
from registry.web.pages.flow import today
from registry.web.pages.forms import PageForm, _optional_text, choices
from registry.web.pages.helpers import clamped_page

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
    enterprise_id = IntegerField("企业编号", validators=[Optional(), NumberRange(1, MAX_ID)])  #: links carry it (hidden)
    enterprise = _optional_text("企业（名称或统一社会信用代码）", 100)
    actor = _optional_text("操作人（姓名或用户名，可部分匹配）", 128)
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


#: the enterprises a typed name or USCC may match before the page asks which one is meant
MAX_MATCHES = 10


def enterprise_matches(form: AuditFilterForm) -> list[Enterprise]:
    """The enterprises of the actor's region whose name or USCC contains what was typed in 企业 (the roster's search:
    any part, full-width folded, every word); none when nothing was typed or an id was given."""
    text = (form.enterprise.data or "").strip()
    if not text or form.enterprise.errors or form.enterprise_id.data:
        return []
    stmt = roster_select(RosterFilter(q=text), today()).options(*masked_only()).limit(MAX_MATCHES + 1)  # no contacts
    return list(get_session().scalars(stmt))


def chosen_enterprise(actor: Actor, enterprise_id: int | None) -> Enterprise | None:
    """The enterprise the trail is narrowed to, named on the page only when it lies in the actor's region."""
    found = get_session().get(Enterprise, enterprise_id) if enterprise_id else None
    return found if found is not None and in_scope(actor, found.region_code) else None


def audit_filter(form: AuditFilterForm) -> AuditFilter:
    """Turn the valid fields of the form into an AuditFilter (an invalid one is ignored and shown). An enterprise
    typed by name or USCC narrows to it when exactly one matches; several are offered to choose from."""
    form.validate()
    values = {name: None if form[name].errors or form[name].data in ("", None) else form[name].data
              for name in FILTERS}
    if form.enterprise_id.errors:  # the id is carried hidden: its error is shown beside 企业
        form.enterprise.errors = [*form.enterprise.errors, "企业编号无效，请按名称或统一社会信用代码查找"]
    found = enterprise_matches(form)
    if (form.enterprise.data or "").strip() and not form.enterprise_id.data:
        if not found:
            form.enterprise.errors = [*form.enterprise.errors, "没有找到名称或统一社会信用代码包含该内容的企业（本地区）"]
        elif len(found) == 1:
            values["enterprise_id"] = found[0].id
    return AuditFilter(**values)


def query_args(f: AuditFilter) -> dict[str, Any]:
    """Return the filter as query-string arguments (for paging, the chain check and the export links)."""
    args = {name: getattr(f, name) for name in FILTERS if getattr(f, name) not in (None, "")}
    if (request.args.get("enterprise") or "").strip() and "enterprise_id" not in args:
        args["enterprise"] = request.args["enterprise"].strip()[:100]
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in args.items()}


bp.app_template_filter("local_seconds")(local_seconds)  # the trail shows seconds (registry/audit/display.py)


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
    found = enterprise_matches(form) if f.enterprise_id is None else []
    return render_template("audit.html", form=form, rows=event_views(session, events), total=total, page=page,
                           pages=pages, args=args, exports=exports, matches=[(m, url_for("pages.audit", **{k: v for k, v in args.items() if k != "enterprise"}, enterprise_id=m.id))
                                    for m in found[:MAX_MATCHES]] if len(found) > 1 else [],
                           more_matches=len(found) > MAX_MATCHES,
                           chosen=chosen_enterprise(actor, f.enterprise_id),
                           verification=verification())
