"""The guards (issue 14): facts never after today nor before recognition, reviews only in their window,
results only for a review under way, plausible annual figures — each threshold at, just above and just
below its boundary."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from registry.domain import deadlines
from registry.domain.errors import IllegalTransition, RuleViolation
from registry.domain.guards import (
    TitleState,
    allowed_now,
    check_annual_figures,
    check_event,
    check_incident,
    check_not_future,
    local_today,
    review_window,
)
from registry.domain.lifecycle import Event, Outcome, Status
from registry.domain.workdays import WorkdayCalendar

CAL = WorkdayCalendar()
ONE = timedelta(days=1)
RESULTS = (Event.SUBMIT_REVIEW, Event.PASS_REVIEW, Event.FAIL_REVIEW, Event.REVOKE, Event.WITHDRAW)


@pytest.fixture
def tier(policies):
    return policies.tier("innovative_sme", policy_code="national-2022")


def state(**kw):
    base = dict(status=Status.ACTIVE, recognized_on=date(2023, 10, 3), valid_until=date(2026, 10, 3))
    return TitleState(**{**base, **kw})


def refused(tier, title, event, on, today=date(2027, 1, 1)):
    with pytest.raises(RuleViolation) as err:
        check_event(tier, title, event, on, today, review_window(tier, title.valid_until, CAL))
    return next(iter(err.value.errors.values()))[0]


def accepted(tier, title, event, on, today=date(2027, 1, 1)):
    return check_event(tier, title, event, on, today, review_window(tier, title.valid_until, CAL))


# ------------------------------------------------------------------ today (Asia/Shanghai)

def test_today_is_the_shanghai_day_of_the_instant():
    assert local_today(datetime(2026, 6, 1, 15, 59, 59, tzinfo=UTC)) == date(2026, 6, 1)
    assert local_today(datetime(2026, 6, 1, 16, 0, 0, tzinfo=UTC)) == date(2026, 6, 2)
    assert local_today(datetime(2026, 6, 1, 16, 0, 0)) == date(2026, 6, 2)  # naive: UTC


def test_a_fact_is_never_after_today():
    today = date(2026, 12, 6)
    check_not_future("recognized_on", "认定日期", today, today)
    check_not_future("recognized_on", "认定日期", today - ONE, today)
    with pytest.raises(RuleViolation) as err:
        check_not_future("recognized_on", "认定日期", today + ONE, today)
    assert err.value.errors["recognized_on"][0].startswith("认定日期（2026-12-07）晚于今天（2026-12-06）")


def test_every_event_is_refused_after_today_and_before_recognition(tier):
    title = state()
    for event in (Event.WITHDRAW, Event.REVOKE, Event.EXPIRE, Event.SUPERSEDE):
        assert "晚于今天" in refused(tier, title, event, date(2026, 8, 2), today=date(2026, 8, 1))
        accepted(tier, title, event, date(2026, 8, 1), today=date(2026, 8, 1))
        assert "早于认定日期（2023-10-03）" in refused(tier, title, event, date(2023, 10, 2))
        accepted(tier, title, event, date(2023, 10, 3))


def test_an_event_is_not_dated_before_the_titles_last_event(tier):
    title = state(last_event_on=date(2026, 7, 10))
    assert "最近一次登记的事项日期" in refused(tier, title, Event.WITHDRAW, date(2026, 7, 9))
    accepted(tier, title, Event.WITHDRAW, date(2026, 7, 10))


# ------------------------------------------------------------------ the review window

def test_window_last_day_moves_off_a_rest_day_but_the_validity_does_not(tier):
    # valid until Saturday 2026-10-03, inside the National Day holiday: the window closes on 10-08
    window = review_window(tier, date(2026, 10, 3), CAL)
    assert (window.opens, window.closes) == (date(2026, 7, 5), date(2026, 10, 8))
    assert deadlines.validity_end(tier, date(2023, 10, 3)) == date(2026, 10, 3)
    on_a_workday = review_window(tier, date(2026, 6, 15), CAL)  # a Monday: nothing moves
    assert on_a_workday.closes == date(2026, 6, 15)


@pytest.mark.parametrize(("on", "ok"), [
    (date(2026, 7, 4), False), (date(2026, 7, 5), True), (date(2026, 7, 6), True),
    (date(2026, 10, 3), True), (date(2026, 10, 7), True), (date(2026, 10, 8), True), (date(2026, 10, 9), False),
])
def test_review_is_submitted_only_inside_its_window(tier, on, ok):
    if ok:
        assert accepted(tier, state(), Event.SUBMIT_REVIEW, on) == Status.UNDER_REVIEW
    else:
        message = refused(tier, state(), Event.SUBMIT_REVIEW, on)
        assert "复核窗口为 2026-07-05 至 2026-10-08" in message
        assert ("尚未开始" if on < date(2026, 7, 5) else "已经结束") in message


@pytest.mark.parametrize(("on", "ok"), [
    (date(2026, 6, 15), False), (date(2026, 6, 16), True), (date(2026, 9, 13), True),
    (date(2026, 9, 14), True), (date(2026, 9, 15), False),
])
def test_a_post_expiry_review_is_submitted_in_the_days_after_expiry(tier, on, ok):
    after = replace(tier, review_timing="after_expiry", review_after_expiry_days=90)
    title = state(recognized_on=date(2023, 6, 15), valid_until=date(2026, 6, 15))
    window = review_window(after, title.valid_until, CAL)
    # 2026-06-15 + 90 days = Sunday 2026-09-13, moved to Monday 2026-09-14
    assert (window.opens, window.closes, window.after_expiry) == (date(2026, 6, 16), date(2026, 9, 14), True)
    if ok:
        accepted(after, title, Event.SUBMIT_REVIEW, on)
    else:
        assert "复核窗口为 2026-06-16 至 2026-09-14（有效期届满后评估复核）" in refused(after, title, Event.SUBMIT_REVIEW, on)


def test_review_refused_while_ineligible_says_why_and_the_window(tier):
    title = state(review_eligible=False, ineligible_cause="未按期更新年度信息")
    message = refused(tier, title, Event.SUBMIT_REVIEW, date(2026, 8, 1))
    assert "丧失复核资格（未按期更新年度信息）" in message and "2026-07-05 至 2026-10-08" in message


def test_a_title_without_a_term_has_no_review(policies):
    tier = replace(policies.tier("innovative_sme", policy_code="national-2022"), validity="until_superseded")
    assert "不需复核" in refused(tier, state(valid_until=None), Event.SUBMIT_REVIEW, date(2026, 8, 1))


def test_a_review_needing_the_audit_code_is_refused_without_it(policies):
    giant = policies.tier("little_giant", policy_code="national-2022")
    assert giant.requires_audit_code
    message = refused(giant, state(audit_code_ok=False), Event.SUBMIT_REVIEW, date(2026, 8, 1))
    assert "验证码" in message and "财办会〔2024〕15号" in message
    accepted(giant, state(audit_code_ok=True), Event.SUBMIT_REVIEW, date(2026, 8, 1))


# ------------------------------------------------------------------ results

def test_a_result_needs_a_review_under_way(tier):
    with pytest.raises(IllegalTransition):
        accepted(tier, state(), Event.PASS_REVIEW, date(2026, 8, 1))
    with pytest.raises(IllegalTransition):
        accepted(tier, state(), Event.FAIL_REVIEW, date(2026, 8, 1))
    assert "没有进行中的复核" in refused(tier, state(status=Status.UNDER_REVIEW), Event.PASS_REVIEW, date(2026, 8, 1))
    under = state(status=Status.UNDER_REVIEW, submitted_on=date(2026, 8, 1), last_event_on=date(2026, 8, 1))
    assert "早于提交复核日期" in refused(tier, replace(under, last_event_on=None), Event.PASS_REVIEW, date(2026, 7, 31))
    assert accepted(tier, under, Event.PASS_REVIEW, date(2026, 8, 1)) == Status.ACTIVE
    assert accepted(tier, under, Event.FAIL_REVIEW, date(2026, 8, 2)) == Outcome.BY_POLICY
    assert "丧失复核资格" in refused(tier, replace(under, review_eligible=False), Event.PASS_REVIEW, date(2026, 8, 2))


def test_no_review_and_no_pass_in_a_titles_first_year(tier):
    young = state(recognized_on=date(2025, 6, 15), valid_until=date(2028, 6, 15))
    assert "尚未开始" in refused(tier, young, Event.SUBMIT_REVIEW, date(2026, 1, 1))
    with pytest.raises(IllegalTransition):
        accepted(tier, young, Event.PASS_REVIEW, date(2026, 1, 1))


def test_allowed_now_is_what_check_event_accepts(tier):
    assert allowed_now(tier, state(), date(2026, 7, 4), review_window(tier, date(2026, 10, 3), CAL), RESULTS) == [
        Event.REVOKE, Event.WITHDRAW]
    assert allowed_now(tier, state(), date(2026, 7, 5), review_window(tier, date(2026, 10, 3), CAL), RESULTS) == [
        Event.SUBMIT_REVIEW, Event.REVOKE, Event.WITHDRAW]
    ineligible = state(review_eligible=False)
    assert Event.SUBMIT_REVIEW not in allowed_now(tier, ineligible, date(2026, 8, 1),
                                                  review_window(tier, date(2026, 10, 3), CAL), RESULTS)
    under = state(status=Status.UNDER_REVIEW, submitted_on=date(2026, 8, 1))
    assert allowed_now(tier, under, date(2026, 8, 1), review_window(tier, date(2026, 10, 3), CAL), RESULTS) == [
        Event.PASS_REVIEW, Event.FAIL_REVIEW, Event.REVOKE, Event.WITHDRAW]
    assert Event.DOWNGRADE not in allowed_now(tier, state(), date(2026, 8, 1), None, (Event.DOWNGRADE,))


# ------------------------------------------------------------------ annual figures

TODAY = date(2026, 12, 6)


def figure_error(year=2025, **figures):
    with pytest.raises(RuleViolation) as err:
        check_annual_figures(year, figures, TODAY)
    return err.value.errors


@pytest.mark.parametrize(("staff", "ok"), [(99, True), (100, True), (101, False)])
def test_rd_staff_at_most_employees(staff, ok):
    if ok:
        check_annual_figures(2025, {"employees": 100, "rd_staff": staff}, TODAY)
    else:
        assert "研发人员数（101）多于从业人员数（100）" in figure_error(employees=100, rd_staff=staff)["rd_staff"][0]


@pytest.mark.parametrize(("main", "ok"), [("999.99", True), ("1000.00", True), ("1000.01", False)])
def test_main_business_revenue_at_most_revenue(main, ok):
    figures = {"revenue": Decimal("1000.00"), "main_business_revenue": Decimal(main)}
    if ok:
        check_annual_figures(2025, figures, TODAY)
    else:
        assert "主营业务收入" in figure_error(**figures)["main_business_revenue"][0]


@pytest.mark.parametrize(("ratio", "ok"), [("-0.01", False), ("0", True), ("0.01", True), ("99.99", True),
                                            ("100", True), ("100.01", False)])
def test_debt_ratio_between_0_and_100(ratio, ok):
    if ok:
        check_annual_figures(2025, {"debt_ratio": Decimal(ratio)}, TODAY)
    else:
        assert "0–100%" in figure_error(debt_ratio=Decimal(ratio))["debt_ratio"][0]


@pytest.mark.parametrize(("year", "ok"), [(2025, True), (2026, True), (2027, False)])
def test_year_not_after_this_year(year, ok):
    if ok:
        check_annual_figures(year, {}, TODAY)
    else:
        assert "晚于今年（2026）" in figure_error(year=year)["year"][0]


@pytest.mark.parametrize(("offset", "ok"), [(-1, True), (0, True), (1, False)])
def test_filing_date_not_after_today(offset, ok):
    figures = {"submitted_on": TODAY + timedelta(days=offset)}
    if ok:
        check_annual_figures(2025, figures, TODAY)
    else:
        assert "晚于今天" in figure_error(**figures)["submitted_on"][0]


def test_every_error_is_reported_at_once_and_negatives_are_refused():
    errors = figure_error(employees=-1, rd_staff=5, revenue=Decimal(-1), debt_ratio=Decimal(101))
    assert {"employees", "revenue", "debt_ratio", "rd_staff"} <= set(errors)


def test_unusual_figures_are_warnings_not_errors():
    checked = check_annual_figures(2025, {"revenue": Decimal(100), "rd_expense": Decimal("100.01"), "employees": 0,
                                          "submitted_on": date(2025, 12, 31)}, TODAY)
    assert len(checked.warnings) == 3
    assert check_annual_figures(2025, {"revenue": Decimal(100), "rd_expense": Decimal(100), "employees": 1,
                                       "submitted_on": date(2026, 1, 1)}, TODAY).warnings == ()


# -- the main product's sales (issue 14: product-level figures) and a revocation's incident date --

@pytest.mark.parametrize(("figures", "field", "message"), [
    ({"main_business_revenue": Decimal(100), "main_product_revenue": Decimal("100.01")}, "main_product_revenue",
     "主导产品销售收入（100.01）高于主营业务收入（100） / main product's sales above main-business revenue"),
    ({"main_business_revenue": Decimal("0.4"), "main_product_revenue": Decimal("0.5")}, "main_product_revenue",
     "主导产品销售收入（0.5）高于主营业务收入（0.4） / main product's sales above main-business revenue"),  # under 1 元
    ({"revenue": Decimal(100), "main_product_revenue": Decimal("100.01")}, "main_product_revenue",
     "主导产品销售收入（100.01）高于营业收入（100） / main product's sales above revenue"),  # no 主营: against 营收
    ({"main_product_revenue": Decimal(-1)}, "main_product_revenue", "主导产品销售收入不能为负数（-1）"),
])
def test_a_main_products_sales_above_its_business_are_refused(figures, field, message):
    with pytest.raises(RuleViolation) as refused:
        check_annual_figures(2025, figures, TODAY)
    assert list(refused.value.errors) == [field] and refused.value.errors[field][0].startswith(message)
    assert refused.value.errors[field][0] == message or message.endswith("（-1）")


@pytest.mark.parametrize("figures", [
    {"main_business_revenue": Decimal(100), "main_product_revenue": Decimal(100), "main_product": "轴承"},  # at
    {"main_business_revenue": Decimal(100), "revenue": Decimal(200), "main_product_revenue": Decimal(100),
     "main_product": "轴承"},  # 主营 given: it is the measure, not 营收
    {"revenue": Decimal(100), "main_product_revenue": Decimal(100), "main_product": "轴承"},
    {"main_product_revenue": Decimal(5), "main_product": "轴承"},  # nothing to measure against
])
def test_a_main_products_sales_within_its_business_pass(figures):
    assert check_annual_figures(2025, figures, TODAY).warnings == ()


def test_sales_without_the_products_name_is_a_warning_not_an_error():
    warning = ("填写了主导产品销售收入但未填主导产品名称，请补充 / main product's sales without its name",)
    assert check_annual_figures(2025, {"main_product_revenue": Decimal(5), "main_product": "  "}, TODAY).warnings == warning
    assert check_annual_figures(2025, {"main_product_revenue": Decimal(5)}, TODAY).warnings == warning  # no name at all


def test_only_a_revocation_carries_an_incident_date_and_never_after_it_or_today():
    on = TODAY - timedelta(days=10)
    assert check_incident(Event.REVOKE, None, on, TODAY) is None
    assert check_incident(Event.PASS_REVIEW, None, on, TODAY) is None  # none given: nothing to check
    assert check_incident(Event.REVOKE, on, on, TODAY) is None  # the same day as the revocation
    with pytest.raises(RuleViolation) as refused:
        check_incident(Event.WITHDRAW, on, on, TODAY)
    assert refused.value.errors == {"incident_on": [
        "只有「撤销」可填写事故（违法行为）发生日期（本次为「主动放弃」） / only a revocation has an incident date"]}
    with pytest.raises(RuleViolation) as refused:
        check_incident(Event.REVOKE, on + timedelta(days=1), on, TODAY)
    assert refused.value.errors == {"incident_on": [
        f"事故（违法行为）发生日期（{on + timedelta(days=1)}）晚于撤销生效日期（{on}）"
        f" / incident_on {on + timedelta(days=1)} is after the revocation {on}"]}
    with pytest.raises(RuleViolation) as refused:
        check_incident(Event.REVOKE, TODAY + timedelta(days=1), TODAY + timedelta(days=5), TODAY)
    assert list(refused.value.errors) == ["incident_on"]
    assert refused.value.errors["incident_on"][0].startswith(f"事故（违法行为）发生日期（{TODAY + timedelta(days=1)}）晚于今天")
