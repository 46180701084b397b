"""Officer actions on an enterprise's reports: the annual information update and major changes.

Before confirming, the officer sees the deadline the policy sets (a change report's is counted
with the working-day calendar and marked provisional when a year's holiday data is missing) and
what a late report costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from decimal import Decimal
from typing import Any

from flask import flash, request, url_for
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from registry.accounts.access import current_actor, requires
from registry.domain import consequences
from registry.domain.actors import Action
from registry.domain.deadlines import DueDate, annual_due_in_region
from registry.domain.lifecycle import LIVE
from registry.domain.policy import Tier
from registry.enterprises.fields import CHANGE_REPORT
from registry.enterprises.models import CHANGE_KIND_NAMES, AnnualReport, Enterprise
from registry.enterprises.services import (
    MAX_REASON,
    change_report_due,
    correct_change_report,
    get_change_report,
    get_enterprise,
    record_annual_report,
    record_change_report,
    withdraw_change_report,
)
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.web.labels import money
from registry.web.pages import bp
from registry.web.pages.flow import Step, rules, run, today
from registry.web.pages.forms import REQUIRED, AnnualReportForm, ChangeReportForm, PageForm


def live_tiers(enterprise: Enterprise) -> list[Tier]:
    """Return the rules of the enterprise's live titles, each under the policy it was granted by."""
    return [rules().policies.tier(c.tier, policy_code=c.policy_code)
            for c in enterprise.certifications if c.status in LIVE]


def update_due(enterprise: Enterprise, year: int) -> DueDate | None:
    """Return the earliest annual-update deadline in `year` among the enterprise's live titles (its region's
    override of that year, when a province or city moved the window)."""
    found = rules()
    dues = [d for t in live_tiers(enterprise)
            if (d := annual_due_in_region(found.calendar, t, year, found.overrides, enterprise.region_code))]
    return min(dues, key=lambda d: d.on) if dues else None


def _back(enterprise_id: int) -> str:
    return url_for("pages.enterprise", enterprise_id=enterprise_id)


def _plain(value: Any) -> str | None:
    """A filed or typed value as comparable text (None when empty; amounts without trailing zeros)."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def prefill(form: AnnualReportForm, filed: AnnualReport) -> None:
    """Fill the form with the filed figures and remember them (form.basis) as they were."""
    form.year.data = filed.year
    for name in AnnualReportForm.FIGURES:
        form[name].data = getattr(filed, name)
    basis = {"year": filed.year, **{k: _plain(getattr(filed, k)) for k in AnnualReportForm.FIGURES}}
    form.basis.data = base64.urlsafe_b64encode(json.dumps(basis, separators=(",", ":")).encode()).decode()


def basis_of(form: AnnualReportForm) -> dict[str, Any] | None:
    """Return the filed values the form was prefilled with, if it was prefilled for the year it now names."""
    try:
        basis = json.loads(base64.urlsafe_b64decode((form.basis.data or "").encode()) or b"null")
    except (ValueError, binascii.Error):
        return None
    return basis if isinstance(basis, dict) and basis.get("year") == form.year.data else None


def corrections(form: AnnualReportForm, filed: AnnualReport | None) -> dict[str, Any]:
    """Return the fields to write.

    A new year: every field. A correction of a prefilled form: only the fields whose value differs
    from the one prefilled (a field emptied on purpose is cleared; fields nobody touched keep the
    filed value, even if someone changed it meanwhile). A correction typed into an empty form (no
    prefill): only the fields filled in, so figures not re-entered are kept.
    """
    typed = {k: (None if form[k].data == "" else form[k].data) for k in AnnualReportForm.FIGURES}
    if filed is None:
        return typed
    basis = basis_of(form)
    if basis is None:
        return {k: v for k, v in typed.items() if v is not None and _plain(v) != _plain(getattr(filed, k))}
    return {k: v for k, v in typed.items() if _plain(v) != basis.get(k)}


def filed_report(record: Enterprise, year: int | None) -> AnnualReport | None:
    return next((r for r in record.annual_reports if r.year == year), None)


@bp.route("/enterprises/<int:enterprise_id>/annual-reports/new", methods=["GET", "POST"])
@requires(Action.WRITE)
def annual_report(enterprise_id: int):
    """Record one year's figures, or correct a filed year (the form then shows the filed figures)."""
    session, actor, day = get_session(), current_actor(), today()
    record = get_enterprise(session, actor, enterprise_id)
    form = AnnualReportForm()
    if not form.is_submitted():
        year = request.args.get("year", type=int) or day.year - 1
        filed = filed_report(record, year)
        if filed is not None:
            prefill(form, filed)
        else:
            form.year.data, form.submitted_on.data = year, day
    correcting = filed_report(record, form.year.data) is not None

    def consequence() -> list[str]:
        filed = filed_report(record, form.year.data)
        lines = consequences.annual_report(form.year.data, update_due(record, form.year.data + 1),
                                           correcting=filed is not None)
        if filed is not None:
            changed = corrections(form, filed)
            lines += [f"{form[k].label.text}：{shown(getattr(filed, k))} → {shown(v)}" for k, v in changed.items()]
            kept = len(AnnualReportForm.FIGURES) - len(changed)
            lines.append(f"其余 {kept} 项保持已登记的数值不变" if changed else "没有修改任何数值")
        return lines

    def apply() -> str:
        data = corrections(form, filed_report(record, form.year.data))
        _, changed = record_annual_report(session, actor=actor, enterprise_id=record.id, year=form.year.data,
                                          data=data, at=utcnow(), today=today())
        return f"已登记 {form.year.data} 年度信息" if changed else "与已登记的数据一致，未作修改"

    heading = f"更正 {form.year.data} 年度信息" if correcting and not form.is_submitted() else "登记年度信息"
    context = {"heading": heading, "subject": record.name, "enterprise": record, "hints": []}
    return run(Step(form, "action_form.html", context, consequence, apply, _back(record.id)))


def shown(value: Any) -> str:
    """A value on the confirmation page (amounts with separators, — when empty)."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, Decimal):
        return money(value)
    return str(value)


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


class ChangeCorrectionForm(ChangeReportForm):
    """A change report's fields as filed, to correct, and why."""

    reason = TextAreaField("更正原因（记入审计日志）", validators=[DataRequired(REQUIRED), Length(max=MAX_REASON)])


class WithdrawForm(PageForm):
    """Why a change report registered by mistake is withdrawn."""

    reason = TextAreaField("撤回原因（记入审计日志）", validators=[DataRequired(REQUIRED), Length(max=MAX_REASON)])


def _kind_name(kind: str) -> str:
    return CHANGE_KIND_NAMES.get(kind, kind)  # type: ignore[call-overload]


@bp.route("/change-reports/<int:change_report_id>/correct", methods=["GET", "POST"])
@requires(Action.WRITE)
def correct_change(change_report_id: int):
    """Correct a mistaken change report (prefilled with what was registered): a new occurrence date moves the
    deadline; a report that becomes late, or no longer is, changes review eligibility; audited with the reason."""
    session, actor, day = get_session(), current_actor(), today()
    report = get_change_report(session, actor, change_report_id)
    record = report.enterprise
    form = ChangeCorrectionForm()
    if not form.is_submitted():
        form.kind.data, form.occurred_on.data = report.kind, report.occurred_on
        form.reported_on.data, form.details.data = report.reported_on, report.details
    filed = {"kind": report.kind, "occurred_on": report.occurred_on, "reported_on": report.reported_on,
             "details": report.details or ""}

    def typed() -> dict[str, Any]:
        return {"kind": form.kind.data, "occurred_on": form.occurred_on.data, "reported_on": form.reported_on.data,
                "details": form.details.data or ""}

    def consequence() -> list[str]:
        values = typed()
        changed = [k for k in values if values[k] != filed[k]]
        if not changed:
            return ["没有修改任何内容"]
        def said(k: str, v: Any) -> str:
            return _kind_name(v) if k == "kind" and v else shown(v)
        lines = [f"{CHANGE_REPORT[k].label}：{said(k, filed[k])} → {said(k, values[k])}" for k in changed]
        lines += change_lines(record, values["occurred_on"], values["reported_on"])
        lines.append("原登记内容保留在审计日志中；若复核资格仅因原登记而丧失，将予恢复")
        return lines

    def apply() -> str:
        _, changes, warnings = correct_change_report(
            session, actor=actor, rules=rules(), change_report_id=report.id, data=typed(),
            reason=form.reason.data or "", at=utcnow(), today=day)
        for warning in warnings:
            flash(warning.split(" / ")[0], "error" if "逾期" in warning else "message")
        return "已更正重大变化报告" if changes else "与已登记的内容一致，未作修改"

    context = {"heading": f"更正重大变化（{_kind_name(report.kind)}，{report.occurred_on} 发生）",
               "subject": record.name, "enterprise": record, "hints": []}
    return run(Step(form, "action_form.html", context, consequence, apply, _back(record.id)))


@bp.route("/change-reports/<int:change_report_id>/withdraw", methods=["GET", "POST"])
@requires(Action.WRITE)
def withdraw_change(change_report_id: int):
    """Withdraw a change report registered by mistake: previewed, confirmed with a reason, audited (the trail keeps
    what it said); its reminders stop and review eligibility lost only for it comes back."""
    session, actor, day = get_session(), current_actor(), today()
    report = get_change_report(session, actor, change_report_id)
    record, report_id = report.enterprise, report.id
    form = WithdrawForm()
    described = (f"{_kind_name(report.kind)}，{report.occurred_on} 发生，报告期限 {report.deadline_on}，"
                 + (f"{report.reported_on} 报告" if report.reported_on else "尚未报告"))

    def consequence() -> list[str]:
        return [f"撤回误登记的重大变化（{described}）：该记录从企业档案中删除，原内容保留在审计日志中",
                "其报告期限不再提醒，待办中不再列出",
                "若相关称号的复核资格仅因该记录而丧失，将予恢复"]

    def apply() -> str:
        for line in withdraw_change_report(session, actor=actor, change_report_id=report_id,
                                           reason=form.reason.data or "", at=utcnow(), today=day):
            flash(line)
        return "已撤回误登记的重大变化"

    context = {"heading": "撤回误登记的重大变化", "subject": f"{record.name}：{described}", "enterprise": record,
               "hints": []}
    return run(Step(form, "action_form.html", context, consequence, apply, _back(record.id)))
