"""Certification use cases: grant a title and apply lifecycle events to it.

Every term is kept: a passed review adds a term starting the day after the old one ends. A
revocation whose reason carries a ban creates the ban on the USCC; an all_tiers reason ends every
live title of the enterprise. When a title ends, live higher titles that depended on it are
flagged prerequisite_lost (never revoked) for an officer to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import deadlines, guards, holders
from registry.domain.actors import PERSON_KINDS, Action, Actor, require
from registry.domain.eligibility import Ban as BanRule
from registry.domain.eligibility import ban_ends, check_grant
from registry.domain.errors import Conflict, NotFound, RuleViolation, StaleVersion
from registry.domain.lifecycle import LIVE, Event, Status, resolve_target
from registry.domain.policy import Tier
from registry.domain.text import plain_source
from registry.enterprises.locks import lock_enterprise, lock_enterprise_of
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.queries import get_in_region
from registry.enterprises.services import get_enterprise
from registry.policies.rules import Rules
from registry.proposals.services import FourEyes, SecondPersonRequired
from registry.titles.flags import CAUSE_NAMES, cascade_prerequisite_lost, holdings_of
from registry.titles.models import Ban, Certification, CertificationEvent, CertificationTerm

GRAVE_REVOCATION = ("撤销称号并禁止申报须两人办理：由一位业务人员提出，同地区另一位业务人员或业务管理员确认后生效"
                    " / a revocation that carries a ban needs a second person's confirmation")

CERT_FIELDS = ("tier", "status", "recognized_on", "batch", "document_no", "authority",
               "valid_from", "valid_until", "policy_code", "holder", *holders.PRODUCT_FIELDS)


@dataclass(frozen=True)
class EventInput:
    """What an officer (or the scan) asks to happen to a title."""

    action: Event
    effective_on: date
    reason_code: str | None = None
    document_no: str | None = None
    note: str | None = None
    version: int | None = None
    incident_on: date | None = None  #: a revocation's cause: when the accident (violation) happened


#: the events an officer records from the page, in the order the buttons appear
OFFICER_EVENTS = (Event.SUBMIT_REVIEW, Event.PASS_REVIEW, Event.FAIL_REVIEW, Event.REVOKE, Event.WITHDRAW,
                  Event.DOWNGRADE, Event.SUPERSEDE)


def get_certification(session: Session, actor: Actor, certification_id: int) -> Certification:
    """Load a title inside the actor's region. :raises NotFound:"""
    return get_in_region(session, actor, Certification, certification_id, "称号记录", "certification")


def bans_for(session: Session, uscc: str) -> list[BanRule]:
    """Return the USCC's bans as rules."""
    rows = session.scalars(sa.select(Ban).where(Ban.uscc == uscc)).all()
    return [b.rule() for b in rows]


def revenue_before(session: Session, enterprise_id: int, on: date) -> Decimal | None:
    """Return revenue of the latest annual report for a year before `on`'s year."""
    return session.scalar(sa.select(AnnualReport.revenue).where(
        AnnualReport.enterprise_id == enterprise_id, AnnualReport.year < on.year,
        AnnualReport.revenue.is_not(None)).order_by(AnnualReport.year.desc()).limit(1))


def tier_in_force(rules: Rules, tier: str, on: date) -> Tier:
    """Return the rules of tier `tier` in force on `on`. :raises RuleViolation: naming `tier`."""
    try:
        return rules.policies.tier(tier, on)
    except NotFound:
        raise RuleViolation.on("tier", f"未知或在 {on} 尚未施行的称号层级：{tier}") from None


def check_grant_allowed(session: Session, rules: Rules, enterprise: Enterprise, rule: Tier, on: date) -> None:
    """Refuse a grant that a ban, a prerequisite or an exclusion blocks on `on`. :raises RuleViolation:"""
    check_holder_allowed(rules, enterprise, rule, on)
    check_grant(rule, on, holdings_of([c for c in enterprise.certifications if c.status in LIVE]),
                bans_for(session, enterprise.uscc), revenue_before(session, enterprise.id, on), rules.tier_names())


def check_holder_allowed(rules: Rules, enterprise: Enterprise, rule: Tier, on: date) -> None:
    """Refuse `rule` for a record of another holder kind, and a second product title. :raises RuleViolation:"""
    holders.check_holder(rule, str(enterprise.holder_kind or holders.ENTERPRISE), enterprise.name)
    held = [holders.HeldTitle(c.tier, c.programme, c.holder, c.valid_from, c.ended_on, c.product_name)
            for c in enterprise.certifications if c.status in LIVE]
    holders.check_one_product(rule, on, held, rules.tier_names())


def main_product_before(session: Session, enterprise_id: int, on: date) -> str | None:
    """Return the main product (主导产品) of the latest annual report for a year before `on`'s year."""
    return session.scalar(sa.select(AnnualReport.main_product).where(
        AnnualReport.enterprise_id == enterprise_id, AnnualReport.year < on.year,
        AnnualReport.main_product.is_not(None)).order_by(AnnualReport.year.desc()).limit(1))


def grant_certification(session: Session, *, actor: Actor, rules: Rules, enterprise_id: int,
                        tier: str, recognized_on: date, at: datetime, batch: str | None = None,
                        document_no: str | None = None, authority: str | None = None,
                        check: bool = True, why: audit.Why | None = None,
                        today: date | None = None, product_name: str | None = None,
                        product_sales: Decimal | None = None, product_share: Decimal | None = None) -> Certification:
    """Grant a title after checking bans, prerequisites and exclusions on the recognition date.

    `today` (Asia/Shanghai) defaults to the day of `at`: a grant is a fact, never dated after it.
    The tier goes to its holder kind only; a product title names its product — given, else the
    main product of the last annual report (a batch's grant); a downgrade (`check` off) without
    either is granted without a name — and an enterprise holds one live product title per programme.
    """
    why = why or audit.Why(document_no=document_no)
    require(actor, Action.WRITE)
    guards.check_not_future("recognized_on", "认定日期", recognized_on, today or guards.local_today(at))
    lock_enterprise(session, enterprise_id)  # one grant at a time per enterprise: the second sees the first
    enterprise = get_enterprise(session, actor, enterprise_id)
    rule = tier_in_force(rules, tier, recognized_on)
    refuse_same_title(enterprise, rule, recognized_on)
    product = holders.Product((product_name or "").strip() or None, product_sales, product_share)
    if rule.holder == holders.PRODUCT and product.name is None:
        product = holders.Product(main_product_before(session, enterprise.id, recognized_on), product_sales,
                                  product_share)
    holders.check_product(rule, product, required=check)
    if check:
        check_grant_allowed(session, rules, enterprise, rule, recognized_on)
    else:
        check_holder_allowed(rules, enterprise, rule, recognized_on)
    cert = _new_certification(session, enterprise, rule, recognized_on, at, batch=batch,
                              document_no=document_no, authority=authority, product_name=product.name,
                              product_sales=product.sales, product_share=product.share)
    _log_event(session, actor, cert, action="grant", effective_on=recognized_on, before=None,
               document_no=document_no, note=why.note, at=at)
    audit.record(session, actor=actor, action="certification.granted", entity_type="certification",
                 entity_id=cert.id, enterprise_id=enterprise.id, region_code=cert.region_code,
                 changes=audit.snapshot(cert, CERT_FIELDS), at=at, why=why)
    return cert


def refuse_same_title(enterprise: Enterprise, rule: Tier, recognized_on: date) -> None:
    """Refuse a second live title of the same tier and recognition date (a double submit). :raises Conflict:"""
    if any(c.tier == rule.code and c.recognized_on == recognized_on and c.status in LIVE
           for c in enterprise.certifications):
        raise Conflict(f"该企业已于 {recognized_on.isoformat()} 被认定为{rule.name}（可能是重复提交），请刷新后查看"
                       f" / this title was already granted", field="tier")


def granted_fields(rule: Tier, recognized_on: date, at: datetime) -> dict[str, object]:
    """Return a newly granted title's columns (its first term) under `rule`."""
    until = deadlines.validity_end(rule, recognized_on)
    return dict(tier=rule.code, programme=rule.programme, policy_code=rule.policy_code, status=Status.ACTIVE,
                holder=rule.holder,
                recognized_on=recognized_on, valid_from=recognized_on, valid_until=until,
                review_window_opens_on=deadlines.review_window_opens(rule, until),
                review_eligible=True, prerequisite_lost=False, created_at=at, updated_at=at)


def _new_certification(session: Session, enterprise: Enterprise, rule: Tier, recognized_on: date,
                       at: datetime, **details: object) -> Certification:
    cert = Certification(enterprise=enterprise, region_code=enterprise.region_code,
                         **granted_fields(rule, recognized_on, at), **details)
    session.add(cert)
    session.flush()
    cert.terms.append(CertificationTerm(seq=1, valid_from=recognized_on, valid_until=cert.valid_until,
                                        policy_code=rule.policy_code, decided_on=recognized_on,
                                        document_no=details.get("document_no")))
    return cert


def _log_event(session: Session, actor: Actor, cert: Certification, *, action: str, effective_on: date,
               before: Status | None, at: datetime, reason_code: str | None = None,
               document_no: str | None = None, note: str | None = None, incident_on: date | None = None) -> None:
    cert.events.append(CertificationEvent(
        action=action, effective_on=effective_on, from_status=before,
        to_status=cert.status, reason_code=reason_code, document_no=document_no, note=note,
        incident_on=incident_on, actor=actor.label, created_at=at))


def audit_code_ok(session: Session, enterprise_id: int) -> bool:
    """Tell whether the enterprise's latest annual report carries an audit-report 验证码."""
    code = session.scalar(sa.select(AnnualReport.audit_report_code).where(
        AnnualReport.enterprise_id == enterprise_id).order_by(AnnualReport.year.desc()).limit(1))
    return bool((code or "").strip())


def title_state(session: Session, cert: Certification, tier: Tier) -> guards.TitleState:
    """Gather what the guards read of `cert`."""
    events = sorted(cert.events, key=lambda e: (e.effective_on, e.id or 0))
    submitted = None
    if cert.status == Status.UNDER_REVIEW:
        submitted = max((e.effective_on for e in events if e.action == Event.SUBMIT_REVIEW.value), default=None)
    cause = cert.review_ineligible_cause
    return guards.TitleState(
        status=cert.status, recognized_on=cert.recognized_on, valid_until=cert.valid_until,
        review_eligible=cert.review_eligible, ineligible_cause=CAUSE_NAMES.get(cause or "", cause),
        last_event_on=events[-1].effective_on if events else None, submitted_on=submitted,
        audit_code_ok=audit_code_ok(session, cert.enterprise_id) if tier.requires_audit_code else True)


def review_window_of(rules: Rules, cert: Certification, tier: Tier) -> guards.ReviewWindow | None:
    """Return the review window of the title's current term."""
    return guards.review_window(tier, cert.valid_until, rules.calendar)


def allowed_actions(session: Session, rules: Rules, cert: Certification, today: date,
                    candidates: tuple[Event, ...]) -> list[Event]:
    """The `candidates` the guards allow on `cert` today (what a page offers)."""
    tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
    return guards.allowed_now(tier, title_state(session, cert, tier), today,
                              review_window_of(rules, cert, tier), candidates)


def carries_ban(rules: Rules, cert: Certification, event: EventInput) -> bool:
    """Tell whether `event` is a revocation whose reason bans the enterprise (four-eyes for a person)."""
    if event.action != Event.REVOKE or not event.reason_code:
        return False
    reason = rules.policies.tier(cert.tier, policy_code=cert.policy_code).reason(event.reason_code)
    return reason is not None and reason.ban_years > 0


def apply_event(session: Session, *, actor: Actor, rules: Rules, certification_id: int,
                event: EventInput, at: datetime, today: date | None = None,
                four_eyes: FourEyes | None = None) -> Certification:
    """Apply a lifecycle event; refuse it (changing nothing) when the guards do not allow it.

    `today` (Asia/Shanghai) defaults to the day of `at`; the scan passes the day it scans. A person
    cannot revoke with a ban alone: that goes through a proposal (registry/proposals/four_eyes.py),
    whose confirmation passes `four_eyes` (both people land in the audit events).
    :raises SecondPersonRequired: a person's revocation with a ban without a confirmation.
    """
    require(actor, Action.WRITE)
    lock_enterprise_of(session, Certification, certification_id)  # events of one enterprise in turn
    cert = get_certification(session, actor, certification_id)
    if event.version is not None and event.version != cert.version:
        raise StaleVersion(f"该称号已被他人修改（当前版本 {cert.version}），请刷新后重试"
                           f" / stale version {event.version}, current is {cert.version}",
                           current_version=cert.version)
    _refuse_same_event(cert, event)
    tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
    day = today or guards.local_today(at)
    target = guards.check_event(tier, title_state(session, cert, tier), event.action, event.effective_on,
                                day, review_window_of(rules, cert, tier))
    guards.check_incident(event.action, event.incident_on, event.effective_on, day)
    _check_event_input(cert, tier, event)
    if four_eyes is None and actor.kind in PERSON_KINDS and carries_ban(rules, cert, event):
        raise SecondPersonRequired(GRAVE_REVOCATION)
    extra = four_eyes.changes() if four_eyes else {}
    before = {f: getattr(cert, f) for f in ("status", "valid_until", "ended_on")}
    handler = _HANDLERS.get(event.action, _end)
    handler(session, actor=actor, rules=rules, cert=cert, tier=tier, event=event, at=at, today=day, extra=extra,
            target=resolve_target(target, tier.failed_review if event.action == Event.FAIL_REVIEW
                                  else tier.missed_review))
    return _finish(session, actor, rules, cert, event, before, at, extra=extra)


def _refuse_same_event(cert: Certification, event: EventInput) -> None:
    """The same event on the same title with the same effective date is recorded once. :raises Conflict:"""
    if any(e.action == event.action.value and e.effective_on == event.effective_on for e in cert.events):
        raise Conflict(f"该称号已登记 {event.effective_on.isoformat()} 的同一事件（可能是重复提交），请刷新后查看"
                       f" / this event is already recorded", field="action")


def _check_event_input(cert: Certification, tier: Tier, event: EventInput) -> None:
    if event.action == Event.REVOKE:
        if not event.reason_code:
            raise RuleViolation.on("reason_code", "撤销须注明原因 / a revocation needs a reason_code")
        if tier.reason(event.reason_code) is None:
            codes = ", ".join(r.code for r in tier.revocation_reasons)
            raise RuleViolation.on("reason_code", f"{tier.name}没有撤销原因 {event.reason_code}（可选：{codes}）")
    if event.action == Event.DOWNGRADE and not tier.downgrades_to:
        raise RuleViolation.on("action", f"{tier.name}不能降级 / this tier has no downgrade")


def _submit(session: Session, *, cert: Certification, target: Status, **_: object) -> None:
    cert.status = target


def _pass(session: Session, *, rules: Rules, cert: Certification, event: EventInput, **_: object) -> None:
    """Start the next term the day after the current one ends, under the version the review follows.

    That is the title's own version, or a later one in force on the decision day whose text
    covers titles of the earlier version (PolicySet.review_tier: 63号 for 小巨人 of 2019–2021).
    """
    if cert.valid_until is None:
        raise RuleViolation.on("action", "该称号无固定有效期，无需复核 / no term to renew")
    rule = rules.policies.review_tier(cert.tier, cert.policy_code, event.effective_on)
    start = cert.valid_until + timedelta(days=1)
    until = deadlines.next_term_end(rule, cert.valid_until)
    seq = len(cert.terms) + 1
    cert.terms.append(CertificationTerm(seq=seq, valid_from=start, valid_until=until,
                                        policy_code=rule.policy_code, decided_on=event.effective_on,
                                        document_no=event.document_no))
    cert.status, cert.valid_from, cert.valid_until = Status.ACTIVE, start, until
    cert.review_window_opens_on = deadlines.review_window_opens(rule, until)
    cert.policy_code = rule.policy_code
    cert.review_eligible, cert.review_ineligible_cause = True, None


def _end(session: Session, *, cert: Certification, target: Status, event: EventInput, **_: object) -> None:
    cert.status, cert.ended_on = target, event.effective_on
    cert.review_window_opens_on = None


def _revoke(session: Session, *, actor: Actor, rules: Rules, cert: Certification, tier: Tier,
            event: EventInput, at: datetime, target: Status, extra: dict[str, list[object]], **_: object) -> None:
    reason = tier.reason(event.reason_code or "")
    assert reason is not None  # checked in _check_event_input
    _end(session, cert=cert, target=target, event=event)
    if reason.ban_years > 0:
        ban = Ban(uscc=cert.enterprise.uscc, certification_id=cert.id, reason_code=reason.code,
                  reason=reason.name, starts_on=event.effective_on, blocks=reason.ban_blocks,
                  tier=tier.code, programme=tier.programme, ladder=tier.ladder,
                  ends_on=ban_ends(event.effective_on, reason.ban_years), document_no=event.document_no)
        session.add(ban)
        session.flush()
        audit.record(session, actor=actor, action="ban.created", entity_type="ban", entity_id=ban.id,
                     enterprise_id=cert.enterprise_id, region_code=cert.region_code,
                     changes={**audit.snapshot(ban, ("uscc", "reason_code", "starts_on", "ends_on", "blocks")),
                              **extra}, at=at,
                     why=audit.Why(reason.code, event.document_no, plain_source(reason.basis) or None))
    if reason.scope == "all_tiers":  # every live title of the ladder (or programme), never another's
        reach = rules.policies.programmes_of_ladder(tier.ladder) if tier.ladder else set()
        reach.add(tier.programme)
        for other in cert.enterprise.certifications:
            if other.id != cert.id and other.status in LIVE and other.programme in reach:
                _cascade_revoke(session, actor, rules, other, event, at, extra)


def _cascade_revoke(session: Session, actor: Actor, rules: Rules, cert: Certification,
                    event: EventInput, at: datetime, extra: dict[str, list[object]]) -> None:
    before = {f: getattr(cert, f) for f in ("status", "valid_until", "ended_on")}
    # never dated before this title's recognition or its own latest event (issue 14)
    on = max([event.effective_on, cert.recognized_on, *(e.effective_on for e in cert.events)])
    note = f"因同一企业称号被以「{event.reason_code}」撤销，全部称号一并撤销 / all_tiers revocation"
    cascaded = EventInput(Event.REVOKE, on, event.reason_code, event.document_no, note,
                          incident_on=event.incident_on)
    _end(session, cert=cert, target=Status.REVOKED, event=cascaded)
    _finish(session, actor, rules, cert, cascaded, before, at, cascade=False, extra=extra)


def _downgrade(session: Session, *, actor: Actor, rules: Rules, cert: Certification, tier: Tier,
               event: EventInput, at: datetime, target: Status, today: date, **_: object) -> None:
    _end(session, cert=cert, target=target, event=event)
    session.flush()
    grant_certification(session, actor=actor, rules=rules, enterprise_id=cert.enterprise_id,
                        tier=tier.downgrades_to or "", recognized_on=event.effective_on, at=at,
                        document_no=event.document_no, authority=cert.authority, check=False, today=today)


_HANDLERS = {
    Event.SUBMIT_REVIEW: _submit,
    Event.PASS_REVIEW: _pass,
    Event.REVOKE: _revoke,
    Event.DOWNGRADE: _downgrade,
}


def _finish(session: Session, actor: Actor, rules: Rules, cert: Certification, event: EventInput,
            before: dict[str, object], at: datetime, *, cascade: bool = True,
            extra: dict[str, list[object]] | None = None) -> Certification:
    cert.updated_at = at
    _log_event(session, actor, cert, action=event.action.value, effective_on=event.effective_on,
               before=before["status"], at=at, reason_code=event.reason_code,
               document_no=event.document_no, note=event.note, incident_on=event.incident_on)
    session.flush()
    changes = {k: [audit.plain(v), audit.plain(getattr(cert, k))] for k, v in before.items()
               if audit.plain(v) != audit.plain(getattr(cert, k))}
    if event.incident_on is not None:
        changes["incident_on"] = [None, audit.plain(event.incident_on)]
    changes.update(extra or {})
    audit.record(session, actor=actor, action=f"certification.{event.action.value}",
                 entity_type="certification", entity_id=cert.id, enterprise_id=cert.enterprise_id,
                 region_code=cert.region_code, changes=changes, at=at,
                 why=audit.Why(event.reason_code, event.document_no, event.note))
    if cascade and cert.status not in LIVE:
        cascade_prerequisite_lost(session, actor=actor, rules=rules, ended=cert, on=event.effective_on, at=at)
    return cert
