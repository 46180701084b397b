"""Civil Code periods, the three expiry semantics, working days and the holiday-data guard."""

from datetime import timedelta

import chinese_calendar
import pytest

from registry.domain import deadlines
from registry.domain.errors import CalendarDataMissing
from registry.domain.periods import add_months, add_years, year_end
from registry.domain.policy import Period
from registry.domain.workdays import Provisional, WorkdayCalendar, add_workdays, next_workday_on_or_after
from tests.conftest import d

CAL = WorkdayCalendar()


@pytest.mark.parametrize(("start", "years", "end"), [
    ("2024-06-15", 3, "2027-06-15"),
    ("2024-02-29", 3, "2027-02-28"),
    ("2024-02-29", 4, "2028-02-29"),
    ("2023-12-31", 1, "2024-12-31"),
])
def test_years_end_on_the_corresponding_day_or_the_months_last(start, years, end):
    assert add_years(d(start), years) == d(end)


@pytest.mark.parametrize(("start", "months", "end"), [
    ("2026-01-31", 1, "2026-02-28"),
    ("2024-01-31", 1, "2024-02-29"),
    ("2026-08-31", 3, "2026-11-30"),
    ("2026-11-30", 3, "2027-02-28"),
    ("2026-07-01", 3, "2026-10-01"),
    ("2026-10-15", 14, "2027-12-15"),
])
def test_months_clamp_to_the_last_day(start, months, end):
    assert add_months(d(start), months) == d(end)


def test_year_end_counts_the_recognition_year_as_the_first():
    assert year_end(d("2024-06-15"), 3) == d("2026-12-31")


def test_fixed_term_spec_examples(policies):
    tier = policies.tier("innovative_sme", d("2024-06-15"))
    assert deadlines.validity_end(tier, d("2024-06-15")) == d("2027-06-15")
    assert deadlines.validity_end(tier, d("2024-02-29")) == d("2027-02-28")


def test_next_term_starts_the_day_after(policies):
    tier = policies.tier("little_giant", d("2024-06-15"))
    assert deadlines.next_term_end(tier, d("2027-06-15")) == d("2030-06-15")


def test_three_semantics(policies):
    tier = policies.tier("innovative_sme", d("2024-01-01"))
    year_end_tier = type(tier)(**{**tier.__dict__, "validity": "year_end"})
    superseded = type(tier)(**{**tier.__dict__, "validity": "until_superseded", "validity_years": None})
    assert deadlines.validity_end(year_end_tier, d("2024-06-15")) == d("2026-12-31")
    assert deadlines.next_term_end(year_end_tier, d("2026-12-31")) == d("2029-12-31")
    assert deadlines.validity_end(superseded, d("2024-06-15")) is None
    assert deadlines.review_window_opens(superseded, None) is None


def test_review_window_opens_before_expiry(policies):
    tier = policies.tier("specialized_sme", d("2024-06-15"))
    assert deadlines.review_window_opens(tier, d("2027-06-15")) == d("2027-06-15") - timedelta(days=90)


def test_change_report_moves_off_national_day():
    due = deadlines.deadline(CAL, d("2026-07-01"), Period(3, "months"))
    assert due.on == d("2026-10-08") and not due.provisional


def test_thirty_working_days_across_national_day():
    assert deadlines.deadline(CAL, d("2026-09-20"), Period(30, "working_days")).on == d("2026-11-06")
    assert add_workdays(CAL, d("2026-09-20"), 30) == chinese_calendar.find_workday(30, d("2026-09-20"))


def test_make_up_saturday_is_a_working_day():
    # 2026-09-20 (Sunday) is a 调休 working day before National Day 2026.
    assert chinese_calendar.is_workday(d("2026-09-20")) == CAL.is_workday(d("2026-09-20"))
    saturday = next(day for day in chinese_calendar.workdays if day.year == 2026 and day.weekday() >= 5)
    assert CAL.is_workday(saturday)
    assert next_workday_on_or_after(CAL, saturday) == saturday


def test_year_without_data_is_an_error_naming_the_year():
    with pytest.raises(CalendarDataMissing) as err:
        deadlines.strict_deadline(CAL, d("2026-12-10"), Period(30, "working_days"))
    assert err.value.year == 2027 and "2027" in err.value.message


def test_provisional_deadline_is_labelled():
    due = deadlines.deadline(CAL, d("2026-12-10"), Period(30, "working_days"))
    assert due.provisional and due.missing_years == (2027,)
    guess = Provisional(CAL)
    assert guess.is_workday(d("2027-01-04")) and not guess.is_workday(d("2027-01-09"))


def test_override_table_fills_a_missing_year():
    loaded = WorkdayCalendar(overrides={d("2027-01-01"): False, d("2027-02-06"): True}, loaded_years=frozenset({2027}))
    assert not loaded.is_workday(d("2027-01-01"))
    assert loaded.is_workday(d("2027-02-06"))  # a Saturday made a working day
    assert loaded.is_workday(d("2027-01-04"))
    due = deadlines.deadline(loaded, d("2026-12-10"), Period(30, "working_days"))
    assert not due.provisional


def test_override_beats_the_library():
    cal = WorkdayCalendar(overrides={d("2026-10-08"): False})
    assert deadlines.deadline(cal, d("2026-07-01"), Period(3, "months")).on == d("2026-10-09")


def test_annual_update_due_is_moved_off_a_rest_day(policies):
    tier = policies.tier("specialized_sme", d("2024-01-01"))
    # 2022-04-30 was a Saturday within the May Day holiday (4-30 to 5-4); the next working day is 5-5.
    assert deadlines.annual_update_due(CAL, tier, 2022).on == d("2022-05-05")
    assert deadlines.annual_update_due(CAL, tier, 2026).on == d("2026-04-30")
    assert list(deadlines.annual_update_years(d("2024-06-15"), d("2026-05-01"))) == [2025, 2026]


def test_days_period_counts_calendar_days():
    assert deadlines.deadline(CAL, d("2026-06-01"), Period(10, "days")).on == d("2026-06-11")
