"""/imports and /exports: roster files in (every row checked, all or nothing) and out (region-scoped, streamed).

POST /imports runs synchronously in the request (API clients want the result in the response);
the pages queue theirs for a background worker instead (registry/web/pages/imports.py). Imports
are region-scoped like enterprises: the run keeps its uploader's region and is 404 outside it.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import jsonify, request, stream_with_context, url_for
from marshmallow import Schema, ValidationError, fields, validate

from registry.bounds import InSchema, page_field, per_page_field
from registry.db import utcnow
from registry.domain.actors import Action
from registry.domain.errors import NotFound
from registry.exports import roster as roster_export
from registry.extensions import get_session, rules
from registry.imports import run_import
from registry.imports.run import MODES, get_import, imports_select
from registry.models import ImportRun
from registry.queries import paginate
from registry.schemas import ListArgs
from registry.web.api import bp, page_of
from registry.web.api.common import list_args, schema, today
from registry.web.api.docs import doc
from registry.web.auth import current_actor, requires
from registry.web.downloads import CSV, XLSX, download, download_file

SPOOL_BYTES = 8 * 1024 * 1024  #: an export larger than this is spooled to a temporary file, not memory
FILE_REQUIRED = "请选择要导入的名单文件（.xlsx 或 .csv） / file required"
FILE_EMPTY = "文件为空 / the file is empty"


class ImportIn(InSchema):
    """POST /imports (multipart/form-data)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "名单文件 .xlsx 或 .csv（UTF-8 / GB18030）"})
    mode = fields.String(load_default="dry_run", validate=validate.OneOf(
        MODES, error="导入方式应为 dry_run（试运行）或 apply（导入） / must be dry_run or apply"))
    programme = fields.String(load_default=None, validate=validate.Length(1, 64),
                              metadata={"description": "只在该项目内识别称号名称（如 national）"})


class ImportArgs(InSchema):
    """Query string of GET /imports."""

    page = page_field()
    per_page = per_page_field()


class ImportOut(Schema):
    """An import run: its status, counts, errors (row, column, message), diff and warnings."""

    id = fields.Integer()
    filename = fields.String()
    mode = fields.String(metadata={"enum": list(MODES)})
    status = fields.String(metadata={"enum": ["queued", "running", "failed", "validated", "applied"]})
    programme = fields.String(allow_none=True)
    region_code = fields.String()
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
    counts = fields.Dict()
    errors = fields.List(fields.Dict())
    warnings = fields.List(fields.Dict())
    diff = fields.Dict()
    progress = fields.Dict(metadata={"description": "{processed_rows, total_rows}"})
    errors_url = fields.String(metadata={"description": "错误清单 .xlsx（仅在有错误时）"})


SUMMARY = ("errors", "warnings", "diff", "errors_url")


def dump_import(run: ImportRun, *, summary: bool = False) -> dict[str, Any]:
    """Return an import as the API shows it (the list leaves out errors, warnings and the diff)."""
    diff = dict(run.diff or {})
    warnings = diff.pop("warnings", [])
    data: dict[str, Any] = {
        "id": run.id, "filename": run.filename, "mode": run.mode, "status": run.status, "programme": run.programme,
        "region_code": run.region_code, "created_at": run.created_at, "finished_at": run.finished_at,
        "counts": run.counts or {}, "progress": {"processed_rows": run.processed_rows, "total_rows": run.total_rows}}
    if summary:
        return schema(ImportOut, SUMMARY).dump(data)
    data.update(errors=run.errors or [], warnings=warnings, diff=diff)
    if run.error_workbook is not None:
        data["errors_url"] = url_for("api.import_errors", import_id=run.id)
    return schema(ImportOut).dump(data)


def uploaded() -> tuple[str, bytes, dict[str, Any]]:
    """Read the multipart upload: (file name, content, mode and programme). :raises ValidationError:"""
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    try:
        data = ImportIn(only=("mode", "programme")).load({k: v for k, v in request.form.items() if v != ""})
    except ValidationError as exc:
        errors.update(exc.messages_dict)
    file = request.files.get("file")
    content = file.read() if file is not None and file.filename else None
    if not content:
        errors["file"] = [FILE_REQUIRED if content is None else FILE_EMPTY]
    if errors:
        raise ValidationError(errors)
    return file.filename, content, data


@bp.post("/imports")
@doc("导入名单（multipart：file、mode=dry_run|apply、programme）；逐行校验，有错则不导入任何数据",
     body=ImportIn, body_content="multipart/form-data", response=ImportOut, status=201, errors=(401, 403, 413))
@requires(Action.IMPORT)
def create_import():
    """Check a roster file and (mode=apply, no errors) import it; 201 with the run, also when it failed."""
    filename, content, data = uploaded()
    session = get_session()
    run = run_import(session, actor=current_actor(), rules=rules(), filename=filename, content=content,
                     mode=data["mode"], at=utcnow(), today=today(), programme=data["programme"])
    session.commit()
    return jsonify(dump_import(run)), 201


@bp.get("/imports")
@doc("导入记录（本地区，最新在前）", query=ImportArgs, response=ImportOut, many=True, errors=(401, 403))
@requires(Action.READ)
def list_imports():
    """List the imports of the caller's region, newest first."""
    args = ImportArgs().load(request.args.to_dict())
    rows, total = paginate(get_session(), imports_select(current_actor()), args["page"], args["per_page"])
    return jsonify(page_of([dump_import(r, summary=True) for r in rows], total, args["page"], args["per_page"]))


@bp.get("/imports/<int:import_id>")
@doc("导入结果与进度（processed_rows / total_rows）", response=ImportOut)
@requires(Action.READ)
def get_import_run(import_id: int):
    """Return one import with its errors, diff and progress."""
    return jsonify(dump_import(get_import(get_session(), current_actor(), import_id)))


@bp.get("/imports/<int:import_id>/errors.xlsx")
@doc("下载错误清单（原始行加「错误说明」列）", response=ImportOut, content=XLSX)
@requires(Action.READ)
def import_errors(import_id: int):
    """Return the error workbook of a failed import (404 when it has none)."""
    return error_workbook_response(get_import(get_session(), current_actor(), import_id))


def error_workbook_response(run: ImportRun):  # noqa: ANN201  a Flask response
    """Return a run's error workbook as a download named after the file. :raises NotFound:"""
    if run.error_workbook is None:
        raise NotFound("该导入没有错误清单 / this import has no error workbook")
    stem = run.filename.rsplit(".", 1)[0]
    return download(run.error_workbook, name=f"{stem}.错误清单.xlsx", fallback=f"import-{run.id}-errors.xlsx")


@bp.get("/exports/roster.xlsx")
@doc("导出企业名录 Excel（筛选同 /enterprises，本地区；每个称号一行）", query=ListArgs, response=ImportOut,
     content=XLSX, errors=(401, 403))
@requires(Action.READ)
def export_roster():
    """Export the filtered roster as .xlsx, written row by row and streamed from a spooled file."""
    flt, _, _ = list_args()
    session, day = get_session(), today()
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    roster_export.write_xlsx(session, actor=current_actor(), names=rules().tier_names(), f=flt, today=day, out=out)
    return download_file(out, name=f"企业名录-{day.isoformat()}.xlsx", fallback=f"roster-{day.isoformat()}.xlsx")


@bp.get("/exports/roster.csv")
@doc("导出企业名录 CSV（UTF-8 带 BOM；筛选同 /enterprises，本地区）", query=ListArgs, response=ImportOut,
     content="text/csv", errors=(401, 403))
@requires(Action.READ)
def export_roster_csv():
    """Export the filtered roster as CSV, streamed in chunks as the rows are read."""
    flt, _, _ = list_args()
    session, day = get_session(), today()
    chunks = roster_export.csv_chunks(session, actor=current_actor(), names=rules().tier_names(), f=flt, today=day)
    return download(stream_with_context(chunks), name=f"企业名录-{day.isoformat()}.csv",
                    fallback=f"roster-{day.isoformat()}.csv", mimetype=CSV)
