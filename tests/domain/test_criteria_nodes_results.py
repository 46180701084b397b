"""Each criteria node's whole Result — verdict, detail, values used, no_data, note — on facts
built in memory (docs/mutation.md: criteria_nodes survivors). Checked by hand against the rules:
≥ at the bound passes and > does not, a term's age counts completed years (the anniversary day
not yet reached is one year less), a growth rate needs the year before, a missing year is 无数据."""

from datetime import date
from decimal import Decimal as D

from registry.domain.criteria_nodes import Flag, Group, InRegion, Manual, Threshold, Title, Zone
from registry.domain.criteria_report import Facts, Figures, Metric, Result, Value, Verdict

FACTS = Facts(year=2025, on=date(2026, 6, 1), region_code="331002", founded_on=date(2023, 6, 2),
              figures={2024: Figures(revenue=D("8000000"), rd_expense=D("300000")),
                       2025: Figures(revenue=D("10000000"), rd_expense=D("300000"))},
              titles=frozenset({"a", "b"}), flags={"sme": True})
SME = Value("属于中小企业（中小企业划型标准规定）", "true", "是")
REV_2024 = Value("2024年营业收入", "8000000", "800.00万元")
REV_2025 = Value("2025年营业收入", "10000000", "1,000.00万元")


def result(kind, verdict, detail, *values, ident="n", name="N", no_data=False, note="", children=()):
    return Result(id=ident, name=name, kind=kind, verdict=verdict, source="S", detail=detail, values=values,
                  children=children, no_data=no_data, note=note)


def test_title_held_and_not_held():
    node = Title(id="n", name="N", source="S", note="备注", any_of=("b", "a", "z"))
    assert node.evaluate(FACTS) == result("title", Verdict.PASS, "持有 a、b",
                                          Value("2026-06-01持有的相关称号", "a、b", "a、b"), note="备注")
    assert Title(id="n", name="N", source="S", any_of=("z",)).evaluate(FACTS) == result(
        "title", Verdict.FAIL, "未持有所列称号", Value("2026-06-01持有的相关称号", None, "无"))
    assert node.title_refs() == {"a", "b", "z"}


def test_flag_as_expected_against_expectation_and_unknown():
    assert Flag(id="n", name="N", source="S", flag="sme").evaluate(FACTS) == result("flag", Verdict.PASS, "是", SME)
    assert Flag(id="n", name="N", source="S", flag="sme", expected=False).evaluate(FACTS) == result(
        "flag", Verdict.FAIL, "是", SME)
    no = Facts(year=2025, on=date(2026, 6, 1), region_code="331002", flags={"sme": False})
    assert Flag(id="n", name="N", source="S", flag="sme", expected=False).evaluate(no) == result(
        "flag", Verdict.PASS, "否", Value(SME.label, "false", "否"))
    label = "近2年未发生重大安全、质量、环境污染事故（据本系统撤销记录）"
    assert Flag(id="n", name="N", source="S", flag="no_major_accident_2y").evaluate(FACTS) == result(
        "flag", Verdict.FAIL, f"无数据：{label}", Value(label, None, "无数据"), no_data=True)


def test_region_inside_and_outside():
    code = Value("注册地区代码", "331002", "331002")
    assert InRegion(id="n", name="N", source="S", regions=("330000", "110000")).evaluate(FACTS) == result(
        "region", Verdict.PASS, "331002 属于 330000、110000", code)
    assert InRegion(id="n", name="N", source="S", regions=("110000",)).evaluate(FACTS) == result(
        "region", Verdict.FAIL, "331002 不属于 110000", code)


def test_manual_is_unknown():
    assert Manual(id="n", name="N", source="S").evaluate(FACTS) == result("manual", Verdict.UNKNOWN, "需依申报材料人工核实")


def test_threshold_at_the_bound_inclusive_and_exclusive():
    at = Threshold(id="n", name="N", source="S", bound=D("10000000"))
    assert at.evaluate(FACTS) == result("threshold", Verdict.PASS, "2025年 1,000.00万元 符合 ≥ 1000万元（以上）", REV_2025)
    over = Threshold(id="n", name="N", source="S", bound=D("10000000"), op=">", wording="超过")
    assert over.evaluate(FACTS) == result("threshold", Verdict.FAIL, "2025年 1,000.00万元 不符合 > 1000万元（超过）",
                                          REV_2025)


def test_threshold_each_of_two_years_and_a_missing_year():
    two = Threshold(id="n", name="N", source="S", bound=D("8000000"), years=2)
    assert two.evaluate(FACTS) == result(
        "threshold", Verdict.PASS,
        "2024年 800.00万元 符合 ≥ 800万元（以上）；2025年 1,000.00万元 符合 ≥ 800万元（以上）", REV_2024, REV_2025)
    higher = Threshold(id="n", name="N", source="S", bound=D("8000001"), years=2)
    assert higher.evaluate(FACTS).verdict == Verdict.FAIL
    three = Threshold(id="n", name="N", source="S", bound=D("10000000"), years=3)
    assert three.evaluate(FACTS) == result("threshold", Verdict.FAIL, "无数据：缺少2023年度报告", no_data=True)


def test_threshold_over_the_total_is_a_ratio_of_sums():
    node = Threshold(id="n", name="N", source="S", bound=D("0.03"), metric=Metric("rd_expense", per="revenue"),
                     over="total", years=2, wording="不低于")
    assert node.evaluate(FACTS) == result(
        "threshold", Verdict.PASS, "2024—2025年 3.33% 符合 ≥ 3%（不低于）",
        Value("2024年研发费用", "300000", "30.00万元"), Value("2025年研发费用", "300000", "30.00万元"), REV_2024, REV_2025,
        Value("2024—2025年研发费用占营业收入比重", str(D(600000) / D(18000000)), "3.33%"))


def test_threshold_on_growth_needs_the_year_before():
    node = Threshold(id="n", name="N", source="S", bound=D("0.25"), metric=Metric("revenue", growth=True))
    assert node.evaluate(FACTS) == result("threshold", Verdict.PASS, "2025年 25.00% 符合 ≥ 25%（以上）",
                                          REV_2025, REV_2024, Value("2025年营业收入增长率", "0.25", "25.00%"))


def test_threshold_on_age_counts_completed_years():
    node = Threshold(id="n", name="N", source="S", bound=D("3"), metric=Metric("age_years"))
    founded = Value("成立日期", "2023-06-02", "2023-06-02")
    assert node.evaluate(FACTS) == result("threshold", Verdict.FAIL, "2年 不符合 ≥ 3年（以上）",
                                          founded, Value("截至2026-06-01成立年限", "2", "2年"))
    no_date = Facts(year=2025, on=date(2026, 6, 1), region_code="331002")
    assert node.evaluate(no_date) == result("threshold", Verdict.FAIL, "无数据：未登记成立日期", no_data=True)


def test_threshold_by_zone_and_outside_every_zone():
    zones = (Zone("浙南", ("331000",), D("5000000")), Zone("其他", ("330100",), D("20000000")))
    assert Threshold(id="n", name="N", source="S", zones=zones).evaluate(FACTS) == result(
        "threshold", Verdict.PASS, "2025年 1,000.00万元 符合 ≥ 500万元（以上）", Value("所在分区", "浙南", "浙南"), REV_2025)
    assert Threshold(id="n", name="N", source="S", zones=zones[1:]).evaluate(FACTS) == result(
        "threshold", Verdict.FAIL, "无数据：地区 331002 不在本条件列出的任何分区内",
        Value("所在分区", None, "不在任何分区"), no_data=True)


def node(verdict, ident, stage="both"):
    return {Verdict.PASS: Title(id=ident, name=ident, source="S", stage=stage, any_of=("a",)),
            Verdict.FAIL: Title(id=ident, name=ident, source="S", stage=stage, any_of=("z",)),
            Verdict.UNKNOWN: Manual(id=ident, name=ident, source="S", stage=stage)}[verdict]


def group(mode, *verdicts, k=0, stage_of_last="both"):
    kids = [node(v, f"c{i}") for i, v in enumerate(verdicts)]
    if kids:
        kids[-1] = node(verdicts[-1], f"c{len(kids) - 1}", stage_of_last)
    return Group(id="g", name="G", source="S", mode=mode, k=k, children=tuple(kids))


def test_group_modes_and_unknowns():
    P, F, U = Verdict.PASS, Verdict.FAIL, Verdict.UNKNOWN
    assert group("all_of", P, P).evaluate(FACTS).verdict == P
    assert group("all_of", P, U).evaluate(FACTS).verdict == U
    assert group("all_of", P, F).evaluate(FACTS).verdict == F
    assert group("any_of", F, P).evaluate(FACTS).verdict == P
    assert group("any_of", F, U).evaluate(FACTS).verdict == U
    assert group("any_of", F, F).evaluate(FACTS).verdict == F
    assert group("any_of").evaluate(FACTS).verdict == P  # nothing to satisfy
    assert group("at_least", P, P, F, k=2).evaluate(FACTS).verdict == P
    assert group("at_least", P, U, F, k=2).evaluate(FACTS).verdict == U
    assert group("at_least", P, F, F, k=2).evaluate(FACTS).verdict == F
    whole = group("at_least", P, U, F, k=2).evaluate(FACTS)
    assert whole.kind == "at_least" and whole.id == "g" and whole.name == "G"
    assert whole.detail == "3 项中符合 1 项、待核实 1 项，需符合 2 项"
    assert [c.id for c in whole.children] == ["c0", "c1", "c2"]


def test_a_title_stage_child_is_skipped_when_only_checking_pool_entry():
    g = group("all_of", Verdict.PASS, Verdict.FAIL, stage_of_last="title")
    assert g.evaluate(FACTS).verdict == Verdict.FAIL  # the default stage is "title": every child counts
    assert g.evaluate(FACTS, "title").verdict == Verdict.FAIL
    pool = g.evaluate(FACTS, "pool")
    assert pool.verdict == Verdict.PASS and pool.detail == "1 项中符合 1 项、待核实 0 项，需符合 1 项"
    assert node(Verdict.PASS, "x", "title").applies("title") and not node(Verdict.PASS, "x", "title").applies("pool")
    assert node(Verdict.PASS, "x").applies("pool") and node(Verdict.PASS, "x").applies("title")
    assert g.title_refs() == {"a", "z"}
