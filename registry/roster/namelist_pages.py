"""The pages of published lists of names (按名称导入公告名单): upload with the title, review row by row, confirm.

The upload reads and matches the list at once (a list is at most MAX_ROWS rows) and shows the review
page; nothing of the registry is written until "确认导入" posts a decision for every row: the exact
match is proposed, candidates and unmatched rows wait for the officer (choose an enterprise, enter a
USCC, or skip). A refused row re-shows the page with the message beside it, nothing written.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_wtf.file import FileAllowed, FileField, FileRequired

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.domain.errors import RuleViolation
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.roster.api import FILE_EMPTY, hostile
from registry.roster.imports.problems import Problem
from registry.roster.models import NameList
from registry.roster.namelists.reading import MAX_ROWS, ListRejected
from registry.roster.namelists.services import (
    ENTERPRISE,
    SKIP,
    USCC,
    confirm_name_list,
    counts,
    default_decisions,
    discard_name_list,
    get_name_list,
    name_lists_select,
    upload_name_list,
)
from registry.titles.fields import CERTIFICATION
from registry.web.pages import bp
from registry.web.pages.choices import tier_choices
from registry.web.pages.flow import attach_errors, rules, today
from registry.web.pages.forms import PageForm, catalogue_form, choices

RECENT = 20
KIND_NAMES = {"match": "唯一匹配", "candidates": "有候选，请选择", "none": "未匹配"}
STATUS_NAMES = {"reviewing": "待核对确认", "applied": "已导入", "discarded": "已放弃"}
CHOICE_NAMES = {ENTERPRISE: "授予称号", USCC: "按信用代码授予称号", SKIP: "跳过"}

NameListForm = catalogue_form(
    "NameListForm", CERTIFICATION, base=PageForm, __doc__="A list of names and the title it grants.",
    file=FileField("公告名单文件（.xlsx 或 .csv）", validators=[
        FileRequired("请选择要导入的公告名单文件"),
        FileAllowed(["xlsx", "xlsm", "csv"], "文件类型应为 .xlsx 或 .csv（.xls 请先另存为 .xlsx）")]))


@bp.app_template_global()
def name_list_status(status: str) -> str:
    """Return a name list's status in Chinese."""
    return STATUS_NAMES.get(status, status)


def _tier_name(code: str) -> str:
    return next((t.name for t in policies().current_tiers() if t.code == code), code)


@bp.route("/name-lists", methods=["GET", "POST"])
@requires(Action.IMPORT)
def name_lists():
    """Show the upload form and the region's recent lists; read and match an upload and go to its review."""
    form = NameListForm()
    form.tier.choices = choices([("", "请选择称号"), *tier_choices()])
    problems: list[Problem] = []
    if form.validate_on_submit():
        content = form.file.data.read()
        filename = form.file.data.filename or "upload"
        if not content:
            form.file.errors = [FILE_EMPTY]
        elif problem := hostile(filename, content):
            form.file.errors = [problem]
        else:
            session = get_session()
            title = {k: form[k].data for k in ("tier", "recognized_on", "batch", "document_no", "authority")}
            try:
                listed = upload_name_list(session, actor=current_actor(), rules=rules(), filename=filename,
                                          content=content, title=title, at=utcnow(), today=today(),
                                          limits=current_app.config["REGISTRY"].import_limits)
            except RuleViolation as exc:
                session.rollback()
                attach_errors(form, exc)
            except ListRejected as exc:
                session.rollback()
                problems = exc.problems
            else:
                session.commit()
                return redirect(url_for("pages.name_list", list_id=listed.id))
    recent = get_session().scalars(name_lists_select(current_actor()).limit(RECENT)).all()
    status = 422 if form.is_submitted() else 200
    return render_template("namelists.html", form=form, recent=recent, problems=problems, max_rows=MAX_ROWS,
                           tier_name=_tier_name, counts=counts), status


@bp.get("/name-lists/<int:list_id>")
@requires(Action.IMPORT)
def name_list(list_id: int):
    """Show a list's rows with their matches for review (or, applied, what each row became)."""
    listed = get_name_list(get_session(), current_actor(), list_id)
    return _review(listed, _as_form(default_decisions(listed)), {}, 200)


def _as_form(decisions: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Return decisions as the page's controls show them: {row: {"value": "e:<id>" | "uscc" | "skip", "uscc"}}."""
    return {row: {"value": f"e:{d['enterprise_id']}" if d["choice"] == ENTERPRISE else d["choice"],
                  "uscc": d.get("uscc") or ""} for row, d in decisions.items()}


def _review(listed: NameList, chosen: dict[int, dict[str, Any]], errors: dict[int | None, list[str]],
            status: int):  # noqa: ANN202  a Flask response
    outcome = {r["row"]: r for r in (listed.outcome or {}).get("rows", [])}
    return render_template("namelist.html", listed=listed, chosen=chosen, errors=errors, counts=counts(listed),
                           kind_names=KIND_NAMES, choice_names=CHOICE_NAMES, outcome=outcome,
                           tier_name=_tier_name(listed.tier)), status


def _posted(listed: NameList) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Read the review form: each row's decision, and the controls as posted (to show them again)."""
    decisions: dict[int, dict[str, Any]] = {}
    shown: dict[int, dict[str, Any]] = {}
    for row in listed.rows:
        number = row["row"]
        value = request.form.get(f"choice-{number}", "")
        code = request.form.get(f"uscc-{number}", "").strip()[:40]
        shown[number] = {"value": value, "uscc": code}
        if value == SKIP:
            decisions[number] = {"choice": SKIP}
        elif value == USCC:
            decisions[number] = {"choice": USCC, "uscc": code}
        elif value.startswith("e:"):
            picked = value[2:]
            decisions[number] = {"choice": ENTERPRISE,
                                 "enterprise_id": int(picked) if picked.isdigit() and len(picked) < 10 else None}
    return decisions, shown


@bp.post("/name-lists/<int:list_id>/confirm")
@requires(Action.IMPORT)
def confirm_name_list_page(list_id: int):
    """Grant the list's title to each row's chosen enterprise, all or nothing; else show the page again with
    each refused row's message (the app-wide CSRFProtect has already refused a POST without a valid token)."""
    session = get_session()
    listed = get_name_list(session, current_actor(), list_id)
    decisions, shown = _posted(listed)
    try:
        confirm_name_list(session, actor=current_actor(), rules=rules(), list_id=list_id, decisions=decisions,
                          at=utcnow(), today=today())
    except ListRejected as exc:
        session.rollback()
        errors: dict[int | None, list[str]] = {}
        for problem in exc.problems:
            errors.setdefault(problem.row, []).append(problem.message)
        return _review(get_name_list(session, current_actor(), list_id), shown, errors, 422)
    session.commit()
    return redirect(url_for("pages.name_list", list_id=list_id))


@bp.post("/name-lists/<int:list_id>/discard")
@requires(Action.IMPORT)
def discard_name_list_page(list_id: int):
    """Set a list under review aside (nothing of it is written); it leaves 待办."""
    session = get_session()
    discard_name_list(session, actor=current_actor(), list_id=list_id, at=utcnow())
    session.commit()
    return redirect(url_for("pages.name_list", list_id=list_id))
