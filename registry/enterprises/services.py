"""Enterprise use cases: register, update (optimistic version), annual and change reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.audit import trail as audit
from registry.domain import guards, holders, uscc
from registry.domain.actors import PERSON_KINDS, Action, Actor, can, in_scope, require, require_scope
from registry.domain.deadlines import DueDate, change_report_deadline
from registry.domain.errors import Conflict, NotFound, RuleViolation, StaleVersion
from registry.domain.lifecycle import LIVE
from registry.domain.policy import Tier
from registry.domain.regions import contains
from registry.enterprises.locks import lock_enterprise
from registry.enterprises.models import AnnualReport, ChangeReport, Enterprise
from registry.enterprises.queries import get_in_region
from registry.policies.rules import Rules
from registry.proposals.services import FourEyes, SecondPersonRequired
from registry.regions.models import Region
from registry.regions.reference import successor
from registry.regions.scoping import unscoped
from registry.titles.flags import mark_review_ineligible, restore_review_eligibility

GRAVE_USCC = ("变更统一社会信用代码须两人办理：由一位业务人员提出，同地区另一位业务人员或业务管理员确认后生效"
              " / a USCC change needs a second person's confirmation")

ENTERPRISE_FIELDS = ("uscc", "name", "region_code", "industry_code", "size_class", "founded_on",
                     "contact_name", "contact_email", "contact_phone", "officer_id",
                     "holder_kind", "zone_type", "managing_body")
#: what a record is and, for a zone, its type and managing body (registry/domain/holders.py)
HOLDER_FIELDS = ("holder_kind", "zone_type", "managing_body")
SHAPE_FIELDS = (*HOLDER_FIELDS, *holders.ENTERPRISE_ONLY)  #: what holder_shape checks together


def holder_shape(data: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return `data` with its holder fields settled and checked against the record's kind.

    A blank kind is an enterprise (every record before issue 17), or unchanged in an update; blank zone fields are None; the
    values merged over `current` (an update) must fit the kind. :raises RuleViolation: by field.
    """
    out = dict(data)
    for name in HOLDER_FIELDS:
        if name in out and out[name] in ("", None):
            out[name] = None
    if current is None:
        out["holder_kind"] = out.get("holder_kind") or holders.ENTERPRISE
    elif "holder_kind" in out and not out["holder_kind"]:
        del out["holder_kind"]  # an update's blank kind leaves it as it is
    merged = {**(current or {}), **{k: out[k] for k in SHAPE_FIELDS if k in out}}
    holders.check_record(str(merged.get("holder_kind") or holders.ENTERPRISE), merged)
    return out
REPORT_FIELDS = ("revenue", "main_business_revenue", "rd_expense", "employees", "rd_staff",
                 "debt_ratio", "invention_patents", "audit_report_code", "audit_firm", "main_product",
                 "main_product_revenue", "submitted_on")


def get_enterprise(session: Session, actor: Actor, enterprise_id: int) -> Enterprise:
    """Load an enterprise inside the actor's region. :raises NotFound:"""
    return get_in_region(session, actor, Enterprise, enterprise_id, "企业", "enterprise")


def current_region(session: Session, region_code: str) -> tuple[str, str | None]:
    """Return the code in force for `region_code` and a warning when it was changed (撤并/更名).

    A code the tree lacks but the change table maps is replaced by its successor; a code still
    in the tree that has a successor stays (it is valid) and the warning names the current one.
    """
    if not isinstance(region_code, str):
        return region_code, None
    moved = successor(session, region_code)
    if moved is None or session.get(Region, moved.code) is None:
        return region_code, None
    said = moved.describe(region_names_of(session, [moved.code]))
    if session.get(Region, region_code) is None:
        return moved.code, f"{said}，已按新代码登记 / region code changed, the current one is used"
    return region_code, (f"{said}，可用 flask regions migrate-codes 迁移"
                         " / region code changed, move with regions migrate-codes")


def region_names_of(session: Session, codes: list[str]) -> dict[str, str]:
    """Map the given region codes to their names."""
    return dict(session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def check_region(session: Session, actor: Actor, region_code: str) -> None:
    """Refuse a region code that does not exist or lies outside the actor's region. :raises RuleViolation:"""
    if session.get(Region, region_code) is None:
        raise RuleViolation.on("region_code", f"行政区划代码 {region_code} 不存在 / unknown region code")
    try:
        require_scope(actor, region_code)
    except NotFound:
        raise RuleViolation.on("region_code", f"地区 {region_code} 不在您的管辖范围内 / outside your region") from None


def may_be_officer(user: User, region_code: str) -> bool:
    """Tell whether `user` may be the officer (服务专员) of an enterprise in `region_code`: an active
    user of a role that works cases (writes), whose region covers the enterprise's."""
    works = can(Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code), Action.WRITE)
    covers = user.region_code == "000000" or contains(user.region_code, region_code)
    return user.is_active and works and covers


def officer_candidates(session: Session, region_code: str) -> list[User]:
    """Return the users who may be the officer of an enterprise in `region_code`, by name."""
    users = session.scalars(sa.select(User).where(User.is_active).order_by(User.display_name, User.id))
    return [u for u in users if may_be_officer(u, region_code)]


def officer_choices(session: Session, actor: Actor) -> list[User]:
    """Return the users who may be chosen as 服务专员 by `actor` for enterprises of its region, by name: active
    officers and business admins of the actor's subtree or of a region above it (each enterprise is
    checked against its own region when assigned, see `assign_officer`)."""
    users = session.scalars(sa.select(User).where(User.is_active).order_by(User.display_name, User.id))
    return [u for u in users if may_be_officer(u, u.region_code)
            and (in_scope(actor, u.region_code) or u.region_code == "000000"
                 or contains(u.region_code, actor.region_code))]


def check_officer(session: Session, officer_id: int | None, region_code: str) -> None:
    """Refuse an officer from another region (reminders with contact data would be mailed there)."""
    if officer_id is None:
        return
    officer = session.get(User, officer_id)
    if officer is None or not may_be_officer(officer, region_code):
        raise RuleViolation.on("officer_id", f"服务专员须为企业所在地区（{region_code}）的在岗业务人员 / "
                                             "officer_id must be an active officer of the enterprise's region")


def _check_uscc_free(session: Session, actor: Actor, code: str, own_id: int | None = None) -> None:
    """Refuse a USCC registered anywhere; name the record only when the actor may see it. :raises Conflict:"""
    with unscoped(session):  # the register is nationwide: a USCC is unique across every region
        other = session.execute(sa.select(Enterprise.id, Enterprise.region_code).where(Enterprise.uscc == code)).first()
    if other is None or other.id == own_id:
        return
    if in_scope(actor, other.region_code):
        raise Conflict(f"统一社会信用代码 {code} 已登记 / duplicate uscc", field="uscc", existing_id=other.id)
    raise Conflict("该统一社会信用代码已登记 / this USCC is already registered", field="uscc")


def register_enterprise(session: Session, *, actor: Actor, data: dict[str, Any],
                        at: datetime) -> tuple[Enterprise, list[str]]:
    """Add an enterprise; return it with warnings (e.g. USCC region mismatch)."""
    require(actor, Action.WRITE)
    code = uscc.validate(data["uscc"])
    data = holder_shape(data)
    region_code, moved = current_region(session, data["region_code"])
    data = {**data, "region_code": region_code}
    check_region(session, actor, data["region_code"])
    check_officer(session, data.get("officer_id"), data["region_code"])
    _check_uscc_free(session, actor, code)
    enterprise = Enterprise(**{**{k: data.get(k) for k in ENTERPRISE_FIELDS}, "uscc": code},
                            created_at=at, updated_at=at)
    session.add(enterprise)
    session.flush()
    audit.record(session, actor=actor, action="enterprise.created", entity_type="enterprise",
                 entity_id=enterprise.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                 changes=audit.snapshot(enterprise, ENTERPRISE_FIELDS), at=at,
                 why=audit.Why(note=data.get("note")))
    warning = uscc.region_warning(code, enterprise.region_code)
    return enterprise, [w for w in (moved, warning) if w]


def update_enterprise(session: Session, *, actor: Actor, enterprise_id: int, data: dict[str, Any],
                      version: int, at: datetime, why: audit.Why = audit.NO_WHY,
                      four_eyes: FourEyes | None = None) -> tuple[Enterprise, list[str]]:
    """Change an enterprise's fields if nobody changed it since `version`. :raises StaleVersion:

    A person cannot change the USCC alone (bans and the register are keyed by it): that goes through
    a proposal (registry/proposals/four_eyes.py) whose confirmation passes `four_eyes`.
    :raises SecondPersonRequired: a person's USCC change without a confirmation.
    """
    require(actor, Action.WRITE)
    lock_enterprise(session, enterprise_id)  # a concurrent edit of the same version waits, then is stale
    enterprise = get_enterprise(session, actor, enterprise_id)
    if version != enterprise.version:
        raise StaleVersion(f"该企业已被他人修改（当前版本 {enterprise.version}），请刷新后重试"
                           f" / stale version {version}, current is {enterprise.version}",
                           current_version=enterprise.version)
    updates = {k: v for k, v in data.items() if k in ENTERPRISE_FIELDS}
    if any(k in updates for k in SHAPE_FIELDS):
        updates = holder_shape(updates, {k: getattr(enterprise, k) for k in SHAPE_FIELDS})
        if updates.get("holder_kind", enterprise.holder_kind) != enterprise.holder_kind and enterprise.certifications:
            raise RuleViolation.on("holder_kind", "该记录已有称号，不能变更登记类型（企业与园区、区域的称号不同）"
                                                  " / a record with titles keeps its holder kind")
    if "uscc" in updates:
        updates["uscc"] = uscc.validate(updates["uscc"])
        _check_uscc_free(session, actor, updates["uscc"], enterprise.id)
    moved = None
    if "region_code" in updates:
        updates["region_code"], moved = current_region(session, updates["region_code"])
        check_region(session, actor, updates["region_code"])
    if "region_code" in updates or "officer_id" in updates:
        check_officer(session, updates.get("officer_id", enterprise.officer_id),
                      updates.get("region_code", enterprise.region_code))
    changes = audit.diff(enterprise, updates)
    if "uscc" in changes and four_eyes is None and actor.kind in PERSON_KINDS:
        raise SecondPersonRequired(GRAVE_USCC)
    if changes and four_eyes is not None:
        changes.update(four_eyes.changes())
    if changes:
        enterprise.updated_at = at
        if "region_code" in changes:
            for cert in enterprise.certifications:
                cert.region_code = enterprise.region_code
        session.flush()
        audit.record(session, actor=actor, action="enterprise.updated", entity_type="enterprise",
                     entity_id=enterprise.id, enterprise_id=enterprise.id,
                     region_code=enterprise.region_code, changes=changes, at=at, why=why)
    warning = uscc.region_warning(enterprise.uscc, enterprise.region_code)
    return enterprise, [w for w in (moved, warning) if w]


def planned_changes(session: Session, enterprise: Enterprise, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Return what `update_enterprise` would change, {field: [before, after]} as the trail stores them, without
    changing anything: the fields whose value differs (a USCC compared normalised, a region by the code in force).
    The preview of an edit shows exactly these, and only these are written."""
    updates = {k: v for k, v in data.items() if k in ENTERPRISE_FIELDS}
    if isinstance(updates.get("uscc"), str):
        updates["uscc"] = uscc.normalize(updates["uscc"])
    if isinstance(updates.get("region_code"), str):
        updates["region_code"], _ = current_region(session, updates["region_code"])
    return {k: [audit.plain(getattr(enterprise, k)), audit.plain(v)] for k, v in updates.items()
            if audit.plain(getattr(enterprise, k)) != audit.plain(v)}


#: the most enterprises one bulk assignment may touch (a selection, or every one matching a filter)
MAX_BULK = 5000


def assign_officer(session: Session, *, actor: Actor, enterprise_ids: list[int], officer_id: int | None,
                   at: datetime, why: audit.Why = audit.NO_WHY) -> list[Enterprise]:
    """Make `officer_id` (None: nobody) the 服务专员 of each enterprise; return those whose officer changed.

    All or nothing: every enterprise must lie in the actor's region and the officer must be an active
    officer or business admin whose region covers each of them (never an auditor, a leader or an
    administrator of the 三员); one refused refuses the whole set, naming it. Each change is its own
    audited `enterprise.updated` event (officer_id before → after) with the reason given.
    :raises RuleViolation: on `officer_id` or `enterprise_ids`. :raises NotFound: an enterprise not in scope.
    """
    require(actor, Action.WRITE)
    ids = sorted(set(enterprise_ids))
    if not ids:
        raise RuleViolation.on("enterprise_ids", "请先选择企业 / no enterprise selected")
    if len(ids) > MAX_BULK:
        raise RuleViolation.on("enterprise_ids", f"一次最多为 {MAX_BULK} 家企业指定服务专员（已选 {len(ids)} 家），"
                                                 "请缩小筛选范围 / too many enterprises")
    officer = session.get(User, officer_id) if officer_id is not None else None
    if officer_id is not None and officer is None:
        raise RuleViolation.on("officer_id", "所选服务专员不存在 / no such user")
    changed = []
    for enterprise_id in ids:
        lock_enterprise(session, enterprise_id)
        enterprise = get_enterprise(session, actor, enterprise_id)
        if officer is not None and not may_be_officer(officer, enterprise.region_code):
            raise RuleViolation.on("officer_id", f"{officer.display_name or officer.username}不能担任"
                                                 f"「{enterprise.name}」的服务专员：服务专员须为企业所在地区"
                                                 "的在岗业务人员或业务管理员 / not an officer of that region")
        if enterprise.officer_id == officer_id:
            continue
        update_enterprise(session, actor=actor, enterprise_id=enterprise.id, data={"officer_id": officer_id},
                          version=enterprise.version, at=at, why=why)
        changed.append(enterprise)
    return changed


def record_annual_report(session: Session, *, actor: Actor, enterprise_id: int, year: int,
                         data: dict[str, Any], at: datetime, why: audit.Why = audit.NO_WHY,
                         today: date | None = None, warnings: list[str] | None = None) -> tuple[AnnualReport, bool]:
    """Record (or correct) one year's figures; return the report and whether anything changed.

    The figures (merged over the stored ones for a correction) are checked by
    guards.check_annual_figures: impossible ones are refused, unusual ones appended to `warnings`.
    """
    require(actor, Action.WRITE)
    lock_enterprise(session, enterprise_id)  # an identical second post waits, then finds the report unchanged
    enterprise = get_enterprise(session, actor, enterprise_id)
    report = session.scalar(sa.select(AnnualReport).where(
        AnnualReport.enterprise_id == enterprise.id, AnnualReport.year == year))
    values = {k: data[k] for k in REPORT_FIELDS if k in data}
    stored = {k: getattr(report, k) for k in REPORT_FIELDS} if report is not None else {}
    checked = guards.check_annual_figures(year, {**stored, **values}, today or guards.local_today(at))
    if warnings is not None:
        warnings.extend(checked.warnings)
    if report is None:
        report = AnnualReport(enterprise_id=enterprise.id, year=year, **values)
        session.add(report)
        session.flush()
        changes, action = {"year": [None, year], **audit.snapshot(report, REPORT_FIELDS)}, "annual_report.recorded"
    else:
        changes, action = audit.diff(report, values), "annual_report.corrected"
    if changes:
        audit.record(session, actor=actor, action=action, entity_type="annual_report",
                     entity_id=report.id, enterprise_id=enterprise.id,
                     region_code=enterprise.region_code, changes=changes, at=at, why=why)
    return report, bool(changes)


def change_report_due(rules: Rules, tiers: list[Tier], occurred_on: date) -> DueDate:
    """Return the earliest reporting deadline the titles' `tiers` set (the base tier's when none)."""
    deadlines = [d for t in tiers if (d := change_report_deadline(rules.calendar, t, occurred_on))]
    if not deadlines:
        fallback = rules.policies.tier("innovative_sme", occurred_on)
        deadlines = [change_report_deadline(rules.calendar, fallback, occurred_on)]
    return min(deadlines, key=lambda d: d.on)


def record_change_report(session: Session, *, actor: Actor, rules: Rules, enterprise_id: int,
                         kind: str, occurred_on: date, reported_on: date | None, details: str,
                         at: datetime, today: date | None = None) -> tuple[ChangeReport, list[str]]:
    """Record a major change with its reporting deadline; a late report costs review eligibility."""
    require(actor, Action.WRITE)
    day = today or guards.local_today(at)
    guards.check_not_future("occurred_on", "变化发生日期", occurred_on, day)
    if reported_on is not None:
        guards.check_not_future("reported_on", "报告日期", reported_on, day)
    lock_enterprise(session, enterprise_id)
    enterprise = get_enterprise(session, actor, enterprise_id)
    if reported_on is not None and reported_on < occurred_on:
        raise RuleViolation.on("reported_on", "报告日期不能早于变化发生日期 / reported before it occurred")
    same = session.scalar(sa.select(ChangeReport.id).where(
        ChangeReport.enterprise_id == enterprise.id, ChangeReport.kind == kind,
        ChangeReport.occurred_on == occurred_on).limit(1))
    if same is not None:
        raise Conflict(f"该企业 {occurred_on.isoformat()} 发生的这项变化已报告（可能是重复提交），请刷新后查看"
                       " / this change is already reported", field="kind")
    live = [c for c in enterprise.certifications if c.status in LIVE]
    tiers = [rules.policies.tier(c.tier, policy_code=c.policy_code) for c in live]
    due = change_report_due(rules, tiers, occurred_on)
    report = ChangeReport(enterprise_id=enterprise.id, kind=kind, occurred_on=occurred_on,
                          reported_on=reported_on, deadline_on=due.on,
                          deadline_provisional=due.provisional, details=details or "")
    session.add(report)
    session.flush()
    audit.record(session, actor=actor, action="change_report.recorded", entity_type="change_report",
                 entity_id=report.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                 changes=audit.snapshot(report, ("kind", "occurred_on", "reported_on", "deadline_on",
                                                 "deadline_provisional", "details")), at=at)
    warnings = []
    if due.provisional:
        warnings.append(f"截止日期 {due.on} 为暂定（缺少 {', '.join(map(str, due.missing_years))} 年节假日数据）")
    warnings += _late_report_consequences(session, actor, rules, report, at)
    return report, warnings


def _late_report_consequences(session: Session, actor: Actor, rules: Rules, report: ChangeReport,
                              at: datetime) -> list[str]:
    """A change reported after its deadline costs the live titles held by then their review eligibility
    where their policy says so (the same rule the scan applies to one still unreported)."""
    if report.reported_on is None or report.reported_on <= report.deadline_on:
        return []
    lost = False
    for cert in report.enterprise.certifications:
        tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
        if (cert.status in LIVE and cert.recognized_on <= report.deadline_on
                and tier.missed_change_report == "lose_review_eligibility"):
            lost |= mark_review_ineligible(session, actor=actor, cert=cert, cause="change_not_reported", at=at)
    return [f"逾期报告（截止 {report.deadline_on}，{report.reported_on} 报告）"
            f"{'，相关称号已丧失复核资格' if lost else ''} / reported late"]


def mark_change_reported(session: Session, *, actor: Actor, rules: Rules, change_report_id: int,
                         reported_on: date, at: datetime, today: date | None = None) -> tuple[ChangeReport, list[str]]:
    """Mark a registered major change as reported on `reported_on`; a date after its deadline costs review
    eligibility as the policy says. :raises RuleViolation, Conflict, NotFound:"""
    require(actor, Action.WRITE)
    guards.check_not_future("reported_on", "报告日期", reported_on, today or guards.local_today(at))
    report = session.get(ChangeReport, change_report_id)
    if report is None:
        raise NotFound("重大变化报告不存在 / no such change report", field="change_report_id")
    get_enterprise(session, actor, report.enterprise_id)  # region scope
    if report.reported_on is not None:
        raise Conflict(f"该重大变化已于 {report.reported_on} 报告 / already reported",
                       reported_on=report.reported_on.isoformat())
    guards.check_not_before("reported_on", "报告日期", reported_on, report.occurred_on, "变化发生日期")
    changes = audit.diff(report, {"reported_on": reported_on})
    session.flush()
    audit.record(session, actor=actor, action="change_report.reported", entity_type="change_report",
                 entity_id=report.id, enterprise_id=report.enterprise_id, region_code=report.enterprise.region_code,
                 changes=changes, at=at)
    return report, _late_report_consequences(session, actor, rules, report, at)



CHANGE_FIELDS = ("kind", "occurred_on", "reported_on", "details")
MAX_REASON = 500


def _reason(reason: str | None) -> str:
    """The reason a correction or withdrawal must give. :raises RuleViolation: on `reason`."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation.on("reason", "请填写更正或撤回的原因 / a reason is required")
    if len(reason) > MAX_REASON:
        raise RuleViolation.on("reason", f"原因最多 {MAX_REASON} 个字（现有 {len(reason)} 个）")
    return reason


def get_change_report(session: Session, actor: Actor, change_report_id: int) -> ChangeReport:
    """Load a change report of an enterprise in the actor's region. :raises NotFound:"""
    report = session.get(ChangeReport, change_report_id)
    if report is None:
        raise NotFound("重大变化报告不存在 / no such change report", field="change_report_id")
    get_enterprise(session, actor, report.enterprise_id)  # region scope
    return report


def _is_late(report: ChangeReport, today: date) -> bool:
    """Whether a change report costs review eligibility: reported after its deadline, or unreported past it."""
    return (report.reported_on > report.deadline_on) if report.reported_on is not None else today > report.deadline_on


def _restore_if_cleared(session: Session, actor: Actor, enterprise: Enterprise, today: date, at: datetime,
                        note: str) -> list[str]:
    """Give back the review eligibility lost for a change report when no change report of the enterprise
    still costs it (the late one was the mistaken entry)."""
    session.flush()
    session.expire(enterprise, ["change_reports"])
    restored = []
    for cert in enterprise.certifications:
        still = any(_is_late(r, today) and cert.recognized_on <= r.deadline_on for r in enterprise.change_reports)
        if not still and restore_review_eligibility(session, actor=actor, cert=cert, cause="change_not_reported",
                                                    at=at, note=note):
            restored.append(cert)
    return ["相关称号的复核资格已恢复（丧失原因系误登记的重大变化）"] if restored else []


def correct_change_report(session: Session, *, actor: Actor, rules: Rules, change_report_id: int,
                          data: dict[str, Any], reason: str, at: datetime,
                          today: date | None = None) -> tuple[ChangeReport, dict[str, list[Any]], list[str]]:
    """Correct a mistaken change report (kind, dates, details) with a reason: the deadline follows a new
    occurrence date; a report that becomes late costs review eligibility, one that no longer is gives it back.
    The original values stay in the trail (`change_report.corrected`, before → after). Returns the report, the
    changes and warnings. :raises RuleViolation: naming the field. :raises Conflict: a duplicate. :raises NotFound:"""
    require(actor, Action.WRITE)
    day = today or guards.local_today(at)
    reason = _reason(reason)
    report = get_change_report(session, actor, change_report_id)
    lock_enterprise(session, report.enterprise_id)
    enterprise = get_enterprise(session, actor, report.enterprise_id)
    values = {k: data[k] for k in CHANGE_FIELDS if k in data}
    occurred_on = values.get("occurred_on", report.occurred_on)
    reported_on = values.get("reported_on", report.reported_on)
    guards.check_not_future("occurred_on", "变化发生日期", occurred_on, day)
    if reported_on is not None:
        guards.check_not_future("reported_on", "报告日期", reported_on, day)
        if reported_on < occurred_on:
            raise RuleViolation.on("reported_on", "报告日期不能早于变化发生日期 / reported before it occurred")
    kind = values.get("kind", report.kind)
    same = session.scalar(sa.select(ChangeReport.id).where(
        ChangeReport.enterprise_id == enterprise.id, ChangeReport.kind == kind,
        ChangeReport.occurred_on == occurred_on, ChangeReport.id != report.id).limit(1))
    if same is not None:
        raise Conflict(f"该企业 {occurred_on.isoformat()} 发生的这项变化已另有登记 / duplicate change report",
                       field="occurred_on")
    if occurred_on != report.occurred_on:
        live = [c for c in enterprise.certifications if c.status in LIVE]
        due = change_report_due(rules, [rules.policies.tier(c.tier, policy_code=c.policy_code) for c in live],
                                occurred_on)
        values |= {"deadline_on": due.on, "deadline_provisional": due.provisional}
    changes = audit.diff(report, values)
    if not changes:
        return report, {}, []
    session.flush()
    audit.record(session, actor=actor, action="change_report.corrected", entity_type="change_report",
                 entity_id=report.id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                 changes=changes, at=at, why=audit.Why(note=reason))
    warnings = _late_report_consequences(session, actor, rules, report, at)
    warnings += _restore_if_cleared(session, actor, enterprise, day, at, f"重大变化报告已更正：{reason}")
    return report, changes, warnings


def withdraw_change_report(session: Session, *, actor: Actor, change_report_id: int, reason: str, at: datetime,
                           today: date | None = None) -> list[str]:
    """Withdraw a change report registered by mistake, with a reason: the record goes (its reminders are retired
    by the next scan, the 待办 no longer lists it), the trail keeps every value it had (`change_report.withdrawn`),
    and review eligibility lost only for it comes back. :raises RuleViolation, NotFound:"""
    require(actor, Action.WRITE)
    day = today or guards.local_today(at)
    reason = _reason(reason)
    report = get_change_report(session, actor, change_report_id)
    lock_enterprise(session, report.enterprise_id)
    enterprise = get_enterprise(session, actor, report.enterprise_id)
    fields = ("kind", "occurred_on", "reported_on", "deadline_on", "deadline_provisional", "details")
    changes = {f: [audit.plain(getattr(report, f)), None] for f in fields if getattr(report, f) not in (None, "")}
    report_id = report.id
    session.delete(report)
    session.flush()
    audit.record(session, actor=actor, action="change_report.withdrawn", entity_type="change_report",
                 entity_id=report_id, enterprise_id=enterprise.id, region_code=enterprise.region_code,
                 changes=changes, at=at, why=audit.Why(note=reason))
    return _restore_if_cleared(session, actor, enterprise, day, at, f"误登记的重大变化已撤回：{reason}")
