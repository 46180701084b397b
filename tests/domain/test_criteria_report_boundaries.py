"""Criteria report details the mutation run found untested (docs/mutation.md): the JSON snapshot
in full, age on the anniversary day and on 29 February, and which figure a 无数据 names."""

from datetime import date
from decimal import Decimal as D

import pytest

from registry.domain.criteria_report import Evaluation, Facts, Figures, Metric, Result, Value, Verdict, age_on


def test_age_counts_completed_years_to_the_corresponding_day():
    assert age_on(date(2023, 6, 2), date(2026, 6, 1)) == 2
    assert age_on(date(2023, 6, 2), date(2026, 6, 2)) == 3
    assert age_on(date(2024, 2, 29), date(2025, 2, 27)) == 0
    assert age_on(date(2024, 2, 29), date(2025, 2, 28)) == 1  # the month's last day stands in
    assert age_on(date(2026, 6, 2), date(2026, 6, 1)) == 0  # founded after the day: not negative
    assert age_on(date(2026, 6, 1), date(2026, 6, 1)) == 0


def test_result_and_evaluation_as_json_in_full():
    child = Result(id="a.b", name="B", kind="threshold", verdict=Verdict.FAIL, source="S2", detail="d2",
                   values=(Value("2025年营业收入", "10", "0.00万元"),), no_data=True)
    top = Result(id="a", name="A", kind="all_of", verdict=Verdict.UNKNOWN, source="S", detail="d",
                 children=(child,), points=(1, 3), note="备注")
    assert child.as_dict() == {
        "id": "a.b", "name": "B", "kind": "threshold", "verdict": "fail", "verdict_name": "不符合",
        "source": "S2", "detail": "d2", "no_data": True,
        "values": [{"label": "2025年营业收入", "value": "10", "display": "0.00万元"}], "children": []}
    got = top.as_dict()
    assert got["points"] == [1, 3] and got["note"] == "备注" and got["verdict_name"] == "待人工核实"
    assert got["children"] == [child.as_dict()] and got["values"] == [] and got["no_data"] is False
    assert set(got) == {"id", "name", "kind", "verdict", "verdict_name", "source", "detail", "no_data", "values",
                        "children", "points", "note"}
    evaluation = Evaluation(Verdict.PASS, 2025, date(2026, 6, 1), (top,))
    assert evaluation.as_dict() == {"verdict": "pass", "verdict_name": "符合", "year": 2025, "on": "2026-06-01",
                                    "results": [got]}
    assert evaluation.find("a.b") is child and evaluation.find("a") is top
    with pytest.raises(KeyError):
        evaluation.find("zz")


FIG = {2024: Figures(revenue=D("0"), rd_expense=D("5")), 2025: Figures(revenue=D("100"), rd_expense=None)}
FACTS = Facts(year=2025, on=date(2026, 6, 1), region_code="331002", figures=FIG)


def test_metric_value_names_what_is_missing():
    used = []
    assert Metric("rd_expense").value(FACTS, 2025, used) == (None, "无数据：2025年度报告未填研发费用")
    assert Metric("rd_expense").value(FACTS, 2023, used) == (None, "无数据：缺少2023年度报告")
    assert Metric("rd_expense", per="revenue").value(FACTS, 2025, used) == (None, "无数据：2025年度报告未填研发费用")
    assert Metric("revenue", per="rd_expense").value(FACTS, 2025, used) == (None, "无数据：2025年度报告未填研发费用")
    assert Metric("rd_expense", per="revenue").value(FACTS, 2024, used) == (None, "无数据：2024年营业收入为零")
    assert Metric("revenue", growth=True).value(FACTS, 2025, used) == (
        None, "无数据：2024年营业收入不为正数，无法计算增长率")
    assert Metric("revenue", growth=True).value(FACTS, 2024, used) == (None, "无数据：缺少2023年度报告")
    assert Metric("revenue").value(FACTS, 2025, used) == (D("100"), "")
    assert used == [Value("2025年营业收入", "100", "0.01万元"), Value("2024年研发费用", "5", "0.00万元"),
                    Value("2024年营业收入", "0", "0.00万元")]


def test_metric_ratio_and_growth_values():
    facts = Facts(year=2025, on=date(2026, 6, 1), region_code="331002",
                  figures={2024: Figures(revenue=D("80")), 2025: Figures(revenue=D("100"), rd_expense=D("5"))})
    used = []
    assert Metric("rd_expense", per="revenue").value(facts, 2025, used) == (D("0.05"), "")
    assert Metric("revenue", growth=True).value(facts, 2025, used) == (D("0.25"), "")
    assert used[-1] == Value("2025年营业收入增长率", "0.25", "25.00%")
    assert Value("2025年研发费用占营业收入比重", "0.05", "5.00%") in used


def test_metric_total_names_what_is_missing_and_a_zero_sum():
    used = []
    ratio = Metric("rd_expense", per="revenue")
    assert ratio.total(FACTS, [2024, 2025], used) == (None, "无数据：2025年度报告未填研发费用")
    assert ratio.total(FACTS, [2023, 2024], used) == (None, "无数据：缺少2023年度报告")
    assert Metric("revenue", per="rd_expense").total(FACTS, [2024, 2025], used) == (
        None, "无数据：2025年度报告未填研发费用")
    zero = Facts(year=2024, on=date(2025, 6, 1), region_code="331002", figures={2024: FIG[2024]})
    assert ratio.total(zero, [2024], used) == (None, "无数据：2024—2024年营业收入合计为零")
    two = Facts(year=2025, on=date(2026, 6, 1), region_code="331002",
                figures={2024: Figures(revenue=D("100"), rd_expense=D("1")),
                         2025: Figures(revenue=D("300"), rd_expense=D("7"))})
    fresh = []
    assert ratio.total(two, [2024, 2025], fresh) == (D("0.02"), "")
    assert fresh[-1] == Value("2024—2025年研发费用占营业收入比重", "0.02", "2.00%")
    assert Metric("revenue").total(two, [2024, 2025], []) == (D("1"), "")


def test_missing_lists_every_year_and_growth_from_one_yuan():
    from registry.domain.criteria_report import show

    empty = Facts(year=2025, on=date(2026, 6, 1), region_code="331002",
                  figures={2024: Figures(revenue=D("1")), 2025: Figures(revenue=D("2"))})
    assert Metric("revenue", per="rd_expense").total(empty, [2022, 2023], []) == (None, "无数据：缺少2022、2023年度报告")
    assert Metric("rd_expense", per="revenue").total(empty, [2024, 2025], []) == (
        None, "无数据：2024、2025年度报告未填研发费用")
    assert Metric("rd_expense", growth=True).value(empty, 2025, []) == (None, "无数据：2024、2025年度报告未填研发费用")
    assert Metric("revenue", growth=True).value(empty, 2025, []) == (D("1"), "")
    three = Facts(year=2025, on=date(2026, 6, 1), region_code="331002",
                  figures={y: Figures(revenue=D("100"), rd_expense=D("2")) for y in (2023, 2024, 2025)})
    used = []
    Metric("rd_expense", per="revenue").total(three, [2023, 2024, 2025], used)
    assert used[-1].label == "2023—2025年研发费用占营业收入比重"
    assert show("count", 5) == "5"
    with pytest.raises(KeyError) as err:
        Evaluation(Verdict.PASS, 2025, date(2026, 6, 1), ()).find("zz")
    assert err.value.args == ("zz",)
