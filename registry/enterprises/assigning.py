"""Assigning the 服务专员 from a page, to one enterprise (its page) or to a selection (the roster's bulk action).

Both go the same way: the officer is picked by name from the users who may serve (active officers
and business admins whose region covers the enterprise — never an auditor, a leader or one of the
三员), the preview lists each enterprise with its officer now → then and how many change, an
optional reason is asked, and only the confirmation assigns. The assignment is tried at the
preview (and undone), so a refusal — an enterprise outside the officer's region, a selection
beyond the limit — is shown before anyone confirms; it is all or nothing, each change its own
audited `enterprise.updated` event with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm.exc import StaleDataError

from registry.accounts.access import current_actor
from registry.accounts.models import User
from registry.audit.trail import Why
from registry.domain.errors import Conflict, NotFound, RuleViolation, StaleVersion
from registry.enterprises.models import Enterprise
from registry.enterprises.services import MAX_BULK, assign_officer
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.web.pages.helpers import region_name

MAX_ID = 2**31 - 1  #: ids are INTEGER columns
PREVIEW_ROWS = 50  #: the enterprises listed on the preview (the count covers all)
MAX_REASON = 500
NONE = "none"  #: the choice that removes the officer (the blank choice is "not chosen yet")


@dataclass(frozen=True)
class Assigned:
    """The assignment was made (not yet committed): what to tell the officer."""

    message: str


def officer_label(user: User) -> str:
    """A user as the picker shows them: name and region, never the id."""
    return f"{user.display_name or user.username}（{region_name(user.region_code)}）"


def officer_choices(users: list[User]) -> list[tuple[str, str]]:
    """The picker's choices: 请选择, then the users by name, then 不指定 (removes the officer)."""
    return [("", "请选择服务专员"), *[(str(u.id), officer_label(u)) for u in users], (NONE, "不指定（取消服务专员）")]


def parse_officer(value: str | None) -> int | None:
    """The picked officer's id (None: remove the officer). :raises RuleViolation: nothing or junk picked."""
    value = (value or "").strip()
    if value == NONE:
        return None
    if not (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID):
        raise RuleViolation.on("officer_id", "请选择服务专员 / choose an officer")
    return int(value)


def parse_ids(value: str | None) -> list[int]:
    """The enterprises a confirmation carries (comma-separated ids). :raises RuleViolation: junk or too many."""
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    if len(parts) > MAX_BULK:
        raise RuleViolation.on("enterprise_ids", f"一次最多处理 {MAX_BULK} 家企业 / too many enterprises")
    if not all(p.isascii() and p.isdigit() and 0 < int(p) <= MAX_ID for p in parts):
        raise RuleViolation.on("enterprise_ids", "所选企业无效，请返回名录重新选择 / invalid selection")
    return sorted({int(p) for p in parts})


def assignment(ids: list[int], officer_raw: str | None, reason: str, *, confirmed: bool, back_url: str,
               heading: str, carry: list[tuple[str, str]] | None = None):  # noqa: ANN201  a Flask response
    """Preview the assignment of the picked officer to the enterprises `ids` (a response), or, confirmed, make it
    and return `Assigned` — the calling view commits, says so and redirects (`carry`: more hidden fields the
    confirmation posts back, e.g. the roster's filter)."""
    session, actor = get_session(), current_actor()
    reason = (reason or "").strip()
    context = {"heading": heading, "back_url": back_url, "reason": reason, "max_reason": MAX_REASON}
    try:
        if len(reason) > MAX_REASON:
            raise RuleViolation.on("reason", f"原因最多 {MAX_REASON} 个字（现有 {len(reason)} 个）")
        officer_id = parse_officer(officer_raw)
        why = Why(note=reason or None)
        if confirmed:
            changed = assign_officer(session, actor=actor, enterprise_ids=ids, officer_id=officer_id, at=utcnow(),
                                     why=why)
            officer = session.get(User, officer_id) if officer_id is not None else None
            who = officer_label(officer) if officer is not None else "不指定"
            return Assigned(f"已为 {len(changed)} 家企业指定服务专员：{who}" + (
                f"（另 {len(ids) - len(changed)} 家原已如此，未改动）" if len(ids) > len(changed) else ""))
        nested = session.begin_nested()
        try:
            changed = assign_officer(session, actor=actor, enterprise_ids=ids, officer_id=officer_id, at=utcnow(),
                                     why=why)
            changing = {e.id for e in changed}
            session.flush()
        finally:
            if nested.is_active:
                nested.rollback()
        session.expire_all()
        officer = session.get(User, officer_id) if officer_id is not None else None
        shown = session.scalars(sa.select(Enterprise).where(Enterprise.id.in_(ids[:PREVIEW_ROWS]))
                                .order_by(Enterprise.name, Enterprise.id)).all()
        rows = [(e, officer_label(e.officer) if e.officer else "—", e.id in changing) for e in shown]
        return render_template(
            "assign_officer_confirm.html", rows=rows, total=len(ids), changing=len(changing),
            officer=officer_label(officer) if officer is not None else "不指定（取消服务专员）",
            echo=[("id_list", ",".join(map(str, ids))), ("officer_id", officer_raw or ""), *(carry or [])],
            **context)
    except (RuleViolation, Conflict, NotFound, StaleVersion, StaleDataError) as exc:
        session.rollback()
        if isinstance(exc, RuleViolation):
            message = "；".join(m for ms in exc.errors.values() for m in ms)
        else:
            message = getattr(exc, "message", "") or "该企业已被他人修改，请刷新后重试"
        return render_template("assign_officer_confirm.html", error=message.split(" / ")[0], rows=[], total=len(ids),
                               changing=0, officer="", echo=[], **context), 404 if isinstance(exc, NotFound) else 422
