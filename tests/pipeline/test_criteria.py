"""The criteria language, pure: every kind of criterion, exact bounds, missing data and manual checks."""

from decimal import Decimal

import pytest

from registry.domain.criteria import Facts, Figures, Verdict, evaluate, parse_criteria
from tests.conftest import d

FACTS = Facts(
    year=2025, on=d("2026-06-01"), region_code="331002", founded_on=d("2020-06-01"),
    figures={
        2023: Figures(revenue=Decimal("8000000"), main_business_revenue=Decimal("7000000")),
        2024: Figures(revenue=Decimal("10000000"), main_business_revenue=Decimal("9000000"),
                      rd_expense=Decimal("400000")),
        2025: Figures(revenue=Decimal("10000000"), main_business_revenue=Decimal("7000000"),
                      rd_expense=Decimal("300000"), employees=50, rd_staff=5, debt_ratio=Decimal("0.80"),
                      invention_patents=2),
    },
    titles=frozenset({"innovative_sme"}), flags={"sme": True, "no_major_accident_3y": False})


def crit(text: str):
    """Parse a criteria table written as TOML (the [tiers.criteria] table's body)."""
    import tomllib

    return parse_criteria(tomllib.loads('source = "test"\n' + text), file="t.toml", path="tiers[0].criteria")


def one(text: str, facts: Facts = FACTS, stage: str = "title"):
    evaluation = evaluate(crit(text), facts, stage)
    assert len(evaluation.results) == 1
    return evaluation.results[0]


def threshold(metric: str, op: str, value: str, extra: str = "") -> str:
    return f'[c]\nkind = "threshold"\nmetric = "{metric}"\nop = "{op}"\nvalue = {value}\n{extra}'


@pytest.mark.parametrize(("op", "verdict"), [
    ("以上", Verdict.PASS), ("不低于", Verdict.PASS), ("高于", Verdict.FAIL), ("超过", Verdict.FAIL),
    ("以下", Verdict.PASS), ("不超过", Verdict.PASS), ("不高于", Verdict.PASS), ("低于", Verdict.FAIL),
])
def test_operators_are_exact_at_the_boundary(op, verdict):
    # rd_expense / revenue = 300000 / 10000000 = exactly 3 %
    result = one(threshold("rd_expense", op, '"3%"', 'per = "revenue"'))
    assert result.verdict == verdict
    assert {v.label: v.value for v in result.values}["2025年研发费用占营业收入比重"] == "0.03"


def test_money_bound_in_wan_and_yi():
    assert one(threshold("revenue", "以上", '"1000万"')).verdict == Verdict.PASS
    assert one(threshold("revenue", "高于", '"1000万元"')).verdict == Verdict.FAIL
    assert one(threshold("revenue", "低于", '"4亿"')).verdict == Verdict.PASS
    assert one(threshold("revenue", "以上", "10000000")).verdict == Verdict.PASS


def test_values_used_are_the_report_figures():
    result = one(threshold("rd_expense", "不低于", '"3%"', 'per = "revenue"'))
    values = {v.label: (v.value, v.display) for v in result.values}
    assert values["2025年研发费用"] == ("300000", "30.00万元")
    assert values["2025年营业收入"] == ("10000000", "1,000.00万元")
    assert values["2025年研发费用占营业收入比重"][1] == "3.00%"
    assert result.source == "test" and "符合 ≥ 3%（不低于）" in result.detail


def test_each_of_the_last_years_and_their_total():
    # 2024: 4 %, 2025: 3 % — each year ≥ 3.5 % fails, the two-year total 3.5 % passes
    each = one(threshold("rd_expense", "不低于", '"3.5%"', 'per = "revenue"\nyears = 2'))
    assert each.verdict == Verdict.FAIL and "2024年" in each.detail and "2025年" in each.detail
    total = one(threshold("rd_expense", "不低于", '"3.5%"', 'per = "revenue"\nyears = 2\nover = "total"'))
    assert total.verdict == Verdict.PASS
    assert {v.label: v.value for v in total.values}["2024—2025年研发费用占营业收入比重"] == "0.035"


def test_growth_year_over_year():
    # revenue: 800万 → 1000万 (+25 %) → 1000万 (0 %)
    assert one(threshold("revenue", "高于", '"0%"', "growth = true")).verdict == Verdict.FAIL
    assert one(threshold("revenue", "以上", '"0%"', "growth = true\nyears = 2")).verdict == Verdict.PASS
    growth = one(threshold("revenue", "高于", '"20%"', "growth = true\nyears = 2"))
    assert growth.verdict == Verdict.FAIL and "25.00%" in growth.detail


def test_age_counts_completed_years_to_the_corresponding_day():
    assert one(threshold("age_years", "以上", "6")).verdict == Verdict.PASS  # 2020-06-01 → 2026-06-01
    day_before = Facts(**{**FACTS.__dict__, "on": d("2026-05-31")})
    assert one(threshold("age_years", "以上", "6"), day_before).verdict == Verdict.FAIL


def test_debt_ratio_is_a_fraction_compared_to_a_percentage():
    assert one(threshold("debt_ratio", "不高于", '"80%"')).verdict == Verdict.PASS
    assert one(threshold("debt_ratio", "低于", '"80%"')).verdict == Verdict.FAIL


@pytest.mark.parametrize(("facts", "fragment"), [
    (Facts(year=2025, on=d("2026-06-01"), region_code="331002"), "缺少2025年度报告"),
    (Facts(year=2025, on=d("2026-06-01"), region_code="331002", figures={2025: Figures(revenue=Decimal(1))}),
     "2025年度报告未填研发费用"),
    (Facts(year=2025, on=d("2026-06-01"), region_code="331002",
           figures={2025: Figures(rd_expense=Decimal(1), revenue=Decimal(0))}), "营业收入为零"),
])
def test_missing_data_fails_clearly_never_crashes(facts, fragment):
    result = one(threshold("rd_expense", "不低于", '"3%"', 'per = "revenue"'), facts)
    assert result.verdict == Verdict.FAIL and result.no_data
    assert result.detail.startswith("无数据") and fragment in result.detail


def test_missing_growth_base_and_founding_date():
    no_base = Facts(year=2025, on=d("2026-06-01"), region_code="331002", figures={2025: FACTS.figures[2025]})
    assert "缺少2024年度报告" in one(threshold("revenue", "高于", '"0%"', "growth = true"), no_base).detail
    no_date = Facts(year=2025, on=d("2026-06-01"), region_code="331002")
    assert one(threshold("age_years", "以上", "2"), no_date).detail == "无数据：未登记成立日期"


def test_titles_flags_and_region():
    assert one('[c]\nkind = "title"\nany_of = ["innovative_sme", "x"]').verdict == Verdict.PASS
    assert one('[c]\nkind = "title"\nany_of = ["little_giant"]').verdict == Verdict.FAIL
    assert one('[c]\nkind = "flag"\nflag = "sme"').verdict == Verdict.PASS
    assert one('[c]\nkind = "flag"\nflag = "no_major_accident_3y"').verdict == Verdict.FAIL
    unknown_flag = one('[c]\nkind = "flag"\nflag = "no_active_ban"')
    assert unknown_flag.verdict == Verdict.FAIL and unknown_flag.detail.startswith("无数据")
    assert one('[c]\nkind = "region"\nin = ["330000"]').verdict == Verdict.PASS
    assert one('[c]\nkind = "region"\nin = ["510000", "330100"]').verdict == Verdict.FAIL


def test_manual_is_unknown_not_pass_or_fail():
    result = one('[c]\nkind = "manual"\nname = "取得质量管理体系认证"')
    assert result.verdict == Verdict.UNKNOWN and result.as_dict()["verdict_name"] == "待人工核实"


def group(mode: str, k: str, *children: str) -> str:
    body = "".join(f'\n[c.of.n{i}]\n{child}' for i, child in enumerate(children))
    return f'[c]\nkind = "{mode}"\n{k}{body}'


PASS_ = 'kind = "flag"\nflag = "sme"'
FAIL_ = 'kind = "flag"\nflag = "no_major_accident_3y"'
MANUAL = 'kind = "manual"\nname = "核实"'


@pytest.mark.parametrize(("mode", "k", "children", "verdict"), [
    ("any_of", "", (FAIL_, PASS_), Verdict.PASS),
    ("any_of", "", (FAIL_, MANUAL), Verdict.UNKNOWN),
    ("any_of", "", (FAIL_, FAIL_), Verdict.FAIL),
    ("all_of", "", (PASS_, MANUAL), Verdict.UNKNOWN),
    ("all_of", "", (PASS_, FAIL_, MANUAL), Verdict.FAIL),
    ("at_least", "k = 2", (PASS_, FAIL_, PASS_, FAIL_), Verdict.PASS),
    ("at_least", "k = 2", (PASS_, FAIL_, MANUAL, FAIL_), Verdict.UNKNOWN),
    ("at_least", "k = 2", (PASS_, FAIL_, FAIL_, FAIL_), Verdict.FAIL),
    ("at_least", "k = 3", (PASS_, PASS_, MANUAL, FAIL_), Verdict.UNKNOWN),
])
def test_alternatives_and_k_of_n(mode, k, children, verdict):
    result = one(group(mode, k, *children))
    assert result.verdict == verdict
    assert len(result.children) == len(children)


ZONES = '''[c]
kind = "threshold"
metric = "revenue"
op = "以上"
by_region = [
  { zone = "成都平原经济区", regions = ["510100", "510600"], value = "2000万" },
  { zone = "川南经济区", regions = ["510300"], value = "1500万" },
  { zone = "川西北生态示范区", regions = ["513200"], value = "1000万" },
]
'''


@pytest.mark.parametrize(("region", "revenue", "verdict", "zone"), [
    ("510104", "19999999.99", Verdict.FAIL, "成都平原经济区"),
    ("510104", "20000000", Verdict.PASS, "成都平原经济区"),
    ("510302", "15000000", Verdict.PASS, "川南经济区"),
    ("510302", "14999999", Verdict.FAIL, "川南经济区"),
    ("513201", "10000000", Verdict.PASS, "川西北生态示范区"),
])
def test_per_region_thresholds(region, revenue, verdict, zone):
    facts = Facts(year=2025, on=d("2026-06-01"), region_code=region,
                  figures={2025: Figures(revenue=Decimal(revenue))})
    result = one(ZONES, facts)
    assert result.verdict == verdict
    assert result.values[0].display == zone


def test_region_outside_every_zone_is_no_data():
    facts = Facts(year=2025, on=d("2026-06-01"), region_code="331002", figures={2025: Figures(revenue=Decimal(9**9))})
    result = one(ZONES, facts)
    assert result.verdict == Verdict.FAIL and result.no_data and "331002" in result.detail


SCORE = '''[c]
kind = "score"
name = "评分"
pass = 60
groups = { "A" = 20, "B" = 15 }
[c.indicators.share]
name = "主营业务收入占比"
group = "A"
metric = "main_business_revenue"
per = "revenue"
bands = [
  { points = 40, op = "以上", value = "70%" },
  { points = 20, op = "以上", value = "50%" },
  { points = 0 },
]
[c.indicators.patents]
name = "知识产权"
group = "A"
bands = [
  { points = 20, manual = "高价值专利" },
  { points = 10, when = { kind = "threshold", metric = "invention_patents", op = "以上", value = 1 } },
  { points = 0 },
]
[c.indicators.debt]
name = "资产负债率"
group = "B"
metric = "debt_ratio"
bands = [
  { points = 40, op = "以下", value = "DEBT" },
  { points = 15, op = "以下", value = "90%" },
  { points = 0 },
]
'''


def score(debt_bound: str) -> str:
    return SCORE.replace("DEBT", debt_bound)


def test_score_sums_bands_and_checks_sub_minimums():
    # share 70 % → 40; patents 2 → 10..20 (manual band above); debt 80 % ≤ 80 % → 40: total 90..100
    result = one(score("80%"))
    assert result.verdict == Verdict.PASS and result.points == (90, 100)
    assert [c.points for c in result.children] == [(40, 40), (10, 20), (40, 40)]
    assert result.children[1].verdict == Verdict.UNKNOWN


def test_score_fails_a_sub_minimum_even_with_enough_total():
    # debt 80 % is not ≤ 75 % → 15 points: total 65..75 ≥ 60 but group B needs ≥ 15 → exactly 15 passes
    assert one(score("75%")).verdict == Verdict.PASS
    lower = Facts(**{**FACTS.__dict__, "figures": {**FACTS.figures, 2025: Figures(
        revenue=Decimal(100), main_business_revenue=Decimal(70), debt_ratio=Decimal("0.95"), invention_patents=1)}})
    result = one(score("75%"), lower)  # share 40, patents 10..20, debt 0: total 50..60, B = 0 < 15
    assert result.verdict == Verdict.FAIL and "B需≥15分" in result.detail


def test_score_is_unknown_when_the_range_straddles_the_pass_mark():
    facts = Facts(**{**FACTS.__dict__, "figures": {2025: Figures(
        revenue=Decimal(100), main_business_revenue=Decimal(50), debt_ratio=Decimal("0.5"), invention_patents=0)}})
    result = one(score("75%"), facts)  # share 20, patents 0..20, debt 40: total 60..80 passes; A 20..40 ok
    assert result.verdict == Verdict.PASS
    poorer = Facts(**{**facts.__dict__, "figures": {2025: Figures(
        revenue=Decimal(100), main_business_revenue=Decimal(10), debt_ratio=Decimal("0.5"), invention_patents=0)}})
    unsure = one(score("75%"), poorer)  # share 0, patents 0..20, debt 40: total 40..60, A 0..20
    assert unsure.verdict == Verdict.UNKNOWN


def test_score_with_missing_figures_scores_zero_with_the_reason():
    facts = Facts(year=2025, on=d("2026-06-01"), region_code="331002")
    result = one(score("75%"), facts)
    assert result.verdict == Verdict.FAIL
    assert result.children[0].points == (0, 0) and "无数据" in result.children[0].detail


def test_direct_condition_rescues_a_failed_score():
    text = group("any_of", "", FAIL_, 'kind = "title"\nany_of = ["innovative_sme"]')
    assert one(text).verdict == Verdict.PASS


def test_title_stage_is_skipped_when_checking_pool_entry():
    criteria = crit('[entry]\nkind = "flag"\nflag = "sme"\n[title]\nkind = "manual"\nname = "x"\nstage = "title"')
    assert evaluate(criteria, FACTS, "pool").verdict == Verdict.PASS
    assert [r.id for r in evaluate(criteria, FACTS, "pool").results] == ["entry"]
    assert evaluate(criteria, FACTS, "title").verdict == Verdict.UNKNOWN


def test_report_is_json_with_ids_sources_and_values():
    import json

    criteria = crit('[g]\nkind = "any_of"\nsource = "组来源"\n[g.of.a]\nkind = "flag"\nflag = "sme"\n'
                    '[g.of.b]\nkind = "manual"\nname = "核实"\nsource = "自有来源"')
    evaluation = evaluate(criteria, FACTS)
    data = json.loads(json.dumps(evaluation.as_dict(), ensure_ascii=False))
    assert data["verdict"] == "pass" and data["year"] == 2025 and data["on"] == "2026-06-01"
    child = data["results"][0]["children"]
    assert [c["id"] for c in child] == ["g.a", "g.b"]
    assert [c["source"] for c in child] == ["组来源", "自有来源"]
    assert evaluation.find("g.a").values[0].display == "是"


def test_empty_criteria_pass():
    evaluation = evaluate(parse_criteria({}, file="t.toml", path="x"), FACTS)
    assert evaluation.verdict == Verdict.PASS and evaluation.results == ()


def test_the_criteria_language_is_declarative_never_evaluated():
    """Criteria are TOML data read by a small interpreter: no eval/exec anywhere, code in a value is refused."""
    import ast
    from pathlib import Path

    from registry.domain.errors import PolicyError

    domain = Path(__file__).resolve().parents[2] / "registry" / "domain"
    for path in domain.glob("criteria*.py"):
        calls = {n.func.id for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"eval", "exec", "compile", "__import__"}, path.name
    for value in ('"__import__(\'os\').getcwd()"', '"revenue * 2"'):
        with pytest.raises(PolicyError) as err:
            crit(threshold("revenue", "以上", value))
        assert "t.toml" in str(err.value)
