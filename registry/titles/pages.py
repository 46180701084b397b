"""Officer actions on titles: grant one, and record review, revocation and other events.

Each form shows what the policy makes of the choice (inline, for today's date) and then, before
anything is written, a confirmation page with the consequence for the dates entered.
"""

from __future__ import annotations

from datetime import date

from flask import abort, url_for

from registry.accounts.access import current_actor, requires
from registry.domain import consequences, holders
from registry.domain.actors import Action
from registry.domain.errors import DomainError
from registry.domain.lifecycle import EVENT_NAMES, LIVE, STATUS_NAMES, Event, check_transition
from registry.domain.listings import REPORT_EVERY_NAMES, PeriodicReport, parse_period, report_period
from registry.domain.policy import Tier
from registry.enterprises.services import get_enterprise
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.proposals import four_eyes
from registry.titles import reports
from registry.titles.fields import REPORT_FILING
from registry.titles.flags import CAUSE_NAMES, losing_prerequisite
from registry.titles.models import Certification
from registry.titles.services import (
    OFFICER_EVENTS,
    EventInput,
    apply_event,
    check_grant_allowed,
    get_certification,
    grant_certification,
    main_product_before,
    refuse_same_title,
    tier_in_force,
)
from registry.web.labels import policy_document
from registry.web.pages import bp
from registry.web.pages.flow import Step, rules, run, today
from registry.web.pages.forms import EventForm, GrantForm, RevokeForm, catalogue_form, choices
from registry.web.pages.helpers import tier_name

DANGEROUS = {Event.REVOKE, Event.FAIL_REVIEW, Event.WITHDRAW}


def _back(enterprise_id: int) -> str:
    return url_for("pages.enterprise", enterprise_id=enterprise_id)


@bp.route("/enterprises/<int:enterprise_id>/grant", methods=["GET", "POST"])
@requires(Action.WRITE)
def grant(enterprise_id: int):
    """Grant a title: pick the tier in force, see its validity and review window, confirm."""
    session, actor, day = get_session(), current_actor(), today()
    record = get_enterprise(session, actor, enterprise_id)
    tiers = policies().current_tiers(day)
    form = GrantForm()
    form.tier.choices = choices([("", "请选择"), *[(t.code, f"{t.name}（{policy_document(t.policy_code)}）") for t in tiers]])
    if not form.is_submitted():
        form.recognized_on.data = day

    def consequence() -> list[str]:
        rule = tier_in_force(rules(), form.tier.data, form.recognized_on.data)
        refuse_same_title(record, rule, form.recognized_on.data)  # a double submit: 409, as the API says
        holders.check_product(rule, holders.Product(form.product_name.data or main_product_before(
            session, record.id, form.recognized_on.data), form.product_sales.data, form.product_share.data))
        check_grant_allowed(session, rules(), record, rule, form.recognized_on.data)
        return consequences.grant(rule, form.recognized_on.data)

    def apply() -> str:
        cert = grant_certification(
            session, actor=actor, rules=rules(), enterprise_id=record.id, tier=form.tier.data,
            recognized_on=form.recognized_on.data, at=utcnow(), today=today(), batch=form.batch.data or None,
            document_no=form.document_no.data or None, authority=form.authority.data or None,
            product_name=form.product_name.data or None, product_sales=form.product_sales.data,
            product_share=form.product_share.data)
        return f"已授予「{tier_name(cert.tier)}」称号，有效期至 {cert.valid_until or '下一批名单发布'}"

    hints = [(f"{t.name}（若于 {day} 认定）", consequences.grant(t, day)) for t in tiers]
    context = {"heading": "授予称号", "subject": record.name, "enterprise": record, "hints": hints}
    return run(Step(form, "action_form.html", context, consequence, apply, _back(record.id)))


def title_facts(cert: Certification, tier: Tier, on: date) -> consequences.TitleFacts:
    """Gather what an event taking effect on `on` depends on: the other live titles, and those that lose
    their prerequisite — found by the very function the action flags them with (flags.losing_prerequisite)."""
    others = [c for c in cert.enterprise.certifications if c.id != cert.id and c.status in LIVE]
    dependents = tuple(tier_name(c.tier) for c in losing_prerequisite(rules(), cert, on))
    return consequences.TitleFacts(
        tier=tier, status=cert.status, valid_until=cert.valid_until, review_eligible=cert.review_eligible,
        ineligible_cause=CAUSE_NAMES.get(cert.review_ineligible_cause or "", cert.review_ineligible_cause),
        other_live=tuple(tier_name(c.tier) for c in others if c.programme in _ladder_of(tier)),
        dependents=dependents)


def _ladder_of(tier: Tier) -> set[str]:
    """Return the programmes an all_tiers revocation of `tier` reaches (its ladder, else its programme)."""
    reach = policies().programmes_of_ladder(tier.ladder) if tier.ladder else set()
    return reach | {tier.programme}


def describe(event: Event, cert: Certification, tier: Tier, on: date, reason_code: str | None = None) -> list[str]:
    """Say what `event` will do to the title if it takes effect on `on`."""
    facts = title_facts(cert, tier, on)
    if event == Event.REVOKE:
        return consequences.revoke(facts, tier.reason(reason_code or ""), on)
    # the next term follows the version the review follows (as the service does: PolicySet.review_tier)
    renewal = rules().policies.review_tier(tier.code, tier.policy_code, on) if event == Event.PASS_REVIEW else None
    lower = tier_in_force(rules(), tier.downgrades_to, on) if event == Event.DOWNGRADE and tier.downgrades_to else None
    return consequences.event(facts, event, on, renewal=renewal, downgrade_to=lower)


def event_form(event: Event, cert: Certification, tier: Tier) -> EventForm:
    """Return the form for `event`, with the tier's revocation reasons for a revocation."""
    form = RevokeForm() if event == Event.REVOKE else EventForm()
    if event == Event.REVOKE:
        form.reason_code.choices = choices([("", "请选择"), *[(r.code, r.name) for r in tier.revocation_reasons]])
    if not form.is_submitted():
        form.effective_on.data, form.version.data = today(), str(cert.version)
    return form


def reason_hints(cert: Certification, tier: Tier) -> list[tuple[str, list[str]]]:
    """Each revocation reason with what it does if chosen today."""
    facts = title_facts(cert, tier, today())
    return [(r.name, consequences.revoke(facts, r, today())) for r in tier.revocation_reasons]


@bp.route("/certifications/<int:certification_id>/<action>", methods=["GET", "POST"])
@requires(Action.WRITE)
def certification_event(certification_id: int, action: str):
    """Record a review result, revocation, withdrawal, downgrade or supersession, after confirming."""
    event = next((e for e in OFFICER_EVENTS if e.value == action), None) or abort(404)
    session, actor = get_session(), current_actor()
    cert = get_certification(session, actor, certification_id)
    check_transition(cert.status, event)
    tier = policies().tier(cert.tier, policy_code=cert.policy_code)
    form = event_form(event, cert, tier)

    reason = (lambda: form.reason_code.data) if event == Event.REVOKE else (lambda: None)

    def apply() -> str:
        chosen = EventInput(event, form.effective_on.data, reason(), form.document_no.data or None,
                            form.note.data or None, int(form.version.data),
                            incident_on=form.incident_on.data if event == Event.REVOKE else None)
        if four_eyes.needs_second_person(session, actor=actor, rules=rules(), certification_id=cert.id, event=chosen):
            filed = four_eyes.propose_revocation(session, actor=actor, rules=rules(), certification_id=cert.id,
                                                 event=chosen, at=utcnow(), today=today())
            return (f"已提交撤销申请（编号 {filed.id}）：撤销并禁止申报须由同地区另一位业务人员或业务管理员"
                    "在「待确认事项」中确认后生效，此前称号不变")
        done = apply_event(session, actor=actor, rules=rules(), certification_id=cert.id, at=utcnow(), today=today(),
                           event=chosen)
        return f"已办理「{EVENT_NAMES[event]}」：{tier.name}现为「{STATUS_NAMES[done.status]}」"

    preview = [(f"若于 {today()} 办理", describe(event, cert, tier, today()))] if event != Event.REVOKE else []
    hints = reason_hints(cert, tier) if event == Event.REVOKE else preview
    context = {"heading": f"{EVENT_NAMES[event]}：{tier.name}", "subject": cert.enterprise.name,
               "enterprise": cert.enterprise, "certification": cert, "hints": hints, "danger": event in DANGEROUS}
    lines = lambda: describe(event, cert, tier, form.effective_on.data, reason())  # noqa: E731
    return run(Step(form, "action_form.html", context, lines, apply, _back(cert.enterprise_id)))


def shown_period(report: PeriodicReport, typed: str | None) -> str:
    """The period an officer typed (2027Q1) as a person reads it (2027年第1季度); unreadable input as typed."""
    try:
        year, quarter = parse_period(report, typed or "")
    except DomainError:
        return typed or "入选后"
    return reports.period_name(report_period(report, year, quarter))


ReportFilingForm = catalogue_form("ReportFilingForm", REPORT_FILING, __doc__="A filing of a periodic report (定期报告报送).")


@bp.route("/certifications/<int:certification_id>/report-filing", methods=["GET", "POST"])
@requires(Action.WRITE)
def report_filing(certification_id: int):
    """Record that a periodic report the title's tier declares was filed for a period, after confirming."""
    session, actor = get_session(), current_actor()
    cert = get_certification(session, actor, certification_id)
    tier = reports.tier_of(rules(), cert)
    if not tier.reports:
        abort(404)
    form = ReportFilingForm()
    form.report_code.choices = choices([(r.code, f"{r.name}（{REPORT_EVERY_NAMES[r.every]}）") for r in tier.reports])
    if not form.is_submitted():
        form.filed_on.data = today()
    due = {r.report.code: r for r in reports.due_reports(session, rules(), titles=[(cert, tier)])} \
        if cert.status in LIVE else {}

    def lines() -> list[str]:
        report = next((r for r in tier.reports if r.code == form.report_code.data), None)
        if report is None:
            return []
        return [f"登记“{report.name}”报告期「{shown_period(report, form.period.data)}」于 {form.filed_on.data} 报送"]

    def apply() -> str:
        filing = reports.record_filing(session, actor=actor, rules=rules(), certification_id=cert.id,
                                       report_code=form.report_code.data, period=form.period.data,
                                       filed_on=form.filed_on.data, at=utcnow(), today=today(),
                                       note=form.note.data or None)
        return f"已登记{tier.name}的定期报告：{reports.period_name(filing.period)}于 {filing.filed_on} 报送"

    hints = [(r.name, [f"下一报告期：{due[r.code].period_name}，截止 {due[r.code].due_on}" if r.code in due
                       else "已报送，无下一报告期"]) for r in tier.reports]
    context = {"heading": f"登记定期报告：{tier.name}", "subject": cert.enterprise.name,
               "enterprise": cert.enterprise, "certification": cert, "hints": hints}
    return run(Step(form, "action_form.html", context, lines, apply, _back(cert.enterprise_id)))
