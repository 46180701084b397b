"""Consequence texts in full, written where the mutation run found loose assertions
(docs/mutation.md): a one-year ban's text, a report filed exactly on its due date, the three
validity semantics, a fail under a revoking policy, every terminal verb."""

from dataclasses import replace
from datetime import date

import pytest

from registry.domain import consequences
from registry.domain.deadlines import DueDate
from registry.domain.lifecycle import Event, Status
from registry.domain.text import plain_source


def facts(policies, tier="specialized_sme", **kw):
    tier = tier if not isinstance(tier, str) else policies.tier(tier, date(2026, 6, 1))
    base = dict(tier=tier, status=Status.ACTIVE, valid_until=date(2027, 6, 15))
    return consequences.TitleFacts(**{**base, **kw})


def test_years_in_chinese_at_the_edges():
    assert [consequences.years_cn(n) for n in (0, 1, 10, 11, -1)] == ["零年", "一年", "十年", "11年", "-1年"]


def test_a_one_year_ban_says_one_year_and_ends_a_year_later(policies):
    f = facts(policies)
    reason = replace(f.tier.reason("major_accident"), ban_years=1)
    lines = consequences.revoke(f, reason, date(2026, 3, 1))
    assert lines[0] == "撤销该称号（专精特新中小企业），自 2026-03-01 起失效，并禁止一年内（至 2027-03-01）再次申报"
    assert lines[1] == f"依据：{plain_source(reason.basis)}" and "public" not in lines[1]  # the file's working mark
    assert len(lines) == 2


def test_revocation_without_basis_or_others(policies):
    f = facts(policies)
    fraud = replace(f.tier.reason("fraud"), basis="")
    assert consequences.revoke(f, fraud, date(2026, 3, 1)) == [
        "撤销将同时取消该企业全部称号，并禁止三年内（至 2029-03-01）再次申报"]
    none = replace(f.tier.reason("no_longer_qualifies"), basis="")
    assert consequences.revoke(f, none, date(2026, 3, 1)) == ["撤销该称号（专精特新中小企业），自 2026-03-01 起失效，不设禁止申报期"]


def test_dependents_are_named_unless_every_title_ends(policies):
    f = facts(policies, dependents=("小巨人A", "小巨人B"), other_live=("创新型中小企业", "X"))
    plain = replace(f.tier.reason("no_longer_qualifies"), basis="")
    assert consequences.revoke(f, plain, date(2026, 3, 1))[1] == \
        "以该称号为前置条件的小巨人A、小巨人B将被标记为「前置条件丧失」（不自动撤销）"
    fraud = replace(f.tier.reason("fraud"), basis="")
    assert consequences.revoke(f, fraud, date(2026, 3, 1)) == [
        "撤销将同时取消该企业全部称号（专精特新中小企业及创新型中小企业、X），并禁止三年内（至 2029-03-01）再次申报"]


def test_validity_text_for_each_semantics(policies):
    tier = policies.tier("innovative_sme", date(2024, 6, 15))
    assert consequences.validity_text(tier, date(2024, 6, 15)) == "有效期自 2024-06-15 起至 2027-06-15 止（自认定之日起3年）"
    year_end = replace(tier, validity="year_end")
    assert consequences.validity_text(year_end, date(2024, 6, 15)) == "有效期自 2024-06-15 起至 2026-12-31 止（至第3年年底）"
    open_ended = replace(tier, validity="until_superseded", validity_years=None)
    assert consequences.validity_text(open_ended, date(2024, 6, 15)) == "有效期自 2024-06-15 起，至下一批名单发布时止"


def test_grant_in_full_and_without_window_or_update(policies):
    tier = policies.tier("innovative_sme", date(2024, 6, 15))
    assert consequences.grant(tier, date(2024, 6, 15)) == [
        "授予「创新型中小企业」称号（依 national-2022），有效期自 2024-06-15 起至 2027-06-15 止（自认定之日起3年）",
        "复核窗口自 2027-03-17 起开放（到期前 90 日）",
        "此后每年 4 月 30 日前须更新上一年度信息，逾期将丧失下一次复核资格",
    ]
    flagged = replace(tier, review_window_days=None, missed_annual_update="flag")
    assert consequences.grant(flagged, date(2024, 6, 15))[1:] == ["此后每年 4 月 30 日前须更新上一年度信息，逾期将被标记"]
    bare = replace(tier, review_window_days=None, annual_update_due=None)
    assert len(consequences.grant(bare, date(2024, 6, 15))) == 1


def test_submit_review_lines(policies):
    assert consequences.event(facts(policies), Event.SUBMIT_REVIEW, date(2027, 5, 1)) == [
        "称号状态将由「有效」变为「复核中」，原有效期不变"]
    lost = facts(policies, review_eligible=False, ineligible_cause="未按期更新年度信息")
    assert consequences.event(lost, Event.SUBMIT_REVIEW, date(2027, 5, 1))[1] == \
        "该称号已丧失复核资格（未按期更新年度信息），系统将拒绝提交"


def test_pass_review_uses_the_renewal_rule_or_says_there_is_none(policies):
    f = facts(policies)
    assert consequences.event(f, Event.PASS_REVIEW, date(2027, 5, 1)) == [
        "复核通过：新有效期自 2027-06-16 起至 2030-06-15 止（依 national-2022），复核资格标记将恢复"]
    longer = replace(f.tier, validity_years=5, policy_code="later")
    assert consequences.event(f, Event.PASS_REVIEW, date(2027, 5, 1), renewal=longer) == [
        "复核通过：新有效期自 2027-06-16 起至 2032-06-15 止（依 later），复核资格标记将恢复"]
    assert consequences.event(facts(policies, valid_until=None), Event.PASS_REVIEW, date(2027, 5, 1)) == [
        "该称号无固定有效期，无需复核（系统将拒绝）"]


def test_fail_review_in_full(policies):
    f = facts(policies, dependents=("小巨人A",))
    expire = consequences.event(replace(f, tier=replace(f.tier, failed_review="expire")), Event.FAIL_REVIEW,
                                date(2027, 5, 1))
    assert expire == ["复核不通过，称号将于 2027-05-01 到期终止（依政策 national-2022：复核不通过即到期终止）",
                      "以该称号为前置条件的小巨人A将被标记为「前置条件丧失」（不自动撤销）"]
    revoking = facts(policies, tier=replace(f.tier, failed_review="revoke"))
    assert consequences.event(revoking, Event.FAIL_REVIEW, date(2027, 5, 1)) == [
        "复核不通过，称号将于 2027-05-01 撤销（依政策 national-2022：复核不通过即撤销）"]


@pytest.mark.parametrize(("action", "verb"), [
    (Event.WITHDRAW, "因企业主动放弃而终止，不设禁止申报期"), (Event.SUPERSEDE, "被新名单替代而终止"),
    (Event.EXPIRE, "到期终止"), (Event.DOWNGRADE, "降级终止")])
def test_terminal_events_in_full(policies, action, verb):
    assert consequences.event(facts(policies), action, date(2027, 5, 1)) == [f"称号将于 2027-05-01 {verb}"]


def test_downgrade_in_full(policies):
    champion = facts(policies, "single_champion")
    product = policies.tier("champion_product", date(2026, 6, 1))
    line = consequences.event(champion, Event.DOWNGRADE, date(2026, 6, 1), downgrade_to=product)[0]
    assert line == (f"「{champion.tier.name}」将于 2026-06-01 被替代，同时授予「{product.name}」，"
                    f"{consequences.validity_text(product, date(2026, 6, 1))}")


def test_change_report_filed_exactly_on_its_due_date_is_on_time():
    due = DueDate(date(2026, 10, 8))
    assert consequences.change_report(due, date(2026, 7, 1), date(2026, 10, 8), loses_eligibility=True) == [
        "报告截止日期：2026-10-08（自变化发生之日 2026-07-01 起算，遇法定节假日顺延）", "已于 2026-10-08 按期报告"]
    assert consequences.change_report(due, date(2026, 7, 1), date(2026, 10, 9), loses_eligibility=False)[1] == \
        "逾期报告（2026-10-09 晚于截止日期），将被标记为逾期报告"
    assert consequences.change_report(due, date(2026, 7, 1), None, loses_eligibility=True)[1] == \
        "尚未报告：请在截止日期前报告，逾期所持称号将丧失复核资格"


def test_provisional_change_report_names_every_missing_year():
    due = DueDate(date(2028, 1, 14), True, (2027, 2028))
    assert consequences.change_report(due, date(2027, 12, 1), None, loses_eligibility=False)[1] == \
        "该截止日期为暂定：缺少 2027、2028 年节假日数据（仅按周末计算），管理员录入后将重新计算"


def test_annual_report_lines():
    assert consequences.annual_report(2025, None, correcting=False) == ["登记 2025 年度数据"]
    assert consequences.annual_report(2025, DueDate(date(2026, 4, 30)), correcting=True) == [
        "更正已登记的 2025 年度数据（修改前后的数值记入审计日志）", "2026 年度信息更新截止日期为 2026-04-30"]
    assert consequences.annual_report(2026, DueDate(date(2027, 4, 30), True, (2027,)), correcting=False) == [
        "登记 2026 年度数据", "2027 年度信息更新截止日期为 2027-04-30（暂定）"]


def test_revoking_every_title_without_a_ban_adds_no_ban_text(policies):
    f = facts(policies)
    unbanned = replace(f.tier.reason("fraud"), ban_years=0, basis="")
    assert consequences.revoke(f, unbanned, date(2026, 3, 1)) == ["撤销将同时取消该企业全部称号"]
