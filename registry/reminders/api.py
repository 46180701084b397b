"""/reminders: the region's reminders with their e-mails' delivery; /outbox/{id}/resend puts a failed e-mail back."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from marshmallow import fields, validate

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.platform.bounds import InSchema, page_field, per_page_field
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.platform.outputs import out_schema
from registry.reminders.deliveries import (
    MESSAGE_STATUS_NAMES,
    STATES,
    ReminderFilter,
    ReminderView,
    list_reminders,
    resend_message,
)
from registry.reminders.kinds import CODES as KINDS
from registry.reminders.models import OutboxMessage
from registry.web.api import bp, page_of
from registry.web.api.common import schema, today
from registry.web.api.docs import doc


def _one_of(values: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(values, error="应为以下之一 / must be one of: {choices}")


class ReminderArgs(InSchema):
    """Query string of GET /reminders."""

    status = fields.String(load_default=None, validate=_one_of(STATES), metadata={
        "description": "pending 未到发送日, due 已到期待扫描, queued 待发送, sent 已发送, failed 发送失败, retired 已撤销"})
    kind = fields.String(load_default=None, validate=_one_of(KINDS))
    due_before = fields.Date(load_default=None, metadata={"description": "应发日期不晚于此日（含）"})
    page = page_field()
    per_page = per_page_field()


MessageOut = out_schema(
    "MessageOut", "One e-mail of a reminder and its delivery.",
    "id:int to_addr subject status status_name attempts:int last_error? next_attempt_at:time sent_at:time? "
    "created_at:time message_id", status=fields.String(metadata={"description": "pending, sending, sent, failed"}),
    message_id=fields.String(metadata={"description": "稳定的 Message-ID 邮件头"}))


EnterpriseRef = out_schema("EnterpriseRef", "The enterprise a reminder concerns.", "id:int name")


ReminderOut = out_schema(
    "ReminderOut", "A reminder: what it is about, when it is sent, where it stands, and its e-mails.",
    "id:int enterprise region_code subject_type subject_id:int subject_name kind kind_name milestone "
    "reference_on:date due_on:date status state state_name created_at:time queued_at:time? retired_at:time? messages",
    enterprise=fields.Nested(EnterpriseRef),
    subject_type=fields.String(metadata={
        "description": "certification, enterprise (年度信息), change_report or application (推荐意见)"}),
    milestone=fields.Integer(metadata={"description": "提前天数（-1：逾期次日提醒）"}),
    status=fields.String(metadata={"description": "台账状态：pending, queued, retired"}),
    state=fields.String(metadata={"description": "pending, due, queued, sent, failed, retired"}),
    messages=fields.List(fields.Nested(MessageOut)))


def dump_message(message: OutboxMessage) -> dict[str, Any]:
    """Return an e-mail as the API shows it."""
    status = message.status.value
    data = {name: getattr(message, name) for name in schema(MessageOut).fields if name != "status_name"}
    return schema(MessageOut).dump({**data, "status": status, "status_name": MESSAGE_STATUS_NAMES[status]})


def dump_reminder(view: ReminderView) -> dict[str, Any]:
    """Return a reminder with its enterprise and e-mails as the API shows it."""
    r = view.reminder
    data = {name: getattr(r, name) for name in ("id", "region_code", "subject_type", "subject_id", "kind", "milestone",
                                                "reference_on", "due_on", "created_at", "queued_at", "retired_at")}
    out = schema(ReminderOut, ("messages",)).dump({
        **data, "status": r.status.value, "enterprise": {"id": r.enterprise_id, "name": view.enterprise_name},
        "subject_name": view.subject_name, "kind_name": view.kind_name, "state": view.state,
        "state_name": view.state_name})
    return {**out, "messages": [dump_message(m) for m in view.messages]}


@bp.get("/reminders")
@doc("提醒列表（按状态、类型、应发日期筛选；含各提醒邮件的发送情况）", query=ReminderArgs, response=ReminderOut, many=True,
     errors=(401, 403))
@requires(Action.READ)
def list_reminders_api():
    """List the reminders in the caller's region, latest send date first."""
    args = schema(ReminderArgs).load(request.args.to_dict())
    page, per_page = args.pop("page"), args.pop("per_page")
    views, total = list_reminders(get_session(), current_actor(), ReminderFilter(**args), page=page,
                                  per_page=per_page, today=today(), policies=policies())
    return jsonify(page_of([dump_reminder(v) for v in views], total, page, per_page))


@bp.post("/outbox/<int:message_id>/resend")
@doc("重发一封发送失败的提醒邮件（按邮件编号：重置为待发送、立即发送、重新计算重试次数；已发送或待发送的邮件返回 409，"
     "从不重复发送；审计留痕）", response=MessageOut, errors=(401, 403, 404, 409))
@requires(Action.WRITE)
def resend_outbox_message(message_id: int):
    """Re-queue a failed e-mail (officers and admins, in their region)."""
    session = get_session()
    message = resend_message(session, actor=current_actor(), message_id=message_id, at=utcnow())
    session.commit()
    return jsonify(dump_message(message))
