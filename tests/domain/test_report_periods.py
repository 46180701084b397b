"""Periodic reports of a tier: the next due period per title, period keys, and future periods, at boundaries.

The Chongqing 领军企业 file (渝府办发〔2021〕80号 四（三）（四）) declares the 一企一策 plan (once, 90 days after
listing, assumed), the quarterly summary (15 days after the quarter, assumed) and the yearly evaluation
(31 December, assumed).
"""

from __future__ import annotations

from datetime import date

import pytest

from registry.domain.errors import RuleViolation
from registry.domain.listings import PeriodicReport, next_due_report, parse_period, period_begun, report_period

QUARTERLY = PeriodicReport("q", "季度梳理", "quarter", "office", days_after=15)
YEARLY = PeriodicReport("y", "年度评估", "year", "office", due=(12, 31))
LEAP = PeriodicReport("l", "二月底报告", "year", "office", due=(2, 29))
ONCE = PeriodicReport("o", "一企一策方案", "once", "office", days_after=90)


@pytest.mark.parametrize(("listed", "period", "due"), [
    (date(2027, 3, 31), "2027Q1", date(2027, 4, 15)),   # last day of a quarter: that quarter
    (date(2027, 4, 1), "2027Q2", date(2027, 7, 15)),    # first day of the next
    (date(2027, 12, 31), "2027Q4", date(2028, 1, 15)),  # a year end: due in the next year
    (date(2028, 2, 29), "2028Q1", date(2028, 4, 15)),
])
def test_the_quarterly_summary_is_due_fifteen_days_after_the_quarter_the_listing_falls_in(listed, period, due):
    assert next_due_report(QUARTERLY, listed, set(), date(2027, 1, 1)) == (period, due)


def test_filed_quarters_are_skipped_across_a_year_end():
    filed = {"2027Q3", "2027Q4"}
    assert next_due_report(QUARTERLY, date(2027, 8, 1), filed, date(2028, 1, 2)) == ("2028Q1", date(2028, 4, 15))
    assert next_due_report(QUARTERLY, date(2027, 8, 1), {"2027Q4"}, date(2028, 1, 2)) == ("2027Q3",
                                                                                            date(2027, 10, 15))


def test_the_yearly_evaluation_is_due_on_31_december_and_moves_to_the_next_year_once_filed():
    assert next_due_report(YEARLY, date(2027, 12, 31), set(), date(2027, 12, 31)) == ("2027", date(2027, 12, 31))
    assert next_due_report(YEARLY, date(2027, 12, 31), {"2027"}, date(2028, 1, 1)) == ("2028", date(2028, 12, 31))


def test_a_29_february_due_day_holds_in_2028_and_falls_on_28_february_in_2029():
    assert next_due_report(LEAP, date(2028, 1, 5), set(), date(2028, 1, 5)) == ("2028", date(2028, 2, 29))
    assert next_due_report(LEAP, date(2028, 1, 5), {"2028"}, date(2028, 3, 1)) == ("2029", date(2029, 2, 28))


def test_the_one_plan_is_due_ninety_days_after_listing_and_never_again_once_filed():
    assert next_due_report(ONCE, date(2027, 12, 31), set(), date(2028, 1, 1)) == ("once", date(2028, 3, 30))
    assert next_due_report(ONCE, date(2028, 1, 1), set(), date(2028, 1, 1)) == ("once", date(2028, 3, 31))
    assert next_due_report(ONCE, date(2027, 12, 31), {"once"}, date(2028, 1, 1)) is None


@pytest.mark.parametrize(("report", "text", "parsed"), [
    (QUARTERLY, "2027q4", (2027, 4)), (QUARTERLY, " 2028Q1 ", (2028, 1)), (YEARLY, "2028", (2028, None)),
    (ONCE, "", (0, None)), (ONCE, "once", (0, None)),
])
def test_period_keys_are_read(report, text, parsed):
    assert parse_period(report, text) == parsed
    if report.every != "once":
        assert report_period(report, *parsed) == text.strip().upper()


@pytest.mark.parametrize(("report", "text", "words"), [
    (QUARTERLY, "2027Q5", "2027Q1"), (QUARTERLY, "2027", "2027Q1"), (QUARTERLY, "", "空"),
    (YEARLY, "2027Q1", "年份"), (YEARLY, "27", "年份"), (YEARLY, "<script>", "年份"), (ONCE, "2027", "留空"),
    (YEARLY, "²⁰²⁷", "年份"), (QUARTERLY, "²⁰²⁷Q1", "2027Q1"), (YEARLY, "1989", "年份"),
])
def test_a_bad_period_is_refused_naming_the_field(report, text, words):
    with pytest.raises(RuleViolation, match=words) as caught:
        parse_period(report, text)
    assert list(caught.value.errors) == ["period"]


def test_a_period_in_the_future_has_not_begun_at_its_boundaries():
    assert period_begun(QUARTERLY, 2027, 2, date(2027, 4, 1))
    assert not period_begun(QUARTERLY, 2027, 2, date(2027, 3, 31))
    assert period_begun(YEARLY, 2028, None, date(2028, 1, 1))
    assert not period_begun(YEARLY, 2028, None, date(2027, 12, 31))
    assert period_begun(ONCE, 0, None, date(2000, 1, 1))
