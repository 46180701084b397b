"""Product-level figures (issue 14 §4): a criterion over a product's share is judged on the true ratio
when the annual report records the main product's sales, with the text's comparison word (以上 and
≥ include the bound), and is 待人工核实 — never 不符合 — when it does not. Each test quotes its seed."""

from decimal import Decimal

import pytest

from registry.domain.criteria import Facts, Figures, Verdict, evaluate
from registry.domain.criteria_toml import parse_criteria
from registry.domain.errors import PolicyError, RuleViolation
from registry.domain.guards import check_annual_figures
from tests.conftest import d
from tests.domain.test_policy_sources import in_seed

ON = d("2026-06-01")
D = Decimal


def judged(criteria, criterion: str, region: str = "331002", **by_year: Figures):
    facts = Facts(year=2025, on=ON, region_code=region, figures={int(y[1:]): f for y, f in by_year.items()},
                  flags={"sme": True, "no_major_accident_3y": True, "no_dishonesty_3y": True})
    return evaluate(criteria, facts).find(criterion)


# ----------------------------------------------------------------- 单项冠军: 相应产品 ≥ 70 % of 主营

CHAMPION_QUOTE = "申请单项冠军示范企业的,相应产品的销售收入须占企业主营业务收入的70%以上"


@pytest.mark.parametrize("on", ["2021-07-01", "2024-01-01"])  # the 2021 notice, and 138号 which keeps it
@pytest.mark.parametrize(("product", "verdict"), [
    ("69999999.99", Verdict.FAIL),  # just below 70 % of 1亿
    ("70000000", Verdict.PASS),  # at: 以上 includes 70 %
    ("70000000.01", Verdict.PASS),  # just above
])
def test_champion_product_share_of_main_business_at_above_and_below_70(policies, on, product, verdict):
    assert in_seed("001", CHAMPION_QUOTE)
    criteria = policies.tier("single_champion", d(on)).criteria
    # revenue 2亿, 主营 1亿: the 主营/营收 proxy (50 %) would fail; the true ratio decides
    result = judged(criteria, "main_product", y2025=Figures(
        revenue=D("200000000"), main_business_revenue=D("100000000"), main_product="精密轴承",
        main_product_revenue=D(product)))
    assert result.verdict == verdict
    assert "主导产品销售收入（精密轴承）" in " ".join(v.label for v in result.values)
    assert "主导产品销售收入占主营业务收入比重" in " ".join(v.label for v in result.values)


@pytest.mark.parametrize("figures", [
    Figures(revenue=D("200000000"), main_business_revenue=D("100000000")),  # no product sales
    Figures(revenue=D("200000000"), main_product_revenue=D("90000000")),  # no 主营: no denominator
    Figures(revenue=D("200000000"), main_business_revenue=D(0), main_product_revenue=D(0)),  # 主营 zero
])
def test_champion_product_share_without_the_figures_is_to_be_verified_never_failed(policies, figures):
    result = judged(policies.tier("single_champion").criteria, "main_product", y2025=figures)
    assert result.verdict == Verdict.UNKNOWN and result.no_data
    assert result.detail.endswith("待人工核实")


def test_champion_product_share_without_a_report_is_to_be_verified(policies):
    result = judged(policies.tier("single_champion").criteria, "main_product")
    assert result.verdict == Verdict.UNKNOWN and "缺少2025年度报告" in result.detail


def test_champion_product_tier_has_no_70_percent_rule(policies):
    # 单项冠军产品: "申请单项冠军产品的,只能申请一个产品" — the 70 % rule is the 示范企业's
    assert in_seed("001", "申请单项冠军产品的,只能申请一个产品")
    ids = {i.id for i in policies.tier("champion_product").criteria.items}
    assert "main_product" not in ids


# ------------------------------------------------------------- 浙江隐形冠军: 主要产品 and R&D over it

ZJ = "zj_hidden_champion"


@pytest.mark.parametrize(("product", "verdict"), [
    ("20999999.99", Verdict.FAIL), ("21000000", Verdict.PASS), ("21000000.01", Verdict.PASS)])
def test_zhejiang_main_product_share_of_all_sales_at_above_and_below_70(policies, product, verdict):
    assert in_seed("001", "主要产品销售额占企业全部销售70%以上(如有多个主要产品的,产品之间应有直接关联性)")
    result = judged(policies.tier(ZJ).criteria, "indicators.focus.share", region="330100",
                    y2025=Figures(revenue=D("30000000"), main_business_revenue=D("29000000"),
                                  main_product_revenue=D(product)))
    assert result.verdict == verdict


def zj_years(rd: str, product: str = "10000000") -> dict[str, Figures]:
    base = {"revenue": D("20000000"), "main_business_revenue": D("15000000"), "rd_expense": D(rd),
            "main_product_revenue": D(product)}
    return {"y2023": Figures(**base), "y2024": Figures(**base), "y2025": Figures(**base)}


@pytest.mark.parametrize(("rd", "verdict"), [
    ("299999.99", Verdict.FAIL), ("300000", Verdict.PASS), ("300000.01", Verdict.PASS)])
def test_zhejiang_rd_over_main_product_sales_three_years_at_above_and_below_3(policies, rd, verdict):
    assert in_seed("001", "最近三年的研发经费支出占主要产品销售收入的比重(原则上≥3%)")
    # R&D over revenue would be 1.5 %, over 主营 2 %: only the main product's sales are the denominator
    result = judged(policies.tier(ZJ).criteria, "indicators.innovation.rd", region="330100", **zj_years(rd))
    assert result.verdict == verdict
    assert "2023—2025年研发费用占主导产品销售收入比重" in " ".join(v.label for v in result.values)


def test_zhejiang_rd_indicator_without_a_years_product_sales_is_to_be_verified(policies):
    years = zj_years("900000")
    years["y2024"] = Figures(revenue=D("20000000"), rd_expense=D("900000"))
    result = judged(policies.tier(ZJ).criteria, "indicators.innovation.rd", region="330100", **years)
    assert result.verdict == Verdict.UNKNOWN and "2024年度报告未填主导产品销售收入" in result.detail
    # the ranking among peers stays a manual check whatever the figures
    rank = judged(policies.tier(ZJ).criteria, "indicators.innovation.rd_rank", region="330100", **zj_years("900000"))
    assert rank.verdict == Verdict.UNKNOWN


# -------------------------------------------------------------------- 四川: 主导产品 ≥ 60 % of 营收

@pytest.mark.parametrize(("product", "verdict"), [
    ("17999999.99", Verdict.FAIL), ("18000000", Verdict.PASS), ("18000000.01", Verdict.PASS)])
def test_sichuan_main_product_share_of_revenue_at_above_and_below_60(policies, product, verdict):
    assert in_seed("000", "主導產品(服務)銷售收入占營業收入的 60% 以上")
    tier = policies.tier("sc_specialized_sme")
    result = judged(tier.criteria, "main_product", region="510104",
                    y2025=Figures(revenue=D("30000000"), main_product_revenue=D(product)))
    assert result.verdict == verdict
    assert judged(tier.criteria, "main_product", region="510104",
                  y2025=Figures(revenue=D("30000000"))).verdict == Verdict.UNKNOWN


# ----------------------------------------------------------------------------- the language

def test_missing_is_fail_or_manual_and_nothing_else():
    table = {"source": "S", "c": {"kind": "threshold", "metric": "main_product_revenue", "per": "revenue",
                                  "op": "以上", "value": "70%", "missing": "skip"}}
    with pytest.raises(PolicyError, match="missing"):
        parse_criteria(table, file="f.toml", path="tiers[0].criteria")
    del table["c"]["missing"]  # default: a missing figure fails (无数据), as before
    criteria = parse_criteria(table, file="f.toml", path="tiers[0].criteria")
    result = evaluate(criteria, Facts(year=2025, on=ON, region_code="331002")).find("c")
    assert result.verdict == Verdict.FAIL and result.no_data


# ----------------------------------------------------------------------------- plausibility

@pytest.mark.parametrize(("product", "error"), [("100", False), ("100.01", True), ("99.99", False)])
def test_product_sales_above_main_business_revenue_is_an_error(product, error):
    figures = {"revenue": D("200"), "main_business_revenue": D("100"), "main_product": "泵",
               "main_product_revenue": D(product), "submitted_on": d("2026-03-01")}
    if error:
        with pytest.raises(RuleViolation) as err:
            check_annual_figures(2025, figures, d("2026-06-01"))
        assert "主导产品销售收入（100.01）高于主营业务收入（100）" in err.value.errors["main_product_revenue"][0]
    else:
        assert check_annual_figures(2025, figures, d("2026-06-01")).warnings == ()


@pytest.mark.parametrize(("product", "error"), [("200", False), ("200.01", True)])
def test_without_main_business_revenue_product_sales_are_checked_against_revenue(product, error):
    figures = {"revenue": D("200"), "main_product": "泵", "main_product_revenue": D(product),
               "submitted_on": d("2026-03-01")}
    if error:
        with pytest.raises(RuleViolation, match="主导产品销售收入（200.01）高于营业收入（200）"):
            check_annual_figures(2025, figures, d("2026-06-01"))
    else:
        check_annual_figures(2025, figures, d("2026-06-01"))


def test_negative_product_sales_are_refused_and_sales_without_a_name_warned():
    with pytest.raises(RuleViolation) as err:
        check_annual_figures(2025, {"main_product_revenue": D("-1")}, d("2026-06-01"))
    assert "主导产品销售收入不能为负数" in err.value.errors["main_product_revenue"][0]
    warned = check_annual_figures(2025, {"main_product_revenue": D("5"), "main_product": "  "}, d("2026-06-01"))
    assert any("未填主导产品名称" in w for w in warned.warnings)
