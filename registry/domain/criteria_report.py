"""The vocabulary and the report of the criteria language: facts in, verdicts and values out.

Facts are what the services gather from the registry (figures by year, titles held on a date,
region, flags); a Metric reads a figure, a ratio or a growth rate from them; a Result is one
criterion's outcome with the values it used and its source text.
Verdicts are three-valued: 符合, 不符合 and 待人工核实 (a criterion the figures cannot decide).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from registry.domain.periods import add_years


class Verdict(StrEnum):
    """The outcome of one criterion or of the whole evaluation."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


VERDICT_NAMES = {Verdict.PASS: "符合", Verdict.FAIL: "不符合", Verdict.UNKNOWN: "待人工核实"}

#: Chinese policy wording → comparison. 以上/不低于 include the bound; 高于/超过 do not.
OPERATORS = {
    "以上": ">=", "不低于": ">=", "不少于": ">=", "达到": ">=", ">=": ">=", "≥": ">=",
    "高于": ">", "超过": ">", ">": ">",
    "以下": "<=", "不超过": "<=", "不高于": "<=", "<=": "<=", "≤": "<=",
    "低于": "<", "<": "<",
}
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}

#: annual-report figures: name → (Chinese label, kind)
FIGURES = {
    "revenue": ("营业收入", "money"),
    "main_business_revenue": ("主营业务收入", "money"),
    "rd_expense": ("研发费用", "money"),
    "employees": ("职工总数", "count"),
    "rd_staff": ("研发人员数", "count"),
    "debt_ratio": ("资产负债率", "ratio"),
    "invention_patents": ("有效发明专利数", "count"),
    "main_product_revenue": ("主导产品销售收入", "money"),
}
AGE = "age_years"  #: completed years since founding, on the evaluation date

#: flags the facts carry; the services derive them from the registry's own records
FLAGS = {
    "sme": "属于中小企业（中小企业划型标准规定）",
    "no_major_accident_2y": "近2年未发生重大安全、质量、环境污染事故（据本系统撤销记录）",
    "no_major_accident_3y": "近3年未发生重大安全、质量、环境污染事故（据本系统撤销记录）",
    "no_dishonesty_3y": "近3年无严重失信、偷漏税、弄虚作假记录（据本系统撤销记录）",
    "no_active_ban": "不在禁止申报期内",
    "audit_report_code": "上年度审计报告附有验证码",
}


@dataclass(frozen=True)
class Figures:
    """One year's annual report; debt_ratio is a fraction (0.65 for 65 %)."""

    revenue: Decimal | None = None
    main_business_revenue: Decimal | None = None
    rd_expense: Decimal | None = None
    employees: int | None = None
    rd_staff: int | None = None
    debt_ratio: Decimal | None = None
    invention_patents: int | None = None
    audit_report_code: str | None = None
    main_product: str | None = None  #: the main product's name (主导产品)
    main_product_revenue: Decimal | None = None  #: its sales (主导产品销售收入)


@dataclass(frozen=True)
class Facts:
    """What the criteria are judged on: figures by year, titles held on `on`, region, flags."""

    year: int  #: the last full year whose figures count (上年度)
    on: date  #: titles are held, and age is counted, on this day
    region_code: str
    founded_on: date | None = None
    figures: Mapping[int, Figures] = field(default_factory=dict)
    titles: frozenset[str] = frozenset()
    #: True/False when the records decide; None when they cannot (待人工核实, `flag_notes` says why)
    flags: Mapping[str, bool | None] = field(default_factory=dict)
    flag_notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Value:
    """A value a criterion used: the label, the exact stored value and how to show it."""

    label: str
    value: str | None
    display: str

    def as_dict(self) -> dict[str, Any]:
        """Return the value as JSON."""
        return {"label": self.label, "value": self.value, "display": self.display}


@dataclass(frozen=True)
class Result:
    """One criterion's outcome, with the values used and the text it comes from."""

    id: str
    name: str
    kind: str
    verdict: Verdict
    source: str
    detail: str = ""
    values: tuple[Value, ...] = ()
    children: tuple[Result, ...] = ()
    no_data: bool = False
    points: tuple[int, int] | None = None  #: score indicators: lowest and highest possible
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON (the pool and application snapshots)."""
        out: dict[str, Any] = {
            "id": self.id, "name": self.name, "kind": self.kind, "verdict": self.verdict.value,
            "verdict_name": VERDICT_NAMES[self.verdict], "source": self.source, "detail": self.detail,
            "no_data": self.no_data, "values": [v.as_dict() for v in self.values],
            "children": [c.as_dict() for c in self.children]}
        if self.points is not None:
            out["points"] = list(self.points)
        if self.note:
            out["note"] = self.note
        return out

    def walk(self) -> list[Result]:
        """Return this result and every result under it, depth first."""
        return [self, *(r for c in self.children for r in c.walk())]


@dataclass(frozen=True)
class Evaluation:
    """The whole report: the overall verdict and each top-level criterion."""

    verdict: Verdict
    year: int
    on: date
    results: tuple[Result, ...]

    def find(self, criterion_id: str) -> Result:
        """Return the result of the criterion with `criterion_id` (dotted path). :raises KeyError:"""
        for top in self.results:
            for r in top.walk():
                if r.id == criterion_id:
                    return r
        raise KeyError(criterion_id)

    def as_dict(self) -> dict[str, Any]:
        """Return the evaluation as JSON."""
        return {"verdict": self.verdict.value, "verdict_name": VERDICT_NAMES[self.verdict],
                "year": self.year, "on": self.on.isoformat(),
                "results": [r.as_dict() for r in self.results]}


# ---------------------------------------------------------------------------------- values

def plain(number: Decimal | int) -> str:
    """Write a number without exponent or trailing zeros (2E+3 → 2000)."""
    return format(Decimal(number).normalize(), "f")


def show(kind: str, number: Decimal | int) -> str:
    """Show a value of `kind` as an officer reads it: 万元, %, a count, years."""
    if kind == "money":
        return f"{Decimal(number) / 10_000:,.2f}万元"
    if kind == "ratio":
        return f"{Decimal(number) * 100:.2f}%"
    if kind == "years":
        return f"{number}年"
    return str(number)


def show_bound(kind: str, number: Decimal) -> str:
    """Show a threshold as the policy writes it: 1000万元, 4亿元, 3%, 2年."""
    if kind == "money":
        if number and number % 100_000_000 == 0:
            return f"{plain(number / 100_000_000)}亿元"
        return f"{plain(number / 10_000)}万元"
    if kind == "ratio":
        return f"{plain(number * 100)}%"
    if kind == "years":
        return f"{plain(number)}年"
    return plain(number)


# ------------------------------------------------------------------------------- metrics

@dataclass(frozen=True)
class Metric:
    """A figure, a ratio of two figures (per) or a figure's growth over the year before."""

    figure: str
    per: str | None = None
    growth: bool = False

    @property
    def kind(self) -> str:
        """Return money, count, ratio or years."""
        if self.figure == AGE:
            return "years"
        return "ratio" if self.per or self.growth else FIGURES[self.figure][1]

    @property
    def label(self) -> str:
        """Return the metric's Chinese name."""
        if self.figure == AGE:
            return "成立年限"
        name = FIGURES[self.figure][0]
        if self.per:
            return f"{name}占{FIGURES[self.per][0]}比重"
        return f"{name}增长率" if self.growth else name

    def _raw(self, facts: Facts, year: int, figure: str, used: list[Value]) -> Decimal | None:
        report = facts.figures.get(year)
        number = getattr(report, figure) if report is not None else None
        label, kind = FIGURES[figure]
        if figure == "main_product_revenue" and report is not None and report.main_product:
            label = f"{label}（{report.main_product}）"
        if number is not None:
            value = Value(f"{year}年{label}", str(number), show(kind, number))
            if value not in used:
                used.append(value)
            return Decimal(number)
        return None

    def value(self, facts: Facts, year: int, used: list[Value]) -> tuple[Decimal | None, str]:
        """Return the metric for `year` (or None with the reason "无数据：…")."""
        if self.growth:
            now = self._raw(facts, year, self.figure, used)
            before = self._raw(facts, year - 1, self.figure, used)
            if now is None or before is None:
                return None, _missing(facts, self.figure, (year - 1, year))
            if before <= 0:
                return None, f"无数据：{year - 1}年{FIGURES[self.figure][0]}不为正数，无法计算增长率"
            return _derived(self, year, (now - before) / before, used)
        top = self._raw(facts, year, self.figure, used)
        if not self.per:
            return (top, "") if top is not None else (None, _missing(facts, self.figure, (year,)))
        bottom = self._raw(facts, year, self.per, used)
        if top is None or bottom is None:
            return None, _missing(facts, self.figure if top is None else self.per, (year,))
        if bottom == 0:
            return None, f"无数据：{year}年{FIGURES[self.per][0]}为零"
        return _derived(self, year, top / bottom, used)

    def total(self, facts: Facts, years: Sequence[int], used: list[Value]) -> tuple[Decimal | None, str]:
        """Return sum(figure) / sum(per) over `years` (近N年…总额占…总额比重)."""
        per = self.per or self.figure  # the parser refuses over = total without per
        tops = [self._raw(facts, year, self.figure, used) for year in years]
        bottoms = [self._raw(facts, year, per, used) for year in years]
        if None in tops or None in bottoms:
            return None, _missing(facts, self.figure if None in tops else per, tuple(years))
        if sum(bottoms) == 0:
            return None, f"无数据：{years[0]}—{years[-1]}年{FIGURES[per][0]}合计为零"
        ratio = sum(tops) / sum(bottoms)
        used.append(Value(f"{years[0]}—{years[-1]}年{self.label}", str(ratio), show(self.kind, ratio)))
        return ratio, ""


def _derived(metric: Metric, year: int, number: Decimal, used: list[Value]) -> tuple[Decimal, str]:
    used.append(Value(f"{year}年{metric.label}", str(number), show(metric.kind, number)))
    return number, ""


def _missing(facts: Facts, figure: str, years: Sequence[int]) -> str:
    absent = [y for y in years if facts.figures.get(y) is None]
    if absent:
        return f"无数据：缺少{'、'.join(map(str, absent))}年度报告"
    blank = [y for y in years if getattr(facts.figures[y], figure) is None]
    return f"无数据：{'、'.join(map(str, blank))}年度报告未填{FIGURES[figure][0]}"


def age_on(founded_on: date, on: date) -> int:
    """Return the completed years from `founded_on` to `on` (the Civil Code's corresponding day)."""
    years = on.year - founded_on.year
    while years > 0 and add_years(founded_on, years) > on:
        years -= 1
    return max(years, 0)
