"""The shortest publicity (公示) a tier's list needs, as its policy states it (`Tier.publicity_min`).

全国质量品牌提升示范区 (seed 000, 第二十二条、第二十八条): "公示期不少于五个工作日". A window from
`starts_on` to `ends_on`, both days included, must hold at least that many working days (or days);
counted with the working-day calendar, a year without holiday data counted on weekends and said so.
A tier whose policy states no minimum takes any window. Pure.
"""

from __future__ import annotations

from datetime import date, timedelta

from registry.domain.errors import RuleViolation
from registry.domain.policy import Tier
from registry.domain.workdays import Provisional, WorkdayCalendar


def check_publicity(tier: Tier, starts_on: date, ends_on: date, cal: WorkdayCalendar) -> None:
    """Refuse a publicity window shorter than the tier's minimum. :raises RuleViolation: on `ends_on`."""
    least = tier.publicity_min
    if least is None or least.unit not in ("working_days", "days") or ends_on < starts_on:
        return
    guessing = Provisional(cal)
    days = [starts_on + timedelta(days=n) for n in range((ends_on - starts_on).days + 1)]
    counted = len(days) if least.unit == "days" else sum(1 for day in days if guessing.is_workday(day))
    if counted < least.amount:
        unit = "日" if least.unit == "days" else "个工作日"
        guess = "（按周末推算：缺少节假日数据）" if guessing.is_provisional else ""
        source = tier.sources.get("publicity_min")
        basis = f"（{source.source}）" if source is not None and source.source else ""
        raise RuleViolation.on("ends_on", f"{tier.name}的公示期不少于{least}{basis}：{starts_on} 至 {ends_on} 只有"
                                          f"{counted}{unit}{guess} / publicity shorter than {least.amount} {least.unit}")
