"""Deadline boundaries the mutation run found untested (docs/mutation.md): a term renewed from
30 December, deadlines counted in years, a year without holiday data, the override table."""

from dataclasses import replace

from registry.domain import deadlines
from registry.domain.policy import Period
from registry.domain.workdays import (
    LIBRARY_YEARS,
    Provisional,
    WorkdayCalendar,
    add_workdays,
    calendar_from_rows,
    next_workday_on_or_after,
)
from tests.conftest import d

CAL = WorkdayCalendar()


def test_a_year_end_term_renewed_from_30_december_starts_on_the_31st(policies):
    tier = replace(policies.tier("innovative_sme", d("2024-01-01")), validity="year_end", validity_years=3)
    # The next term starts 2026-12-31 — still 2026, so 2026 is its first year.
    assert deadlines.next_term_end(tier, d("2026-12-30")) == d("2028-12-31")
    assert deadlines.next_term_end(tier, d("2026-12-31")) == d("2029-12-31")


def test_deadline_counted_in_years_moves_off_national_day():
    # 2025-10-01..08 were rest days (National Day + Mid-Autumn); 10-09 was the first working day.
    assert deadlines.deadline(CAL, d("2024-10-01"), Period(1, "years")).on == d("2025-10-09")
    assert deadlines.strict_deadline(CAL, d("2023-06-15"), Period(2, "years")) == d("2025-06-16")  # 06-15 a Sunday


def test_deadline_counted_in_months_and_days_differs_from_years():
    assert deadlines.deadline(CAL, d("2025-01-15"), Period(12, "months")).on == d("2026-01-15")
    assert deadlines.deadline(CAL, d("2025-01-15"), Period(1, "years")).on == d("2026-01-15")
    assert deadlines.deadline(CAL, d("2025-01-15"), Period(1, "days")).on == d("2025-01-16")


def test_annual_update_in_a_year_without_holiday_data_is_provisional_naming_the_year(policies):
    tier = policies.tier("specialized_sme", d("2024-01-01"))
    due = deadlines.annual_update_due(CAL, tier, 2027)
    assert due.on == d("2027-04-30")  # a Friday: weekends alone say it is a working day
    assert due.provisional is True and due.missing_years == (2027,)
    known = deadlines.annual_update_due(CAL, tier, 2026)
    assert known.provisional is False and known.missing_years == ()


def test_annual_update_with_the_years_notice_loaded_is_not_provisional(policies):
    tier = policies.tier("specialized_sme", d("2024-01-01"))
    # Officers load the 2027 notice: 2027-04-30 made a rest day (a May Day bridge, say).
    cal = calendar_from_rows([(d("2027-04-30"), False)], loaded_years=[2027])
    due = deadlines.annual_update_due(cal, tier, 2027)
    assert due.on == d("2027-05-03") and due.provisional is False and due.missing_years == ()


def test_no_annual_update_or_change_report_when_the_tier_has_none(policies):
    tier = replace(policies.tier("specialized_sme", d("2024-01-01")), annual_update_due=None, change_deadline=None)
    assert deadlines.annual_update_due(CAL, tier, 2026) is None
    assert deadlines.change_report_deadline(CAL, tier, d("2026-07-01")) is None


def test_change_report_deadline_follows_the_tiers_period(policies):
    tier = replace(policies.tier("specialized_sme", d("2024-01-01")), change_deadline=Period(3, "months"))
    due = deadlines.change_report_deadline(CAL, tier, d("2026-07-01"))
    assert due == deadlines.DueDate(d("2026-10-08"), False, ())
    late = deadlines.change_report_deadline(CAL, tier, d("2026-11-15"))
    assert late.on == d("2027-02-15") and late.provisional and late.missing_years == (2027,)


def test_review_window_needs_both_an_end_and_window_days(policies):
    tier = policies.tier("specialized_sme", d("2024-06-15"))
    assert deadlines.review_window_opens(replace(tier, review_window_days=None), d("2027-06-15")) is None
    assert deadlines.review_window_opens(replace(tier, review_window_days=0), d("2027-06-15")) == d("2027-06-15")


def test_library_years_are_exactly_2004_to_2026():
    assert CAL.covers(2004) and CAL.covers(2026)
    assert not CAL.covers(2003) and not CAL.covers(2027)
    assert LIBRARY_YEARS == range(2004, 2027)


def test_an_ordinary_weekend_is_a_rest_day_and_a_weekday_a_working_day():
    assert not CAL.is_workday(d("2026-06-06"))  # Saturday
    assert not CAL.is_workday(d("2026-06-07"))  # Sunday
    assert CAL.is_workday(d("2026-06-05"))  # Friday
    assert not CAL.is_workday(d("2026-10-01"))  # National Day, a Thursday
    assert next_workday_on_or_after(CAL, d("2026-06-06")) == d("2026-06-08")


def test_the_override_table_is_used_rows_and_loaded_years():
    cal = calendar_from_rows([(d("2027-01-01"), False), (d("2027-02-06"), True)], [2027])
    assert cal.covers(2027)
    assert not cal.is_workday(d("2027-01-01")) and cal.is_workday(d("2027-02-06"))
    # A row overrides the library too, and rows alone do not declare a year loaded.
    partial = calendar_from_rows([(d("2026-06-08"), False)])
    assert not partial.is_workday(d("2026-06-08")) and not partial.covers(2027)
    assert next_workday_on_or_after(partial, d("2026-06-06")) == d("2026-06-09")
    guess = Provisional(partial)
    assert guess.is_workday(d("2027-01-01")) and guess.missing_years == {2027}


def test_add_workdays_counts_each_working_day_once():
    assert add_workdays(CAL, d("2026-06-05"), 0) == d("2026-06-05")
    assert add_workdays(CAL, d("2026-06-05"), 1) == d("2026-06-08")
    assert add_workdays(CAL, d("2026-06-05"), 2) == d("2026-06-09")
    assert add_workdays(CAL, d("2026-06-05"), 5) == d("2026-06-12")
