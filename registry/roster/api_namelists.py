"""/name-lists: a published list of names only (序号, 省份/地区, 企业名称), matched, then confirmed row by row.

POST /name-lists (multipart: the file and the title it grants) reads and matches the list and stores it
for review (201); nothing of the registry is written. POST /name-lists/{id}/confirm takes a decision for
every row — an offered enterprise, a USCC or skip — and grants the title to every chosen enterprise, or
changes nothing and answers 422 with each refused row (`problems`: row, message). A list confirmed
already answers 409. Lists are region-scoped like imports.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from marshmallow import ValidationError, fields, validate

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.enterprises.queries import paginate
from registry.platform.bounds import INT_MAX, InSchema, page_field, per_page_field
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.platform.outputs import out_schema
from registry.policies.rules import current_rules as rules
from registry.roster.api import FILE_EMPTY, FILE_REQUIRED, hostile
from registry.roster.models import NameList
from registry.roster.namelists.reading import MAX_ROWS, ListRejected
from registry.roster.namelists.services import (
    ENTERPRISE,
    SKIP,
    USCC,
    confirm_name_list,
    counts,
    discard_name_list,
    get_name_list,
    name_lists_select,
    upload_name_list,
)
from registry.titles.fields import CERTIFICATION
from registry.web.api import bp, load, page_of
from registry.web.api.common import today
from registry.web.api.docs import doc
from registry.web.api.schemas import catalogue_schema

NameListIn = catalogue_schema(
    "NameListIn", CERTIFICATION,
    file=fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                             "description": "公告名单 .xlsx 或 .csv：序号、省份或地区、企业名称"}))


class DecisionIn(InSchema):
    """One row's decision: an offered enterprise, a USCC, or skip."""

    row = fields.Integer(required=True, validate=validate.Range(1, INT_MAX), metadata={"description": "名单文件中的行号"})
    choice = fields.String(required=True, validate=validate.OneOf(
        (ENTERPRISE, USCC, SKIP), error="应为 enterprise（选择企业）、uscc（填写信用代码）或 skip（跳过） / invalid choice"))
    enterprise_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, INT_MAX))
    uscc = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))


class NameListConfirmIn(InSchema):
    """POST /name-lists/{id}/confirm: a decision for every row of the list."""

    decisions = fields.List(fields.Nested(DecisionIn), required=True, validate=validate.Length(
        1, MAX_ROWS, error=f"应为 1 至 {MAX_ROWS} 行的决定 / 1 to {MAX_ROWS} decisions"))


class NameListArgs(InSchema):
    """Query string of GET /name-lists."""

    page = page_field()
    per_page = per_page_field()


NameListOut = out_schema(
    "NameListOut", "A list: the title it grants, each row's match and candidates, and (applied) what each row became.",
    "id:int filename status tier recognized_on:date batch? document_no? authority? region_code created_at:time "
    "applied_at:time? counts rows outcome",
    status=fields.String(metadata={"enum": ["reviewing", "applied", "discarded"]}),
    counts=fields.Dict(metadata={"description": "{rows, match, candidates, none}"}),
    rows=fields.List(fields.Dict(), metadata={
        "description": "每行：row、seq、region_text、region_code、name、kind（match/candidates/none）、match_id、"
                       "candidates [{id, name, uscc, region_code, score}]、notes"}),
    outcome=fields.Dict(metadata={"description": "确认后：rows [{row, choice, enterprise_id, certification_id}]、granted、"
                                                 "created、skipped"}))


def dump_name_list(name_list: NameList, *, summary: bool = False) -> dict[str, Any]:
    """Return a list as the API shows it (the list of lists leaves out the rows and the outcome)."""
    data: dict[str, Any] = {c: getattr(name_list, c) for c in (
        "id", "filename", "status", "tier", "recognized_on", "batch", "document_no", "authority", "region_code",
        "created_at", "applied_at")}
    data["counts"] = counts(name_list)
    if not summary:
        data.update(rows=name_list.rows, outcome=name_list.outcome or {})
    return NameListOut().dump(data)


def rejected(exc: ListRejected, field: str) -> tuple[Any, int]:
    """Answer 422 with each problem as a message of `field` and as {row, column, field, message}."""
    get_session().rollback()
    return jsonify({"errors": {field: [p.describe() for p in exc.problems]},
                    "problems": [p.as_json() for p in exc.problems]}), 422


@bp.post("/name-lists")
@doc("上传只有名称的公告名单（multipart：file、tier、recognized_on、batch、document_no、authority）：按名称与登记企业匹配，"
     "返回每行的匹配、候选或未匹配，待逐行确认；不写入任何企业或称号", body=NameListIn,
     body_content="multipart/form-data", response=NameListOut, status=201, errors=(401, 403, 413, 422))
@requires(Action.IMPORT)
def create_name_list():
    """Read and match a list of names; 201 with every row's match, or 422 naming the rows that are wrong."""
    title = NameListIn(exclude=("file",)).load({k: v for k, v in request.form.items() if v != "" and k != "file"})
    file = request.files.get("file")
    content = file.read() if file is not None and file.filename else None
    if not content:
        raise ValidationError({"file": [FILE_REQUIRED if content is None else FILE_EMPTY]})
    if problem := hostile(file.filename, content):
        raise ValidationError({"file": [problem]})
    session = get_session()
    try:
        name_list = upload_name_list(session, actor=current_actor(), rules=rules(), filename=file.filename,
                                     content=content, title=title, at=utcnow(), today=today(),
                                     limits=current_app.config["REGISTRY"].import_limits)
    except ListRejected as exc:
        return rejected(exc, "file")
    session.commit()
    return jsonify(dump_name_list(name_list)), 201


@bp.get("/name-lists")
@doc("公告名单（本地区，最新在前）", query=NameListArgs, response=NameListOut, many=True, errors=(401, 403))
@requires(Action.READ)
def list_name_lists():
    """List the name lists of the caller's region, newest first."""
    args = NameListArgs().load(request.args.to_dict())
    rows, total = paginate(get_session(), name_lists_select(current_actor()), args["page"], args["per_page"])
    return jsonify(page_of([dump_name_list(r, summary=True) for r in rows], total, args["page"], args["per_page"]))


@bp.get("/name-lists/<int:list_id>")
@doc("公告名单：每行的匹配、候选与确认结果", response=NameListOut)
@requires(Action.READ)
def get_name_list_api(list_id: int):
    """Return one list with its rows."""
    return jsonify(dump_name_list(get_name_list(get_session(), current_actor(), list_id)))


@bp.post("/name-lists/<int:list_id>/confirm")
@doc("确认公告名单：每行一个决定（enterprise + enterprise_id / uscc + uscc / skip），为所选企业授予名单的称号；"
     "任一行被拒绝则不写入任何数据（422，problems 指明行）", body=NameListConfirmIn, response=NameListOut,
     errors=(401, 403, 404, 409, 422))
@requires(Action.IMPORT)
def confirm_name_list_api(list_id: int):
    """Grant the list's title to each row's chosen enterprise, all or nothing."""
    data = load(NameListConfirmIn())
    decisions: dict[int, dict[str, Any]] = {}
    for decision in data["decisions"]:
        if decision["row"] in decisions:
            raise ValidationError({"decisions": [f"第{decision['row']}行有两个决定 / row decided twice"]})
        decisions[decision["row"]] = decision
    session = get_session()
    try:
        name_list = confirm_name_list(session, actor=current_actor(), rules=rules(), list_id=list_id,
                                      decisions=decisions, at=utcnow(), today=today())
    except ListRejected as exc:
        return rejected(exc, "decisions")
    session.commit()
    return jsonify(dump_name_list(name_list))


@bp.post("/name-lists/<int:list_id>/discard")
@doc("放弃待核对的公告名单（不写入任何企业或称号）", response=NameListOut, body_required=False,
     errors=(401, 403, 404, 409))
@requires(Action.IMPORT)
def discard_name_list_api(list_id: int):
    """Set a list under review aside; 409 when it was applied or discarded already."""
    session = get_session()
    name_list = discard_name_list(session, actor=current_actor(), list_id=list_id, at=utcnow())
    session.commit()
    return jsonify(dump_name_list(name_list))
