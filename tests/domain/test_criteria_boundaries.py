"""Score-table and look-back boundaries the mutation report names (docs/mutation.md): a group's
minimum met exactly, missed by one point, or left open by a manual band; how many years of
figures the criteria read (growth needs the year before)."""

from datetime import date

from registry.domain.criteria_nodes import Band, Criteria, Group, Indicator, Manual, Score, Threshold, Title
from registry.domain.criteria_report import Facts, Metric, Verdict


def held(code):
    return Title(id=f"t.{code}", name=code, source="test", any_of=(code,))


def indicator(ident, group, points, code, *, manual=False):
    bands = (Band(points, f"持有{code}", held(code), manual=manual), Band(0, "其他"))
    return Indicator(id=ident, name=ident, source="test", group=group, bands=bands)


def score(pass_mark=20, minimums=None):
    return Score(id="score", name="评分", source="test", pass_mark=pass_mark,
                 minimums={"创新能力": 10} if minimums is None else minimums,
                 indicators=(indicator("a", "创新能力", 10, "a"), indicator("b", "成长性", 15, "b"),
                             indicator("c", "创新能力", 5, "c", manual=True)))


def facts(*titles):
    return Facts(year=2025, on=date(2026, 6, 1), region_code="330000", titles=frozenset(titles))


def test_group_minimum_met_exactly_passes():
    # Lowest possible 25 (the manual band counted as 0): the group's 10 meets its minimum of 10.
    assert score().evaluate(facts("a", "b")).verdict == Verdict.PASS
    assert score(pass_mark=28).evaluate(facts("a", "b")).verdict == Verdict.UNKNOWN  # 25—30 against 28
    exact = Score(id="s", name="s", source="t", pass_mark=25, minimums={"创新能力": 10},
                  indicators=(indicator("a", "创新能力", 10, "a"), indicator("b", "成长性", 15, "b")))
    result = exact.evaluate(facts("a", "b"))
    assert result.verdict == Verdict.PASS and result.points == (25, 25)
    assert result.detail == "25分（总分需≥25分）；10分（创新能力需≥10分）"


def test_group_minimum_missed_by_one_point_fails_whatever_the_total():
    short = Score(id="s", name="s", source="t", pass_mark=20, minimums={"创新能力": 11},
                  indicators=(indicator("a", "创新能力", 10, "a"), indicator("b", "成长性", 15, "b")))
    result = short.evaluate(facts("a", "b"))
    assert result.verdict == Verdict.FAIL and result.points == (25, 25)
    assert "10分（创新能力需≥11分）" in result.detail


def test_total_below_pass_mark_by_one_point_fails():
    table = Score(id="s", name="s", source="t", pass_mark=26, minimums={},
                  indicators=(indicator("a", "创新能力", 10, "a"), indicator("b", "成长性", 15, "b")))
    assert table.evaluate(facts("a", "b")).verdict == Verdict.FAIL
    assert Score(id="s", name="s", source="t", pass_mark=25, minimums={},
                 indicators=table.indicators).evaluate(facts("a", "b")).verdict == Verdict.PASS


def test_a_manual_band_leaves_a_group_minimum_open_until_verified():
    # Without "a" the group has 0—5 points: below 10 even at best, so it fails.
    assert score(pass_mark=0).evaluate(facts("b")).verdict == Verdict.FAIL
    # Needing 5 in the group, 0—5 is open.
    result = score(pass_mark=0, minimums={"创新能力": 5}).evaluate(facts("b"))
    assert result.verdict == Verdict.UNKNOWN
    assert "0—5分（创新能力需≥5分）" in result.detail


def threshold(years=1, growth=False):
    return Threshold(id="r", name="r", source="t", metric=Metric("revenue", growth=growth), years=years)


def test_years_needed_counts_the_look_back_and_the_year_before_growth():
    assert Criteria(items=()).years_needed() == 1
    assert Criteria(items=(threshold(),)).years_needed() == 1
    assert Criteria(items=(threshold(3),)).years_needed() == 3
    assert Criteria(items=(threshold(growth=True),)).years_needed() == 2
    assert Criteria(items=(threshold(2, growth=True),)).years_needed() == 3
    group = Group(id="g", name="g", source="t", mode="any_of", children=(threshold(), threshold(2, growth=True)))
    assert Criteria(items=(group, threshold())).years_needed() == 3
    assert Criteria(items=(Group(id="e", name="e", source="t"),)).years_needed() == 1
    assert Criteria(items=(Manual(id="m", name="m", source="t"),)).years_needed() == 1
    table = Score(id="s", name="s", source="t", indicators=(
        Indicator(id="i", name="i", source="t", bands=(Band(5, "x", threshold(4)), Band(0, "y"))),))
    assert Criteria(items=(table,)).years_needed() == 4
    assert Criteria(items=(Score(id="s", name="s", source="t"),)).years_needed() == 1
