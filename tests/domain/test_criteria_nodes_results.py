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


# ------------------------------------------------------------------ score indicators and tables

from registry.domain.criteria_nodes import Band, Indicator, Score  # noqa: E402


def revenue_at_least(amount, years=1):
    return Threshold(id="r", name="r", source="S", bound=D(amount), years=years)


def indicator(*bands):
    return Indicator(id="i", name="I", source="S", group="g", bands=bands)


def scored(verdict, detail, values, points, no_data=False):
    return Result(id="i", name="I", kind="indicator", verdict=verdict, source="S", detail=detail, values=values,
                  no_data=no_data, points=points)


TIERS = (Band(10, "高", revenue_at_least("10000000")), Band(5, "中", revenue_at_least("5000000")), Band(0, "低"))


def test_indicator_top_band_and_a_lower_band_without_repeating_values():
    assert indicator(*TIERS).evaluate(FACTS) == scored(Verdict.PASS, "得分 10分（高）", (REV_2025,), (10, 10))
    last_year = Facts(year=2024, on=date(2025, 6, 1), region_code="331002", figures=FACTS.figures)
    assert indicator(*TIERS).evaluate(last_year) == scored(Verdict.PASS, "得分 5分（中）", (REV_2024,), (5, 5))


def test_indicator_with_no_band_holding_scores_zero():
    assert indicator(TIERS[0]).evaluate(Facts(year=2024, on=date(2025, 6, 1), region_code="331002",
                                              figures=FACTS.figures)) == scored(
        Verdict.PASS, "得分 0分（无符合的档次）", (REV_2024,), (0, 0))


def test_indicator_manual_bands_above_widen_the_range_from_the_highest():
    manual = indicator(Band(10, "专家评审", manual=True), Band(7, "B", Manual(id="m", name="m", source="S")), TIERS[1],
                       TIERS[2])
    assert manual.evaluate(FACTS) == scored(Verdict.UNKNOWN, "得分 5—10分（中）；「专家评审」待人工核实；「B」待人工核实",
                                            (REV_2025,), (5, 10))


def test_indicator_without_data_says_so():
    lacking = indicator(Band(10, "高", revenue_at_least("1", years=3)), Band(0, "低"))
    assert lacking.evaluate(FACTS) == scored(Verdict.PASS, "得分 0分（低）；无数据：缺少2023年度报告", (), (0, 0),
                                             no_data=True)


def title_stage_only_fails():
    return Group(id="c", name="c", source="S", mode="all_of",
                 children=(Title(id="t", name="t", source="S", stage="title", any_of=("z",)),))


def test_indicator_and_score_pass_the_stage_on():
    ind = indicator(Band(10, "高", title_stage_only_fails()), Band(0, "低"))
    assert ind.evaluate(FACTS).points == (0, 0)  # default stage "title": the title-stage child counts
    assert ind.evaluate(FACTS, "pool").points == (10, 10)
    table = Score(id="s", name="S", source="S", pass_mark=10, indicators=(ind,))
    assert table.evaluate(FACTS).verdict == Verdict.FAIL
    assert table.evaluate(FACTS, "pool").verdict == Verdict.PASS


def test_score_result_in_full():
    table = Score(id="s", name="S", source="S", pass_mark=12, minimums={"g": 10},
                  indicators=(indicator(*TIERS), indicator(Band(4, "x", manual=True), Band(2, "y"))))
    got = table.evaluate(FACTS)
    assert got.verdict == Verdict.PASS and got.points == (12, 14) and got.kind == "score"
    assert got.values == (Value("总分得分", "12-14", "12—14分"), Value("g得分", "12-14", "12—14分"))
    assert got.detail == "12—14分（总分需≥12分）；12—14分（g需≥10分）"
    assert [c.points for c in got.children] == [(10, 10), (2, 4)]
    assert Score(id="s", name="S", source="S", pass_mark=13, indicators=table.indicators).evaluate(FACTS).verdict \
        == Verdict.UNKNOWN
    assert Score(id="s", name="S", source="S", pass_mark=15, indicators=table.indicators).evaluate(FACTS).verdict \
        == Verdict.FAIL
    assert table.title_refs() == set()


def test_threshold_missing_data_keeps_the_values_it_used():
    zones = (Zone("浙南", ("331000",), D("1")),)
    zone = Value("所在分区", "浙南", "浙南")
    age = Threshold(id="n", name="N", source="S", zones=zones, metric=Metric("age_years"))
    assert age.evaluate(FACTS).values == (zone, Value("成立日期", "2023-06-02", "2023-06-02"),
                                          Value("截至2026-06-01成立年限", "2", "2年"))
    gap = Facts(year=2025, on=date(2026, 6, 1), region_code="331002", figures={2024: FACTS.figures[2024]})
    each = Threshold(id="n", name="N", source="S", bound=D("1"), years=2)
    assert each.evaluate(gap) == result("threshold", Verdict.FAIL, "无数据：缺少2025年度报告", REV_2024, no_data=True)
    total = Threshold(id="n", name="N", source="S", bound=D("0.03"), metric=Metric("rd_expense", per="revenue"),
                      over="total", years=2, zones=zones)
    got = total.evaluate(gap)
    assert got.verdict == Verdict.FAIL and got.no_data and got.detail.startswith("无数据：")
    assert got.values[0] == zone


def test_threshold_total_over_three_years_names_first_and_last():
    three = Facts(year=2025, on=date(2026, 6, 1), region_code="331002",
                  figures={**FACTS.figures, 2023: Figures(revenue=D("6000000"), rd_expense=D("0"))})
    node = Threshold(id="n", name="N", source="S", bound=D("0.03"), metric=Metric("rd_expense", per="revenue"),
                     over="total", years=3)
    assert node.evaluate(three).detail == "2023—2025年 2.50% 不符合 ≥ 3%（以上）"


def test_a_nested_group_passes_the_stage_down():
    inner = Group(id="i", name="i", source="S", mode="all_of",
                  children=(Title(id="t", name="t", source="S", stage="title", any_of=("z",)),))
    outer = Group(id="o", name="o", source="S", mode="all_of", children=(inner,))
    assert outer.evaluate(FACTS, "title").verdict == Verdict.FAIL
    assert outer.evaluate(FACTS, "pool").verdict == Verdict.PASS


def test_score_totals_low_and_high_separately_whatever_the_order():
    table = Score(id="s", name="S", source="S", pass_mark=12,
                  indicators=(indicator(Band(4, "x", manual=True), Band(2, "y")), indicator(*TIERS)))
    got = table.evaluate(FACTS)
    assert got.points == (12, 14) and got.values == (Value("总分得分", "12-14", "12—14分"),)
    exact = Score(id="s", name="S", source="S", pass_mark=10, indicators=(indicator(*TIERS),)).evaluate(FACTS)
    assert exact.values == (Value("总分得分", "10", "10分"),) and exact.detail == "10分（总分需≥10分）"


def test_a_flag_the_records_cannot_decide_is_left_to_an_officer_saying_why():
    """An accident whose date is not recorded (issue 14: look-backs counted from the event's date): the flag
    is None, the criterion 待人工核实, with the reason the facts give (or a general one)."""
    label = "近2年未发生重大安全、质量、环境污染事故（据本系统撤销记录）"
    noted = Facts(year=2025, on=date(2026, 6, 1), region_code="331002", flags={"no_major_accident_2y": None},
                  flag_notes={"no_major_accident_2y": "撤销记录未载明事故发生日期"})
    assert Flag(id="n", name="N", source="S", flag="no_major_accident_2y").evaluate(noted) == result(
        "flag", Verdict.UNKNOWN, "撤销记录未载明事故发生日期：待人工核实", Value(label, None, "待人工核实"))
    bare = Facts(year=2025, on=date(2026, 6, 1), region_code="331002", flags={"no_major_accident_2y": None})
    assert Flag(id="n", name="N", source="S", flag="no_major_accident_2y").evaluate(bare) == result(
        "flag", Verdict.UNKNOWN, "本系统记录不足以判断：待人工核实", Value(label, None, "待人工核实"))
