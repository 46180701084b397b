"""The consequence texts shown before an officer confirms, computed from the shipped policies."""

from datetime import date

from registry.domain import consequences
from registry.domain.deadlines import DueDate
from registry.domain.lifecycle import Event, Status


def facts(policies, tier="specialized_sme", **kw):
    tier = policies.tier(tier, date(2026, 6, 1))
    return consequences.TitleFacts(tier=tier, status=Status.ACTIVE, valid_until=date(2027, 6, 15), **kw)


def test_all_tiers_revocation_names_every_title_and_the_ban_end(policies):
    f = facts(policies, other_live=("创新型中小企业",))
    lines = consequences.revoke(f, f.tier.reason("fraud"), date(2026, 3, 1))
    assert lines[0] == ("撤销将同时取消该企业全部称号（专精特新中小企业及创新型中小企业），"
                        "并禁止三年内（至 2029-03-01）再次申报")


def test_this_tier_revocation_with_and_without_a_ban(policies):
    f = facts(policies, dependents=("专精特新\"小巨人\"企业",))
    banned = consequences.revoke(f, f.tier.reason("major_accident"), date(2024, 2, 29))
    assert banned[0] == "撤销该称号（专精特新中小企业），自 2024-02-29 起失效，并禁止三年内（至 2027-02-28）再次申报"
    assert any("前置条件丧失" in line for line in banned)
    plain = consequences.revoke(f, f.tier.reason("no_longer_qualifies"), date(2026, 3, 1))
    assert "不设禁止申报期" in plain[0]


def test_pass_review_starts_the_next_term_the_day_after(policies):
    f = facts(policies)
    assert consequences.event(f, Event.PASS_REVIEW, date(2027, 5, 1), renewal=f.tier) == [
        "复核通过：新有效期自 2027-06-16 起至 2030-06-15 止（依 national-2022），复核资格标记将恢复"]


def test_fail_review_follows_the_policy(policies):
    national = consequences.event(facts(policies), Event.FAIL_REVIEW, date(2027, 5, 1))
    champion = consequences.event(facts(policies, "single_champion"), Event.FAIL_REVIEW, date(2027, 5, 1))
    assert "到期终止" in national[0] and "撤销" in champion[0]


def test_submit_review_warns_when_the_title_lost_eligibility(policies):
    lines = consequences.event(facts(policies, review_eligible=False, ineligible_cause="未按期更新年度信息"),
                               Event.SUBMIT_REVIEW, date(2027, 5, 1))
    assert "复核中" in lines[0] and "未按期更新年度信息" in lines[1]


def test_grant_states_validity_review_window_and_annual_update(policies):
    lines = consequences.grant(policies.tier("innovative_sme", date(2024, 2, 29)), date(2024, 2, 29))
    assert "有效期自 2024-02-29 起至 2027-02-28 止（自认定之日起3年）" in lines[0]
    assert lines[1] == "复核窗口自 2026-11-30 起开放（到期前 90 日）"
    assert "4 月 30 日前" in lines[2]


def test_change_report_deadline_provisional_and_late():
    due = DueDate(date(2027, 3, 15), True, (2027,))
    lines = consequences.change_report(due, date(2026, 12, 15), date(2027, 4, 1), loses_eligibility=True)
    assert "2027-03-15" in lines[0] and "暂定" in lines[1] and "逾期报告" in lines[2] and "丧失复核资格" in lines[2]
    on_time = consequences.change_report(DueDate(date(2026, 10, 8)), date(2026, 7, 1), date(2026, 9, 1),
                                         loses_eligibility=True)
    assert len(on_time) == 2 and "按期报告" in on_time[1]


def test_downgrade_names_the_new_title(policies):
    champion = facts(policies, "single_champion")
    product = policies.tier("champion_product", date(2026, 6, 1))
    lines = consequences.event(champion, Event.DOWNGRADE, date(2026, 6, 1), downgrade_to=product)
    assert f"同时授予「{product.name}」" in lines[0]


def test_years_in_chinese():
    assert [consequences.years_cn(n) for n in (1, 2, 3, 12)] == ["一年", "两年", "三年", "12年"]
