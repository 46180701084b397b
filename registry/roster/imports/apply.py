"""Writing a checked file set-based: a few statements per table, every change audited with its row.

The rows were validated and planned in Python (check.py, plan.py, diff.py); here they are written
through registry.roster.bulk, the set-based twins of the services (update_enterprise,
register_enterprise, record_annual_report, grant_certification) that write the same rows and the
same audit events, in the same order, as the row-by-row apply did (tests/roster/test_apply_golden.py):
changed enterprises, new enterprises, corrected reports, new reports, new titles. The basis of
each audit event is the file and the row (note "导入 <file> 第N行") and the row's 文号 when it has one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Actor
from registry.policies.rules import Rules
from registry.roster import bulk
from registry.roster.imports.diff import Changes
from registry.roster.imports.plan import Group, Title


class Basis:
    """Builds the audit `Why` of a row: the file, the row number and the row's 文号."""

    def __init__(self, filename: str, groups: list[Group]) -> None:
        self.filename = filename
        self.document_no = {r.number: r.values.get("document_no") for g in groups for r in g.rows}
        self.made: dict[int, audit.Why] = {}  #: a row's enterprise, report and title share one Why

    def __call__(self, row: int) -> audit.Why:
        """Return the Why of changes that come from spreadsheet row `row`."""
        why = self.made.get(row)
        if why is None:
            why = self.made[row] = audit.Why(document_no=self.document_no.get(row),
                                             note=f"导入 {self.filename} 第{row}行")
        return why


def apply_changes(session: Session, *, actor: Actor, rules: Rules, filename: str,
                  decided: list[tuple[Group, Changes]], at: datetime) -> None:
    """Write every change of a checked file in the caller's transaction."""
    why = Basis(filename, [g for g, _ in decided])
    _update_enterprises(session, actor, decided, why, at)
    new = [(g, c) for g, c in decided if c.new]
    ids = bulk.register_enterprises(session, actor=actor, at=at, items=[
        ({**{k: v for upd in c.updates.values() for k, v in upd.items()}, "uscc": g.uscc}, why(g.rows[0].number))
        for g, c in new])
    enterprise_id = {g.uscc: g.existing["id"] for g, c in decided if not c.new}
    enterprise_id |= {g.uscc: eid for (g, _), eid in zip(new, ids, strict=True)}
    _record_reports(session, actor, decided, enterprise_id, why, at)
    titles = sorted(((g, t) for g, c in decided for t in c.new_titles), key=lambda gt: _order(gt[1]))
    bulk.grant_certifications(session, actor=actor, rules=rules, at=at, items=[
        bulk.NewTitle(enterprise_id[g.uscc], t.tier, t.recognized_on, t.details, why(t.row.number))
        for g, t in titles])
    session.flush()
    session.expire_all()  # collections loaded before the set-based inserts are stale now


def _order(title: Title) -> tuple[object, ...]:
    return title.recognized_on, title.row.number


def _update_enterprises(session: Session, actor: Actor, decided: list[tuple[Group, Changes]],
                        why: Basis, at: datetime) -> None:
    bulk.update_enterprises(session, actor=actor, at=at, items=[
        bulk.EnterpriseUpdate(group.existing["id"], data, why(row), group.existing["version"])
        for group, changes in decided if not changes.new for row, data in sorted(changes.updates.items())])


def _record_reports(session: Session, actor: Actor, decided: list[tuple[Group, Changes]],
                    enterprise_id: dict[str, int], why: Basis, at: datetime) -> None:
    new_reports, corrected = [], []
    for group, changes in decided:
        eid = enterprise_id[group.uscc]
        for year, (row, data) in sorted(changes.new_reports.items()):
            new_reports.append(bulk.NewReport(eid, year, data, why(row)))
        for year, (row, data) in sorted(changes.report_updates.items()):
            corrected.append(bulk.NewReport(eid, year, data, why(row)))
    bulk.correct_annual_reports(session, actor=actor, items=corrected, at=at)
    bulk.record_annual_reports(session, actor=actor, items=new_reports, at=at)
