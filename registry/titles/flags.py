"""Flags on live titles: review eligibility lost (with its cause) and prerequisite lost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Actor
from registry.domain.eligibility import Holding
from registry.domain.lifecycle import LIVE
from registry.policies.rules import Rules
from registry.titles.models import Certification

CAUSE_NAMES = {
    "annual_update_missed": "未按期更新年度信息",
    "change_not_reported": "重大变化未按期报告",
}


def _ineligible(cert: Certification, cause: str, at: datetime) -> audit.Entry | None:
    """Set review_eligible=false with its cause on `cert` (unless already); return the audit event to append."""
    if not cert.review_eligible:
        return None
    changes = audit.diff(cert, {"review_eligible": False, "review_ineligible_cause": cause})
    cert.updated_at = at
    return audit.Entry("certification.review_ineligible", "certification", cert.id, changes, cert.enterprise_id,
                       cert.region_code, audit.Why(reason_code=cause, note=CAUSE_NAMES.get(cause, cause)))


def mark_review_ineligible(session: Session, *, actor: Actor, cert: Certification, cause: str,
                           at: datetime) -> bool:
    """Set review_eligible=false with its cause (once); return whether it changed."""
    entry = _ineligible(cert, cause, at)
    if entry is None:
        return False
    session.flush()
    audit.record(session, actor=actor, action=entry.action, entity_type=entry.entity_type, entity_id=entry.entity_id,
                 enterprise_id=entry.enterprise_id, region_code=entry.region_code, changes=entry.changes, at=at,
                 why=entry.why)
    return True


def mark_many_review_ineligible(session: Session, *, actor: Actor, flags: Iterable[tuple[Certification, str]],
                                at: datetime) -> list[Certification]:
    """`mark_review_ineligible` for many titles at one instant: one flush, the events appended together.

    The same rows and the same audit events (in the order given, hashes included) as one call per
    title; a title named twice, or no longer eligible, is left alone. Returns the titles flagged.
    The daily scan flags hundreds of titles in a catch-up: a flush and a chain-head lock and update
    per title were most of its statements (bench/RESULTS.md).
    """
    flagged, entries = [], []
    for cert, cause in flags:
        entry = _ineligible(cert, cause, at)
        if entry is not None:
            flagged.append(cert)
            entries.append(entry)
    if entries:
        session.flush()
        audit.record_many(session, actor=actor, entries=entries, at=at)
    return flagged


def restore_review_eligibility(session: Session, *, actor: Actor, cert: Certification, cause: str,
                               at: datetime, note: str) -> bool:
    """Give a live title back the review eligibility it lost for `cause` when that cause is gone (the late or
    missing report it was lost for was a mistaken entry, corrected or withdrawn); return whether it changed."""
    if cert.review_eligible or cert.review_ineligible_cause != cause or cert.status not in LIVE:
        return False
    changes = audit.diff(cert, {"review_eligible": True, "review_ineligible_cause": None})
    cert.updated_at = at
    session.flush()
    audit.record(session, actor=actor, action="certification.review_eligibility_restored",
                 entity_type="certification", entity_id=cert.id, enterprise_id=cert.enterprise_id,
                 region_code=cert.region_code, changes=changes, at=at, why=audit.Why(reason_code=cause, note=note))
    return True


def holdings_of(certs: list[Certification]) -> list[Holding]:
    """Describe an enterprise's titles for the eligibility rules."""
    return [Holding(c.tier, c.valid_from, c.valid_until, c.ended_on) for c in certs]


def losing_prerequisite(rules: Rules, ended: Certification, on: date) -> list[Certification]:
    """Return the live titles whose prerequisite no longer holds once `ended` ends on `on`.

    The one answer to "what does ending this title do to the others": the action flags these
    (`cascade_prerequisite_lost`) and the officer's preview names them (registry/titles/pages.py
    `title_facts`), so the preview cannot promise what the action does not do. A title already
    flagged is not named again; a prerequisite that a revenue threshold may waive is left to the review.
    """
    siblings = [c for c in ended.enterprise.certifications if c.id != ended.id]
    holdings = holdings_of([c for c in siblings if c.status in LIVE])
    losing = []
    for cert in siblings:
        if cert.status not in LIVE or cert.prerequisite_lost:
            continue
        tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
        for pre in tier.prerequisites:
            if ended.tier not in pre.any_of or pre.when_revenue_at_most is not None:
                continue
            if not any(h.tier in pre.any_of and h.valid_on(on) for h in holdings):
                losing.append(cert)
                break
    return losing


def cascade_prerequisite_lost(session: Session, *, actor: Actor, rules: Rules, ended: Certification,
                              on: date, at: datetime) -> list[Certification]:
    """Flag live higher titles whose prerequisite no longer holds once `ended` has ended."""
    flagged = losing_prerequisite(rules, ended, on)
    name = rules.policies.tier(ended.tier, policy_code=ended.policy_code).name if flagged else ""
    for cert in flagged:
        changes = audit.diff(cert, {"prerequisite_lost": True})
        cert.updated_at = at
        session.flush()
        audit.record(session, actor=actor, action="certification.prerequisite_lost",
                     entity_type="certification", entity_id=cert.id,
                     enterprise_id=cert.enterprise_id, region_code=cert.region_code,
                     changes=changes, at=at,
                     why=audit.Why(note=f"前置称号 {name}（#{ended.id}）于 {on} 终止"))
    return flagged
