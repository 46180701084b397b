"""/deadline-overrides: the annual update's date as a province or city moved it, by region and year (issue 17 §4).

Anyone signed in reads the overrides governing their region; a 业务管理员 adds and removes them
within their own region (the service refuses everyone else, and names the field of bad input).
"""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields, validate

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.platform.bounds import InSchema
from registry.platform.extensions import get_session
from registry.platform.outputs import out_schema
from registry.policies import overrides
from registry.policies.rules import current_rules
from registry.web.api import bp, load
from registry.web.api.docs import doc
from registry.web.clock import now


class DeadlineOverrideIn(InSchema):
    """POST /deadline-overrides: a region's own annual-update date of one year, with its 文号."""

    region_code = fields.String(required=True, validate=validate.Length(max=6), metadata={"description": "省或地级市的行政区划代码"})
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    policy_date = fields.String(load_default=overrides.DEFAULT_POLICY_DATE, validate=validate.Regexp(
        r"^\d{2}-\d{2}$", error="应为 MM-DD，如 04-30 / MM-DD"), metadata={"description": "被调整的政策截止日（月-日），默认 04-30"})
    due_on = fields.Date(required=True)
    document_no = fields.String(required=True, validate=validate.Length(max=overrides.DOCUMENT_MAX))
    note = fields.String(load_default="", validate=validate.Length(max=overrides.NOTE_MAX))


class DeadlineOverrideArgs(InSchema):
    """?year=2026: only that year's overrides."""

    year = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(2000, 2100))


DeadlineOverrideOut = out_schema(
    "DeadlineOverrideOut", "An override as listed.",
    "id:int kind region_code region_name year:int policy_date due_on:date policy_due_on:date? document_no note "
    "created_by created_at:datetime")


@bp.get("/deadline-overrides")
@doc("截止日期调整列表（各地调整的年度信息更新截止日期）", query=DeadlineOverrideArgs, response=DeadlineOverrideOut,
     many=True, errors=(401, 403, 422))
@requires(Action.READ)
def list_deadline_overrides():
    """List the overrides that govern the caller's region."""
    args = load(DeadlineOverrideArgs(), request.args.to_dict())
    rows = overrides.list_overrides(get_session(), current_actor(), current_rules(), year=args["year"])
    out = DeadlineOverrideOut(many=True).dump(rows)
    return jsonify(items=out, total=len(out), page=1, per_page=max(len(out), 1))


@bp.post("/deadline-overrides")
@doc("登记截止日期调整（业务管理员，本地区的省或地级市）", body=DeadlineOverrideIn, response=DeadlineOverrideOut,
     status=201, errors=(401, 403, 422))
@requires(Action.WRITE)
def add_deadline_override():
    """Record a region's own annual-update date of a year; the scan, reminders and pages use it."""
    session, actor, rules = get_session(), current_actor(), current_rules()
    data = load(DeadlineOverrideIn())
    row = overrides.add_override(session, actor=actor, rules=rules, at=now(), **data)
    session.commit()
    [listed] = [r for r in overrides.list_overrides(session, actor, current_rules(), year=row.year) if r.id == row.id]
    return jsonify(DeadlineOverrideOut().dump(listed)), 201


@bp.delete("/deadline-overrides/<int:override_id>")
@doc("删除截止日期调整（业务管理员）：恢复政策规定的日期", errors=(401, 403, 404))
@requires(Action.WRITE)
def remove_deadline_override(override_id: int):
    """Remove an override: the policy's date (or a wider region's override) governs again."""
    session = get_session()
    overrides.remove_override(session, actor=current_actor(), override_id=override_id, at=now())
    session.commit()
    return jsonify(ok=True)
