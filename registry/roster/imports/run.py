"""The import use case: read, check every row, then (apply, no errors) write — all or nothing.

One ImportRun row records each upload: its status (queued, running, failed, validated,
applied), counts, errors ({row, column, field, message}), the diff and warnings, and the error
workbook. `run_import` does it all at once (CLI, small API uploads); a page upload (or a large API
one) is `queue_import`ed with its file and processed by the jobs process's executor with
`process_import` (jobs/imports.py). Nothing of the
registry is written unless every row is good. Like every service it flushes and never commits;
the caller commits, which also keeps the ImportRun of a failed file for its error workbook.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config.import_limits import ImportLimits
from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require
from registry.domain.errors import Conflict, RuleViolation
from registry.enterprises.queries import get_in_region, in_region
from registry.policies.rules import Rules
from registry.roster.imports.apply import apply_changes
from registry.roster.imports.check import Outcome, Progress, check_file
from registry.roster.imports.problems import FileProblem, Problem
from registry.roster.imports.reading import Sheet, read_table
from registry.roster.imports.workbook import error_workbook
from registry.roster.models import ImportRun

MODES = ("dry_run", "apply")
ERROR_LIMIT = 1000  #: errors kept in ImportRun.errors (the error workbook has them all)
#: a queued import nobody claimed for this long (the jobs process is not running) is failed by the
#: reaper (registry/roster/imports/queue.py); a running one is failed when its heartbeat goes stale.
ABANDONED_AFTER = timedelta(hours=6)
ABANDONED = ("导入中断（排队超过 6 小时无人处理，请确认定时任务进程 jobs run 在运行），未导入任何数据，请重新上传 / "
             "import interrupted: not picked up for 6 hours, nothing imported")


def run_import(session: Session, *, actor: Actor, rules: Rules, filename: str, content: bytes, mode: str,
               at: datetime, today: date, programme: str | None = None,
               progress: Progress | None = None, limits: ImportLimits | None = None) -> ImportRun:
    """Check a roster file and, in mode "apply" when every row is good, write it; return its ImportRun.

    `limits` bound the file before it is parsed (config's import_limits; the defaults when None).
    """
    run = open_run(session, actor=actor, rules=rules, filename=filename, mode=mode, at=at, programme=programme)
    return process_import(session, run, actor=actor, rules=rules, content=content, at=at, today=today,
                          progress=progress, limits=limits)


def queue_import(session: Session, *, actor: Actor, rules: Rules, filename: str, content: bytes, mode: str,
                 at: datetime, programme: str | None = None, source_id: int | None = None) -> ImportRun:
    """Record an upload as a queued ImportRun that keeps the file, for a worker to `process_import` later.

    `source_id` names the validated dry run an apply run confirms; the column is unique, so a second
    confirmation of the same dry run fails with an IntegrityError instead of applying the file twice.
    """
    run = open_run(session, actor=actor, rules=rules, filename=filename, mode=mode, at=at, programme=programme,
                   status="queued", content=content, source_id=source_id)
    run.submitted_by = {"kind": actor.kind, "token_id": actor.token_id, "ip": actor.ip,
                        "request_id": actor.request_id}  # the executor acts as the uploader, the trail says from where
    return run


def confirm_dry_run(session: Session, *, actor: Actor, rules: Rules, import_id: int,
                    at: datetime) -> tuple[ImportRun, bool]:
    """Queue the stored file of a validated dry run for applying; return the apply run and whether it is new.

    Confirming twice (a double click, two tabs) lands on the same apply run: `source_id` is unique,
    so a confirmation racing another fails its INSERT inside a savepoint and gets the other's run.
    :raises Conflict: the run is not a validated dry run that kept its file.
    """
    dry = get_import(session, actor, import_id)
    content = session.scalar(sa.select(ImportRun.content).where(ImportRun.id == dry.id))
    if dry.mode != "dry_run" or dry.status != "validated" or content is None:
        raise Conflict("只有通过校验的试运行可以确认导入 / only a validated dry run can be applied")
    if (existing := _confirmation_of(session, dry.id)) is not None:
        return existing, False
    try:
        with session.begin_nested():
            run = queue_import(session, actor=actor, rules=rules, filename=dry.filename, content=content,
                               mode="apply", at=at, programme=dry.programme, source_id=dry.id)
    except sa.exc.IntegrityError:  # confirmed at the same moment in another transaction, which committed first
        existing = _confirmation_of(session, dry.id)
        assert existing is not None  # the unique key that refused us is that run's
        return existing, False
    return run, True


def _confirmation_of(session: Session, dry_run_id: int) -> ImportRun | None:
    """Return the apply run that already confirms this dry run, if any."""
    return session.scalar(sa.select(ImportRun).where(ImportRun.source_id == dry_run_id))


def open_run(session: Session, *, actor: Actor, rules: Rules, filename: str, mode: str, at: datetime,
             programme: str | None = None, status: str = "running", content: bytes | None = None,
             source_id: int | None = None) -> ImportRun:
    """Check the actor, mode and programme and add the ImportRun. :raises RuleViolation:"""
    require(actor, Action.IMPORT)
    if mode not in MODES:
        raise RuleViolation.on("mode", f"导入方式应为 dry_run 或 apply，实为 {mode!r} / unknown mode")
    if programme is not None and programme not in {p.programme for p in rules.policies.policies}:
        known = "、".join(sorted({p.programme for p in rules.policies.policies}))
        raise RuleViolation.on("programme", f"未知的项目 {programme}（可用：{known}） / unknown programme")
    run = ImportRun(filename=_short(filename), mode=mode, status=status, user_id=actor.user_id,
                    region_code=actor.region_code, programme=programme, content=content, source_id=source_id, created_at=at)
    session.add(run)
    session.flush()
    return run


def process_import(session: Session, run: ImportRun, *, actor: Actor, rules: Rules, content: bytes,
                   at: datetime, today: date, progress: Progress | None = None,
                   limits: ImportLimits | None = None) -> ImportRun:
    """Check `run`'s file and, in mode "apply" when every row is good, write it; return the run.

    The run's own row is written only at the end: progress goes to `progress` alone, because an
    UPDATE of the row mid-way would lock it (PostgreSQL) until commit, and the web worker commits
    progress to that row from a second session while this one works.
    """
    require(actor, Action.IMPORT)
    with collector_paused():
        return _process(session, run, actor=actor, rules=rules, content=content, at=at, today=today,
                        progress=progress, limits=limits)


def _process(session: Session, run: ImportRun, *, actor: Actor, rules: Rules, content: bytes,
             at: datetime, today: date, progress: Progress | None, limits: ImportLimits | None) -> ImportRun:
    try:
        sheet = read_table(run.filename, content, limits)
    except FileProblem as exc:
        return _finish(run, None, Outcome(errors=[Problem(None, None, None, exc.message)]), at, 0, 0)
    done = 0

    def report(rows_done: int, total: int) -> None:
        """Keep count and pass the report on."""
        nonlocal done
        done = rows_done
        if progress is not None:
            progress(rows_done, total)

    outcome = check_file(session, actor=actor, rules=rules, sheet=sheet, today=today, programme=run.programme,
                         progress=report)
    if not outcome.errors and run.mode == "apply":
        apply_changes(session, actor=actor, rules=rules, filename=run.filename, decided=outcome.decided, at=at)
    _finish(run, sheet, outcome, at, len(sheet.rows), done)
    if run.status == "applied":
        audit.record(session, actor=actor, action="import.applied", entity_type="import", entity_id=run.id,
                     region_code=None if actor.region_code == "000000" else actor.region_code, at=at,
                     changes={"filename": [None, run.filename], "counts": [None, run.counts]},
                     why=audit.Why(note=f"导入 {run.filename}"))
    session.flush()
    return run


_paused = 0
_was_enabled = False
_pause_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep Python's cyclic garbage collector off while a file is processed.

    An import holds a few million small containers (cells, rows, groups, changes, events) at
    once, and each full collection walks all of them: a third of a 100,000-row dry run went to
    collections that found nothing, for the import's objects form no cycles that outlive it
    (reference counting frees them). Nested and concurrent imports share one pause; the
    collector is switched back on, if it was on, when the last of them ends.
    """
    global _paused, _was_enabled
    with _pause_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _pause_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


def get_import(session: Session, actor: Actor, import_id: int) -> ImportRun:
    """Return an import the actor may see (its region's, or below). :raises NotFound:"""
    require(actor, Action.READ)
    return get_in_region(session, actor, ImportRun, import_id, "导入记录", "import")


def imports_select(actor: Actor) -> sa.Select[tuple[ImportRun]]:
    """Select the imports the actor may see, newest first."""
    require(actor, Action.READ)
    return (sa.select(ImportRun).where(in_region(ImportRun.region_code, actor.region_code))
            .order_by(ImportRun.id.desc()))


def _short(filename: str, limit: int = 255) -> str:
    """Fit a file name to the column, keeping its extension (the reader goes by it)."""
    if len(filename) <= limit:
        return filename
    stem, dot, suffix = filename.rpartition(".")
    if not dot or len(suffix) > 10:
        return filename[:limit]
    return stem[:limit - len(suffix) - 1] + "." + suffix


def _finish(run: ImportRun, sheet: Sheet | None, outcome: Outcome, at: datetime, total: int,
            done: int) -> ImportRun:
    errors, warnings = outcome.errors, outcome.warnings
    run.total_rows, run.processed_rows = total, done
    totals = outcome.diff.get("totals", {})
    run.status = "failed" if errors else ("applied" if run.mode == "apply" else "validated")
    run.counts = {"rows": run.total_rows, "enterprises": outcome.enterprises, "errors": len(errors),
                  "error_rows": len({p.row for p in errors if p.row}), "warnings": len(warnings), **totals}
    run.errors = [p.as_json() for p in errors[:ERROR_LIMIT]]
    run.diff = {**outcome.diff, "warnings": [p.as_json() for p in warnings[:ERROR_LIMIT]]}
    run.error_workbook = error_workbook(sheet, errors) if errors else None
    run.finished_at = at
    return run
