"""/imports and /exports: roster files in (every row checked, all or nothing) and out (region-scoped, streamed).

POST /imports runs a file of up to IMPORTS_API_INLINE_MAX_BYTES (2 MiB, about 10,000 rows) in the
request (API clients want the result in the response) and answers 201; a larger one is queued
for the jobs process's import executor, like every page upload, and answered 202 with the queued
run and its Location to poll (SPEC §5). Imports
are region-scoped like enterprises: the run keeps its uploader's region and is 404 outside it.
"""

from __future__ import annotations

from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, jsonify, request, url_for
from marshmallow import ValidationError, fields, validate
from sqlalchemy.orm import Session

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, Actor
from registry.domain.errors import NotFound
from registry.enterprises.queries import paginate
from registry.platform.bounds import InSchema, page_field, per_page_field
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.platform.outputs import out_schema
from registry.policies.rules import current_rules as rules
from registry.privacy import unmask
from registry.roster import export as roster_export
from registry.roster import worker as import_worker
from registry.roster.imports import queue_import, run_import
from registry.roster.imports.guard import check_upload
from registry.roster.imports.problems import FileProblem
from registry.roster.imports.run import MODES, get_import, imports_select
from registry.roster.models import ImportRun
from registry.web.api import bp, page_of
from registry.web.api.common import list_args, schema, today
from registry.web.api.docs import doc
from registry.web.api.schemas import ListArgs
from registry.web.downloads import CSV, XLSX, Audited, criteria, spooled_download
from registry.web.unmasking import recorded

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


ImportOut = out_schema(
    "ImportOut", "An import run: its status, counts, errors (row, column, message), diff and warnings.",
    "id:int filename mode status programme? region_code created_at:time finished_at:time? counts:dict errors "
    "warnings diff:dict progress errors_url",
    mode=fields.String(metadata={"enum": list(MODES)}),
    status=fields.String(metadata={"enum": ["queued", "running", "failed", "validated", "applied"]}),
    errors=fields.List(fields.Dict()), warnings=fields.List(fields.Dict()),
    progress=fields.Dict(metadata={"description": "{processed_rows, total_rows}"}),
    errors_url=fields.String(metadata={"description": "错误清单 .xlsx（仅在有错误时）"}))


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
    elif problem := hostile(file.filename, content):
        errors["file"] = [problem]
    if errors:
        raise ValidationError(errors)
    return file.filename, content, data


def hostile(filename: str, content: bytes) -> str | None:
    """Return why an upload is refused before it is parsed or stored (size, archive, sheet, not text), or None.

    The same guard runs again where the file is read (registry/roster/imports/reading.py), for the CLI
    and for files stored before the limits were lowered.
    """
    try:
        check_upload(filename, content, current_app.config["REGISTRY"].import_limits)
    except FileProblem as exc:
        return exc.message
    return None


@bp.post("/imports")
@doc("导入名单（multipart：file、mode=dry_run|apply、programme）；逐行校验，有错则不导入任何数据。"
     "大文件（超过 2 MiB）排队由后台处理，返回 202 与排队中的导入记录，按 id 查询进度",
     body=ImportIn, body_content="multipart/form-data", response=ImportOut, status=201, also=(202,),
     errors=(401, 403, 413, 422))
@requires(Action.IMPORT)
def create_import():
    """Check a roster file and (mode=apply, no errors) import it; 201 with the run, also when it failed.

    A file larger than IMPORTS_API_INLINE_MAX_BYTES is queued for the jobs process instead: 202 with the
    queued run (Location: its URL to poll).
    """
    filename, content, data = uploaded()
    session, actor = get_session(), current_actor()
    if len(content) > current_app.config["IMPORTS_API_INLINE_MAX_BYTES"]:
        run = queue_import(session, actor=actor, rules=rules(), filename=filename, content=content,
                           mode=data["mode"], at=utcnow(), programme=data["programme"])
        session.commit()
        import_worker.start(current_app._get_current_object(), run.id, actor, today())  # type: ignore[attr-defined]
        session.refresh(run)
        status = 201 if run.status not in ("queued", "running") else 202
        return jsonify(dump_import(run)), status, {"Location": url_for("api.get_import_run", import_id=run.id)}
    run = run_import(session, actor=actor, rules=rules(), filename=filename, content=content,
                     mode=data["mode"], at=utcnow(), today=today(), programme=data["programme"],
                     limits=current_app.config["REGISTRY"].import_limits)
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
    session = get_session()
    if not session.scalar(sa.select(ImportRun.error_workbook.is_not(None)).where(ImportRun.id == run.id)):
        raise NotFound("该导入没有错误清单 / this import has no error workbook")
    stem, run_id = run.filename.rsplit(".", 1)[0], run.id

    def produce(own: Session, out: IO[bytes]) -> int:
        """Copy the stored workbook (a deferred column, read here rather than in the request); return its rows."""
        workbook, errors = own.execute(sa.select(ImportRun.error_workbook, ImportRun.errors)
                                       .where(ImportRun.id == run_id)).one()
        out.write(workbook or b"")
        return len(errors or [])

    actor = current_actor()
    return spooled_download(produce, region_code=actor.region_code, name=f"{stem}.错误清单.xlsx",
                            fallback=f"import-{run_id}-errors.xlsx",
                            audited=Audited(actor, "download.import_errors", "import", run_id))


@bp.get("/exports/roster.xlsx")
@doc("导出企业名录 Excel（筛选同 /enterprises，本地区；每个称号一行）", query=ListArgs, response=ImportOut,
     content=XLSX, errors=(401, 403))
@requires(Action.READ)
def export_roster():
    """Export the filtered roster as .xlsx, written row by row to a spooled file, then streamed.

    Contacts masked unless `unmask=1` by a role that may (registry/privacy/unmask.py; recorded as pi.unmask)."""
    flt, _, _ = list_args()
    actor, names, day = current_actor(), rules().tier_names(), today()
    unmasked = _unmasked_export(actor, flt, "xlsx")
    return spooled_download(
        lambda session, out: roster_export.write_xlsx(session, actor=actor, names=names, f=flt, today=day, out=out,
                                                      unmasked=unmasked),
        region_code=actor.region_code, name=f"企业名录-{day.isoformat()}.xlsx",
        fallback=f"roster-{day.isoformat()}.xlsx", audited=Audited(actor, "export.roster", "enterprise",
                                                                    filter=_filter_of(flt, unmasked)))


def _filter_of(flt: object, unmasked: bool) -> dict[str, Any]:
    return {**criteria(flt), **({"unmask": True} if unmasked else {})}


def _unmasked_export(actor: Actor, flt: object, fmt: str) -> bool:
    """Whether this export shows contacts in full; if so the pi.unmask event is written before the file is.
    :raises PermissionDenied: asked by a role that may not."""
    if not unmask.requested(actor):
        return False
    recorded(get_session(), actor, purpose=f"导出企业名录（{fmt}）", at=utcnow(),
                  detail={"filter": criteria(flt)})
    return True


@bp.get("/exports/roster.csv")
@doc("导出企业名录 CSV（UTF-8 带 BOM；筛选同 /enterprises，本地区）", query=ListArgs, response=ImportOut,
     content="text/csv", errors=(401, 403))
@requires(Action.READ)
def export_roster_csv():
    """Export the filtered roster as CSV, written to a spooled file in one short read, then streamed."""
    flt, _, _ = list_args()
    actor, names, day = current_actor(), rules().tier_names(), today()
    unmasked = _unmasked_export(actor, flt, "csv")
    return spooled_download(
        lambda session, out: roster_export.write_csv(session, actor=actor, names=names, f=flt, today=day, out=out,
                                                     unmasked=unmasked),
        region_code=actor.region_code, name=f"企业名录-{day.isoformat()}.csv",
        fallback=f"roster-{day.isoformat()}.csv", mimetype=CSV,
        audited=Audited(actor, "export.roster", "enterprise", filter=_filter_of(flt, unmasked)))
