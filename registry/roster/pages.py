"""The roster (企业名录): filters, search by name or USCC, sort, 50 per page, export link.

The request's session restricts every row to the actor's region, so the region filter only
narrows inside it; its choices are the actor's own subtree.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from sqlalchemy.orm import selectinload

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, Actor
from registry.domain.lifecycle import STATUS_NAMES
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import RosterFilter, paginate, roster_select
from registry.platform.extensions import get_session
from registry.web.pages import bp
from registry.web.pages.choices import programme_choices, region_choices, tier_choices
from registry.web.pages.flow import today
from registry.web.pages.forms import RosterFilterForm, choices
from registry.web.pages.helpers import clamped_page, page_arg

PER_PAGE = 50
FILTERS = ("q", "region", "holder", "tier", "programme", "status", "expiring_within_days", "as_of", "sort")
EXPORTS = (("api.export_roster", "导出 Excel"), ("api.export_roster_csv", "导出 CSV"))  #: carry the current filters


def filter_form(actor: Actor) -> RosterFilterForm:
    """Build the filter form from the query string with its choices."""
    form = RosterFilterForm(formdata=request.args)
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
    stmt = roster_select(f, today()).options(selectinload(Enterprise.certifications))
    rows, total, page, pages = clamped_page(lambda n: paginate(get_session(), stmt, n, PER_PAGE), page, PER_PAGE)
    args = query_args(f)
    exports = {label: url_for(endpoint, **args) for endpoint, label in EXPORTS
               if endpoint in current_app.view_functions}
    return render_template("roster.html", form=form, rows=rows, total=total, page=page,
                           pages=pages, args=args, exports=exports)
