"""Grant-check boundaries the mutation run found untested (docs/mutation.md): a holding on its
first and last day and on the day it ended, a ban on its first day and the day it was lifted, a
ladder ban against another ladder, and the exact wording of every refusal."""

from dataclasses import replace
from decimal import Decimal

import pytest

from registry.domain.eligibility import Ban, Holding, ban_ends, check_grant, missing_prerequisite
from registry.domain.errors import RuleViolation
from tests.conftest import d

NAMES = {"innovative_sme": "创新型中小企业", "specialized_sme": "专精特新中小企业", "little_giant": "小巨人",
         "single_champion": "制造业单项冠军"}


def test_a_holding_is_valid_from_its_first_to_its_last_day():
    holding = Holding("specialized_sme", d("2024-06-15"), d("2027-06-15"))
    assert not holding.valid_on(d("2024-06-14"))
    assert holding.valid_on(d("2024-06-15"))
    assert holding.valid_on(d("2027-06-15"))
    assert not holding.valid_on(d("2027-06-16"))
    assert Holding("specialized_sme", d("2024-06-15"), None).valid_on(d("2099-01-01"))


def test_a_holding_is_not_valid_on_the_day_it_ended():
    holding = Holding("specialized_sme", d("2024-06-15"), d("2027-06-15"), ended_on=d("2025-03-01"))
    assert holding.valid_on(d("2025-02-28"))
    assert not holding.valid_on(d("2025-03-01"))


def test_a_ban_runs_from_its_first_day_to_its_last_day_inclusive():
    ban = Ban(d("2025-01-10"), ban_ends(d("2025-01-10"), 1), "数据造假")
    assert ban.ends_on == d("2026-01-10")  # a one-year ban
    assert not ban.active_on(d("2025-01-09"))
    assert ban.active_on(d("2025-01-10"))
    assert ban.active_on(d("2026-01-10"))
    assert not ban.active_on(d("2026-01-11"))


def test_a_lifted_ban_ends_on_the_day_it_was_lifted():
    ban = Ban(d("2025-01-10"), d("2028-01-10"), "数据造假", lifted_on=d("2026-01-01"))
    assert ban.active_on(d("2025-12-31"))
    assert not ban.active_on(d("2026-01-01"))


def test_grant_on_a_bans_last_day_is_refused_and_the_day_after_allowed(policies):
    tier = policies.tier("innovative_sme", d("2025-07-01"))
    ban = Ban(d("2025-01-10"), ban_ends(d("2025-01-10"), 1), "数据造假")
    with pytest.raises(RuleViolation):
        check_grant(tier, d("2026-01-10"), [], [ban], None, NAMES)
    check_grant(tier, d("2026-01-11"), [], [ban], None, NAMES)


def test_a_ladder_ban_does_not_bar_another_ladder(policies):
    tier = policies.tier("innovative_sme", d("2025-07-01"))  # ladder national, programme national
    other = Ban(d("2025-01-10"), d("2028-01-10"), "x", blocks="ladder", ladder="zhejiang", programme="zhejiang")
    assert not other.bars(tier)
    assert not other.bars(replace(tier, ladder=None))
    same = Ban(d("2025-01-10"), d("2028-01-10"), "x", blocks="ladder", ladder="national", programme="single_champion")
    assert same.bars(tier)
    assert not same.bars(replace(tier, ladder=None))
    assert same.bars(replace(tier, ladder=None, programme="single_champion"))


def test_ban_refusal_names_the_document_only_when_there_is_one(policies):
    tier = policies.tier("innovative_sme", d("2025-07-01"))
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), [], [Ban(d("2025-01-10"), d("2028-01-10"), "数据造假", "浙经信〔2025〕1号")],
                    None, NAMES)
    assert "（原因：数据造假，文号 浙经信〔2025〕1号；禁止范围：全部称号）" in err.value.errors["uscc"][0]
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), [], [Ban(d("2025-01-10"), d("2028-01-10"), "数据造假")], None, NAMES)
    assert "（原因：数据造假；禁止范围：全部称号）" in err.value.errors["uscc"][0]


def test_missing_prerequisite_names_every_alternative(policies):
    tier = policies.tier("little_giant", d("2025-07-01"))
    pre = tier.prerequisites[0]
    message = missing_prerequisite(pre, [], d("2025-07-01"), None, NAMES)
    assert message == ("2025-07-01 未持有有效的专精特新中小企业或sc_specialized_sme称号"
                       " / needs a valid specialized_sme or sc_specialized_sme on 2025-07-01")


def test_missing_four_yi_prerequisite_states_the_amount(policies):
    pre = policies.tier("single_champion", d("2025-07-01")).prerequisites[0]
    message = missing_prerequisite(pre, [], d("2025-07-01"), Decimal("100"), NAMES)
    assert message.startswith("2025-07-01 未持有有效的小巨人称号（营业收入4亿元以下） / needs a valid little_giant")
    unknown = missing_prerequisite(pre, [], d("2025-07-01"), None, NAMES)
    assert "（无上年度营业收入数据，无法确认是否超过4亿元）" in unknown


def test_exclusion_and_same_tier_refusals_are_on_the_tier_field(policies):
    tier = policies.tier("little_giant", d("2025-07-01"))
    holdings = [Holding("specialized_sme", d("2024-06-01"), d("2027-06-01")),
                Holding("single_champion", d("2024-06-01"), d("2027-06-01"))]
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), holdings, [], None, NAMES)
    assert list(err.value.errors) == ["tier"]
    assert err.value.errors["tier"][0].startswith("已持有有效的制造业单项冠军称号，不再认定")
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), holdings, [], None, {})
    assert err.value.errors["tier"][0].startswith("已持有有效的single_champion称号")
    same = [Holding("specialized_sme", d("2024-06-01"), d("2027-06-01")),
            Holding("little_giant", d("2024-06-01"), d("2027-06-01"))]
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), same, [], None, NAMES)
    assert list(err.value.errors) == ["tier"] and "已持有有效的" in err.value.errors["tier"][0]


@pytest.mark.parametrize(("blocks", "reach"), [("tier", "本称号"), ("programme", "本项目全部称号"),
                                               ("ladder", "本梯度全部称号"), ("all", "全部称号")])
def test_ban_refusal_says_what_it_bars_in_words_not_codes(policies, blocks, reach):
    """The refusal an officer reads named the programme or ladder by its code ("national 项目全部称号")."""
    tier = policies.tier("innovative_sme", d("2025-07-01"))
    ban = Ban(d("2025-01-10"), d("2028-01-10"), "严重失信", blocks=blocks, tier="innovative_sme",
              programme="national", ladder="national")
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), [], [ban], None, NAMES)
    chinese = err.value.errors["uscc"][0].split(" / ")[0]
    assert chinese.endswith(f"（原因：严重失信；禁止范围：{reach}）")
    assert not any(code in chinese for code in ("national", "innovative_sme", "programme", "ladder"))
