"""/audit: the trail, filtered and region-scoped; chain verification; export."""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields, validate

from registry.accounts.access import current_actor, requires
from registry.audit import export as audit_export
from registry.audit import trail as audit
from registry.audit.queries import (
    EARLIEST,
    LATEST,
    AuditFilter,
    action_name,
    actor_label,
    field_changes,
    search,
    shown_changes,
)
from registry.domain.actors import Action
from registry.platform.bounds import InSchema, page_field, per_page_field
from registry.platform.extensions import get_session
from registry.platform.outputs import out_schema
from registry.regions.scoping import unscoped
from registry.web.api import bp, page_of
from registry.web.api.docs import doc
from registry.web.api.schemas import REGION
from registry.web.downloads import CSV, XLSX, Audited, criteria, spooled_download


class AuditArgs(InSchema):
    """Query string of GET /audit."""

    entity_type = fields.String(load_default=None, validate=validate.Length(max=64))
    entity_id = fields.Integer(load_default=None, validate=validate.Range(1, 2**31 - 1))  # INTEGER columns
    enterprise_id = fields.Integer(load_default=None, validate=validate.Range(1, 2**31 - 1))
    actor = fields.String(load_default=None, validate=validate.Length(max=128))
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.Date(load_default=None, validate=validate.Range(EARLIEST, LATEST))
    until = fields.Date(load_default=None, validate=validate.Range(EARLIEST, LATEST))
    region = fields.String(load_default=None, validate=REGION)
    page = page_field()
    per_page = per_page_field()


AuditEventOut = out_schema(
    "AuditEventOut", "One audit event with a readable per-field view.",
    "id:int occurred_at:time actor_kind actor_name actor action action_name entity_type entity_id:int? "
    "enterprise_id:int? region_code? changes:dict fields_changed reason_code? document_no? note? request_id? ip? "
    "prev_hash hash", fields_changed=fields.List(fields.Dict()))


VerifyOut = out_schema("VerifyOut", "The result of walking the chain.",
                       "ok:bool checked:int first_bad_id:int? problem?")


def _filter() -> tuple[AuditFilter, int, int]:
    args = AuditArgs().load(request.args.to_dict())
    page, per_page = args.pop("page"), args.pop("per_page")
    return AuditFilter(**args), page, per_page


def dump_event(event: object) -> dict:
    """Return an event with Chinese labels for its action and fields."""
    data = AuditEventOut(exclude=("actor", "action_name", "fields_changed")).dump(event)
    data.update(changes=shown_changes(event.entity_type, data.get("changes") or {}),
                actor=actor_label(event.actor_kind, event.actor_name), action_name=action_name(event.action),
                fields_changed=[vars(c) for c in field_changes(event.entity_type, event.changes or {})])
    return data


@bp.get("/audit")
@doc("审计日志（按对象、企业、操作人、操作、日期、地区筛选）", query=AuditArgs, response=AuditEventOut, many=True, errors=(401, 403))
@requires(Action.READ_AUDIT, Action.READ_SECURITY)
def list_audit():
    """List audit events the caller may see, newest first."""
    flt, page, per_page = _filter()
    rows, total = search(get_session(), current_actor(), flt, page, per_page)
    return jsonify(page_of([dump_event(e) for e in rows], total, page, per_page))


@bp.get("/audit/verify")
@doc("校验审计链（哈希链完整性）", response=VerifyOut, errors=(401, 403))
@requires(Action.READ_AUDIT, Action.READ_SECURITY)
def verify_audit():
    """Recompute the whole hash chain (regardless of region: the chain is one)."""
    with unscoped(get_session()) as session:
        result = audit.verify(session)
    return jsonify(ok=result.ok, checked=result.checked, first_bad_id=result.first_bad_id, problem=result.problem)


@bp.get("/audit/export.<any(xlsx, csv):fmt>")
@doc("导出审计日志（xlsx 或 CSV，筛选同 /audit）", query=AuditArgs, response=AuditEventOut,
     content=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv; charset=utf-8"),
     errors=(401, 403))
@requires(Action.READ_AUDIT, Action.READ_SECURITY)
def export_audit(fmt: str):
    """Export the filtered trail as a spreadsheet."""
    flt, _, _ = _filter()
    actor = current_actor()
    write = audit_export.write_csv if fmt == "csv" else audit_export.write_xlsx
    return spooled_download(lambda session, out: write(session, actor, flt, out), region_code=actor.region_code,
                            name=f"audit.{fmt}", fallback=f"audit.{fmt}", mimetype=CSV if fmt == "csv" else XLSX,
                            audited=Audited(actor, "export.audit", "audit_event", filter=criteria(flt)))
