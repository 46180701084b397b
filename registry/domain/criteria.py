"""Eligibility criteria as data: a small declarative language in TOML, evaluated without eval.

A tier's `[tiers.criteria]` table (parsed by criteria_toml at policy load time) becomes a tree of
nodes (criteria_nodes): thresholds over annual figures and derived ratios, titles held, flags,
region, manual checks, any_of / all_of / at_least k, and score tables with sub-minimums.
`evaluate(criteria, facts)` returns every criterion with the values it used, its verdict
(符合 / 不符合 / 待人工核实) and its source; missing data is a "无数据" failure, never a crash.
"""

from __future__ import annotations

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
from registry.domain.criteria_report import (
    AGE,
    FIGURES,
    FLAGS,
    OPERATORS,
    VERDICT_NAMES,
    Evaluation,
    Facts,
    Figures,
    Metric,
    Result,
    Value,
    Verdict,
    age_on,
)
from registry.domain.criteria_toml import parse_criteria

__all__ = ["AGE", "FIGURES", "FLAGS", "OPERATORS", "VERDICT_NAMES", "Band", "Criteria", "Evaluation",
           "Facts", "Figures", "Flag", "Group", "Indicator", "InRegion", "Manual", "Metric", "Node",
           "Result", "Score", "Threshold", "Title", "Value", "Verdict", "Zone", "age_on", "evaluate",
           "parse_criteria"]


def evaluate(criteria: Criteria, facts: Facts, stage: str = "title") -> Evaluation:
    """Judge `facts` against `criteria`; stage "pool" skips criteria marked for the title only."""
    root = Group(id="", name="全部条件", source=criteria.source, mode="all_of", children=criteria.items)
    outcome = root.evaluate(facts, stage)
    return Evaluation(verdict=outcome.verdict, year=facts.year, on=facts.on, results=outcome.children)
