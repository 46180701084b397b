"""Grant checks: prerequisites on the recognition date, exclusions and bans.

Pure: the service gathers what the enterprise holds and its bans, this module decides. Every
refusal names the reason in Chinese and English so an officer can act on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from registry.domain.errors import RuleViolation
from registry.domain.periods import add_years
from registry.domain.policy import Prerequisite, Tier


@dataclass(frozen=True)
class Holding:
    """A title the enterprise holds: its tier and the days it is valid."""

    tier: str
    valid_from: date
    valid_until: date | None
    ended_on: date | None = None

    def valid_on(self, day: date) -> bool:
        """Tell whether the title is valid on `day`."""
        started = self.valid_from <= day
        not_lapsed = self.valid_until is None or day <= self.valid_until
        not_ended = self.ended_on is None or day < self.ended_on
        return started and not_lapsed and not_ended


#: what a ban bars, as a person reads it beside the title applied for (a revocation reason's `ban_blocks`)
BLOCK_NAMES = {"tier": "本称号", "programme": "本项目全部称号", "ladder": "本梯度全部称号", "all": "全部称号"}


@dataclass(frozen=True)
class Ban:
    """A bar on applying, keyed by USCC: from `starts_on` up to and including `ends_on`."""

    starts_on: date
    ends_on: date
    reason: str
    document_no: str = ""
    lifted_on: date | None = None
    #: what the ban bars (its revocation reason's `ban_blocks`): the revoked `tier`, its
    #: `programme`, every programme of its `ladder`, or `all` (a ban of unknown origin)
    blocks: str = "all"
    tier: str | None = None
    programme: str | None = None
    ladder: str | None = None

    def active_on(self, day: date) -> bool:
        """Tell whether the ban is in force on `day`."""
        lifted = self.lifted_on is not None and self.lifted_on <= day
        return self.starts_on <= day <= self.ends_on and not lifted

    def bars(self, tier: Tier) -> bool:
        """Tell whether the ban bars applying for `tier` (whatever the day)."""
        if self.blocks == "tier":
            return tier.code == self.tier
        if self.blocks == "programme":
            return tier.programme == self.programme
        if self.blocks == "ladder":
            return (tier.ladder is not None and tier.ladder == self.ladder) or tier.programme == self.programme
        return True

    def bars_on(self, tier: Tier, day: date) -> bool:
        """Tell whether the ban bars an application for `tier` on `day`."""
        return self.active_on(day) and self.bars(tier)

    @property
    def reach(self) -> str:
        """Say in Chinese what the ban bars, seen from a title it bars (本称号, 本项目全部称号, …): never a code."""
        return BLOCK_NAMES.get(self.blocks, BLOCK_NAMES["all"])


def ban_ends(starts_on: date, years: int) -> date:
    """Return the last banned day of a ban of `years` starting on `starts_on`."""
    return add_years(starts_on, years)


def missing_prerequisite(pre: Prerequisite, holdings: Iterable[Holding], on: date,
                         revenue: Decimal | None, names: dict[str, str]) -> str | None:
    """Explain why `pre` is unmet on `on`, or return None when it is met or does not apply."""
    if not pre.applies_to(revenue):
        return None
    if any(h.tier in pre.any_of and h.valid_on(on) for h in holdings):
        return None
    wanted = "或".join(names.get(c, c) for c in pre.any_of)
    condition = ""
    if pre.when_revenue_at_most is not None:
        yuan = f"{pre.when_revenue_at_most / 10**8:g}亿元"
        condition = (f"（营业收入{yuan}以下）" if revenue is not None
                     else f"（无上年度营业收入数据，无法确认是否超过{yuan}）")
    return (f"{on.isoformat()} 未持有有效的{wanted}称号{condition}"
            f" / needs a valid {' or '.join(pre.any_of)} on {on.isoformat()}")


def check_grant(tier: Tier, on: date, holdings: list[Holding], bans: list[Ban],
                revenue: Decimal | None, names: dict[str, str]) -> None:
    """Refuse a grant that breaks a ban, a prerequisite or an exclusion. :raises RuleViolation:"""
    errors: dict[str, list[str]] = {}
    for ban in bans:
        if ban.bars_on(tier, on):
            errors.setdefault("uscc", []).append(
                f"该企业处于禁止申报期，至 {ban.ends_on.isoformat()} 止（原因：{ban.reason}"
                f"{'，文号 ' + ban.document_no if ban.document_no else ''}；禁止范围：{ban.reach}）"
                f" / banned until {ban.ends_on.isoformat()}: {ban.reason}")
    for pre in tier.prerequisites:
        problem = missing_prerequisite(pre, holdings, on, revenue, names)
        if problem:
            errors.setdefault("tier", []).append(f"缺少前置称号：{problem}")
    for code in tier.excluded_if_holding:
        if any(h.tier == code and h.valid_on(on) for h in holdings):
            errors.setdefault("tier", []).append(
                f"已持有有效的{names.get(code, code)}称号，不再认定{tier.name}"
                f" / holders of {code} are not granted {tier.code}")
    if any(h.tier == tier.code and h.valid_on(on) for h in holdings):
        errors.setdefault("tier", []).append(
            f"该企业在 {on.isoformat()} 已持有有效的{tier.name}称号 / already holds {tier.code}")
    if errors:
        raise RuleViolation(errors)
