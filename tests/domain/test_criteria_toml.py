"""The criteria language read in full (`[tiers.criteria]` → nodes): every key lands in its node,
every default name reads as the policy would write it, ids are dotted paths, sources are
inherited; and every malformed table is refused naming the file, the exact key path and the
problem (the officer must find the line)."""

import tomllib
from decimal import Decimal

import pytest

from registry.domain.criteria_nodes import (
    Band,
    Criteria,
    Flag,
    Group,
    Indicator,
    InRegion,
    Manual,
    Threshold,
    Title,
    Zone,
)
from registry.domain.criteria_report import Metric
from registry.domain.criteria_toml import parse_criteria
from registry.domain.errors import PolicyError

PATH = "tiers[0].criteria"


def parse(text: str) -> Criteria:
    return parse_criteria(tomllib.loads('source = "S"\n' + text), file="t.toml", path=PATH)


def only(text: str):
    (node,) = parse(text).items
    return node


def refusal(text: str, *, prefix: str = 'source = "S"\n') -> PolicyError:
    with pytest.raises(PolicyError) as err:
        parse_criteria(tomllib.loads(prefix + text), file="t.toml", path=PATH)
    assert err.value.file == "t.toml"
    return err.value


# ---------------------------------------------------------------------------- the whole table

def test_no_criteria_table_is_no_criteria():
    assert parse_criteria({}, file="t.toml", path=PATH) == Criteria()


def test_the_criteria_keep_their_source_and_order():
    criteria = parse('[b]\nkind = "manual"\nname = "乙"\n[a]\nkind = "manual"\nname = "甲"\n')
    assert criteria == Criteria(source="S", items=(Manual(id="b", name="乙", source="S"),
                                                   Manual(id="a", name="甲", source="S")))


# ---------------------------------------------------------------------------- thresholds

def test_a_ratio_over_the_total_of_two_years():
    node = only('[rd]\nkind = "threshold"\nmetric = "rd_expense"\nper = "revenue"\nop = "不低于"\n'
                'value = "3%"\nyears = 2\nover = "total"\n')
    assert node == Threshold(id="rd", name="近2年合计研发费用占营业收入比重不低于3%", source="S",
                             metric=Metric("rd_expense", "revenue", False), op=">=", wording="不低于",
                             bound=Decimal("0.03"), zones=(), years=2, over="total")


def test_an_amount_each_year_with_the_word_after_the_number():
    node = only('[rev]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = "1000万"\nyears = 2\n')
    assert node == Threshold(id="rev", name="近2年每年营业收入1000万元以上", source="S",
                             metric=Metric("revenue"), op=">=", wording="以上", bound=Decimal(10_000_000),
                             years=2, over="each")


def test_one_year_has_no_prefix_and_a_count_is_a_plain_number():
    node = only('[staff]\nkind = "threshold"\nmetric = "employees"\nop = "以下"\nvalue = 1000\n')
    assert node == Threshold(id="staff", name="职工总数1000以下", source="S", metric=Metric("employees"),
                             op="<=", wording="以下", bound=Decimal(1000), years=1, over="each")


@pytest.mark.parametrize(("value", "bound"), [
    ('"4亿"', Decimal(400_000_000)), ('"4亿元"', Decimal(400_000_000)), ('"1000万元"', Decimal(10_000_000)),
    ('"500元"', Decimal(500)), ('"1,000万"', Decimal(10_000_000)), ('" 2000 "', Decimal(2000)),
    ("2000.5", Decimal("2000.5")), ("3", Decimal(3))])
def test_amounts_as_the_texts_write_them(value, bound):
    node = only(f'[rev]\nkind = "threshold"\nmetric = "revenue"\nop = "超过"\nvalue = {value}\n')
    assert node.bound == bound and node.op == ">"


def test_growth_and_age():
    growth = only('[g]\nkind = "threshold"\nmetric = "revenue"\ngrowth = true\nop = "高于"\nvalue = "10%"\n')
    assert growth == Threshold(id="g", name="营业收入增长率高于10%", source="S",
                               metric=Metric("revenue", None, True), op=">", wording="高于",
                               bound=Decimal("0.1"))
    age = only('[age]\nkind = "threshold"\nmetric = "age_years"\nop = "达到"\nvalue = 3\n')
    assert age == Threshold(id="age", name="成立年限达到3年", source="S", metric=Metric("age_years"),
                            op=">=", wording="达到", bound=Decimal(3))


def test_a_bound_by_region():
    node = only('[rev]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\n'
                'by_region = [{zone = "一类", regions = ["330100", "330200"], value = "1亿"},'
                ' {zone = "二类", regions = ["330300"], value = 5000000}]\n')
    assert node == Threshold(id="rev", name="营业收入（按地区）以上", source="S", metric=Metric("revenue"),
                             op=">=", wording="以上", bound=None,
                             zones=(Zone("一类", ("330100", "330200"), Decimal(100_000_000)),
                                    Zone("二类", ("330300",), Decimal(5_000_000))))


def test_common_keys_override_the_inherited_ones():
    node = only('[rev]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = 1\nname = "营收"\n'
                'source = "另一文件"\nnote = "说明"\nstage = "title"\nassumed = true\n')
    assert (node.id, node.name, node.source, node.note, node.stage, node.assumed) == (
        "rev", "营收", "另一文件", "说明", "title", True)
    plain = only('[rev]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = 1\n')
    assert (plain.source, plain.note, plain.stage, plain.assumed) == ("S", "", "both", False)


# ---------------------------------------------------------------------------- titles, flags, regions

def test_a_title_flag_region_and_manual_check():
    assert only('[t]\nkind = "title"\nany_of = ["a", "b"]\n') == Title(
        id="t", name="持有a或b称号", source="S", any_of=("a", "b"))
    assert only('[t]\nkind = "title"\nany_of = ["a"]\nname = "小巨人"\n').name == "小巨人"
    assert only('[f]\nkind = "flag"\nflag = "sme"\n') == Flag(
        id="f", name="属于中小企业（中小企业划型标准规定）", source="S", flag="sme", expected=True)
    assert only('[f]\nkind = "flag"\nflag = "no_active_ban"\nexpected = false\nname = "禁"\n') == Flag(
        id="f", name="禁", source="S", flag="no_active_ban", expected=False)
    assert only('[r]\nkind = "region"\nin = ["330000", "510100"]\n') == InRegion(
        id="r", name="注册地属于330000、510100", source="S", regions=("330000", "510100"))
    assert only('[r]\nkind = "region"\nin = ["330000"]\nname = "浙江"\n').name == "浙江"
    assert only('[m]\nkind = "manual"\nname = "不属于大型企业集团"\n') == Manual(
        id="m", name="不属于大型企业集团", source="S")


# ---------------------------------------------------------------------------- groups

def test_groups_by_table_and_by_list_with_dotted_ids_and_inherited_sources():
    node = only('[g]\nkind = "any_of"\nsource = "G"\n'
                '[g.of.x]\nkind = "manual"\nname = "甲"\n'
                '[g.of.y]\nkind = "all_of"\nof = [{kind = "manual", name = "乙"}, {kind = "manual", name = "丙"}]\n')
    inner = Group(id="g.y", name="同时满足以下各项", source="G", mode="all_of", k=0,
                  children=(Manual(id="g.y.1", name="乙", source="G"), Manual(id="g.y.2", name="丙", source="G")))
    assert node == Group(id="g", name="满足以下任意一项", source="G", mode="any_of", k=0,
                         children=(Manual(id="g.x", name="甲", source="G"), inner))


def test_at_least_k_of_the_criteria():
    text = '[g]\nkind = "at_least"\nk = {k}\nof = [{{kind = "manual", name = "甲"}}, {{kind = "manual", name = "乙"}}]\n'
    node = only(text.format(k=2))
    assert (node.name, node.mode, node.k) == ("至少满足以下2项", "at_least", 2)
    assert only(text.format(k=1)).k == 1
    for k in (0, 3):
        error = refusal(text.format(k=k))
        assert (error.key, error.problem) == (f"{PATH}.g.k", "must be between 1 and 2 (the number of criteria)")
    error = refusal('[g]\nkind = "at_least"\nof = [{kind = "manual", name = "甲"}]\n')
    assert (error.key, error.problem) == (f"{PATH}.g.k", "missing (required)")


def test_a_named_group():
    node = only('[g]\nkind = "all_of"\nname = "基本条件"\nof = [{kind = "manual", name = "甲"}]\n')
    assert (node.name, node.mode, node.k) == ("基本条件", "all_of", 0)


def test_an_error_inside_a_group_names_its_place():
    error = refusal('[g]\nkind = "all_of"\nof = [{kind = "manual", name = "甲"}, {kind = "manual"}]\n')
    assert (error.key, error.problem) == (f"{PATH}.g.of[1].name", "a manual criterion needs a name saying what to verify")
    error = refusal('[g]\nkind = "all_of"\n[g.of.x]\nkind = "manual"\n')
    assert (error.key, error.problem) == (f"{PATH}.g.of.x.name", "a manual criterion needs a name saying what to verify")
    error = refusal('[g]\nkind = "all_of"\nof = []\n')
    assert (error.key, error.problem) == (f"{PATH}.g.of", "expected at least one criterion")
    error = refusal('[g]\nkind = "all_of"\nof = "x"\n')
    assert (error.key, error.problem) == (f"{PATH}.g.of", "expected dict/list, got str 'x'")
    error = refusal('[g]\nkind = "all_of"\nof = [3]\n')
    assert (error.key, error.problem) == (f"{PATH}.g.of[0]", "expected a table describing a criterion")


# ---------------------------------------------------------------------------- score tables

SCORE = """
[s]
kind = "score"
name = "评分"
pass = 55
groups = { "创新能力" = 20, "成长性" = 0 }
[s.indicators.patents]
name = "发明专利"
group = "创新能力"
note = "专利"
metric = "invention_patents"
bands = [{ points = 30, op = "以上", value = 5 }, { points = 10, op = "以上", value = 1, label = "1件以上" },
         { points = 0 }]
[s.indicators.growth]
name = "增长"
group = "成长性"
metric = "revenue"
growth = true
bands = [{ points = 20, op = "以上", value = "20%" }, { points = 5, manual = "人工评定" },
         { points = 2, manual = "人工", label = "标签" }]
[s.indicators.rd]
name = "研发占比"
group = "创新能力"
metric = "rd_expense"
per = "revenue"
years = 2
over = "total"
source = "另一文件"
bands = [{ points = 20, op = "不低于", value = "5%" }]
[s.indicators.held]
name = "称号"
group = "成长性"
bands = [{ points = 10, when = { kind = "title", any_of = ["little_giant"] } },
         { points = 1, label = "其他情形" }]
[s.indicators.expert]
name = "专家评价"
group = "成长性"
manual = "专家打分"
max = 15
"""


def test_a_score_table_read_in_full():
    node = only(SCORE)
    assert (node.id, node.name, node.source, node.pass_mark) == ("s", "评分", "S", 55)
    assert node.minimums == {"创新能力": 20, "成长性": 0}
    patents, growth, rd, held, expert = node.indicators
    patents_metric = Metric("invention_patents")
    assert patents == Indicator(id="s.patents", name="发明专利", source="S", note="专利", group="创新能力", bands=(
        Band(30, "有效发明专利数5以上", Threshold(id="s.patents.1", name="有效发明专利数5以上", source="S",
                                           metric=patents_metric, op=">=", wording="以上", bound=Decimal(5))),
        Band(10, "1件以上", Threshold(id="s.patents.2", name="有效发明专利数1以上", source="S",
                                    metric=patents_metric, op=">=", wording="以上", bound=Decimal(1))),
        Band(0, "其他")))
    assert growth.bands[0] == Band(20, "营业收入增长率20%以上", Threshold(
        id="s.growth.1", name="营业收入增长率20%以上", source="S", metric=Metric("revenue", None, True),
        op=">=", wording="以上", bound=Decimal("0.2")))
    assert growth.bands[1:] == (Band(5, "人工评定", manual=True), Band(2, "标签", manual=True))
    assert rd == Indicator(id="s.rd", name="研发占比", source="另一文件", group="创新能力", bands=(
        Band(20, "近2年合计研发费用占营业收入比重不低于5%", Threshold(
            id="s.rd.1", name="近2年合计研发费用占营业收入比重不低于5%", source="另一文件",
            metric=Metric("rd_expense", "revenue"), op=">=", wording="不低于", bound=Decimal("0.05"),
            years=2, over="total")),))
    assert held.bands == (Band(10, "持有little_giant称号", Title(id="s.held.1", name="持有little_giant称号",
                                                             source="S", any_of=("little_giant",))),
                          Band(1, "其他情形"))
    assert expert == Indicator(id="s.expert", name="专家评价", source="S", group="成长性",
                               bands=(Band(15, "专家打分", manual=True),))


def test_a_score_table_without_groups_and_the_pass_mark_at_the_most_points():
    node = only('[s]\nkind = "score"\nname = "评分"\npass = 10\n'
                '[s.indicators.a]\nname = "甲"\nbands = [{ points = 10, manual = "人工" }]\n')
    assert node.minimums == {} and node.indicators[0].group == ""
    error = refusal('[s]\nkind = "score"\nname = "评分"\npass = 11\n'
                    '[s.indicators.a]\nname = "甲"\nbands = [{ points = 10, manual = "人工" }]\n')
    assert (error.key, error.problem) == (f"{PATH}.s.pass", "pass mark 11 exceeds the most points possible (10)")


def score_with(indicator: str, head: str = 'pass = 0\ngroups = { "甲组" = 0 }\n') -> str:
    group = "" if "group =" in indicator else 'group = "甲组"\n'
    return f'[s]\nkind = "score"\nname = "评分"\n{head}[s.indicators.a]\nname = "甲"\n{group}{indicator}'


@pytest.mark.parametrize(("text", "key", "problem"), [
    ('[s]\nkind = "score"\npass = 0\n', "s.name", "a score table needs a name"),
    (score_with('bands = [{ points = 1 }]\n', 'pass = 0\ngroups = { "甲组" = -1 }\n'), "s.groups.甲组",
     "expected a minimum score (0 or more); got -1"),
    (score_with('bands = [{ points = 1 }]\n', 'pass = 0\ngroups = { "甲组" = true }\n'), "s.groups.甲组",
     "expected a minimum score (0 or more); got True"),
    (score_with('bands = [{ points = 1 }]\n', 'pass = 0\ngroups = { "甲组" = "5" }\n'), "s.groups.甲组",
     "expected a minimum score (0 or more); got '5'"),
    ('[s]\nkind = "score"\nname = "评分"\npass = 0\nindicators = {}\n', "s.indicators",
     "expected at least one indicator"),
    ('[s]\nkind = "score"\nname = "评分"\npass = 0\nindicators = { a = 1 }\n', "s.indicators.a",
     "expected a table describing an indicator"),
    (score_with('group = "乙组"\nbands = [{ points = 1 }]\n'), "s.indicators.a.group", "must be one of 甲组; got '乙组'"),
    (score_with('group = "丙组"\nbands = [{ points = 1 }]\n', 'pass = 0\ngroups = { "甲组" = 0, "乙组" = 0 }\n'),
     "s.indicators.a.group", "must be one of 甲组, 乙组; got '丙组'"),
    (score_with('metric = "revenue"\nbands = [{ points = 1, op = "以上" }]\n'), "s.indicators.a.bands[0].value",
     "missing (required)"),
    (score_with('bands = [{ points = 1 }]\ncolour = 1\n'), "s.indicators.a.colour", "unknown key (a typo?)"),
    (score_with('bands = []\n'), "s.indicators.a.bands", "expected at least one band"),
    (score_with('bands = [1]\n'), "s.indicators.a.bands[0]", "expected a table {points, …}"),
    (score_with('bands = [{ points = -1 }]\n'), "s.indicators.a.bands[0].points", "must be 0 or more; got -1"),
    (score_with('bands = [{ points = 1, colour = 2 }]\n'), "s.indicators.a.bands[0].colour", "unknown key (a typo?)"),
    (score_with('bands = [{ points = 1, op = "以上", value = 1 }]\n'), "s.indicators.a.bands[0].op",
     "op/value bands need the indicator's metric"),
    (score_with('bands = [{ points = 1, value = 1 }]\n'), "s.indicators.a.bands[0].op",
     "op/value bands need the indicator's metric"),
    (score_with('metric = "revenue"\nbands = [{ points = 1, value = 1 }]\n'), "s.indicators.a.bands[0].op",
     "missing (required)"),
    (score_with('manual = "人工"\n'), "s.indicators.a.max", "missing (required)"),
    (score_with('bands = [{ points = 1, when = { kind = "ghost" } }]\n'), "s.indicators.a.bands[0].when.kind",
     "must be one of threshold, title, flag, region, manual, all_of, any_of, at_least, score; got 'ghost'"),
    (score_with('metric = "revenue"\nbands = [{ points = 1, op = "以上", value = "3%" }]\n'),
     "s.indicators.a.bands[0].value", "a percentage needs a ratio metric (per = … or growth = true); got '3%'"),
])
def test_a_malformed_score_table_is_refused_with_its_exact_key_and_problem(text, key, problem):
    error = refusal(text)
    assert (error.key, error.problem) == (f"{PATH}.{key}", problem)


# ---------------------------------------------------------------------------- refusals

THRESHOLD = '[c]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nvalue = 1\n'
RATIO = '[c]\nkind = "threshold"\nmetric = "rd_expense"\nper = "revenue"\nop = "以上"\nvalue = "3%"\n'
FIGURE_NAMES = ("revenue, main_business_revenue, rd_expense, employees, rd_staff, debt_ratio, invention_patents,"
                " main_product_revenue")  # the annual figures (main_product_revenue: issue 14, product-level figures)


@pytest.mark.parametrize(("text", "key", "problem"), [
    ('[c]\nname = "x"\n', "c.kind", "missing (required)"),
    ('[c]\nkind = 3\n', "c.kind", "expected str, got int 3"),
    ('[c]\nkind = "ghost"\n', "c.kind",
     "must be one of threshold, title, flag, region, manual, all_of, any_of, at_least, score; got 'ghost'"),
    ('[c]\nkind = "manual"\nname = "x"\nany_of = ["a"]\n', "c.any_of", "unknown key (a typo?)"),
    ('[c]\nkind = "manual"\nname = "x"\nstage = "pool"\n', "c.stage", "must be both or title; got 'pool'"),
    ('[c]\nkind = "manual"\nname = "x"\nassumed = true\n', "c.note", "an assumed criterion needs a note saying why"),
    ('[c]\nkind = "manual"\nname = "x"\nassumed = "yes"\nnote = "n"\n', "c.assumed", "expected bool, got str 'yes'"),
    ('[c]\nkind = "manual"\nname = true\n', "c.name", "expected str, got bool True"),
    ('[c]\nkind = "manual"\n', "c.name", "a manual criterion needs a name saying what to verify"),
    ('[c]\nkind = "manual"\nname = ""\n', "c.name", "a manual criterion needs a name saying what to verify"),
    (THRESHOLD.replace('op = "以上"', 'op = "约等于"'), "c.op",
     "must be one of 以上, 不低于, 不少于, 达到, >=, ≥, 高于, 超过, >, 以下, 不超过, 不高于, <=, ≤, 低于, <; got '约等于'"),
    (THRESHOLD.replace("value = 1\n", ""), "c.value", "give exactly one of value or by_region"),
    (THRESHOLD + 'by_region = []\n', "c.value", "give exactly one of value or by_region"),
    (THRESHOLD.replace('metric = "revenue"', 'metric = "profit"'), "c.metric",
     f"must be one of {FIGURE_NAMES}, age_years; got 'profit'"),
    (THRESHOLD + "years = 0\n", "c.years", "must be 1 or more; got 0"),
    (THRESHOLD + 'over = "mean"\n', "c.over", "must be each or total; got 'mean'"),
    (THRESHOLD + 'years = true\n', "c.years", "expected int, got bool True"),
    (THRESHOLD + 'over = "total"\n', "c.over", "over = total needs per (the ratio of the sums)"),
    (RATIO + 'growth = true\n', "c.per", "rd_expense per revenue: a ratio needs two amounts or two counts and no growth"),
    (RATIO.replace('per = "revenue"', 'per = "employees"'), "c.per",
     "rd_expense per employees: a ratio needs two amounts or two counts and no growth"),
    (RATIO.replace('metric = "rd_expense"', 'metric = "debt_ratio"').replace('per = "revenue"', 'per = "debt_ratio"'),
     "c.per", "debt_ratio per debt_ratio: a ratio needs two amounts or two counts and no growth"),
    (RATIO.replace('per = "revenue"', 'per = "profit"'), "c.per", f"must be one of {FIGURE_NAMES}; got 'profit'"),
    (THRESHOLD.replace('value = 1', 'value = "3%"') + 'growth = true\nover = "total"\n', "c.over",
     "growth is judged each year; over = total does not apply"),
    ('[c]\nkind = "threshold"\nmetric = "age_years"\nop = "以上"\nvalue = 3\nyears = 1\n', "c.metric",
     "age_years takes no per, growth, years or over"),
    ('[c]\nkind = "threshold"\nmetric = "age_years"\nop = "以上"\nvalue = 3\nover = "each"\n', "c.metric",
     "age_years takes no per, growth, years or over"),
    ('[c]\nkind = "threshold"\nmetric = "age_years"\nop = "以上"\nvalue = 3\ngrowth = true\n', "c.metric",
     "age_years takes no per, growth, years or over"),
    ('[c]\nkind = "threshold"\nmetric = "age_years"\nop = "以上"\nvalue = 3\nper = "revenue"\n', "c.metric",
     "age_years takes no per, growth, years or over"),
    (THRESHOLD.replace("value = 1", "value = true"), "c.value",
     "expected a number or text like \"3%\" or \"1000万\"; got True"),
    (THRESHOLD.replace("value = 1", "value = [1]"), "c.value",
     "expected a number or text like \"3%\" or \"1000万\"; got [1]"),
    (THRESHOLD.replace("value = 1", 'value = "很多"'), "c.value", "not a number: '很多'"),
    (THRESHOLD.replace("value = 1", 'value = "3%"'), "c.value",
     "a percentage needs a ratio metric (per = … or growth = true); got '3%'"),
    (RATIO.replace('value = "3%"', "value = 0.03"), "c.value",
     "a ratio is written as a percentage, e.g. \"3%\"; got 0.03"),
    ('[c]\nkind = "title"\nany_of = []\n', "c.any_of", "expected a non-empty list of tier codes"),
    ('[c]\nkind = "title"\nany_of = ["a", 1]\n', "c.any_of", "expected a non-empty list of tier codes"),
    ('[c]\nkind = "title"\n', "c.any_of", "missing (required)"),
    ('[c]\nkind = "flag"\nflag = "rich"\n', "c.flag",
     ("must be one of sme, no_major_accident_2y, no_major_accident_3y, no_dishonesty_3y, no_active_ban,"
      " audit_report_code; got 'rich'")),
    ('[c]\nkind = "flag"\nflag = "sme"\nexpected = "no"\n', "c.expected", "expected bool, got str 'no'"),
    ('[c]\nkind = "region"\nin = []\n', "c.in", "expected a non-empty list of 6-digit region codes"),
    ('[c]\nkind = "region"\nin = ["33000"]\n', "c.in", "expected a non-empty list of 6-digit region codes"),
    ('[c]\nkind = "region"\nin = [330000]\n', "c.in", "expected a non-empty list of 6-digit region codes"),
])
def test_a_malformed_criterion_is_refused_with_its_exact_key_and_problem(text, key, problem):
    error = refusal(text)
    assert (error.key, error.problem) == (f"{PATH}.{key}", problem)
    assert error.message == f"t.toml: {PATH}.{key}: {problem}"


ZONES = '[c]\nkind = "threshold"\nmetric = "revenue"\nop = "以上"\nby_region = [{rows}]\n'


@pytest.mark.parametrize(("rows", "key", "problem"), [
    ('', "c.by_region", "expected at least one zone"),
    ('1', "c.by_region[0]", "expected a table {zone, regions, value}"),
    ('{zone = "甲", regions = ["330000"], value = 1, colour = 1}', "c.by_region[0].colour", "unknown key (a typo?)"),
    ('{zone = "甲", regions = ["3300"], value = 1}', "c.by_region[0].regions", "expected 6-digit region codes; got '3300'"),
    ('{zone = "甲", regions = [330000], value = 1}', "c.by_region[0].regions", "expected 6-digit region codes; got 330000"),
    ('{zone = "甲", regions = ["330000"], value = 1}, {zone = "乙", regions = ["510000", "330000"], value = 2}',
     "c.by_region[1].regions", "region 330000 is in two zones"),
    ('{zone = "甲", value = 1}', "c.by_region[0].regions", "missing (required)"),
    ('{regions = ["330000"], value = 1}', "c.by_region[0].zone", "missing (required)"),
    ('{zone = "甲", regions = ["330000"], value = "3%"}', "c.by_region[0].value",
     "a percentage needs a ratio metric (per = … or growth = true); got '3%'"),
    ('{zone = "甲", regions = ["330000"], value = true}', "c.by_region[0].value",
     "expected int/float/str, got bool True"),
])
def test_a_malformed_zone_is_refused_with_its_exact_key_and_problem(rows, key, problem):
    error = refusal(ZONES.format(rows=rows))
    assert (error.key, error.problem) == (f"{PATH}.{key}", problem)


def test_the_table_itself_needs_a_source_and_criteria_tables():
    error = refusal('[c]\nkind = "manual"\nname = "x"\n', prefix="")
    assert (error.key, error.problem) == (f"{PATH}.source", "missing (required)")
    error = refusal('c = 3\n')
    assert (error.key, error.problem) == (f"{PATH}.c", "expected a criterion table (or the key is a typo)")
    error = refusal('')
    assert (error.key, error.problem) == (PATH, "criteria need at least one criterion besides source")
    error = refusal('', prefix='source = 3\n')
    assert (error.key, error.problem) == (f"{PATH}.source", "expected str, got int 3")


# ---------------------------------------------------------------------------- wrong types, by key

@pytest.mark.parametrize(("text", "key", "problem"), [
    ('[c]\nkind = "manual"\nname = "x"\nstage = 1\n', "c.stage", "expected str, got int 1"),
    ('[c]\nkind = "manual"\nname = "x"\nsource = 1\n', "c.source", "expected str, got int 1"),
    ('[c]\nkind = "manual"\nname = "x"\nnote = 1\n', "c.note", "expected str, got int 1"),
    (THRESHOLD.replace('op = "以上"', "op = 1"), "c.op", "expected str, got int 1"),
    (THRESHOLD.replace('metric = "revenue"', "metric = 1"), "c.metric", "expected str, got int 1"),
    (THRESHOLD + "per = 1\n", "c.per", "expected str, got int 1"),
    (THRESHOLD + 'growth = "yes"\n', "c.growth", "expected bool, got str 'yes'"),
    (THRESHOLD + "over = 1\n", "c.over", "expected str, got int 1"),
    (THRESHOLD.replace("value = 1", 'by_region = "all"'), "c.by_region", "expected list, got str 'all'"),
    ('[c]\nkind = "flag"\nflag = 1\n', "c.flag", "expected str, got int 1"),
    ('[c]\nkind = "region"\nin = "330000"\n', "c.in", "expected list, got str '330000'"),
    ('[s]\nkind = "score"\nname = "评分"\npass = "60"\n', "s.pass", "expected int, got str '60'"),
    ('[s]\nkind = "score"\nname = "评分"\npass = 0\ngroups = 1\n', "s.groups", "expected dict, got int 1"),
    ('[s]\nkind = "score"\nname = "评分"\npass = 0\nindicators = 1\n', "s.indicators", "expected dict, got int 1"),
    (score_with('bands = [{ points = 1 }]\n').replace('group = "甲组"', "group = 1"), "s.indicators.a.group",
     "expected str, got int 1"),
    (score_with('bands = [{ points = 1 }]\n').replace('name = "甲"', "name = 1"), "s.indicators.a.name",
     "expected str, got int 1"),
    (score_with('bands = [{ points = 1 }]\nsource = 1\n'), "s.indicators.a.source", "expected str, got int 1"),
    (score_with('bands = [{ points = 1 }]\nnote = 1\n'), "s.indicators.a.note", "expected str, got int 1"),
    (score_with('manual = 1\nmax = 5\n'), "s.indicators.a.manual", "expected str, got int 1"),
    (score_with('metric = 1\nbands = [{ points = 1 }]\n'), "s.indicators.a.metric", "expected str, got int 1"),
    (score_with('bands = 1\n'), "s.indicators.a.bands", "expected list, got int 1"),
    (score_with('bands = [{ points = "1" }]\n'), "s.indicators.a.bands[0].points", "expected int, got str '1'"),
    (score_with('bands = [{ points = 1, label = 1 }]\n'), "s.indicators.a.bands[0].label", "expected str, got int 1"),
    (score_with('bands = [{ points = 1, manual = 1 }]\n'), "s.indicators.a.bands[0].manual", "expected str, got int 1"),
    (score_with('metric = "revenue"\nbands = [{ points = 1, op = "以上", value = true }]\n'),
     "s.indicators.a.bands[0].value", "expected int/float/str, got bool True"),
    ('[g]\nkind = "any_of"\nof = [{kind = "manual"}]\n', "g.of[0].name", "a manual criterion needs a name saying what to verify"),
    ('[g]\nkind = "at_least"\nk = 1\nof = [{kind = "manual"}]\n', "g.of[0].name",
     "a manual criterion needs a name saying what to verify"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_its_key(text, key, problem):
    error = refusal(text)
    assert (error.file, error.key, error.problem) == ("t.toml", f"{PATH}.{key}", problem)


def test_named_alternatives_keep_their_names():
    of = 'of = [{kind = "manual", name = "甲"}]\n'
    assert only('[g]\nkind = "any_of"\nname = "任一"\n' + of).name == "任一"
    assert only('[g]\nkind = "at_least"\nk = 1\nname = "至少一项"\n' + of).name == "至少一项"


def test_a_bound_by_region_on_a_ratio_is_a_percentage():
    node = only('[c]\nkind = "threshold"\nmetric = "rd_expense"\nper = "revenue"\nop = "以上"\n'
                'by_region = [{zone = "甲", regions = ["330000"], value = "3%"}]\n')
    assert node.zones == (Zone("甲", ("330000",), Decimal("0.03")),)


def test_a_bound_written_with_spaces_around_it():
    node = only('[c]\nkind = "threshold"\nmetric = "rd_expense"\nper = "revenue"\nop = "以上"\nvalue = " 3% "\n')
    assert node.bound == Decimal("0.03")
    assert only(THRESHOLD.replace("value = 1", 'value = " 1000万 "')).bound == Decimal(10_000_000)


def test_a_group_under_an_empty_key_gives_its_children_bare_ids():
    node = only('[""]\nkind = "all_of"\nof = [{kind = "manual", name = "甲"}]\n')
    assert node.id == "" and node.children[0].id == "1"
