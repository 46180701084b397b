"""Parse a tier's `[tiers.criteria]` table into criteria nodes; refuse anything malformed by name.

The form (no expressions, nothing evaluated):

    [tiers.criteria]
    source = "…"                            # inherited by every criterion below
    [tiers.criteria.rd_ratio]
    kind = "threshold"                      # threshold | title | flag | region | manual
    metric = "rd_expense"                   #   | all_of | any_of | at_least | score
    per = "revenue"                         # a ratio; or growth = true
    op = "不低于"                            # 以上/不低于 ≥, 高于/超过 >, 以下/不超过/不高于 ≤, 低于 <
    value = "3%"                            # or "1000万", "4亿", 2; or by_region = [{zone, regions, value}]
    years = 2                               # the last N years: each (default) or over = "total"
    missing = "manual"                      # no figures: 待人工核实 (default "fail": 无数据, 不符合)

A PolicyError names the file, the key path (tiers[1].criteria.rd_ratio.op) and the problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.domain.criteria_nodes import (
    Band,
    Criteria,
    Flag,
    Group,
    Indicator,
    InRegion,
    Manual,
    Node,
    Score,
    Threshold,
    Title,
    Zone,
)
from registry.domain.criteria_report import AGE, FIGURES, FLAGS, OPERATORS, Metric, show_bound
from registry.domain.errors import PolicyError

COMMON = {"kind", "name", "source", "note", "stage", "assumed"}
KEYS = {
    "threshold": {"metric", "per", "growth", "op", "value", "by_region", "years", "over", "missing"},
    "title": {"any_of"}, "flag": {"flag", "expected"}, "region": {"in"}, "manual": set(),
    "all_of": {"of"}, "any_of": {"of"}, "at_least": {"k", "of"}, "score": {"pass", "groups", "indicators"},
}
METRIC_KEYS = {"metric", "per", "growth", "years", "over"}
INDICATOR_KEYS = {"name", "group", "source", "note", "bands", "manual", "max"} | METRIC_KEYS
BAND_KEYS = {"points", "label", "when", "manual", "op", "value"}
CODE = re.compile(r"^\d{6}$")
SCALES = (("亿元", 100_000_000), ("亿", 100_000_000), ("万元", 10_000), ("万", 10_000), ("元", 1))


class _Parser:
    """Walks the criteria table, keeping the file name for error messages."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, problem: str) -> PolicyError:
        return PolicyError(self.file, path, problem)

    def get(self, table: Mapping[str, Any], path: str, key: str, kind: type | tuple[type, ...],
            default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(f"{path}.{key}", "missing (required)")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = "/".join(k.__name__ for k in kinds)
            raise self.fail(f"{path}.{key}", f"expected {names}, got {type(value).__name__} {value!r}")
        return value

    def only(self, table: Mapping[str, Any], path: str, allowed: set[str]) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", "unknown key (a typo?)")

    # ----------------------------------------------------------------------------- nodes

    def node(self, table: Any, path: str, node_id: str, source: str) -> Node:
        if not isinstance(table, dict):
            raise self.fail(path, "expected a table describing a criterion")
        kind = self.get(table, path, "kind", str)
        if kind not in KEYS:
            raise self.fail(f"{path}.kind", f"must be one of {', '.join(KEYS)}; got {kind!r}")
        self.only(table, path, COMMON | KEYS[kind])
        stage = self.get(table, path, "stage", str, "both")
        if stage not in ("both", "title"):
            raise self.fail(f"{path}.stage", f"must be both or title; got {stage!r}")
        base = {"id": node_id, "source": self.get(table, path, "source", str, source),
                "note": self.get(table, path, "note", str, ""), "stage": stage,
                "assumed": self.get(table, path, "assumed", bool, False)}
        if base["assumed"] and not base["note"]:
            raise self.fail(f"{path}.note", "an assumed criterion needs a note saying why")
        name = self.get(table, path, "name", str, None)
        return getattr(self, f"_{kind}")(table, path, base, name)

    def _threshold(self, table: dict, path: str, base: dict, name: str | None) -> Threshold:
        metric, years, over = self.metric(table, path)
        wording = self.get(table, path, "op", str)
        if wording not in OPERATORS:
            raise self.fail(f"{path}.op", f"must be one of {', '.join(OPERATORS)}; got {wording!r}")
        has_value, has_zones = "value" in table, "by_region" in table
        if has_value == has_zones:
            raise self.fail(f"{path}.value", "give exactly one of value or by_region")
        bound = self.amount(table["value"], f"{path}.value", metric.kind) if has_value else None
        zones = self.zones(table, path, metric.kind) if has_zones else ()
        shown = show_bound(metric.kind, bound) if bound is not None else "（按地区）"
        prefix = f"近{years}年{'合计' if over == 'total' else '每年'}" if years > 1 else ""
        # 以上/以下 follow the number (1000万元以上); the other words precede it (不低于3%)
        default = (f"{prefix}{metric.label}{shown}{wording}" if wording in ("以上", "以下")
                   else f"{prefix}{metric.label}{wording}{shown}")
        missing = self.get(table, path, "missing", str, "fail")
        if missing not in ("fail", "manual"):
            raise self.fail(f"{path}.missing", f"must be fail or manual; got {missing!r}")
        return Threshold(**base, name=name or default, metric=metric, op=OPERATORS[wording], wording=wording,
                         bound=bound, zones=zones, years=years, over=over, missing=missing)

    def metric(self, table: dict, path: str) -> tuple[Metric, int, str]:
        figure = self.get(table, path, "metric", str)
        if figure not in FIGURES and figure != AGE:
            raise self.fail(f"{path}.metric", f"must be one of {', '.join([*FIGURES, AGE])}; got {figure!r}")
        per = self.get(table, path, "per", str, None)
        growth = self.get(table, path, "growth", bool, False)
        years = self.get(table, path, "years", int, 1)
        over = self.get(table, path, "over", str, "each")
        if years < 1:
            raise self.fail(f"{path}.years", f"must be 1 or more; got {years}")
        if over not in ("each", "total"):
            raise self.fail(f"{path}.over", f"must be each or total; got {over!r}")
        if figure == AGE and (per or growth or "years" in table or "over" in table):
            raise self.fail(f"{path}.metric", "age_years takes no per, growth, years or over")
        if per is not None:
            if per not in FIGURES:
                raise self.fail(f"{path}.per", f"must be one of {', '.join(FIGURES)}; got {per!r}")
            if growth or FIGURES[per][1] != FIGURES[figure][1] or FIGURES[per][1] == "ratio":
                raise self.fail(f"{path}.per", f"{figure} per {per}: a ratio needs two amounts or two counts"
                                               " and no growth")
        if growth and over == "total":
            raise self.fail(f"{path}.over", "growth is judged each year; over = total does not apply")
        if over == "total" and not per:
            raise self.fail(f"{path}.over", "over = total needs per (the ratio of the sums)")
        return Metric(figure, per, growth), years, over

    def amount(self, raw: Any, path: str, kind: str) -> Decimal:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise self.fail(path, f"expected a number or text like \"3%\" or \"1000万\"; got {raw!r}")
        text, scale = (raw.strip(), 1) if isinstance(raw, str) else (str(raw), 1)
        percent = text.endswith("%")
        if percent:
            text = text[:-1]
        else:
            for suffix, factor in SCALES:
                if text.endswith(suffix):
                    text, scale = text[: -len(suffix)], factor
                    break
        try:
            number = Decimal(text.replace(",", "")) * scale
        except InvalidOperation:
            raise self.fail(path, f"not a number: {raw!r}") from None
        if kind == "ratio" and not percent:
            raise self.fail(path, f"a ratio is written as a percentage, e.g. \"3%\"; got {raw!r}")
        if kind != "ratio" and percent:
            raise self.fail(path, f"a percentage needs a ratio metric (per = … or growth = true); got {raw!r}")
        return number / 100 if percent else number

    def zones(self, table: dict, path: str, kind: str) -> tuple[Zone, ...]:
        rows = self.get(table, path, "by_region", list)
        zones, seen = [], set()
        for i, row in enumerate(rows):
            where = f"{path}.by_region[{i}]"
            if not isinstance(row, dict):
                raise self.fail(where, "expected a table {zone, regions, value}")
            self.only(row, where, {"zone", "regions", "value"})
            codes = self.get(row, where, "regions", list)
            for code in codes:
                if not isinstance(code, str) or not CODE.match(code):
                    raise self.fail(f"{where}.regions", f"expected 6-digit region codes; got {code!r}")
                if code in seen:
                    raise self.fail(f"{where}.regions", f"region {code} is in two zones")
                seen.add(code)
            zones.append(Zone(self.get(row, where, "zone", str), tuple(codes),
                              self.amount(self.get(row, where, "value", (int, float, str)), f"{where}.value", kind)))
        if not zones:
            raise self.fail(f"{path}.by_region", "expected at least one zone")
        return tuple(zones)

    def _title(self, table: dict, path: str, base: dict, name: str | None) -> Title:
        codes = self.get(table, path, "any_of", list)
        if not codes or not all(isinstance(c, str) for c in codes):
            raise self.fail(f"{path}.any_of", "expected a non-empty list of tier codes")
        return Title(**base, name=name or f"持有{'或'.join(codes)}称号", any_of=tuple(codes))

    def _flag(self, table: dict, path: str, base: dict, name: str | None) -> Flag:
        flag = self.get(table, path, "flag", str)
        if flag not in FLAGS:
            raise self.fail(f"{path}.flag", f"must be one of {', '.join(FLAGS)}; got {flag!r}")
        return Flag(**base, name=name or FLAGS[flag], flag=flag, expected=self.get(table, path, "expected", bool, True))

    def _region(self, table: dict, path: str, base: dict, name: str | None) -> InRegion:
        codes = self.get(table, path, "in", list)
        if not codes or not all(isinstance(c, str) and CODE.match(c) for c in codes):
            raise self.fail(f"{path}.in", "expected a non-empty list of 6-digit region codes")
        return InRegion(**base, name=name or f"注册地属于{'、'.join(codes)}", regions=tuple(codes))

    def _manual(self, table: dict, path: str, base: dict, name: str | None) -> Manual:
        if not name:
            raise self.fail(f"{path}.name", "a manual criterion needs a name saying what to verify")
        return Manual(**base, name=name)

    def children(self, table: dict, path: str, parent: str, source: str) -> tuple[Node, ...]:
        raw = self.get(table, path, "of", (dict, list))
        items = raw.items() if isinstance(raw, dict) else ((str(i + 1), v) for i, v in enumerate(raw))
        nodes = tuple(self.node(v, f"{path}.of.{k}" if isinstance(raw, dict) else f"{path}.of[{int(k) - 1}]",
                                f"{parent}.{k}" if parent else k, source) for k, v in items)
        if not nodes:
            raise self.fail(f"{path}.of", "expected at least one criterion")
        return nodes

    def _group(self, table: dict, path: str, base: dict, name: str | None, mode: str) -> Group:
        nodes = self.children(table, path, base["id"], base["source"])
        k = self.get(table, path, "k", int) if mode == "at_least" else 0
        if mode == "at_least" and not 1 <= k <= len(nodes):
            raise self.fail(f"{path}.k", f"must be between 1 and {len(nodes)} (the number of criteria)")
        default = {"all_of": "同时满足以下各项", "any_of": "满足以下任意一项", "at_least": f"至少满足以下{k}项"}[mode]
        return Group(**base, name=name or default, mode=mode, k=k, children=nodes)

    def _all_of(self, table: dict, path: str, base: dict, name: str | None) -> Group:
        return self._group(table, path, base, name, "all_of")

    def _any_of(self, table: dict, path: str, base: dict, name: str | None) -> Group:
        return self._group(table, path, base, name, "any_of")

    def _at_least(self, table: dict, path: str, base: dict, name: str | None) -> Group:
        return self._group(table, path, base, name, "at_least")

    # ----------------------------------------------------------------------------- scores

    def _score(self, table: dict, path: str, base: dict, name: str | None) -> Score:
        if not name:
            raise self.fail(f"{path}.name", "a score table needs a name")
        mark = self.get(table, path, "pass", int)
        groups = self.get(table, path, "groups", dict, {})
        for group, minimum in groups.items():
            if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
                raise self.fail(f"{path}.groups.{group}", f"expected a minimum score (0 or more); got {minimum!r}")
        raw = self.get(table, path, "indicators", dict)
        indicators = tuple(self.indicator(v, f"{path}.indicators.{k}", f"{base['id']}.{k}", base["source"], groups)
                           for k, v in raw.items())
        if not indicators:
            raise self.fail(f"{path}.indicators", "expected at least one indicator")
        top = sum(i.maximum for i in indicators)
        if mark > top:
            raise self.fail(f"{path}.pass", f"pass mark {mark} exceeds the most points possible ({top})")
        return Score(**base, name=name, pass_mark=mark, minimums=dict(groups), indicators=indicators)

    def indicator(self, table: Any, path: str, node_id: str, source: str, groups: dict) -> Indicator:
        if not isinstance(table, dict):
            raise self.fail(path, "expected a table describing an indicator")
        self.only(table, path, INDICATOR_KEYS)
        group = self.get(table, path, "group", str, "")
        if groups and group not in groups:
            raise self.fail(f"{path}.group", f"must be one of {', '.join(groups)}; got {group!r}")
        base = {"id": node_id, "name": self.get(table, path, "name", str),
                "source": self.get(table, path, "source", str, source), "note": self.get(table, path, "note", str, "")}
        if "manual" in table:
            text = self.get(table, path, "manual", str)
            top = self.get(table, path, "max", int)
            return Indicator(**base, group=group, bands=(Band(top, text, manual=True),))
        metric = self.metric(table, path) if "metric" in table else None
        rows = self.get(table, path, "bands", list)
        bands = tuple(self.band(row, f"{path}.bands[{i}]", f"{node_id}.{i + 1}", base["source"], metric)
                      for i, row in enumerate(rows))
        if not bands:
            raise self.fail(f"{path}.bands", "expected at least one band")
        return Indicator(**base, group=group, bands=bands)

    def band(self, row: Any, path: str, node_id: str, source: str,
             metric: tuple[Metric, int, str] | None) -> Band:
        if not isinstance(row, dict):
            raise self.fail(path, "expected a table {points, …}")
        self.only(row, path, BAND_KEYS)
        points = self.get(row, path, "points", int)
        if points < 0:
            raise self.fail(f"{path}.points", f"must be 0 or more; got {points}")
        label = self.get(row, path, "label", str, None)
        if "manual" in row:
            text = self.get(row, path, "manual", str)
            return Band(points, label or text, manual=True)
        if "when" in row:
            node = self.node(row["when"], f"{path}.when", node_id, source)
            return Band(points, label or node.name, when=node)
        if "op" in row or "value" in row:
            if metric is None:
                raise self.fail(f"{path}.op", "op/value bands need the indicator's metric")
            spec = {"kind": "threshold", "metric": metric[0].figure, "op": self.get(row, path, "op", str),
                    "value": self.get(row, path, "value", (int, float, str)), "years": metric[1], "over": metric[2]}
            spec |= {"per": metric[0].per} if metric[0].per else {}
            spec |= {"growth": True} if metric[0].growth else {}
            node = self.node(spec, path, node_id, source)
            return Band(points, label or node.name, when=node)
        return Band(points, label or "其他")


def parse_criteria(table: Mapping[str, Any], *, file: str, path: str) -> Criteria:
    """Build a tier's criteria from its `criteria` table. :raises PolicyError: malformed."""
    if not table:
        return Criteria()
    parser = _Parser(file)
    source = parser.get(table, path, "source", str)
    items = []
    for key, value in table.items():
        if key == "source":
            continue
        if not isinstance(value, dict):
            raise parser.fail(f"{path}.{key}", "expected a criterion table (or the key is a typo)")
        items.append(parser.node(value, f"{path}.{key}", key, source))
    if not items:
        raise parser.fail(path, "criteria need at least one criterion besides source")
    return Criteria(source=source, items=tuple(items))
