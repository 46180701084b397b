"""What an import would change: new enterprises, changed fields, new titles and reports, unchanged rows.

Text is compared after NFKC, so a name registered with full-width brackets is not "changed" by a
file that writes them half-width. The same changes drive the dry run's report and the apply step.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.audit.trail import plain
from registry.domain.personal import CONTACT_FIELDS, mask_field
from registry.roster.imports.plan import Group, Title

DIFF_LIMIT = 1000  #: entries kept per list in ImportRun.diff (the counts are always complete)


def as_exported(name: str, old: Any, new: Any) -> bool:  # noqa: ANN401
    """Tell whether `new` is the stored contact value as a masked export shows it (138****1234): a masked
    file re-imported leaves the contact as it is (issue 16 §6)."""
    return name in CONTACT_FIELDS and isinstance(old, str) and new != old and new == mask_field(name, old)


def same(old: Any, new: Any) -> bool:
    """Tell whether a stored value equals an imported one (text compared after NFKC)."""
    if isinstance(old, str) and isinstance(new, str):
        return " ".join(unicodedata.normalize("NFKC", old).split()) == new
    return old == new or plain(old) == plain(new)


@dataclass
class Changes:
    """What one enterprise's rows change."""

    new: bool
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)  #: basis row → {field: new}
    fields: list[tuple[int, str, Any, Any]] = field(default_factory=list)  #: (row, field, old, new)
    new_reports: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)  #: year → (row, data)
    report_updates: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    report_fields: list[tuple[int, int, str, Any, Any]] = field(default_factory=list)  #: (row, year, …)
    new_titles: list[Title] = field(default_factory=list)
    changed_rows: set[int] = field(default_factory=set)


def decide(group: Group, stored_reports: dict[int, dict[str, Any]], today: date) -> Changes:
    """Work out what applying `group` changes."""
    changes = Changes(new=group.existing is None)
    for name, (value, row) in group.fields.items():
        old = None if changes.new else group.existing.get(name)
        if changes.new or not (same(old, value) or as_exported(name, old, value)):
            (changes.updates.get(row) or changes.updates.setdefault(row, {}))[name] = value
            if not changes.new:
                changes.fields.append((row, name, old, value))
    for year, figures in group.reports.items():
        _decide_report(changes, year, figures, group.report_rows[year], stored_reports.get(year), today)
    changes.new_titles = [t for t in group.titles if t.existing is None]
    changes.changed_rows = {r.number for r in group.rows if changes.new or _changes_row(changes, r.values)}
    return changes


def _changes_row(changes: Changes, values: dict[str, Any]) -> bool:
    """Tell whether a row gives a changed field, a new report or a new title."""
    if any(n in values for upd in changes.updates.values() for n in upd):
        return True
    year = values.get("year")
    if year in changes.new_reports or (year in changes.report_updates
                                       and any(n in values for n in changes.report_updates[year][1])):
        return True
    return any(t.row.values is values for t in changes.new_titles)


def _decide_report(changes: Changes, year: int, figures: dict[str, tuple[Any, int]], first_row: int,
                   stored: dict[str, Any] | None, today: date) -> None:
    data = {name: value for name, (value, _) in figures.items()}
    if not data:
        return  # a year without figures records nothing
    if stored is None:
        changes.new_reports[year] = (first_row, {"submitted_on": today, **data})
        return
    updates = {}
    for name, (value, row) in figures.items():
        if not same(stored.get(name), value):
            updates[name] = value
            changes.report_fields.append((row, year, name, stored.get(name), value))
    if updates:
        basis = min(row for row, y, *_ in changes.report_fields if y == year)
        changes.report_updates[year] = (basis, updates)


class DiffReport:
    """Collects the diff of a whole file as the JSON stored in ImportRun.diff."""

    def __init__(self) -> None:
        self.lists: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "new_enterprises", "changed", "new_titles", "new_reports", "unchanged_rows", "missing",
            "name_matches")}
        self.totals: dict[str, int] = dict.fromkeys(self.lists, 0)

    def add(self, kind: str, entry: Any) -> None:
        """Count an entry and keep it while under the limit."""
        self.totals[kind] += 1
        if len(self.lists[kind]) < DIFF_LIMIT:
            self.lists[kind].append(plain(entry))

    def enterprise(self, group: Group, changes: Changes) -> None:
        """Add one enterprise's changes."""
        name, eid = group.value("name"), group.existing["id"] if group.existing else None
        if changes.new:
            self.add("new_enterprises", {"row": group.rows[0].number, "uscc": group.uscc, "name": name})
        for row, field_name, old, new in changes.fields:  # stored with the run: contacts masked (issue 16 §6)
            self.add("changed", {"row": row, "uscc": group.uscc, "name": name, "enterprise_id": eid,
                                 "entity": "enterprise", "field": field_name, "old": mask_field(field_name, old),
                                 "new": mask_field(field_name, new)})
        for row, year, field_name, old, new in changes.report_fields:
            self.add("changed", {"row": row, "uscc": group.uscc, "name": name, "enterprise_id": eid,
                                 "entity": "annual_report", "year": year, "field": field_name,
                                 "old": old, "new": new})
        for year, (row, _) in changes.new_reports.items():
            self.add("new_reports", {"row": row, "uscc": group.uscc, "name": name, "year": year})
        for t in changes.new_titles:
            self.add("new_titles", {"row": t.row.number, "uscc": group.uscc, "name": name, "tier": t.tier,
                                    "recognized_on": t.recognized_on, "batch": t.details.get("batch")})
        for row in group.rows:
            if row.number not in changes.changed_rows:
                self.add("unchanged_rows", row.number)

    def as_json(self) -> dict[str, Any]:
        """Return the diff with each list's total (lists are cut at DIFF_LIMIT entries)."""
        return {**self.lists, "totals": dict(self.totals), "limit": DIFF_LIMIT}
