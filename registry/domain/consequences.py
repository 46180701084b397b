"""What an officer's action will do, said in Chinese from the policy before the officer confirms.

Pure: the caller gathers the title's facts and the tiers that apply; these functions only read
the policy data (validity, review window, revocation reasons and their bans and scope) and the
date rules, so the text shown before confirming is what the services will then do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from registry.domain import deadlines
from registry.domain.deadlines import DueDate
from registry.domain.eligibility import ban_ends
from registry.domain.lifecycle import STATUS_NAMES, Event, Status
from registry.domain.policy import RevocationReason, Tier
from registry.domain.text import plain_source

NUMERALS = "零一两三四五六七八九十"
VALIDITY = {"fixed_term": "自认定之日起{n}年", "year_end": "至第{n}年年底", "until_superseded": "至下一批名单发布"}


def years_cn(n: int) -> str:
    """Return a small number of years in Chinese (三年); larger ones in digits."""
    return f"{NUMERALS[n]}年" if 0 <= n <= 10 else f"{n}年"


@dataclass(frozen=True)
class TitleFacts:
    """What the consequences of an event on one title depend on."""

    tier: Tier
    status: Status
    valid_until: date | None
    review_eligible: bool = True
    ineligible_cause: str | None = None
    other_live: tuple[str, ...] = ()  #: names of the enterprise's other live titles of the same ladder
    dependents: tuple[str, ...] = ()  #: names of live titles that need this one as prerequisite


def validity_text(tier: Tier, starts_on: date) -> str:
    """Say how long a term starting on `starts_on` runs."""
    until = deadlines.validity_end(tier, starts_on)
    if until is None:
        return f"有效期自 {starts_on} 起，至下一批名单发布时止"
    rule = VALIDITY[tier.validity].format(n=tier.validity_years)
    return f"有效期自 {starts_on} 起至 {until} 止（{rule}）"


def grant(tier: Tier, recognized_on: date) -> list[str]:
    """Describe a grant: the validity, the review window and the yearly update."""
    lines = [f"授予「{tier.name}」称号（依 {tier.policy_code}），{validity_text(tier, recognized_on)}"]
    opens = deadlines.review_window_opens(tier, deadlines.validity_end(tier, recognized_on))
    if opens is not None:
        lines.append(f"复核窗口自 {opens} 起开放（到期前 {tier.review_window_days} 日）")
    if tier.annual_update_due is not None:
        month, day = tier.annual_update_due
        loses = tier.missed_annual_update == "lose_review_eligibility"
        missed = "逾期将丧失下一次复核资格" if loses else "逾期将被标记"
        lines.append(f"此后每年 {month} 月 {day} 日前须更新上一年度信息，{missed}")
    return lines


def revoke(facts: TitleFacts, reason: RevocationReason, effective_on: date) -> list[str]:
    """Describe a revocation: which titles end and the ban it carries."""
    ban = ""
    if reason.ban_years > 0:
        ban = f"，并禁止{years_cn(reason.ban_years)}内（至 {ban_ends(effective_on, reason.ban_years)}）再次申报"
    if reason.scope == "all_tiers":
        others = f"（{facts.tier.name}及{'、'.join(facts.other_live)}）" if facts.other_live else ""
        lines = [f"撤销将同时取消该企业全部称号{others}{ban}"]
    else:
        lines = [f"撤销该称号（{facts.tier.name}），自 {effective_on} 起失效{ban or '，不设禁止申报期'}"]
    if reason.basis:
        lines.append(f"依据：{plain_source(reason.basis)}")
    return lines + _dependents(facts, all_end=reason.scope == "all_tiers")


def _dependents(facts: TitleFacts, *, all_end: bool = False) -> list[str]:
    if all_end or not facts.dependents:
        return []
    return [f"以该称号为前置条件的{'、'.join(facts.dependents)}将被标记为「前置条件丧失」（不自动撤销）"]


def event(facts: TitleFacts, action: Event, effective_on: date, *, renewal: Tier | None = None,
          downgrade_to: Tier | None = None) -> list[str]:
    """Describe an event other than a revocation (which needs its reason: see `revoke`)."""
    tier = facts.tier
    if action == Event.SUBMIT_REVIEW:
        lines = [f"称号状态将由「{STATUS_NAMES[facts.status]}」变为「复核中」，原有效期不变"]
        if not facts.review_eligible:
            lines.append(f"该称号已丧失复核资格（{facts.ineligible_cause}），系统将拒绝提交")
        return lines
    if action == Event.PASS_REVIEW:
        return [_renewal_text(facts, renewal or tier)]
    if action == Event.FAIL_REVIEW:
        ending = "撤销" if tier.failed_review == "revoke" else "到期终止"
        return [f"复核不通过，称号将于 {effective_on} {ending}（依政策 {tier.policy_code}：复核不通过即{ending}）",
                *_dependents(facts)]
    if action == Event.DOWNGRADE and downgrade_to is not None:
        return [f"「{tier.name}」将于 {effective_on} 被替代，同时授予「{downgrade_to.name}」，"
                f"{validity_text(downgrade_to, effective_on)}"]
    verbs = {Event.WITHDRAW: "因企业主动放弃而终止，不设禁止申报期", Event.SUPERSEDE: "被新名单替代而终止",
             Event.EXPIRE: "到期终止", Event.DOWNGRADE: "降级终止"}
    return [f"称号将于 {effective_on} {verbs[action]}", *_dependents(facts)]


def _renewal_text(facts: TitleFacts, rule: Tier) -> str:
    if facts.valid_until is None:
        return "该称号无固定有效期，无需复核（系统将拒绝）"
    start = facts.valid_until + timedelta(days=1)
    until = deadlines.next_term_end(rule, facts.valid_until)
    return f"复核通过：新有效期自 {start} 起至 {until} 止（依 {rule.policy_code}），复核资格标记将恢复"


def change_report(due: DueDate, occurred_on: date, reported_on: date | None, *, loses_eligibility: bool) -> list[str]:
    """Describe a major-change report: its deadline (provisional or not) and lateness."""
    lines = [f"报告截止日期：{due.on}（自变化发生之日 {occurred_on} 起算，遇法定节假日顺延）"]
    if due.provisional:
        years = "、".join(str(y) for y in due.missing_years)
        lines.append(f"该截止日期为暂定：缺少 {years} 年节假日数据（仅按周末计算），管理员录入后将重新计算")
    penalty = "所持称号将丧失复核资格" if loses_eligibility else "将被标记为逾期报告"
    if reported_on is None:
        lines.append(f"尚未报告：请在截止日期前报告，逾期{penalty}")
    elif reported_on > due.on:
        lines.append(f"逾期报告（{reported_on} 晚于截止日期），{penalty}")
    else:
        lines.append(f"已于 {reported_on} 按期报告")
    return lines


def annual_report(year: int, due: DueDate | None, *, correcting: bool) -> list[str]:
    """Describe recording (or correcting) one year's figures."""
    verb = f"更正已登记的 {year} 年度数据（修改前后的数值记入审计日志）" if correcting else f"登记 {year} 年度数据"
    if due is None:
        return [verb]
    mark = "（暂定）" if due.provisional else ""
    return [verb, f"{year + 1} 年度信息更新截止日期为 {due.on}{mark}"]
