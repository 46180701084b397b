"""The import pages (导入): upload, progress, the dry-run diff, confirm, the errors and their workbook.

An upload is stored on a queued ImportRun and committed; the jobs process's import executor
(jobs/imports.py) checks it (and in apply mode writes it) while the browser waits on
/imports/{id}, which polls the API every second
(registry/web/static/import-poll.js, or a meta refresh without JS). "确认导入" of a validated dry
run queues the very same stored file in apply mode: every row is checked again, all or nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, redirect, render_template, url_for
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import RadioField, SelectField
from wtforms.validators import Optional

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.domain.errors import RuleViolation
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.roster import worker as import_worker
from registry.roster.api import FILE_EMPTY, error_workbook_response, hostile
from registry.roster.imports import queue_import
from registry.roster.imports.columns import BY_FIELD
from registry.roster.imports.run import confirm_dry_run, get_import, imports_select
from registry.roster.models import ImportRun
from registry.web.pages import bp
from registry.web.pages.flow import attach_errors, rules, today
from registry.web.pages.forms import PageForm, choices

RECENT = 20
ACCEPTED = ["xlsx", "xlsm", "csv"]  #: .xls and .ods cannot be bounded before reading (registry/roster/imports/guard.py)
MODE_NAMES = {"dry_run": "试运行（只校验并显示差异，不写入）", "apply": "直接导入（全部行无误时写入）"}
STATUS_NAMES = {"queued": "排队中", "running": "处理中", "failed": "有错误，未导入", "validated": "试运行通过",
                "applied": "已导入"}
DIFF_LABELS = {"new_enterprises": "新增企业", "changed": "字段变更", "new_titles": "新增称号",
               "new_reports": "新增年报", "unchanged_rows": "未变化的行", "missing": "本批次已登记但名单中缺少的企业",
               "name_matches": "名称相同但信用代码不同（不会合并，请核实）"}


class ImportForm(PageForm):
    """The upload: a file, dry run or apply, and optionally the programme its tier names belong to."""

    file = FileField("名单文件（.xlsx 或 .csv）", validators=[
        FileRequired("请选择要导入的名单文件"), FileAllowed(ACCEPTED, "文件类型应为 .xlsx 或 .csv（.xls 请先另存为 .xlsx）")])
    mode = RadioField("导入方式", choices=choices(MODE_NAMES.items()), default="dry_run")
    programme = SelectField("称号所属项目", validators=[Optional()])


def programme_choices() -> list[Any]:
    """Return "all programmes" and each programme with the name of its latest policy."""
    latest = {p.programme: p.name for p in policies().policies}
    return choices([("", "全部项目（按称号名称识别）"), *latest.items()])


def field_label(name: str | None) -> str:
    """Return a roster field's Chinese header (企业名称 for name)."""
    column = BY_FIELD.get(name or "")
    return column.aliases[0] if column else (name or "")


@bp.app_template_global()
def import_status_name(status: str) -> str:
    """Return an import status in Chinese."""
    return STATUS_NAMES.get(status, status)


@bp.route("/imports", methods=["GET", "POST"])
@requires(Action.IMPORT)
def imports():
    """Show the upload form and the region's recent imports; queue an upload and go to its page."""
    form = ImportForm()
    form.programme.choices = programme_choices()
    if form.validate_on_submit():
        content = form.file.data.read()
        filename = form.file.data.filename or "upload"
        if content and (problem := hostile(filename, content)):
            form.file.errors = [problem]
        elif content:
            try:
                run = _queue(filename, content, form.mode.data, form.programme.data or None)
            except RuleViolation as exc:
                get_session().rollback()
                attach_errors(form, exc)
            else:
                return redirect(url_for("pages.import_run", import_id=run))
        else:
            form.file.errors = [FILE_EMPTY]
    recent = get_session().scalars(imports_select(current_actor()).limit(RECENT)).all()
    status = 422 if form.is_submitted() else 200
    return render_template("imports.html", form=form, recent=recent, mode_names=MODE_NAMES), status


def _queue(filename: str, content: bytes, mode: str, programme: str | None) -> int:
    """Store the file as a queued run and commit (the jobs process takes it from there); return the run's id."""
    session, actor = get_session(), current_actor()
    run = queue_import(session, actor=actor, rules=rules(), filename=filename, content=content, mode=mode,
                       at=utcnow(), programme=programme)
    session.commit()
    _start(run.id)
    return run.id


def _start(run_id: int) -> None:
    """Hand a committed queued run to the worker."""
    import_worker.start(current_app._get_current_object(), run_id, current_actor(), today())  # type: ignore[attr-defined]


@bp.get("/imports/<int:import_id>")
@requires(Action.IMPORT)
def import_run(import_id: int):
    """Show an import: progress while it runs, then its diff, errors or counts."""
    run = get_import(get_session(), current_actor(), import_id)
    diff = dict(run.diff or {})
    warnings = diff.pop("warnings", [])
    return render_template("import.html", run=run, working=run.status in ("queued", "running"), diff=diff,
                           warnings=warnings, labels=DIFF_LABELS, field_label=field_label, mode_names=MODE_NAMES,
                           can_confirm=_kept(run, ImportRun.content), has_workbook=_kept(run, ImportRun.error_workbook))


@bp.post("/imports/<int:import_id>/confirm")
@requires(Action.IMPORT)
def confirm_import(import_id: int):
    """Apply the file of a validated dry run: the same stored bytes, queued again in apply mode.

    The app-wide CSRFProtect has already refused a POST without a valid token (400).
    """
    session = get_session()
    run, queued = confirm_dry_run(session, actor=current_actor(), rules=rules(), import_id=import_id, at=utcnow())
    session.commit()
    if queued:
        _start(run.id)
    return redirect(url_for("pages.import_run", import_id=run.id))


@bp.get("/imports/<int:import_id>/errors.xlsx")
@requires(Action.IMPORT)
def import_errors(import_id: int):
    """Download the error workbook of a failed import (session-authenticated twin of the API's)."""
    return error_workbook_response(get_import(get_session(), current_actor(), import_id))


def _kept(run: ImportRun, column: Any) -> bool:
    """Tell whether the run holds a file in `column`, without loading it (both are deferred)."""
    return bool(get_session().scalar(sa.select(column.is_not(None)).where(ImportRun.id == run.id)))
