"""The shortest publicity a tier's list needs (registry/domain/publicity.py): 全国质量品牌提升示范区's
"公示期不少于五个工作日" (seed 000, 第二十二条、第二十八条), both ends of the window counted, holidays not."""

from datetime import date

import pytest

from registry.domain.errors import RuleViolation
from registry.domain.publicity import check_publicity
from registry.domain.workdays import WorkdayCalendar
from tests.domain.test_policy_sources import in_seed

CAL = WorkdayCalendar()


def test_the_minimum_is_the_texts():
    assert in_seed("000", "評估驗收結果進行公示,公示期不少于五個工作日")


@pytest.mark.parametrize(("starts", "ends", "ok"), [
    ("2026-06-01", "2026-06-05", True),    # Mon–Fri: five working days, both ends counted
    ("2026-06-01", "2026-06-04", False),   # four
    ("2026-06-05", "2026-06-10", False),   # Fri–Wed: Fri, Mon, Tue, Wed — four (the weekend does not count)
    ("2026-06-05", "2026-06-11", True),
    ("2026-09-30", "2026-10-09", False),   # 国庆: the holiday week does not count
])
def test_five_working_days_both_ends_counted(policies, starts, ends, ok):
    zone = policies.tier("quality_brand_zone")
    if ok:
        check_publicity(zone, date.fromisoformat(starts), date.fromisoformat(ends), CAL)
        return
    with pytest.raises(RuleViolation, match="公示期不少于5个工作日") as refused:
        check_publicity(zone, date.fromisoformat(starts), date.fromisoformat(ends), CAL)
    assert set(refused.value.errors) == {"ends_on"} and "第二十二条" in refused.value.errors["ends_on"][0]


def test_a_year_without_holiday_data_is_counted_on_weekends_and_said_so(policies):
    with pytest.raises(RuleViolation, match="缺少节假日数据"):
        check_publicity(policies.tier("quality_brand_zone"), date(2031, 6, 2), date(2031, 6, 5), CAL)
    check_publicity(policies.tier("quality_brand_zone"), date(2031, 6, 2), date(2031, 6, 6), CAL)


def test_a_tier_without_a_minimum_takes_any_window(policies):
    check_publicity(policies.tier("little_giant"), date(2026, 6, 1), date(2026, 6, 1), CAL)
    check_publicity(policies.tier("cooperation_zone"), date(2026, 6, 1), date(2026, 6, 1), CAL)  # 168号: no length
