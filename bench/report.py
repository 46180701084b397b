"""The table printed at the end of a run, and the run's section of bench/RESULTS.md.

RESULTS.md keeps one section per (database, scale), between markers; a rerun replaces its own
section and leaves the others and the hand-written findings alone.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from bench.timing import Figure, fmt, mb

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nWritten by `python -m bench`; see the findings below the runs.\n"


def _target(f: Figure) -> str:
    parts = []
    if f.target_ratio is not None:
        parts.append(f"≤ {f.target_ratio:g}×")
    if f.target_margin is not None:
        parts.append(f"≤ floor + {fmt(f.target_margin, f.unit)}")
    if f.target_value is not None:
        parts.append(f"≤ {fmt(f.target_value, f.unit)}")
    return " and ".join(parts) or "–"


def _met(f: Figure) -> str:
    return {True: "yes", False: "**no**", None: "–"}[f.met]


def _ratio(f: Figure) -> str:
    return f"{f.ratio:.2f}×" if f.ratio is not None else "–"


def table(figures: list[Figure]) -> str:
    """A plain-text table for the terminal."""
    rows = [("figure", "value", "memory", "floor", "floor memory", "floor is", "ratio", "target", "met")]
    rows += [(f.name, fmt(f.value, f.unit), mb(f.memory), fmt(f.floor, f.unit), mb(f.floor_memory), f.floor_name,
              _ratio(f), _target(f), _met(f).strip("*")) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"- {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + [""] + notes)


def section(*, key: str, title: str, when: datetime, database: str, scale: int, machine: dict[str, str],
            generation: list[str], figures: list[Figure]) -> str:
    """The Markdown section of one run."""
    out = [f"<!-- bench:run {key} -->", f"## {title}", "",
           f"Run {when:%Y-%m-%d %H:%M %Z}; database `{database}`; scale {scale:,} enterprises.", "",
           "| machine | |", "|---|---|", *[f"| {k} | {v} |" for k, v in machine.items()], ""]
    if generation:
        out += ["Generation:", "", *generation, ""]
    out += ["Memory is the growth of the bench process's resident set while the figure (or its floor) ran, "
            "sampled every 5 ms; memory already held from an earlier figure is not counted again.", "",
            "| figure | value | memory | floor | floor memory | floor is | ratio | target | met |",
            "|---|---|---|---|---|---|---|---|---|"]
    out += [f"| {f.name} | {fmt(f.value, f.unit)} | {mb(f.memory)} | {fmt(f.floor, f.unit)} | {mb(f.floor_memory)} "
            f"| {f.floor_name or '–'} | {_ratio(f)} | {_target(f)} | {_met(f)} |" for f in figures]
    out += ["", *[f"- **{f.name}**: {f.note}" for f in figures if f.note], ""]
    for f in figures:
        for i, (sql, plan) in enumerate(zip(f.details.get("statements", []), f.details.get("plans", []), strict=False)):
            out += [f"<details><summary>{f.name}: statement {i + 1} and its plan</summary>", "", "```sql", sql, "```",
                    "", "```", plan, "```", "", "</details>", ""]
    out.append("<!-- bench:end -->")
    return "\n".join(out)


def write(key: str, text: str, path: Path = RESULTS) -> None:
    """Replace (or add) the run's section in RESULTS.md."""
    current = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:run {re.escape(key)} -->.*?<!-- bench:end -->", re.S)
    if pattern.search(current):
        current = pattern.sub(lambda _: text, current)
    else:
        marker = "\n## Findings"
        at = current.find(marker)
        current = (current.rstrip() + "\n\n" + text + "\n") if at < 0 else \
            current[:at].rstrip() + "\n\n" + text + "\n" + current[at:]
    path.write_text(current, encoding="utf-8")
