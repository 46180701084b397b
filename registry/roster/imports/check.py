"""Checking a read file against the rules and the registry, and working out its diff (the dry run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from registry.domain.actors import Actor
from registry.policies.rules import Rules
from registry.roster.imports.columns import map_headers
from registry.roster.imports.diff import Changes, DiffReport, decide
from registry.roster.imports.existing import Existing, holders_of_batches, load_existing, name_matches
from registry.roster.imports.lookups import Regions, Tiers
from registry.roster.imports.plan import Group, Planner
from registry.roster.imports.problems import Problem
from registry.roster.imports.reading import Sheet
from registry.roster.imports.rows import Row, RowReader

PROGRESS_EVERY = 1000
Progress = Callable[[int, int], None]


@dataclass
class Outcome:
    """Everything the check found: problems, and when there are no errors, the changes and the diff."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    decided: list[tuple[Group, Changes]] = field(default_factory=list)
    diff: dict[str, Any] = field(default_factory=dict)
    enterprises: int = 0


def check_file(session: Session, *, actor: Actor, rules: Rules, sheet: Sheet, today: date,
               programme: str | None = None, progress: Progress | None = None) -> Outcome:
    """Check every row of `sheet`; when nothing is wrong, work out what applying it would change."""
    mapping, errors, warnings = map_headers(sheet.headers, sheet.header_row, sheet.labels)
    outcome = Outcome(errors, warnings)
    if sheet.preamble:
        outcome.warnings.append(Problem(sheet.header_row, None, None, f"第{sheet.header_row}行之前的内容视为标题，"
                                        "已忽略 / lines above the header ignored"))
    if any(p.field == "uscc" and p.col is None for p in errors):
        return outcome  # without the USCC column no row can be matched
    reader = RowReader(mapping, Regions(session), Tiers(rules.policies, programme), today)
    rows = _read_rows(reader, sheet, outcome, progress)
    planner = Planner(actor, rules, reader)
    groups = planner.group(rows)
    existing = load_existing(session, actor, set(groups))
    planner.check(groups, existing)
    outcome.enterprises = len(groups)
    if not outcome.errors and not planner.errors:
        _diff(session, planner, groups, existing, today, outcome)
    outcome.errors += planner.errors
    outcome.warnings += planner.warnings
    outcome.errors.sort(key=lambda p: (p.row or 0, -1 if p.col is None else p.col))
    return outcome


def _read_rows(reader: RowReader, sheet: Sheet, outcome: Outcome, progress: Progress | None) -> list[Row]:
    rows = []
    total = len(sheet.rows)
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        row, problems = reader.read(number, cells)
        rows.append(row)
        outcome.errors += problems
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return rows


def _diff(session: Session, planner: Planner, groups: dict[str, Group], existing: Existing, today: date,
          outcome: Outcome) -> None:
    report = DiffReport()
    for group in groups.values():
        stored = existing.reports.get(group.existing["id"], {}) if group.existing else {}
        changes = decide(group, stored, today)
        outcome.decided.append((group, changes))
        report.enterprise(group, changes)
    _flag_name_matches(session, planner, groups, report)
    pairs = {(t.tier, t.details["batch"]) for g in groups.values() for t in g.titles if t.details.get("batch")}
    for holder in holders_of_batches(session, planner.actor, pairs):
        if holder["uscc"] not in groups:
            report.add("missing", {"enterprise_id": holder["id"], "uscc": holder["uscc"], "name": holder["name"],
                                   "tier": holder["tier"], "batch": holder["batch"]})
    outcome.diff = report.as_json()


def _flag_name_matches(session: Session, planner: Planner, groups: dict[str, Group], report: DiffReport) -> None:
    """Flag new enterprises whose name is registered under another USCC: never merged, only shown."""
    new = [g for g in groups.values() if g.existing is None and "name" in g.fields]
    hits = name_matches(session, planner.actor, {g.fields["name"][0] for g in new})
    for group in new:
        name, row = group.fields["name"]
        for other in hits.get(name, []):
            report.add("name_matches", {"row": row, "uscc": group.uscc, "name": name,
                                        "existing_id": other["id"], "existing_uscc": other["uscc"]})
            planner.warn(row, "name", f"企业名称与已登记企业（统一社会信用代码 {other['uscc']}）相同但信用代码不同，"
                                      "将作为新企业登记，请核实 / same name as a registered enterprise with"
                                      " another USCC: not merged")
