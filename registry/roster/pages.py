"""The roster (企业名录): filters, search by name or USCC, sort, 50 per page, export link; bulk actions.

The request's session restricts every row to the actor's region, so the region filter only
narrows inside it; its choices are the actor's own subtree.

Bulk actions (POST /enterprises/bulk) act on the rows ticked on the page, or on every enterprise
matching the filter ("全部符合筛选条件的企业", at most MAX_BULK): 指定服务专员 (previewed, then
confirmed; registry/enterprises/assigning.py) and 导出所选 (the roster export restricted to the
selection, contacts masked, audited as export.roster).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, Actor, can
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.lifecycle import STATUS_NAMES
from registry.enterprises import assigning
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import RosterFilter, masked_only, paginate, roster_select
from registry.enterprises.services import MAX_BULK, officer_choices
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.roster import export as roster_export
from registry.roster.saved_filters import delete_filter, save_filter, saved_filters
from registry.web.downloads import CSV, Audited, criteria, spooled_download
from registry.web.pages import bp
from registry.web.pages.choices import programme_choices, region_choices, tier_choices
from registry.web.pages.flow import rules, today
from registry.web.pages.forms import RosterFilterForm, choices
from registry.web.pages.helpers import clamped_page, page_arg

PER_PAGE = 50
FILTERS = ("q", "region", "holder", "tier", "programme", "status", "expiring_within_days", "as_of", "sort")
EXPORTS = (("api.export_roster", "导出 Excel"), ("api.export_roster_csv", "导出 CSV"))  #: carry the current filters


def filter_form(actor: Actor) -> RosterFilterForm:
    """Build the filter form from the query string with its choices."""
    return with_choices(RosterFilterForm(formdata=request.args), actor)


def with_choices(form: RosterFilterForm, actor: Actor) -> RosterFilterForm:
    """Give the filter form its choices: the actor's regions, tiers, programmes and statuses."""
    form.region.choices = region_choices(actor)
    form.tier.choices = choices([("", "全部层级"), *tier_choices()])
    form.programme.choices = choices([("", "全部项目"), *programme_choices()])
    form.status.choices = choices([("", "全部状态"), *[(s.value, name) for s, name in STATUS_NAMES.items()]])
    return form


def roster_filter(form: RosterFilterForm) -> RosterFilter:
    """Turn the valid fields of the form into a RosterFilter (an invalid one is ignored and shown)."""
    form.validate()
    value = {name: (None if form[name].errors else form[name].data or None) for name in FILTERS}
    if not form.expiring_within_days.errors and form.expiring_within_days.data == 0:
        value["expiring_within_days"] = 0
    value["sort"] = value["sort"] or "name"
    return RosterFilter(**value)


def query_args(f: RosterFilter) -> dict[str, Any]:
    """Return the filter as query-string arguments (for paging and the export link)."""
    args = {name: getattr(f, name) for name in FILTERS if getattr(f, name) not in (None, "")}
    if f.as_of is not None:
        args["as_of"] = f.as_of.isoformat()
    return args


@bp.get("/enterprises")
@requires(Action.READ)
def roster():
    """List the enterprises of the region that match the filters."""
    form = filter_form(current_actor())
    f = roster_filter(form)
    page = page_arg()
    stmt = roster_select(f, today()).options(*masked_only(), selectinload(Enterprise.certifications))  # no contacts
    rows, total, page, pages = clamped_page(lambda n: paginate(get_session(), stmt, n, PER_PAGE), page, PER_PAGE)
    args = query_args(f)
    exports = {label: url_for(endpoint, **args) for endpoint, label in EXPORTS
               if endpoint in current_app.view_functions}
    actor = current_actor()
    officers = assigning.officer_choices(officer_choices(get_session(), actor)) if can(actor, Action.WRITE) else []
    saved = [(s, url_for("pages.roster") + (f"?{s.query}" if s.query else "")) for s in saved_filters(get_session(), actor)]
    return render_template("roster.html", form=form, rows=rows, total=total, page=page,
                           pages=pages, args=args, exports=exports, officers=officers, max_bulk=MAX_BULK,
                           saved=saved, current_query=urlencode(args))


def normalised_query(actor: Actor, query: str) -> str:
    """A query string as the roster reads it (invalid or unknown parts dropped), for saving."""
    form = RosterFilterForm(formdata=MultiDict(parse_qsl(query or "", keep_blank_values=False)[:20]))
    return urlencode(query_args(roster_filter(with_choices(form, actor))))


@bp.post("/enterprises/filters")
@requires(Action.READ)
def save_roster_filter():
    """保存当前筛选: the roster's current filter under a name, for the signed-in user."""
    session, actor = get_session(), current_actor()
    query = normalised_query(actor, request.form.get("query", ""))
    back = url_for("pages.roster") + (f"?{query}" if query else "")
    try:
        saved = save_filter(session, actor=actor, name=request.form.get("name", ""), query=query, at=utcnow())
        session.commit()
    except (RuleViolation, Conflict) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, Conflict) else "；".join(m for ms in exc.errors.values() for m in ms)
        flash(f"保存筛选失败（筛选名称）：{message.split(' / ')[0]}", "error")
        return redirect(back)
    flash(f"已保存筛选「{saved.name}」")
    return redirect(back)


@bp.post("/enterprises/filters/<int:filter_id>/delete")
@requires(Action.READ)
def delete_roster_filter(filter_id: int):
    """Delete one of the user's saved filters."""
    session, actor = get_session(), current_actor()
    try:
        name = delete_filter(session, actor=actor, filter_id=filter_id, at=utcnow())
        session.commit()
    except NotFound:
        session.rollback()
        abort(404)
    flash(f"已删除筛选「{name}」")
    return redirect(url_for("pages.roster"))


def posted_filter(actor: Actor) -> RosterFilter:
    """The roster filter the bulk form carries (its fields prefixed f_), read as the page reads its query."""
    form = RosterFilterForm(formdata=MultiDict({name: request.form.get(f"f_{name}", "") for name in FILTERS}))
    return roster_filter(with_choices(form, actor))


def selection(actor: Actor, f: RosterFilter) -> list[int]:
    """The enterprises the bulk form names: every one matching the filter (all_matching=1; in the actor's region,
    at most MAX_BULK + 1 read, so a larger set is refused by name), or the ticked ids / a confirmation's id_list."""
    if request.form.get("all_matching") == "1":
        stmt = roster_select(f, today()).with_only_columns(Enterprise.id).limit(MAX_BULK + 1)
        return list(get_session().scalars(stmt))
    if "id_list" in request.form:
        return assigning.parse_ids(request.form.get("id_list"))
    return assigning.parse_ids(",".join(request.form.getlist("ids")))


def export_selection(actor: Actor, f: RosterFilter, ids: list[int], fmt: str):  # noqa: ANN201  a download
    """The roster export of the selection (every title a row, contacts masked), audited as export.roster."""
    flt = f if request.form.get("all_matching") == "1" else RosterFilter(ids=tuple(ids), sort=f.sort)
    names, day = rules().tier_names(), today()
    write = roster_export.write_csv if fmt == "csv" else roster_export.write_xlsx
    return spooled_download(
        lambda session, out: write(session, actor=actor, names=names, f=flt, today=day, out=out),
        region_code=actor.region_code, name=f"企业名录-所选-{day.isoformat()}.{fmt}",
        fallback=f"roster-selection-{day.isoformat()}.{fmt}", audited=Audited(actor, "export.roster", "enterprise",
                                                                               filter=criteria(flt)),
        **({"mimetype": CSV} if fmt == "csv" else {}))


@bp.post("/enterprises/bulk")
@requires(Action.READ)
def roster_bulk():
    """The roster's bulk actions on the ticked rows or on all matching the filter: 指定服务专员 (preview, confirm)
    or 导出所选 (Excel or CSV)."""
    actor = current_actor()
    action = request.form.get("action", "assign")
    f = posted_filter(actor)
    back = url_for("pages.roster", **query_args(f))
    if action not in ("assign", "export_xlsx", "export_csv"):
        abort(400)
    if action == "assign" and not can(actor, Action.WRITE):
        abort(403)
    try:
        ids = selection(actor, f)
        if not ids:
            raise RuleViolation.on("enterprise_ids", "请先勾选企业，或勾选「全部符合筛选条件的企业」")
        if len(ids) > MAX_BULK:
            raise RuleViolation.on("enterprise_ids", f"一次最多处理 {MAX_BULK} 家企业，符合条件的超过此数，请缩小筛选范围")
    except RuleViolation as exc:
        message = "；".join(m for ms in exc.errors.values() for m in ms).split(" / ")[0]
        return render_template("assign_officer_confirm.html", error=message, heading="批量操作", back_url=back,
                               rows=[], total=0, changing=0, officer="", echo=[], reason="",
                               max_reason=assigning.MAX_REASON), 422
    if action != "assign":
        return export_selection(actor, f, ids, "csv" if action == "export_csv" else "xlsx")
    result = assigning.assignment(ids, request.form.get("officer_id"), request.form.get("reason", ""),
                                  confirmed=request.form.get("confirmed") == "1",
                                  heading=f"为所选 {len(ids)} 家企业指定服务专员", back_url=back,
                                  carry=[(f"f_{k}", str(v)) for k, v in query_args(f).items()])
    if not isinstance(result, assigning.Assigned):
        return result
    get_session().commit()
    flash(result.message)
    return redirect(back)
