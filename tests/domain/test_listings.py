"""Yearly lists, recommendation channels and periodic reports as policy data (registry.domain.listings).

The programmes of the seeds that have no validity lifecycle of their own — 重点"小巨人" (112号),
the Zhejiang 隐形冠军培育库 (234号) and 雏鹰行动 pool (28号), the 单项冠军储备库 and the 中央企业
channel (2021 notice), 绿色工厂 at three levels (26号), Chongqing's 领军企业 / 链主 (80号) — load
from config/policies with every item sourced; the quotas and due dates hold at their boundaries.
"""

import re
from datetime import date

import pytest

from registry.domain.deadlines import annual_update_due, validity_end
from registry.domain.errors import PolicyError, RuleViolation
from registry.domain.listings import check_channel_room, quarter_end
from registry.domain.policy import parse_policy
from registry.domain.workdays import WorkdayCalendar
from tests.conftest import d
from tests.domain.test_policy import MINIMAL
from tests.domain.test_policy_sources import SEEDS, in_seed

PROGRAMMES = {
    "zhejiang_key_little_giant": {"key_little_giant"},
    "zhejiang_hidden_champion": {"zj_hidden_champion", "zj_hidden_champion_pool"},
    "zhejiang_eagle": {"zj_eagle_pool"},
    "single_champion": {"single_champion", "champion_product", "sc_reserve"},
    "green_factory": {"green_factory_city", "green_factory_province", "green_factory_national"},
    "chongqing_leading": {"cq_leading", "cq_chain_leader"},
}


def plain(text: str) -> str:
    return re.sub(r"[\s\"“”'‘’]", "", text)


def _load(extra: str):
    import tomllib

    return parse_policy("x-2026.toml", tomllib.loads(MINIMAL + extra))


def test_every_programme_of_the_seeds_is_a_policy_file(policies):
    for programme, tiers in PROGRAMMES.items():
        found = {t.code for p in policies.policies if p.programme == programme for t in p.tiers}
        assert tiers <= found, programme
    lists = {t.code: t.listing.kind for p in policies.policies for t in p.tiers if t.listing}
    assert lists == {"key_little_giant": "yearly_selection", "zj_hidden_champion_pool": "pool",
                     "zj_eagle_pool": "pool", "sc_reserve": "pool", "green_factory_city": "pool",
                     "green_factory_province": "pool", "green_factory_national": "pool",
                     "cq_leading": "yearly_selection", "cq_chain_leader": "yearly_selection"}


def test_every_list_channel_and_report_cites_its_seed_or_is_assumed(policies):
    """Each item quotes words that are in the seed it names (whitespace and quote marks aside)."""
    texts = {p.name[:3]: plain(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")} if SEEDS.is_dir() else {}
    checked = 0
    for policy in policies.policies:
        for tier in policy.tiers:
            items = ([tier.listing] if tier.listing else []) + list(tier.channels) + list(tier.reports)
            for item in items:
                cited = item.cited
                assert cited.source or (cited.assumed and cited.note), (tier.code, item)
                for n in re.findall(r"seed (\d{3})", cited.source):
                    if texts and cited.quote:
                        assert plain(cited.quote) in texts[n], (tier.code, cited.quote)
                        checked += 1
    assert checked >= 12 or not texts


def test_key_little_giant_is_a_yearly_selection_among_little_giants(policies):
    """112号 一（一）: "从工业和信息化部已认定的专精特新“小巨人”企业中择优遴选" — its conditions are its
    own (70 %, 4 % R&D each of 2 years), with a support period; the 小巨人 pre-check has none of them."""
    assert in_seed("001", "从工业和信息化部已认定的专 精特新“小巨人”企业中择优遴选")
    assert in_seed("001", "截至上年末的近 2 年研发经费支出占营业 收入比重每年均不低于 4% 以上")
    key = policies.tier("key_little_giant", d("2026-01-01"))
    assert [p.any_of for p in key.prerequisites] == [("little_giant",)]
    assert {"not_listed", "rd_each_year", "specialisation", "innovation", "growth"} <= {i.id for i in key.criteria.items}
    giant = policies.tier("little_giant", d("2026-01-01"))
    assert not {"not_listed", "rd_each_year", "innovation", "growth"} & {i.id for i in giant.criteria.items}
    assert "112号" not in giant.criteria.source
    # the support period (assumed, 3 years): listed on 29 Feb 2028, last day 28 Feb 2031
    assert key.sources["validity.years"].assumed
    assert validity_end(key, date(2028, 2, 29)) == date(2031, 2, 28)
    assert validity_end(key, date(2028, 3, 1)) == date(2031, 3, 1)


def test_the_central_enterprise_channel_takes_three_and_refuses_the_fourth(policies):
    """2021 notice 一（五）: "中央企业每家推荐数量不超过 3 家。前三批单项冠军培育企业满足申请条件并提出
    申请的,不占各推荐单位名额"."""
    assert in_seed("001", "中央企业每家推荐数量不 超过 3 家。前三批单项冠军培育企业满足申请条件并提出申请的,不占各推荐单位名额")
    channel = policies.tier("single_champion", policy_code="single-champion-2021").channel("central_enterprise")
    assert (channel.quota, channel.unit) == (3, "中央企业")
    for used in (0, 1, 2):
        check_channel_room(channel, "中国某集团", used, outside_quota=False)  # the 1st to the 3rd
    with pytest.raises(RuleViolation, match="上限 3 家") as refused:
        check_channel_room(channel, "中国某集团", 3, outside_quota=False)  # the 4th
    assert "中国某集团" in str(refused.value.errors["channel_unit"])
    check_channel_room(channel, "中国某集团", 3, outside_quota=True)  # an earlier batch's 培育企业: outside
    product = policies.tier("champion_product", policy_code="single-champion-2021").channel("central_enterprise")
    assert product.quota == 3


def test_association_quotas_of_the_hidden_champion_pool_and_title(policies):
    """234号 四（一）: each association recommends at most 10 培育企业 and at most 2 隐形冠军企业 a year."""
    pool = policies.tier("zj_hidden_champion_pool").channel("association")
    title = policies.tier("zj_hidden_champion").channel("association")
    assert (pool.quota, title.quota) == (10, 2)
    check_channel_room(pool, "浙江省某行业协会", 9, outside_quota=False)
    with pytest.raises(RuleViolation, match="上限 10 家"):
        check_channel_room(pool, "浙江省某行业协会", 10, outside_quota=False)
    check_channel_room(title, "浙江省某行业协会", 1, outside_quota=False)
    with pytest.raises(RuleViolation, match="上限 2 家"):
        check_channel_room(title, "浙江省某行业协会", 2, outside_quota=False)
    with pytest.raises(RuleViolation, match="没有不占名额的情形"):  # 234号 names nobody outside the quota
        check_channel_room(title, "浙江省某行业协会", 0, outside_quota=True)
    supplement = policies.tier("zj_hidden_champion").channel("city_supplement")
    check_channel_room(supplement, "台州市", 500, outside_quota=False)  # no number given: no quota


def test_the_pools_development_report_is_its_annual_update_due_by_the_end_of_march(policies):
    """234号 四（四）: "隐形冠军培育企业,应在每年 3 月底前向所在行业协会提交发展情况报告" — the pool
    member's annual update, so the scan, the reminders and the overdue list follow it."""
    assert in_seed("001", "隐形冠军培育企 业,应在每年 3 月底前向所在行业协会提交发展情况报告")
    pool = policies.tier("zj_hidden_champion_pool")
    assert (pool.annual_update_due, pool.missed_annual_update) == ((3, 31), "flag")
    assert not pool.reports  # one statement of the fact: the annual update
    assert pool.reminders["annual_update"] == (30, 7, 1)
    assert annual_update_due(WorkdayCalendar(), pool, 2027).on == date(2027, 3, 31)  # a Wednesday
    assert annual_update_due(WorkdayCalendar(), pool, 2028).on == date(2028, 3, 31)  # a Friday of a leap year


@pytest.mark.parametrize(("filed", "late"), [(date(2027, 3, 30), False), (date(2027, 3, 31), False),
                                             (date(2027, 4, 1), True)])
def test_a_yearly_office_report_is_late_the_day_after_its_due_day(filed, late):
    policy = _load('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "year"\ndue = "03-31"\nby = "office"\n'
                   'source = "x"\n')
    report = policy.tiers[0].reports[0]
    assert report.overdue(filed, date(2027, 5, 1), 2027) is late
    assert report.overdue(None, date(2027, 3, 31), 2027) is False  # not filed yet, still in time
    assert report.overdue(None, date(2027, 4, 1), 2027) is True


def test_chongqing_quarterly_summary_yearly_evaluation_and_one_plan(policies):
    """80号 四（三）（四）: 一企一策; 每季度梳理推进情况; 每年度开展培育成效评估 (deadlines assumed)."""
    assert in_seed("004", "市經濟信息委每季度梳理形成領軍企業培育工作推進情況,每年度開展培育成效評估")
    leading = policies.tier("cq_leading")
    reports = {r.code: r for r in leading.reports}
    assert set(reports) == {"one_plan", "quarterly_progress", "yearly_evaluation"}
    assert all(r.cited.assumed and r.cited.quote for r in reports.values())
    quarterly = reports["quarterly_progress"]
    assert [quarterly.due_on(2028, q) for q in (1, 2, 3, 4)] == [
        date(2028, 4, 15), date(2028, 7, 15), date(2028, 10, 15), date(2029, 1, 15)]
    with pytest.raises(RuleViolation, match="季度"):
        quarterly.due_on(2028, 5)
    assert reports["yearly_evaluation"].due_on(2027) == date(2027, 12, 31)
    assert reports["one_plan"].due_on(2028, listed_on=date(2028, 2, 29)) == date(2028, 5, 29)
    with pytest.raises(RuleViolation, match="入选日期"):
        reports["one_plan"].due_on(2028)
    # a yearly list: selected in 2027, listed to the end of 2027
    assert validity_end(leading, date(2027, 6, 1)) == date(2027, 12, 31)
    assert {"cq_leading", "cq_chain_leader"} == {t.code for t in policies.by_code["chongqing-leading-2021"].tiers}


def test_quarter_ends_in_a_leap_year():
    assert [quarter_end(2028, q) for q in (1, 2, 3, 4)] == [date(2028, 3, 31), date(2028, 6, 30),
                                                             date(2028, 9, 30), date(2028, 12, 31)]


def test_a_yearly_due_day_of_29_february_falls_on_the_28th_in_a_common_year():
    policy = _load('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "year"\ndue = "02-29"\nby = "office"\n'
                   'assumed = true\nnote = "x"\n')
    report = policy.tiers[0].reports[0]
    assert report.due_on(2028) == date(2028, 2, 29) and report.due_on(2027) == date(2027, 2, 28)
    assert report.due_on(2100) == date(2100, 2, 28)  # a century that is no leap year


def test_green_factory_has_three_levels(policies):
    """26号 （十五）: "縱向形成國家、省、市三級聯動的綠色工廠培育機制"."""
    assert in_seed("000", "縱向形成國家、省、市三級聯動的綠色工廠培育機制")
    levels = {t.code: t.authority for t in policies.by_code["green-factory-2024"].tiers}
    assert levels == {"green_factory_city": "city", "green_factory_province": "province",
                      "green_factory_national": "ministry"}


def test_the_eagle_pool_is_yearly(policies):
    """28号 三（一）: "每年筛选确定入库企业" — listed in 2027, in the pool to 31 December 2027."""
    eagle = policies.tier("zj_eagle_pool")
    assert validity_end(eagle, date(2027, 12, 31)) == date(2027, 12, 31)
    assert validity_end(eagle, date(2028, 1, 1)) == date(2028, 12, 31)


@pytest.mark.parametrize(("extra", "key"), [
    ('[tiers.list]\nkind = "forever"\nsource = "x"\n', "kind"),
    ('[tiers.list]\nkind = "pool"\n', "source"),  # neither a source nor assumed
    ('[tiers.list]\nkind = "pool"\nassumed = true\n', "source"),  # assumed without a note
    ('[tiers.list]\nkind = "pool"\nsource = "x"\nexits = "y"\n', "exits"),  # a typo
    ('[[tiers.channels]]\ncode = "c"\nname = "c"\nunit = "u"\nquota = 0\nsource = "x"\n', "quota"),
    ('[[tiers.channels]]\ncode = "c"\nname = "c"\nunit = "u"\nsource = "x"\n'
     '[[tiers.channels]]\ncode = "c"\nname = "d"\nunit = "u"\nsource = "x"\n', "channels"),
    ('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "year"\ndue = "02-30"\nby = "office"\nsource = "x"\n', "due"),
    ('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "quarter"\nby = "office"\nsource = "x"\n', "days_after"),
    ('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "quarter"\ndue = "03-31"\ndays_after = 1\nby = "office"\n'
     'source = "x"\n', "due"),
    ('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "month"\nby = "office"\nsource = "x"\n', "every"),
    ('[[tiers.reports]]\ncode = "r"\nname = "r"\nevery = "year"\ndue = "03-31"\nby = "nobody"\nsource = "x"\n', "by"),
])
def test_a_malformed_list_channel_or_report_is_refused_by_name(extra, key):
    with pytest.raises(PolicyError) as refused:
        _load(extra)
    assert key in refused.value.key and refused.value.file == "x-2026.toml"
