"""Channel settings and the inbox: who may set what, checked inputs, audited changes. Nothing here commits.

**Channel targets.** A signed-in user manages their own (any role with an account); a 业务管理员 (admin)
manages the channels of the offices (region nodes) within their region. A target is a DingTalk custom
robot (its webhook address or `access_token`, and the "加签" secret, required), a WeCom group robot (its
webhook address or `key`) or a 浙政钉 recipient (an accountId; for an office, an organisation code). Only
the token or key is kept — the sender builds the address from the configured host — and it is encrypted
at rest with the secret. Neither is ever shown back in full: `masked` keeps the last four characters; the
audit trail records the masked forms. Removing a target deactivates it.

**E-mail.** Reminders go to a user's e-mail address unless they switch it off (`set_email`, their own
choice only; audited as `channel.email_off` / `channel.email_on`). The inbox always receives every reminder,
and their channels keep theirs. E-mail goes to users only: an office has channels, not an address.

**Inbox.** Each user reads their own 站内消息; marking read is audited (one event per click, however many
messages it marks).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.audit import trail as audit
from registry.channels.models import CHANNEL_NAMES, ChannelKind, ChannelTarget, InboxMessage
from registry.domain.actors import Actor, Role, in_scope
from registry.domain.errors import NotFound, PermissionDenied, RuleViolation
from registry.domain.text import clean_text
from registry.regions.models import Region

LABEL_MAX = 64
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,128}$")  #: a DingTalk access_token or a WeCom key
ACCOUNT = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")  #: a 浙政钉 accountId or organisation code
SECRET = re.compile(r"^[\x21-\x7e]{8,128}$")  #: a DingTalk signing secret (SEC…): printable ASCII
KIND_NAMES = {k.value: CHANNEL_NAMES[k.value] for k in ChannelKind}


def masked(value: str | None) -> str:
    """Show a token or secret as ••••1234 (its last four characters), never in full."""
    if not value:
        return "—"
    return "••••" + value[-4:] if len(value) > 8 else "••••"


@dataclass(frozen=True)
class TargetView:
    """A channel target as a page or the API shows it: the secrets masked."""

    id: int
    kind: str
    kind_name: str
    label: str
    address: str  #: masked
    has_secret: bool
    user_id: int | None
    region_code: str | None
    include_subregions: bool
    is_active: bool


def view(target: ChannelTarget) -> TargetView:
    """The masked view of a target."""
    kind = str(getattr(target.kind, "value", target.kind))
    return TargetView(target.id, kind, KIND_NAMES.get(kind, kind), target.label, masked(target.address),
                      bool(target.secret), target.user_id, target.region_code, target.include_subregions,
                      target.is_active)


def _text(value: object) -> str:
    return "" if value is None else clean_text(str(value))  # zero-width and control characters dropped


def parse_address(kind: str, written: str) -> str:
    """The token, key or account in what a person pasted (a whole webhook address or the bare value).

    :raises RuleViolation: on `address`, naming what is expected.
    """
    text = written.strip()
    if kind in (ChannelKind.DINGTALK, ChannelKind.WECOM) and "://" in text:
        param = "access_token" if kind == ChannelKind.DINGTALK else "key"
        text = (urllib.parse.parse_qs(urllib.parse.urlsplit(text).query).get(param) or [""])[0]
        if not text:
            raise RuleViolation.on("address", f"地址：webhook 地址中没有 {param} 参数，请粘贴机器人设置页给出的完整地址"
                                              f" / address: no {param} in the webhook URL")
    if kind == ChannelKind.ZZD:
        if not ACCOUNT.match(text):
            raise RuleViolation.on("address", "地址：请填写浙政钉账号 ID（accountId）或组织代码，1–64 位字母、数字或 _-.:@"
                                              " / address: a 浙政钉 accountId or organisation code")
    elif not TOKEN.match(text):
        what = "access_token" if kind == ChannelKind.DINGTALK else "key"
        raise RuleViolation.on("address", f"地址：请粘贴机器人的 webhook 地址，或其中 {what} 的值（8–128 位字母、数字、_ 或 -）"
                                          f" / address: the webhook URL or its {what}")
    return text


def _check(kind: object, label: object, address: object, secret: object, *, creating: bool,
           current: ChannelTarget | None = None) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    found: dict[str, object] = {}
    kind_text = _text(kind) if current is None else str(getattr(current.kind, "value", current.kind))
    if kind_text not in KIND_NAMES:
        errors["kind"] = ["渠道类型：请选择钉钉机器人、企业微信机器人或浙政钉工作通知 / kind: dingtalk, wecom or zzd"]
    found["kind"] = kind_text
    name = _text(label)
    if creating or label is not None:
        if not name:
            errors["label"] = ["名称：请填写，如“台州市经信局提醒群” / label: required"]
        elif len(name) > LABEL_MAX:
            errors["label"] = [f"名称：最多 {LABEL_MAX} 个字 / label: at most {LABEL_MAX} characters"]
        found["label"] = name
    if kind_text in KIND_NAMES and (creating or _text(address)):
        if not _text(address):
            errors["address"] = ["地址：请填写 / address: required"]
        else:
            try:
                found["address"] = parse_address(kind_text, _text(address))
            except RuleViolation as exc:
                errors.update(exc.errors)
    secret_text = _text(secret)
    if kind_text == ChannelKind.DINGTALK:
        if secret_text:
            if not SECRET.match(secret_text):
                errors["secret"] = ["加签密钥：请粘贴机器人“加签”处给出的密钥（以 SEC 开头，8–128 位可见字符）"
                                    " / secret: the robot's signing secret"]
            found["secret"] = secret_text
        elif creating:
            errors["secret"] = ["加签密钥：钉钉机器人须启用“加签”安全设置，请粘贴其密钥 / secret: required for DingTalk"]
    elif secret_text:
        errors["secret"] = ["加签密钥：只有钉钉机器人需要 / secret: only a DingTalk robot has one"]
    if errors:
        raise RuleViolation(errors)
    return found


def _may_manage(actor: Actor, target_user: int | None, region_code: str | None) -> None:
    if target_user is not None:
        if actor.user_id != target_user:
            raise PermissionDenied("只能设置自己的提醒渠道 / only your own channels")
        return
    if actor.role != Role.ADMIN or region_code is None or not in_scope(actor, region_code):
        raise PermissionDenied("只有本地区的业务管理员可以设置单位的提醒渠道 / an admin of the region sets office channels")


def _region(session: Session, code: object) -> str:
    text = _text(code)
    if not (len(text) == 6 and text.isdigit()) or session.get(Region, text) is None:
        raise RuleViolation.on("region_code", "单位：请选择一个地区（单位） / region_code: unknown region")
    return text


def _audit(session: Session, actor: Actor, action: str, target: ChannelTarget, changes: dict, at: datetime,
           note: str) -> None:
    audit.record(session, actor=actor, action=action, entity_type="channel_target", entity_id=target.id,
                 region_code=target.region_code or actor.region_code, changes=changes, at=at,
                 why=audit.Why(note=note[:2000]))


def _owner_note(target: ChannelTarget) -> str:
    return f"单位 {target.region_code} 的提醒渠道" if target.region_code else f"用户 #{target.user_id} 自己的提醒渠道"


def add_target(session: Session, *, actor: Actor, kind: object, label: object, address: object, secret: object = None,
               region_code: object = None, include_subregions: bool = False, at: datetime) -> ChannelTarget:
    """Add a channel: the actor's own (no `region_code`) or an office's (`region_code`, admins).

    :raises RuleViolation: naming the field; nothing is written. :raises PermissionDenied:
    """
    office = _region(session, region_code) if _text(region_code) else None
    user_id = None if office else actor.user_id
    if office is None and user_id is None:
        raise PermissionDenied("只有以个人账号登录时才能设置自己的提醒渠道 / only a user has own channels")
    _may_manage(actor, user_id, office)
    found = _check(kind, label, address, secret, creating=True)
    target = ChannelTarget(kind=ChannelKind(found["kind"]), label=found["label"], address=found["address"],
                           secret=found.get("secret"), user_id=user_id, region_code=office,
                           include_subregions=bool(include_subregions) if office else False, is_active=True,
                           created_at=at, updated_at=at)
    session.add(target)
    session.flush()
    _audit(session, actor, "channel.added", target,
           {"kind": [None, target.kind.value], "label": [None, target.label], "address": [None, masked(target.address)],
            "secret": [None, "已设置" if target.secret else None], "include_subregions": [None, target.include_subregions]},
           at, f"新增{KIND_NAMES[target.kind.value]}：{target.label}（{_owner_note(target)}）")
    return target


def _load(session: Session, actor: Actor, target_id: int) -> ChannelTarget:
    target = session.scalar(sa.select(ChannelTarget).where(ChannelTarget.id == target_id)
                            .execution_options(populate_existing=True))
    if target is None or not target.is_active:
        raise NotFound("提醒渠道不存在 / channel not found")
    try:
        _may_manage(actor, target.user_id, target.region_code)
    except PermissionDenied:
        raise NotFound("提醒渠道不存在 / channel not found") from None  # another's channel: as if absent
    return target


def editable(session: Session, *, actor: Actor, target_id: int) -> ChannelTarget:
    """A channel the actor may change (their own, or an office's in an admin's region), still in use.

    :raises NotFound: no such channel, another's, or one already removed.
    """
    return _load(session, actor, target_id)


def update_target(session: Session, *, actor: Actor, target_id: int, label: object = None, address: object = None,
                  secret: object = None, include_subregions: bool | None = None, at: datetime) -> ChannelTarget:
    """Change a channel's name, address, secret or reach; a blank address or secret keeps the stored one.

    :raises NotFound: :raises RuleViolation: naming the field; nothing is written.
    """
    target = _load(session, actor, target_id)
    found = _check(None, label, address, secret, creating=False, current=target)
    changes: dict[str, list[object]] = {}
    if "label" in found and found["label"] != target.label:
        changes["label"] = [target.label, found["label"]]
        target.label = str(found["label"])
    if "address" in found and found["address"] != target.address:
        changes["address"] = [masked(target.address), masked(str(found["address"]))]
        target.address = str(found["address"])
    if "secret" in found and found["secret"] != target.secret:
        changes["secret"] = ["已设置" if target.secret else None, "已更换"]
        target.secret = str(found["secret"])
    if include_subregions is not None and target.region_code and bool(include_subregions) != target.include_subregions:
        changes["include_subregions"] = [target.include_subregions, bool(include_subregions)]
        target.include_subregions = bool(include_subregions)
    if changes:
        target.updated_at = at
        session.flush()
        _audit(session, actor, "channel.changed", target, changes, at,
               f"修改{KIND_NAMES[target.kind.value]}：{target.label}（{_owner_note(target)}）")
    return target


def remove_target(session: Session, *, actor: Actor, target_id: int, at: datetime) -> ChannelTarget:
    """Stop using a channel (kept, inactive: its deliveries keep their history; waiting ones fail visibly)."""
    target = _load(session, actor, target_id)
    target.is_active, target.updated_at = False, at
    session.flush()
    _audit(session, actor, "channel.removed", target, {"is_active": [True, False]}, at,
           f"停用{KIND_NAMES[target.kind.value]}：{target.label}（{_owner_note(target)}）")
    return target


def own_targets(session: Session, actor: Actor) -> list[ChannelTarget]:
    """The actor's own active channels."""
    if actor.user_id is None:
        return []
    return list(session.scalars(sa.select(ChannelTarget).where(
        ChannelTarget.user_id == actor.user_id, ChannelTarget.is_active.is_(True)).order_by(ChannelTarget.id)))


def office_targets(session: Session, actor: Actor) -> list[ChannelTarget]:
    """The active office channels within the admin's region (others: none)."""
    if actor.role != Role.ADMIN:
        return []
    rows = session.scalars(sa.select(ChannelTarget).where(
        ChannelTarget.region_code.is_not(None), ChannelTarget.is_active.is_(True))
        .order_by(ChannelTarget.region_code, ChannelTarget.id))
    return [t for t in rows if in_scope(actor, t.region_code or "")]


@dataclass(frozen=True)
class EmailChoice:
    """Whether the user's reminders also go by e-mail, and to which address (masked)."""

    enabled: bool
    has_address: bool
    address: str  #: masked: the part before @ shortened

    @property
    def delivers(self) -> bool:
        """Whether e-mail reminders actually leave: switched on and an address to send to."""
        return self.enabled and self.has_address


def _masked_email(address: str) -> str:
    name, _, host = address.partition("@")
    return f"{name[:1]}•••@{host}" if host else masked(address)


def _choice(user: User) -> EmailChoice:
    return EmailChoice(user.wants_reminder_email, bool(user.email), _masked_email(user.email or ""))


def email_choice(session: Session, actor: Actor) -> EmailChoice | None:
    """The actor's e-mail choice (None for a token or the command line: no person, no address)."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    return None if user is None else _choice(user)


def set_email(session: Session, *, actor: Actor, enabled: object, at: datetime) -> EmailChoice:
    """Switch the actor's reminder e-mail on or off; setting what is already set changes and records nothing.

    Mails already queued are sent: the switch governs what the daily scan queues from now on (docs/channels.md).
    :raises RuleViolation: `enabled` is not a yes/no. :raises PermissionDenied: no user behind the actor.
    """
    if not isinstance(enabled, bool):
        raise RuleViolation.on("enabled", "邮件提醒：请选择开启或关闭 / enabled: true or false")
    # the user's row locked and read afresh: N identical requests at once change it (and record it) once
    user = session.scalar(sa.select(User).where(User.id == actor.user_id).with_for_update()
                          .execution_options(populate_existing=True)) if actor.user_id is not None else None
    if user is None:
        raise PermissionDenied("只有以个人账号登录时才能设置邮件提醒 / only a user chooses their e-mail")
    if user.wants_reminder_email != enabled:
        user.wants_reminder_email = enabled
        session.flush()
        note = ("开启邮件提醒：此后的提醒也发到本人邮箱" if enabled else
                "关闭邮件提醒：此后的提醒不再发邮件，只发到站内消息和本人设置的渠道；已排队的邮件照常发出")
        audit.record(session, actor=actor, action="channel.email_on" if enabled else "channel.email_off",
                     entity_type="user", entity_id=user.id, region_code=user.region_code, at=at,
                     changes={"wants_reminder_email": [not enabled, enabled]}, why=audit.Why(note=note))
    return _choice(user)


# ---- the inbox ---------------------------------------------------------------------------------------------

def inbox_page(session: Session, actor: Actor, *, page: int, per_page: int,
               unread_only: bool = False) -> tuple[list[InboxMessage], int]:
    """One page of the actor's 站内消息, newest first, and how many there are."""
    if actor.user_id is None:
        return [], 0
    stmt = sa.select(InboxMessage).where(InboxMessage.user_id == actor.user_id)
    if unread_only:
        stmt = stmt.where(InboxMessage.read_at.is_(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def unread_count(session: Session, user_id: int | None) -> int:
    """How many of the user's messages are unread."""
    if user_id is None:
        return 0
    return session.scalar(sa.select(sa.func.count()).select_from(InboxMessage).where(
        InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None))) or 0


@dataclass(frozen=True)
class ReadCount:
    """How many messages a mark-read changed, and how many are left unread."""

    marked: int
    unread: int


def read(session: Session, *, actor: Actor, message_id: int | None, at: datetime) -> ReadCount:
    """Mark one or all of the actor's messages read (`mark_read`); a caller without a user marks none."""
    if message_id is None and actor.user_id is None:
        return ReadCount(0, 0)
    marked = mark_read(session, actor=actor, message_id=message_id, at=at)
    return ReadCount(marked, unread_count(session, actor.user_id))


def mark_read(session: Session, *, actor: Actor, message_id: int | None, at: datetime) -> int:
    """Mark one of the actor's messages read (`message_id`), or all of them (None); return how many changed.

    :raises NotFound: no such message of the actor's.
    """
    if actor.user_id is None:
        raise NotFound("站内消息不存在 / message not found")
    mine = [InboxMessage.user_id == actor.user_id]
    if message_id is not None:
        if session.scalar(sa.select(InboxMessage.id).where(*mine, InboxMessage.id == message_id)) is None:
            raise NotFound("站内消息不存在 / message not found")
        mine.append(InboxMessage.id == message_id)
    ids = list(session.execute(sa.update(InboxMessage).where(*mine, InboxMessage.read_at.is_(None))
                               .values(read_at=at).returning(InboxMessage.id)
                               .execution_options(synchronize_session=False)).scalars())
    if ids:
        audit.record(session, actor=actor, action="inbox.read", entity_type="inbox_message",
                     entity_id=ids[0] if len(ids) == 1 else None, region_code=actor.region_code, at=at,
                     changes={"count": [None, len(ids)], "read_at": [None, audit.plain(at)]},
                     why=audit.Why(note="全部标为已读" if message_id is None else "标为已读"))
    return len(ids)
