"""The dashboard (工作台): titles by tier × status × city, expiries, overdue updates, flags, jobs.

Every figure is read through the request's session, which is scoped to the actor's region, so a
city officer sees the city's figures and the province its own. "Today" is Asia/Shanghai.
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app, g, redirect, render_template, request, url_for

from registry.accounts.access import current_actor, requires
from registry.dashboard import charts, overview
from registry.domain.actors import Action, Role, can
from registry.domain.lifecycle import LIVE, STATUS_NAMES, Status
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.reminders import outbox
from registry.reminders.deliveries import MESSAGE_STATUS_NAMES
from registry.runs import ledger as jobruns
from registry.titles.flags import CAUSE_NAMES
from registry.web.labels import JOB_NAMES
from registry.web.pages import bp
from registry.web.pages.choices import programme_choices
from registry.web.pages.flow import rules, today
from registry.web.pages.helpers import clamped_page, page_arg, region_name, tier_name

FLAGGED_PER_PAGE = 50  #: the dashboard's list of flagged titles, paged


def tier_status_city(rows: list[tuple[str, str, str, int]]) -> dict:
    """Pivot (city, tier, status, n) rows into tables and charts."""
    statuses = [s.value for s in Status]
    ladder = {t.code: i for i, t in enumerate(policies().current_tiers())}  # by programme, then rank
    tiers = sorted({t for _, t, _, _ in rows}, key=lambda t: (ladder.get(t, len(ladder)), t))
    cities = sorted({c for c, _, _, _ in rows})
    cell: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_tier: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for city, tier, status, n in rows:
        cell[(city, tier)][status] += n
        by_tier[tier][status] += n
    live = {s.value for s in LIVE}
    city_names = [region_name(c) for c in cities]
    chart_city = charts.stacked_bar_chart(
        city_names, [(tier_name(t), [sum(v for s, v in cell[(c, t)].items() if s in live) for c in cities])
                     for t in tiers],
        title="各地市有效称号数（按层级）", description="每行一个地市，分段为各层级的有效及复核中称号数")
    chart_tier = charts.stacked_bar_chart(
        [tier_name(t) for t in tiers], [(STATUS_NAMES[Status(s)], [by_tier[t][s] for t in tiers]) for s in statuses],
        title="各层级称号数（按状态）", description="每行一个称号层级，分段为各状态的称号数")
    table = [(c, t, cell[(c, t)]) for c in cities for t in tiers if cell[(c, t)]]
    return {"statuses": statuses, "table": table, "chart_city": chart_city, "chart_tier": chart_tier,
            "total": sum(n for *_, n in rows)}


@bp.get("/")
def dashboard():
    """Show the region's figures, what needs attention, and the health of the jobs.

    The administrator roles see no business data (三员分立): they land on their own pages.
    """
    if g.get("actor") is not None and not can(g.actor, Action.READ):
        if can(g.actor, Action.VIEW_ACCOUNTS):
            return redirect(url_for("pages.accounts"))
        if can(g.actor, Action.READ_AUDIT) or can(g.actor, Action.READ_SECURITY):
            return redirect(url_for("pages.audit"))
    return _dashboard()


@requires(Action.READ)
def _dashboard():  # noqa: ANN202
    session, day = get_session(), today()
    programmes = programme_choices()
    programme = request.args.get("programme", "").strip() or None
    programme_error = None
    if programme is not None and programme not in dict(programmes):
        programme_error = f"没有名为“{programme[:32]}”的称号项目，已显示全部项目"
        programme = None
    holder = request.args.get("holder") if request.args.get("holder") in overview.HOLDERS else None
    months = overview.expiries_by_month(session, day, programme=programme, holder=holder)
    chart_months = charts.bar_chart([(f"{m.year}-{m.month:02d}", n) for m, n in months], unit="个",
                                    title="未来12个月到期的称号", description="按到期月份统计的有效称号数")
    jobs, now, actor = jobruns.last_successes(session), utcnow(), current_actor()
    backlog = None  # admins see unsent mail of their region piling up (the relay is down, jobs run stopped)
    if actor.role == Role.ADMIN:
        backlog = outbox.backlog(session, now=now, alarm_minutes=current_app.config["REGISTRY"].outbox_alarm_minutes,
                                 region_code=actor.region_code)
    flagged, flagged_total, flagged_page, flagged_pages = clamped_page(
        lambda n: overview.flagged_titles(session, limit=FLAGGED_PER_PAGE, page=n, programme=programme), page_arg("flagged_page"),
        FLAGGED_PER_PAGE)
    return render_template(
        "dashboard.html", today=day, pivot=tier_status_city(overview.titles_by_city(session, programme, holder)),
        holder=holder, holder_names=overview.HOLDERS,
        months=months, chart_months=chart_months,
        overdue=overview.overdue_annual_updates(session, rules(), day, programme=programme),
        flagged=(flagged, flagged_total), flagged_page=flagged_page, flagged_pages=flagged_pages,
        outbox=overview.outbox_counts(session),
        programmes=programmes, programme=programme, programme_error=programme_error,
        outbox_names=MESSAGE_STATUS_NAMES, cause_names=CAUSE_NAMES, jobs=jobs, scan_job=jobruns.SCAN,
        job_names=JOB_NAMES, scan_stale=jobruns.scan_is_late(session, now),
        outbox_alarm=backlog if backlog is not None and backlog.alarm else None)
