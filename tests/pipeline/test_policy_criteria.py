"""The criteria shipped in config/policies: they load, cite their sources and judge sample facts."""

from decimal import Decimal

import pytest

from registry.domain.criteria import Facts, Figures, Score, Verdict, evaluate
from registry.domain.errors import PolicyError
from registry.domain.policy import load_policies, load_policy_file
from tests.conftest import d
from tests.domain.test_policy import MINIMAL, write

ON = d("2026-06-01")


def figures(revenue: str, *, main: str | None = None, rd: str | None = None, staff: int = 10,
            employees: int = 100, debt: str = "0.50", patents: int = 0) -> Figures:
    revenue_d = Decimal(revenue)
    return Figures(revenue=revenue_d, main_business_revenue=Decimal(main) if main else revenue_d * Decimal("0.8"),
                   rd_expense=Decimal(rd) if rd else revenue_d * Decimal("0.05"), employees=employees,
                   rd_staff=staff, debt_ratio=Decimal(debt), invention_patents=patents, audit_report_code="V1")


def facts(region: str = "331002", founded: str = "2015-01-01", titles: tuple[str, ...] = (),
          **by_year: Figures) -> Facts:
    flags = {"sme": True, "no_major_accident_2y": True, "no_major_accident_3y": True, "no_dishonesty_3y": True,
             "no_active_ban": True}
    return Facts(year=2025, on=ON, region_code=region, founded_on=d(founded),
                 figures={int(y[1:]): f for y, f in by_year.items()}, titles=frozenset(titles), flags=flags)


def test_every_tier_has_sourced_criteria(policies):
    for policy in policies.policies:
        for tier in policy.tiers:
            assert tier.criteria.items, tier.code
            assert tier.criteria.source
            evaluation = evaluate(tier.criteria, Facts(year=2025, on=ON, region_code="331002"))
            assert all(r.source for top in evaluation.results for r in top.walk()), tier.code
            assert evaluation.verdict == Verdict.FAIL  # no data at all never passes, never crashes


def test_innovative_score_table_is_the_100_point_scheme(policies):
    score = policies.tier("innovative_sme").criteria.items[1].children[0]
    assert isinstance(score, Score)
    assert len(score.indicators) == 6 and sum(i.maximum for i in score.indicators) == 100
    assert score.pass_mark == 60 and score.minimums == {"创新能力": 20, "成长性": 15, "专业化": 15}


def test_innovative_strong_enterprise_passes_on_figures_alone(policies):
    strong = facts(y2024=figures("20000000"), y2025=figures("24000000", rd="2400000", patents=3, debt="0.40"))
    evaluation = evaluate(policies.tier("innovative_sme").criteria, strong)
    # ip 10..20, rd 20 (10 %), growth 20 (+20 %), debt 10, field 5..10, share 20 (80 %) → 85..100
    score = evaluation.find("evaluation.score")
    assert evaluation.verdict == Verdict.PASS and score.points == (85, 100)
    assert evaluation.find("evaluation.score.rd").points == (20, 20)


def test_innovative_weak_score_leaves_the_direct_conditions_to_verify(policies):
    weak = facts(y2024=figures("20000000"), y2025=figures("18000000", rd="100000", debt="0.90"))
    evaluation = evaluate(policies.tier("innovative_sme").criteria, weak)
    assert evaluation.find("evaluation.score").verdict == Verdict.FAIL
    assert evaluation.find("evaluation.direct").verdict == Verdict.UNKNOWN
    assert evaluation.verdict == Verdict.UNKNOWN


@pytest.mark.parametrize(("rd", "revenue", "verdict"), [
    ("1000000", "33333334", Verdict.FAIL),   # 100万 but just under 3 %
    ("999999", "20000000", Verdict.FAIL),    # 5 % but under 100万
    ("1000000", "33333333", Verdict.UNKNOWN),  # both hold; the 13-indicator score is manual
])
def test_specialized_basic_conditions(policies, rd, revenue, verdict):
    sample = facts(y2025=figures(revenue, rd=rd))
    assert evaluate(policies.tier("specialized_sme").criteria, sample).verdict == verdict


def test_specialized_niche_years_and_revenue_alternative(policies):
    young = facts(founded="2024-06-02", y2025=figures("20000000"))
    evaluation = evaluate(policies.tier("specialized_sme").criteria, young)
    assert evaluation.find("niche").verdict == Verdict.FAIL
    small = facts(y2025=figures("9000000", rd="1000000"))
    assert evaluate(policies.tier("specialized_sme").criteria, small).find("revenue").verdict == Verdict.UNKNOWN


def test_little_giant_key_conditions(policies):
    criteria = policies.tier("little_giant").criteria
    good = facts(y2023=figures("50000000"), y2024=figures("60000000", rd="2400000", main="50000000"),
                 y2025=figures("70000000", rd="2800000", main="56000000", patents=2))
    evaluation = evaluate(criteria, good)
    for item in ("specialisation", "rd_each_year", "innovation", "growth", "safety"):
        assert evaluation.find(item).verdict == Verdict.PASS, item
    assert evaluation.verdict == Verdict.UNKNOWN  # listing, industry, quality, integrity are verified by hand
    one_year_short = facts(y2024=figures("60000000", rd="2399999"), y2025=figures("70000000", rd="2800000"))
    assert evaluate(criteria, one_year_short).find("rd_each_year").verdict == Verdict.FAIL


def test_single_champion_proxy_and_product(policies):
    champion = policies.tier("single_champion").criteria
    assert evaluate(champion, facts(y2025=figures("500000000", main="349999999"))).verdict == Verdict.FAIL
    passing = evaluate(champion, facts(y2025=figures("500000000", main="350000000")))
    proxy = passing.find("main_product_proxy")
    assert proxy.verdict == Verdict.PASS and "代替" in proxy.note
    assert passing.verdict == Verdict.UNKNOWN
    product = policies.tier("champion_product").criteria
    assert "main_product_proxy" not in {r.id for r in evaluate(product, facts()).results}


def test_zhejiang_pool_entry_and_two_of_four(policies):
    criteria = policies.tier("zj_hidden_champion").criteria
    entry = facts(y2023=figures("100000000"), y2024=figures("200000000"), y2025=figures("300000000"))
    assert evaluate(criteria, entry, "pool").verdict == Verdict.UNKNOWN  # conditions 2–6 by hand
    assert "indicators" not in {r.id for r in evaluate(criteria, entry, "pool").results}
    too_big = facts(y2025=figures("300000000.01"))
    assert evaluate(criteria, too_big, "pool").find("revenue").verdict == Verdict.FAIL
    outside = facts(region="320102", y2025=figures("100000000"))
    assert evaluate(criteria, outside, "pool").find("registered").verdict == Verdict.FAIL
    title = evaluate(criteria, entry, "title").find("indicators")
    assert title.verdict == Verdict.UNKNOWN and [c.id for c in title.children] == [
        "indicators.focus", "indicators.quality", "indicators.distinct", "indicators.innovation"]


@pytest.mark.parametrize(("region", "revenue", "verdict"), [
    ("510104", "19999999", Verdict.FAIL), ("510104", "20000000", Verdict.PASS),
    ("511502", "15000000", Verdict.PASS), ("513401", "15000000", Verdict.PASS),
    ("513301", "10000000", Verdict.PASS), ("513301", "9999999", Verdict.FAIL),
])
def test_sichuan_revenue_by_economic_zone(policies, region, revenue, verdict):
    sample = facts(region=region, y2025=figures(revenue))
    assert evaluate(policies.tier("sc_specialized_sme").criteria, sample).find("revenue").verdict == verdict


def test_sichuan_growth_debt_and_rd(policies):
    criteria = policies.tier("sc_specialized_sme").criteria
    sample = facts(region="510104", y2023=figures("20000000"), y2024=figures("21000000", rd="300000"),
                   y2025=figures("23000000", rd="360000", debt="0.80", staff=10, employees=100))
    evaluation = evaluate(criteria, sample)
    assert evaluation.find("growth").verdict == Verdict.PASS
    assert evaluation.find("debt").verdict == Verdict.PASS  # 80 % 不高于 80 %
    assert evaluation.find("rd_ratio").verdict == Verdict.PASS  # 66万 / 4400万 = exactly 1.5 %
    assert evaluation.find("rd_staff").verdict == Verdict.PASS  # exactly 10 %
    flat = facts(region="510104", y2023=figures("20000000"), y2024=figures("22000000"), y2025=figures("22000000"))
    assert evaluate(criteria, flat).find("growth").verdict == Verdict.FAIL  # 0 % is not 正增长


BAD = MINIMAL + '[tiers.criteria]\nsource = "s"\n'


@pytest.mark.parametrize(("body", "key", "problem"), [
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "turnover"\nop = "以上"\nvalue = 1\n',
     "tiers[0].criteria.r.metric", "must be one of"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\nop = "大约"\nvalue = 1\n',
     "tiers[0].criteria.r.op", "must be one of"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "rd_expense"\nper = "revenue"\nop = "以上"\nvalue = 3\n',
     "tiers[0].criteria.r.value", "percentage"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = "3%"\n',
     "tiers[0].criteria.r.value", "ratio metric"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\n',
     "tiers[0].criteria.r.value", "exactly one of value or by_region"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = "lots"\n',
     "tiers[0].criteria.r.value", "not a number"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = 1\nyaers = 2\n',
     "tiers[0].criteria.r.yaers", "unknown key"),
    ('[tiers.criteria.r]\nkind = "guess"\n', "tiers[0].criteria.r.kind", "must be one of"),
    ('[tiers.criteria.r]\nkind = "manual"\n', "tiers[0].criteria.r.name", "needs a name"),
    ('[tiers.criteria.r]\nkind = "flag"\nflag = "lucky"\n', "tiers[0].criteria.r.flag", "must be one of"),
    ('[tiers.criteria.r]\nkind = "region"\nin = ["33"]\n', "tiers[0].criteria.r.in", "6-digit"),
    ('[tiers.criteria.r]\nkind = "at_least"\nk = 3\n[tiers.criteria.r.of.a]\nkind = "manual"\nname = "a"\n',
     "tiers[0].criteria.r.k", "between 1 and 1"),
    ('[tiers.criteria.r]\nkind = "any_of"\n[tiers.criteria.r.of.a]\nkind = "threshold"\nmetric = "revenue"\n',
     "tiers[0].criteria.r.of.a.op", "missing"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nby_region = ['
     '{ zone = "a", regions = ["510100"], value = 1 }, { zone = "b", regions = ["510100"], value = 2 }]\n',
     "tiers[0].criteria.r.by_region[1].regions", "two zones"),
    ('[tiers.criteria.r]\nkind = "score"\nname = "s"\npass = 200\n[tiers.criteria.r.indicators.a]\n'
     'name = "a"\nbands = [{ points = 10 }]\n', "tiers[0].criteria.r.pass", "exceeds"),
    ('[tiers.criteria.r]\nkind = "score"\nname = "s"\npass = 5\ngroups = { G = 1 }\n'
     '[tiers.criteria.r.indicators.a]\nname = "a"\ngroup = "H"\nbands = [{ points = 10 }]\n',
     "tiers[0].criteria.r.indicators.a.group", "must be one of"),
    ('[tiers.criteria.r]\nkind = "score"\nname = "s"\npass = 5\n[tiers.criteria.r.indicators.a]\n'
     'name = "a"\nbands = [{ points = 10, op = "以上", value = 1 }]\n',
     "tiers[0].criteria.r.indicators.a.bands[0].op", "metric"),
    ('typo = 1\n', "tiers[0].criteria.typo", "criterion table"),
    ('[tiers.criteria.r]\nkind = "threshold"\nmetric = "revenue"\ngrowth = true\nover = "total"\nop = "以上"\n'
     'value = "1%"\n', "tiers[0].criteria.r.over", "growth"),
])
def test_malformed_criteria_name_file_key_and_problem(tmp_path, body, key, problem):
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, BAD + body))
    assert (err.value.file, err.value.key) == ("x-2026.toml", key)
    assert problem in err.value.problem


def test_criteria_source_is_required(tmp_path):
    text = MINIMAL + '[tiers.criteria.r]\nkind = "manual"\nname = "x"\n'
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, text))
    assert err.value.key == "tiers[0].criteria.source"


def test_title_criterion_must_name_a_known_tier(tmp_path):
    write(tmp_path, BAD + '[tiers.criteria.r]\nkind = "title"\nany_of = ["ghost_tier"]\n')
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert "ghost_tier" in err.value.problem
