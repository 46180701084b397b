"""Officer actions on an enterprise's reports: the annual information update and major changes.

Before confirming, the officer sees the deadline the policy sets (a change report's is counted
with the working-day calendar and marked provisional when a year's holiday data is missing) and
what a late report costs.
"""

from __future__ import annotations

from datetime import date

from flask import flash, url_for

from registry.db import utcnow
from registry.domain import consequences
from registry.domain.actors import Action
from registry.domain.deadlines import DueDate, annual_update_due
from registry.domain.lifecycle import LIVE
from registry.domain.policy import Tier
from registry.extensions import get_session
from registry.models import Enterprise
from registry.services.enterprises import change_report_due, get_enterprise, record_annual_report, record_change_report
from registry.web.auth import current_actor, requires
from registry.web.pages import bp
from registry.web.pages.flow import Step, rules, run, today
from registry.web.pages.forms import CHANGE_KIND_NAMES, AnnualReportForm, ChangeReportForm


def live_tiers(enterprise: Enterprise) -> list[Tier]:
    """Return the rules of the enterprise's live titles, each under the policy it was granted by."""
    return [rules().policies.tier(c.tier, policy_code=c.policy_code)
            for c in enterprise.certifications if c.status in LIVE]


def update_due(enterprise: Enterprise, year: int) -> DueDate | None:
    """Return the earliest annual-update deadline in `year` among the enterprise's live titles."""
    dues = [d for t in live_tiers(enterprise) if (d := annual_update_due(rules().calendar, t, year))]
    return min(dues, key=lambda d: d.on) if dues else None


def _back(enterprise_id: int) -> str:
    return url_for("pages.enterprise", enterprise_id=enterprise_id)


@bp.route("/enterprises/<int:enterprise_id>/annual-reports/new", methods=["GET", "POST"])
@requires(Action.WRITE)
def annual_report(enterprise_id: int):
    """Record (or correct) one year's figures of the annual information update."""
    session, actor, day = get_session(), current_actor(), today()
    record = get_enterprise(session, actor, enterprise_id)
    form = AnnualReportForm()
    if not form.is_submitted():
        form.year.data, form.submitted_on.data = day.year - 1, day

    def consequence() -> list[str]:
        correcting = any(r.year == form.year.data for r in record.annual_reports)
        return consequences.annual_report(form.year.data, update_due(record, form.year.data + 1), correcting=correcting)

    def apply() -> str:
        data = {k: (None if form[k].data == "" else form[k].data) for k in AnnualReportForm.FIGURES}
        _, changed = record_annual_report(session, actor=actor, enterprise_id=record.id, year=form.year.data,
                                          data=data, at=utcnow(), today=today())
        return f"已登记 {form.year.data} 年度信息" if changed else "与已登记的数据一致，未作修改"

    context = {"heading": "登记年度信息", "subject": record.name, "enterprise": record, "hints": []}
    return run(Step(form, "action_form.html", context, consequence, apply, _back(record.id)))


def change_lines(record: Enterprise, occurred_on: date, reported_on: date | None) -> list[str]:
    """Say when the change must be reported and what a late report costs."""
    tiers = live_tiers(record)
    loses = any(t.missed_change_report == "lose_review_eligibility" for t in tiers)
    due = change_report_due(rules(), tiers, occurred_on)
    return consequences.change_report(due, occurred_on, reported_on, loses_eligibility=loses)


@bp.route("/enterprises/<int:enterprise_id>/change-reports/new", methods=["GET", "POST"])
@requires(Action.WRITE)
def change_report(enterprise_id: int):
    """Record a major change with its reporting deadline."""
    session, actor, day = get_session(), current_actor(), today()
    record = get_enterprise(session, actor, enterprise_id)
    form = ChangeReportForm()
    if not form.is_submitted():
        form.occurred_on.data = day

    def apply() -> str:
        report, warnings = record_change_report(
            session, actor=actor, rules=rules(), enterprise_id=record.id, kind=form.kind.data,
            occurred_on=form.occurred_on.data, reported_on=form.reported_on.data, details=form.details.data or "",
            at=utcnow(), today=day)
        for warning in warnings:
            flash(warning.split(" / ")[0], "error")
        return f"已登记重大变化（{CHANGE_KIND_NAMES.get(report.kind, report.kind)}），报告期限 {report.deadline_on}"

    hints = [(f"若变化发生于 {day}", change_lines(record, day, None))]
    context = {"heading": "登记重大变化", "subject": record.name, "enterprise": record, "hints": hints}
    lines = lambda: change_lines(record, form.occurred_on.data, form.reported_on.data)  # noqa: E731
    return run(Step(form, "action_form.html", context, lines, apply, _back(record.id)))
