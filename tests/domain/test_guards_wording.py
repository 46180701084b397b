"""Guard details the mutation run found untested (docs/mutation.md): the field each refusal is
filed under and its exact Chinese wording, the review window's every field, the post-expiry
window with and without its days, a page offering later actions after a refused one, and the
figure checks' names and warnings at their boundaries."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from registry.domain.errors import RuleViolation
from registry.domain.guards import (
    ReviewWindow,
    allowed_now,
    check_annual_figures,
    check_event,
    check_not_before,
    local_today,
    review_window,
)
from registry.domain.lifecycle import Event, Status
from tests.domain.test_guards import CAL, state, tier  # noqa: F401  (tier is a fixture)

TODAY = date(2027, 1, 1)


def errors_of(tier, title, event, on, today=TODAY):
    with pytest.raises(RuleViolation) as err:
        check_event(tier, title, event, on, today, review_window(tier, title.valid_until, CAL))
    return err.value.errors


def test_local_today_uses_the_zone_it_is_given():
    at = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
    assert local_today(at, "UTC") == date(2026, 6, 1)
    assert local_today(at, "Asia/Shanghai") == date(2026, 6, 2)


def test_check_not_before_files_its_message_under_the_field():
    with pytest.raises(RuleViolation) as err:
        check_not_before("reported_on", "报告日期", date(2026, 1, 1), date(2026, 1, 2), "变更日期")
    assert err.value.errors == {"reported_on": [
        "报告日期（2026-01-01）早于变更日期（2026-01-02） / reported_on 2026-01-01 is before 2026-01-02"]}
    check_not_before("reported_on", "报告日期", date(2026, 1, 2), date(2026, 1, 2), "变更日期")


def test_window_text_marks_post_expiry_and_provisional_windows():
    opens, closes = date(2026, 7, 5), date(2026, 10, 8)
    assert ReviewWindow(opens, closes).text() == "复核窗口为 2026-07-05 至 2026-10-08"
    assert ReviewWindow(opens, closes, True).text() == "复核窗口为 2026-07-05 至 2026-10-08（有效期届满后评估复核）"
    assert ReviewWindow(opens, closes, False, True).text() == "复核窗口为 2026-07-05 至 2026-10-08（截止日暂定：缺少节假日数据）"


def test_review_window_before_expiry_every_field(tier):
    assert review_window(tier, date(2026, 10, 3), CAL) == ReviewWindow(date(2026, 7, 5), date(2026, 10, 8), False, False)
    # A term ending in 2027 (no holiday data yet): the close is a guess, and says so.
    assert review_window(tier, date(2027, 6, 4), CAL) == ReviewWindow(date(2027, 3, 6), date(2027, 6, 4), False, True)
    assert review_window(replace(tier, review_window_days=None), date(2026, 10, 3), CAL) is None


def test_review_window_after_expiry_every_field(tier):
    after = replace(tier, review_timing="after_expiry", review_after_expiry_days=3)
    # Ends Friday 2026-06-05; three days later is Monday 06-08.
    assert review_window(after, date(2026, 6, 5), CAL) == ReviewWindow(date(2026, 6, 6), date(2026, 6, 8), True, False)
    # Without days the close is the end itself (moved off a rest day), not a day later.
    none = replace(after, review_after_expiry_days=None)
    assert review_window(none, date(2026, 6, 4), CAL).closes == date(2026, 6, 4)
    assert review_window(after, date(2027, 6, 4), CAL) == ReviewWindow(date(2027, 6, 5), date(2027, 6, 7), True, True)


def test_date_refusals_are_filed_under_effective_on_with_the_events_name(tier):
    label = "「主动放弃」的生效日期"
    assert errors_of(tier, state(), Event.WITHDRAW, date(2027, 1, 2)) == {"effective_on": [
        f"{label}（2027-01-02）晚于今天（2027-01-01）：已发生的事项不能登记为将来的日期 / effective_on 2027-01-02 is after today 2027-01-01"]}
    assert errors_of(tier, state(), Event.WITHDRAW, date(2023, 10, 2)) == {"effective_on": [
        f"{label}（2023-10-02）早于认定日期（2023-10-03） / effective_on 2023-10-02 is before 2023-10-03"]}
    assert errors_of(tier, state(last_event_on=date(2025, 5, 5)), Event.WITHDRAW, date(2025, 5, 4)) == {"effective_on": [
        f"{label}（2025-05-04）早于该称号最近一次登记的事项日期（2025-05-05） / effective_on 2025-05-04 is before 2025-05-05"]}
    review = state(status=Status.UNDER_REVIEW, submitted_on=date(2026, 8, 1))
    assert errors_of(tier, review, Event.PASS_REVIEW, date(2026, 7, 31)) == {"effective_on": [
        "「复核通过」的生效日期（2026-07-31）早于提交复核日期（2026-08-01） / effective_on 2026-07-31 is before 2026-08-01"]}


def test_result_refusals_are_filed_under_action(tier):
    no_submission = state(status=Status.UNDER_REVIEW)
    assert errors_of(tier, no_submission, Event.PASS_REVIEW, date(2026, 8, 1)) == {"action": [
        "不能「复核通过」：该称号没有进行中的复核（须先「提交复核」）"]}
    lost = state(status=Status.UNDER_REVIEW, submitted_on=date(2026, 8, 1), review_eligible=False)
    assert errors_of(tier, lost, Event.PASS_REVIEW, date(2026, 8, 2)) == {"action": [
        "不能「复核通过」：该称号已丧失复核资格（原因未记录）"]}
    cause = replace(lost, ineligible_cause="2025 年度报告逾期")
    assert errors_of(tier, cause, Event.PASS_REVIEW, date(2026, 8, 2)) == {"action": [
        "不能「复核通过」：该称号已丧失复核资格（2025 年度报告逾期）"]}


def test_submission_refusals_say_why_and_give_the_window(tier):
    window = "复核窗口为 2026-07-05 至 2026-10-08"
    assert errors_of(tier, state(), Event.SUBMIT_REVIEW, date(2026, 7, 4)) == {"action": [
        f"不能「提交复核」：2026-07-04 不在复核窗口内，窗口尚未开始；{window} / outside the review window 2026-07-05–2026-10-08"]}
    assert errors_of(tier, state(), Event.SUBMIT_REVIEW, date(2026, 10, 9)) == {"action": [
        f"不能「提交复核」：2026-10-09 不在复核窗口内，窗口已经结束；{window} / outside the review window 2026-07-05–2026-10-08"]}
    assert errors_of(tier, state(review_eligible=False), Event.SUBMIT_REVIEW, date(2026, 8, 1)) == {"action": [
        f"不能「提交复核」：该称号已丧失复核资格（原因未记录）；{window}"]}
    audited = replace(tier, requires_audit_code=True)
    assert errors_of(audited, state(audit_code_ok=False), Event.SUBMIT_REVIEW, date(2026, 8, 1)) == {"action": [
        "不能「提交复核」：最近一期年度报告的审计报告没有验证码（财办会〔2024〕15号：到期复核或者更新信息的，"
        f"应当上传提交附有验证码的审计报告）；{window}"]}


def test_a_page_still_offers_the_actions_after_a_refused_one(tier):
    candidates = (Event.PASS_REVIEW, Event.DOWNGRADE, Event.REVOKE, Event.WITHDRAW)
    assert allowed_now(tier, state(), date(2026, 6, 1), None, candidates) == [Event.REVOKE, Event.WITHDRAW]


@pytest.mark.parametrize(("key", "name"), [
    ("revenue", "营业收入"), ("main_business_revenue", "主营业务收入"), ("rd_expense", "研发费用"),
    ("employees", "从业人员数"), ("rd_staff", "研发人员数"), ("invention_patents", "发明专利数")])
def test_a_negative_figure_is_refused_naming_it(key, name):
    with pytest.raises(RuleViolation) as err:
        check_annual_figures(2025, {key: -1}, date(2026, 6, 1))
    assert err.value.errors == {key: [f"{name}不能为负数（-1） / negative"]}


def test_main_business_above_revenue_message():
    with pytest.raises(RuleViolation) as err:
        check_annual_figures(2025, {"revenue": 10, "main_business_revenue": 11}, date(2026, 6, 1))
    assert err.value.errors == {"main_business_revenue": [
        "主营业务收入（11）高于营业收入（10） / main-business revenue above revenue"]}


def test_empty_figures_are_absent_not_errors():
    assert check_annual_figures(2025, {"revenue": "", "employees": None}, date(2026, 6, 1)).warnings == ()


def test_warnings_read_exactly_and_start_above_zero_revenue():
    check = check_annual_figures(2025, {"submitted_on": date(2025, 12, 31), "revenue": Decimal("0.5"),
                                        "rd_expense": 1, "employees": 0}, date(2026, 6, 1))
    assert check.warnings == (
        "填报日期（2025-12-31）在所报年度（2025）结束之前，请核实 / filed before its year ended",
        "研发费用（1）高于营业收入（0.5），请核实 / R&D expense above revenue",
        "从业人员数为 0 但有营业收入，请核实 / revenue without employees",
    )
    assert check_annual_figures(2025, {"revenue": 0, "employees": 0}, date(2026, 6, 1)).warnings == ()
