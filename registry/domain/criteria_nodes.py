"""The criteria nodes: thresholds, titles, flags, regions, manual checks, groups and score tables.

Each node judges the facts and returns a Result with the values it used. Numbers are Decimals,
so "≥ 3 %" at exactly 3 % passes and "> 3 %" does not; missing data fails with "无数据".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from registry.domain.criteria_report import (
    AGE,
    COMPARE,
    FLAGS,
    SYMBOLS,
    Facts,
    Metric,
    Result,
    Value,
    Verdict,
    age_on,
    show,
    show_bound,
)
from registry.domain.regions import contains


@dataclass(frozen=True)
class Node:
    """A criterion: its id (dotted path), name, source text and when it applies."""

    id: str
    name: str
    source: str
    note: str = ""
    stage: str = "both"  #: both | title (skipped when only checking entry to a pool)
    assumed: bool = False  #: the value is in no source text (the note says what is known)

    kind = "node"

    def applies(self, stage: str) -> bool:
        """Tell whether the criterion is checked at `stage` (pool or title)."""
        return stage == "title" or self.stage == "both"

    def result(self, verdict: Verdict, detail: str = "", **more: Any) -> Result:
        """Build this node's result."""
        return Result(id=self.id, name=self.name, kind=self.kind, verdict=verdict, source=self.source,
                      detail=detail, note=self.note, **more)

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:  # pragma: no cover - abstract
        """Judge the facts."""
        raise NotImplementedError

    def title_refs(self) -> set[str]:
        """Return the tier codes the criterion refers to."""
        return set()


@dataclass(frozen=True)
class Zone:
    """A per-region bound: the zone's name, the region codes it covers and its threshold."""

    name: str
    regions: tuple[str, ...]
    bound: Decimal


@dataclass(frozen=True)
class Threshold(Node):
    """metric op bound, for the last `years` years: each year, or their total (ratio of sums)."""

    metric: Metric = Metric("revenue")
    op: str = ">="
    wording: str = "以上"
    bound: Decimal | None = None
    zones: tuple[Zone, ...] = ()
    years: int = 1
    over: str = "each"  #: each | total
    #: without the figures: fail (无数据, 不符合) or manual (待人工核实) — for a figure the registry
    #: may not hold (a product's sales), so a missing one is never read as 不符合
    missing: str = "fail"

    kind = "threshold"

    def _no_data(self, why: str, used: list[Value]) -> Result:
        if self.missing == "manual":
            return self.result(Verdict.UNKNOWN, f"{why}：待人工核实", values=tuple(used), no_data=True)
        return self.result(Verdict.FAIL, why, values=tuple(used), no_data=True)

    def _bound(self, facts: Facts, used: list[Value]) -> Decimal | None:
        if not self.zones:
            return self.bound
        zone = next((z for z in self.zones if any(contains(r, facts.region_code) for r in z.regions)), None)
        used.append(Value("所在分区", zone.name if zone else None, zone.name if zone else "不在任何分区"))
        return zone.bound if zone else None

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Compare the metric with the bound (the region's bound when it varies by region)."""
        used: list[Value] = []
        bound = self._bound(facts, used)
        if bound is None:
            return self.result(Verdict.FAIL, f"无数据：地区 {facts.region_code} 不在本条件列出的任何分区内",
                               values=tuple(used), no_data=True)
        rule = f"{SYMBOLS[self.op]} {show_bound(self.metric.kind, bound)}（{self.wording}）"
        if self.metric.figure == AGE:
            if facts.founded_on is None:
                return self.result(Verdict.FAIL, "无数据：未登记成立日期", no_data=True)
            age = age_on(facts.founded_on, facts.on)
            used += [Value("成立日期", facts.founded_on.isoformat(), facts.founded_on.isoformat()),
                     Value(f"截至{facts.on.isoformat()}成立年限", str(age), show("years", age))]
            return self._judge([(f"{age}年", Decimal(age))], bound, rule, used)
        years = list(range(facts.year - self.years + 1, facts.year + 1))
        checks: list[tuple[str, Decimal]] = []
        if self.over == "total":
            number, why = self.metric.total(facts, years, used)
            if number is None:
                return self._no_data(why, used)
            checks.append((f"{years[0]}—{years[-1]}年 {show(self.metric.kind, number)}", number))
        else:
            for year in years:
                number, why = self.metric.value(facts, year, used)
                if number is None:
                    return self._no_data(why, used)
                checks.append((f"{year}年 {show(self.metric.kind, number)}", number))
        return self._judge(checks, bound, rule, used)

    def _judge(self, checks: list[tuple[str, Decimal]], bound: Decimal, rule: str,
               used: list[Value]) -> Result:
        compare = COMPARE[self.op]
        parts = [f"{text} {'符合' if compare(number, bound) else '不符合'} {rule}" for text, number in checks]
        ok = all(compare(number, bound) for _, number in checks)
        return self.result(Verdict.PASS if ok else Verdict.FAIL, "；".join(parts), values=tuple(used))


@dataclass(frozen=True)
class Title(Node):
    """Holds one of the titles, valid on the evaluation date."""

    any_of: tuple[str, ...] = ()

    kind = "title"

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Pass when a listed title is held."""
        held = sorted(facts.titles & set(self.any_of))
        shown = Value(f"{facts.on.isoformat()}持有的相关称号", "、".join(held) or None, "、".join(held) or "无")
        verdict = Verdict.PASS if held else Verdict.FAIL
        return self.result(verdict, f"持有 {'、'.join(held)}" if held else "未持有所列称号", values=(shown,))

    def title_refs(self) -> set[str]:
        """Return the tier codes listed."""
        return set(self.any_of)


@dataclass(frozen=True)
class Flag(Node):
    """A yes/no fact (no major accident, SME …) must have the expected value."""

    flag: str = "sme"
    expected: bool = True

    kind = "flag"

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Pass when the flag is known and as expected; absent flags are "无数据"; undecided (None) ones
        are 待人工核实."""
        if self.flag not in facts.flags:
            return self.result(Verdict.FAIL, f"无数据：{FLAGS[self.flag]}", no_data=True,
                               values=(Value(FLAGS[self.flag], None, "无数据"),))
        value = facts.flags[self.flag]
        if value is None:  # the records cannot decide (e.g. an accident whose date is not recorded)
            why = facts.flag_notes.get(self.flag, "本系统记录不足以判断")
            return self.result(Verdict.UNKNOWN, f"{why}：待人工核实",
                               values=(Value(FLAGS[self.flag], None, "待人工核实"),))
        shown = Value(FLAGS[self.flag], str(value).lower(), "是" if value else "否")
        ok = value == self.expected
        return self.result(Verdict.PASS if ok else Verdict.FAIL, shown.display, values=(shown,))


@dataclass(frozen=True)
class InRegion(Node):
    """Registered under one of the region codes."""

    regions: tuple[str, ...] = ()

    kind = "region"

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Pass when the enterprise's region lies under a listed code."""
        ok = any(contains(r, facts.region_code) for r in self.regions)
        shown = Value("注册地区代码", facts.region_code, facts.region_code)
        return self.result(Verdict.PASS if ok else Verdict.FAIL,
                           f"{facts.region_code} {'属于' if ok else '不属于'} {'、'.join(self.regions)}",
                           values=(shown,))


@dataclass(frozen=True)
class Manual(Node):
    """A condition the figures cannot decide: an officer verifies it (待人工核实)."""

    kind = "manual"

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Always unknown: the report lists it for the officer."""
        return self.result(Verdict.UNKNOWN, "需依申报材料人工核实")


@dataclass(frozen=True)
class Group(Node):
    """all_of, any_of, or at_least k of the children."""

    mode: str = "all_of"  #: all_of | any_of | at_least
    k: int = 0
    children: tuple[Node, ...] = ()

    @property
    def kind(self) -> str:  # type: ignore[override]
        """Return the group's mode."""
        return self.mode

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Combine the children's verdicts (unknowns stay unknown unless the outcome is settled)."""
        results = tuple(c.evaluate(facts, stage) for c in self.children if c.applies(stage))
        passed = sum(r.verdict == Verdict.PASS for r in results)
        unknown = sum(r.verdict == Verdict.UNKNOWN for r in results)
        need = {"all_of": len(results), "any_of": min(1, len(results)), "at_least": self.k}[self.mode]
        if passed >= need:
            verdict = Verdict.PASS
        elif passed + unknown >= need:
            verdict = Verdict.UNKNOWN
        else:
            verdict = Verdict.FAIL
        detail = f"{len(results)} 项中符合 {passed} 项、待核实 {unknown} 项，需符合 {need} 项"
        return self.result(verdict, detail, children=results)

    def title_refs(self) -> set[str]:
        """Return the tier codes any child refers to."""
        return set().union(*(c.title_refs() for c in self.children))


@dataclass(frozen=True)
class Band:
    """One line of a score table: its points when `when` holds (None: otherwise; manual: verify)."""

    points: int
    label: str
    when: Node | None = None
    manual: bool = False


@dataclass(frozen=True)
class Indicator(Node):
    """A scored indicator: the first band that holds gives the points, top down."""

    group: str = ""
    bands: tuple[Band, ...] = ()

    kind = "indicator"

    @property
    def maximum(self) -> int:
        """Return the most points the indicator can give."""
        return max((b.points for b in self.bands), default=0)

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Score the indicator; a manual band above the one that holds widens the range."""
        high: int | None = None  # the best a manual (or undecidable) band above could give
        used: list[Value] = []
        reasons: list[str] = []
        no_data = ""
        low, chosen = 0, "无符合的档次"
        for band in self.bands:
            outcome = band.when.evaluate(facts, stage) if band.when is not None else None
            if outcome is not None:
                used += [v for r in outcome.walk() for v in r.values if v not in used]
                no_data = no_data or (outcome.detail if outcome.no_data else "")
            if band.manual or (outcome is not None and outcome.verdict == Verdict.UNKNOWN):
                high = band.points if high is None else high
                reasons.append(f"「{band.label}」待人工核实")
            elif outcome is None or outcome.verdict == Verdict.PASS:
                low, chosen = band.points, band.label
                break
        high = max(high if high is not None else low, low)
        verdict = Verdict.PASS if low == high else Verdict.UNKNOWN
        points = f"{low}分" if low == high else f"{low}—{high}分"
        detail = "；".join([f"得分 {points}（{chosen}）", *reasons, *([no_data] if no_data else [])])
        return self.result(verdict, detail, values=tuple(used), points=(low, high), no_data=bool(no_data))


@dataclass(frozen=True)
class Score(Node):
    """A points table: total ≥ pass, and each group ≥ its minimum."""

    pass_mark: int = 60
    minimums: Mapping[str, int] = field(default_factory=dict)
    indicators: tuple[Indicator, ...] = ()

    kind = "score"

    def evaluate(self, facts: Facts, stage: str = "title") -> Result:
        """Pass when even the lowest possible score passes; fail when even the highest fails."""
        results = tuple(i.evaluate(facts, stage) for i in self.indicators)
        groups = {name: [0, 0] for name in self.minimums}
        total = [0, 0]
        for indicator, result in zip(self.indicators, results, strict=True):
            low, high = result.points or (0, 0)
            total[0], total[1] = total[0] + low, total[1] + high
            if indicator.group in groups:
                groups[indicator.group][0] += low
                groups[indicator.group][1] += high
        tests = [(total, self.pass_mark, "总分")] + [(groups[g], m, g) for g, m in self.minimums.items()]
        if all(lo >= need for (lo, _), need, _ in tests):
            verdict = Verdict.PASS
        elif any(hi < need for (_, hi), need, _ in tests):
            verdict = Verdict.FAIL
        else:
            verdict = Verdict.UNKNOWN
        values = tuple(Value(f"{name}得分", f"{lo}" if lo == hi else f"{lo}-{hi}",
                             f"{lo}分" if lo == hi else f"{lo}—{hi}分") for (lo, hi), _, name in tests)
        detail = "；".join(f"{v.display}（{name}需≥{need}分）" for v, (_, need, name) in zip(values, tests, strict=True))
        return self.result(verdict, detail, values=values, children=results, points=(total[0], total[1]))

    def title_refs(self) -> set[str]:
        """Return the tier codes any band's condition refers to."""
        return set().union(*(b.when.title_refs() for i in self.indicators for b in i.bands if b.when))


@dataclass(frozen=True)
class Criteria:
    """A tier's criteria: every top-level criterion must hold."""

    source: str = ""
    items: tuple[Node, ...] = ()

    def years_needed(self) -> int:
        """Return how many years of figures (back from the last year) the criteria may read."""
        def span(node: Node) -> int:
            if isinstance(node, Threshold):
                return node.years + (1 if node.metric.growth else 0)
            if isinstance(node, Group):
                return max((span(c) for c in node.children), default=1)
            if isinstance(node, Score):
                return max((span(b.when) for i in node.indicators for b in i.bands if b.when), default=1)
            return 1
        return max((span(n) for n in self.items), default=1)

    def title_refs(self) -> set[str]:
        """Return every tier code the criteria refer to."""
        return set().union(*(n.title_refs() for n in self.items))
