"""The import use case: read, check every row, then (apply, no errors) write — all or nothing.

One ImportRun row records each upload: its status (failed, validated, applied), counts, errors
({row, column, field, message}), the diff and warnings, and the error workbook. Nothing of the
registry is written unless every row is good. Like every service it flushes and never commits;
the caller commits, which also keeps the ImportRun of a failed file for its error workbook.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from registry import audit
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import RuleViolation
from registry.imports.apply import apply_changes
from registry.imports.check import Outcome, Progress, check_file
from registry.imports.problems import FileProblem, Problem
from registry.imports.reading import Sheet, read_table
from registry.imports.workbook import error_workbook
from registry.models import ImportRun
from registry.services import Rules

MODES = ("dry_run", "apply")
ERROR_LIMIT = 1000  #: errors kept in ImportRun.errors (the error workbook has them all)


def run_import(session: Session, *, actor: Actor, rules: Rules, filename: str, content: bytes, mode: str,
               at: datetime, today: date, programme: str | None = None,
               progress: Progress | None = None) -> ImportRun:
    """Check a roster file and, in mode "apply" when every row is good, write it; return its ImportRun."""
    require(actor, Action.IMPORT)
    if mode not in MODES:
        raise RuleViolation.on("mode", f"导入方式应为 dry_run 或 apply，实为 {mode!r} / unknown mode")
    if programme is not None and programme not in {p.programme for p in rules.policies.policies}:
        known = "、".join(sorted({p.programme for p in rules.policies.policies}))
        raise RuleViolation.on("programme", f"未知的项目 {programme}（可用：{known}） / unknown programme")
    run = ImportRun(filename=filename[:255], mode=mode, status="running", user_id=actor.user_id,
                    region_code=actor.region_code, created_at=at)
    session.add(run)
    session.flush()
    try:
        sheet = read_table(filename, content)
    except FileProblem as exc:
        return _finish(run, None, Outcome(errors=[Problem(None, None, None, exc.message)]), at)
    run.total_rows = len(sheet.rows)

    def report(done: int, total: int) -> None:
        """Record progress on the ImportRun and pass it on."""
        run.processed_rows = done
        session.flush()
        if progress is not None:
            progress(done, total)

    outcome = check_file(session, actor=actor, rules=rules, sheet=sheet, today=today, programme=programme,
                         progress=report)
    if not outcome.errors and mode == "apply":
        apply_changes(session, actor=actor, rules=rules, filename=filename, decided=outcome.decided, at=at)
    _finish(run, sheet, outcome, at)
    if run.status == "applied":
        audit.record(session, actor=actor, action="import.applied", entity_type="import", entity_id=run.id,
                     region_code=None if actor.region_code == "000000" else actor.region_code, at=at,
                     changes={"filename": [None, filename], "counts": [None, run.counts]},
                     why=audit.Why(note=f"导入 {filename}"))
    session.flush()
    return run


def _finish(run: ImportRun, sheet: Sheet | None, outcome: Outcome, at: datetime) -> ImportRun:
    errors, warnings = outcome.errors, outcome.warnings
    totals = outcome.diff.get("totals", {})
    run.status = "failed" if errors else ("applied" if run.mode == "apply" else "validated")
    run.counts = {"rows": run.total_rows, "enterprises": outcome.enterprises, "errors": len(errors),
                  "error_rows": len({p.row for p in errors if p.row}), "warnings": len(warnings), **totals}
    run.errors = [p.as_json() for p in errors[:ERROR_LIMIT]]
    run.diff = {**outcome.diff, "warnings": [p.as_json() for p in warnings[:ERROR_LIMIT]]}
    run.error_workbook = error_workbook(sheet, errors) if errors else None
    run.finished_at = at
    return run
