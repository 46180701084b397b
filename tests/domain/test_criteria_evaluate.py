"""`criteria.evaluate`: the whole report for a tier — its verdict, the year and day judged, every
top-level criterion in order, and the stage: a criterion marked for the title only is checked by
default (recognition) and skipped when checking entry to a pool."""

from datetime import date

from registry.domain.criteria import Criteria, Facts, Manual, Title, Verdict, evaluate


def title_only_held(code):
    return Title(id="held", name="持有称号", source="test", stage="title", any_of=(code,))


def criteria(*items):
    return Criteria(source="测试文件", items=items)


def facts(*titles):
    return Facts(year=2025, on=date(2026, 6, 1), region_code="330000", titles=frozenset(titles))


def test_the_report_carries_the_verdict_the_year_and_the_day_judged():
    report = evaluate(criteria(title_only_held("sme")), facts("sme"))
    assert report.verdict == Verdict.PASS
    assert report.year == 2025 and report.on == date(2026, 6, 1)
    assert [r.id for r in report.results] == ["held"]
    assert report.results[0].verdict == Verdict.PASS


def test_a_failing_criterion_fails_the_report_and_an_open_one_leaves_it_open():
    assert evaluate(criteria(title_only_held("sme")), facts()).verdict == Verdict.FAIL
    manual = Manual(id="m", name="人工", source="test")
    report = evaluate(criteria(title_only_held("sme"), manual), facts("sme"))
    assert report.verdict == Verdict.UNKNOWN
    assert [r.id for r in report.results] == ["held", "m"]


def test_title_only_criteria_are_checked_by_default_and_at_the_title_stage():
    for report in (evaluate(criteria(title_only_held("sme")), facts()),
                   evaluate(criteria(title_only_held("sme")), facts(), "title")):
        assert report.verdict == Verdict.FAIL
        assert [r.id for r in report.results] == ["held"]


def test_title_only_criteria_are_skipped_when_checking_entry_to_a_pool():
    report = evaluate(criteria(title_only_held("sme")), facts(), "pool")
    assert report.verdict == Verdict.PASS and report.results == ()
