"""/inbox: the caller's 站内消息; /channels: their own channels and (admins) their offices' channels (issue 18 §8)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from marshmallow import Schema, fields, validate

from registry.accounts.access import current_actor, requires
from registry.channels import services
from registry.channels.models import ChannelKind, InboxMessage
from registry.domain.actors import Action
from registry.platform.bounds import InSchema, page_field, per_page_field
from registry.platform.extensions import get_session
from registry.platform.outputs import out_schema_of
from registry.web.api import bp, load, page_of
from registry.web.api.docs import doc
from registry.web.api.writes import written
from registry.web.clock import now


class InboxArgs(InSchema):
    """Query string of GET /inbox."""

    unread = fields.Boolean(load_default=False, metadata={"description": "只列未读消息"})
    page = page_field()
    per_page = per_page_field()


InboxOut = out_schema_of("InboxOut", "One message of the inbox.", InboxMessage,
                      "id", "reminder_id", "subject", "body_text", "created_at", "read_at")
ReadOut = out_schema_of("ReadOut", "How many messages a mark-read changed, and how many are left unread.",
                     services.ReadCount)
EmailOut = out_schema_of("EmailOut", "Whether the caller's reminders also go by e-mail.", services.EmailChoice,
                      address="本人邮箱（部分隐去）", enabled="提醒是否也发邮件", has_address="是否有邮箱地址")
ChannelOut = out_schema_of("ChannelOut", "A channel with its address masked (never shown in full).", services.TargetView,
                        address="仅显示末四位")


class ChannelIn(InSchema):
    """POST /channels: a channel of the caller's own, or (admins, with region_code) of an office."""

    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ChannelKind],
                                                                 error="应为 dingtalk、wecom 或 zzd / must be one of: {choices}"),
                         metadata={"description": "dingtalk 钉钉机器人, wecom 企业微信机器人, zzd 浙政钉工作通知"})
    label = fields.String(required=True, validate=validate.Length(max=services.LABEL_MAX))
    address = fields.String(required=True, validate=validate.Length(max=500), metadata={
        "description": "机器人的 webhook 地址（或其中 access_token / key 的值）；浙政钉为 accountId（单位：组织代码）"})
    secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128),
                           metadata={"description": "钉钉机器人的加签密钥（SEC…），钉钉必填"})
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=6),
                                metadata={"description": "单位的渠道：单位所在地区代码（业务管理员）；不填为本人的渠道"})
    include_subregions = fields.Boolean(load_default=False, metadata={"description": "单位的渠道：也接收下级地区的提醒"})


class ChannelPatch(InSchema):
    """PATCH /channels/{id}: what changes; a missing or blank address or secret keeps the stored one."""

    label = fields.String(validate=validate.Length(max=services.LABEL_MAX))
    address = fields.String(validate=validate.Length(max=500))
    secret = fields.String(allow_none=True, validate=validate.Length(max=128))
    include_subregions = fields.Boolean()


class ChannelsOut(Schema):
    """The caller's own channels and the office channels they manage."""

    own = fields.List(fields.Nested(ChannelOut))
    offices = fields.List(fields.Nested(ChannelOut))
    email = fields.Nested(EmailOut, allow_none=True)


class EmailIn(InSchema):
    """PUT /channels/email: whether the caller's reminders also go by e-mail."""

    enabled = fields.Boolean(required=True, metadata={"description": "true 提醒也发到本人邮箱；false 只发站内消息和本人的渠道"})


def dump_inbox(message: InboxMessage) -> dict[str, Any]:
    """A message as the API shows it."""
    return InboxOut().dump(message)


def dump_channel(target: Any) -> dict[str, Any]:  # noqa: ANN401
    """A channel as the API shows it (masked)."""
    return ChannelOut().dump(services.view(target))


@bp.get("/inbox")
@doc("站内消息（本人收到的每条提醒，新的在前；可只列未读）", query=InboxArgs, response=InboxOut, many=True,
     errors=(401, 403, 422))
@requires(Action.READ)
def list_inbox():
    """The caller's messages, newest first."""
    args = load(InboxArgs(), request.args.to_dict())
    rows, total = services.inbox_page(get_session(), current_actor(), page=args["page"], per_page=args["per_page"],
                                      unread_only=args["unread"])
    return jsonify(page_of([dump_inbox(r) for r in rows], total, args["page"], args["per_page"]))


@bp.post("/inbox/<int:message_id>/read")
@doc("把一条站内消息标为已读（审计留痕）", response=ReadOut, errors=(401, 403, 404))
@requires(Action.READ)
def read_inbox_message(message_id: int):
    """Mark one message read."""
    return written(None, services.read, ReadOut().dump, message_id=message_id, at=now())


@bp.post("/inbox/read-all")
@doc("把全部站内消息标为已读（审计留痕）", response=ReadOut, errors=(401, 403))
@requires(Action.READ)
def read_all_inbox():
    """Mark every message read."""
    return written(None, services.read, ReadOut().dump, message_id=None, at=now())


@bp.get("/channels")
@doc("提醒渠道：本人的渠道，以及（业务管理员）本地区各单位的渠道；地址与密钥只显示末四位；email 为本人是否也收邮件",
     response=ChannelsOut, errors=(401, 403))
@requires(Action.READ)
def list_channels():
    """The caller's channels, the office channels they manage, and their e-mail choice."""
    session, actor = get_session(), current_actor()
    email = services.email_choice(session, actor)
    return jsonify(own=[dump_channel(t) for t in services.own_targets(session, actor)],
                   offices=[dump_channel(t) for t in services.office_targets(session, actor)],
                   email=EmailOut().dump(email) if email is not None else None)


@bp.put("/channels/email")
@doc("开启或关闭本人的邮件提醒（关闭后提醒只发到站内消息和本人的渠道；已排队的邮件照常发出）；审计留痕", body=EmailIn,
     response=EmailOut, errors=(401, 403, 422))
@requires(Action.READ)
def set_email():
    """Switch the caller's reminder e-mail on or off."""
    return written(EmailIn, services.set_email, EmailOut().dump, at=now())


@bp.post("/channels")
@doc("新增提醒渠道（本人的；或业务管理员为本地区单位设置）：钉钉机器人须带加签密钥；审计留痕", body=ChannelIn,
     response=ChannelOut, status=201, errors=(401, 403, 422))
@requires(Action.READ)
def add_channel():
    """Add a channel."""
    return written(ChannelIn, services.add_target, dump_channel, 201, at=now())


@bp.patch("/channels/<int:target_id>")
@doc("修改提醒渠道（名称、地址、密钥、是否含下级地区）；审计留痕", body=ChannelPatch, response=ChannelOut,
     errors=(401, 403, 404, 422))
@requires(Action.READ)
def change_channel(target_id: int):
    """Change a channel."""
    return written(ChannelPatch, services.update_target, dump_channel, target_id=target_id, at=now())


@bp.delete("/channels/<int:target_id>")
@doc("停用提醒渠道（保留记录；尚未发出的消息记为失败并列入待办）；审计留痕", errors=(401, 403, 404))
@requires(Action.READ)
def remove_channel(target_id: int):
    """Stop using a channel."""
    return written(None, services.remove_target, lambda _: {"ok": True}, target_id=target_id, at=now())
