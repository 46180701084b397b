"""Officers' holiday overrides are used: the path every deadline of a year without library data depends on.

chinesecalendar 1.11 knows the holidays up to 2026. For 2027 the calendar falls back to weekends
and marks dates provisional until an officer enters the State Council notice (holiday_overrides,
holiday_years). An override loaded for a holiday changes a deadline computed that day.
"""

from datetime import date

from registry.domain.deadlines import annual_update_due
from registry.policies.models import HolidayOverride, HolidayYear
from registry.policies.rules import load_rules
from tests.conftest import NOW


def _due(session, policies):
    rules = load_rules(session, policies)
    return annual_update_due(rules.calendar, policies.tier("innovative_sme", date(2027, 1, 1)), 2027)


def test_an_override_for_a_holiday_moves_the_annual_update_deadline_and_ends_the_guess(session, policies):
    before = _due(session, policies)
    assert before.on == date(2027, 4, 30) and before.provisional  # a Friday, by weekends alone
    # The notice (as an officer would load it): 30 April to 5 May rest, Saturday 8 May worked.
    session.add(HolidayOverride(day=date(2027, 4, 30), is_workday=False, note="劳动节"))
    for day in range(1, 6):
        session.add(HolidayOverride(day=date(2027, 5, day), is_workday=False, note="劳动节"))
    session.add(HolidayOverride(day=date(2027, 5, 8), is_workday=True, note="劳动节调休上班"))
    session.add(HolidayYear(year=2027, source_doc="国务院办公厅关于2027年部分节假日安排的通知（测试）", loaded_at=NOW))
    session.flush()
    after = _due(session, policies)
    # 民法典第二百零三条: a period whose last day is a rest day ends on the first working day after it.
    assert after.on == date(2027, 5, 6) and not after.provisional


def test_a_single_override_without_the_whole_year_still_moves_the_day_but_stays_provisional(session, policies):
    session.add(HolidayOverride(day=date(2027, 4, 30), is_workday=False, note="先行录入"))
    session.flush()
    after = _due(session, policies)
    assert after.on == date(2027, 5, 3) and after.provisional  # Monday 3 May: the rest of 2027 is still a guess
