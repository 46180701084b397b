"""The enterprise page: header and edit form, every title's terms and events, reports, bans, audit history.

The edit form carries the version it was read at; a stale version is refused (409) with the
current values shown, so nobody overwrites a colleague's change unseen.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from sqlalchemy.orm.exc import StaleDataError

from registry.accounts.access import current_actor, requires
from registry.audit.display import enterprise_history
from registry.domain import uscc
from registry.domain.actors import Action, can
from registry.domain.errors import Conflict, RuleViolation, StaleVersion
from registry.domain.lifecycle import LIVE, Event
from registry.domain.personal import CONTACT_FIELDS, mask_field
from registry.enterprises.models import CHANGE_KIND_NAMES, SIZE_NAMES, Enterprise
from registry.enterprises.services import get_enterprise, officer_candidates, update_enterprise
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.privacy import unmask
from registry.proposals import four_eyes
from registry.proposals.forms import lift_form
from registry.titles.flags import CAUSE_NAMES
from registry.titles.models import Ban, Certification
from registry.titles.services import OFFICER_EVENTS, allowed_actions
from registry.web.errors import CHANGED, DB_CONFLICTS, as_conflict
from registry.web.pages import bp
from registry.web.pages.choices import region_choices
from registry.web.pages.flow import attach_errors, rules, today
from registry.web.pages.forms import EnterpriseForm, choices
from registry.web.pages.helpers import region_name
from registry.web.unmasking import recorded

EDITABLE = ("name", "uscc", "region_code", "industry_code", "size_class", "founded_on", "contact_name",
            "contact_email", "contact_phone", "holder_kind", "zone_type", "managing_body")


def title_actions(cert: Certification) -> list[Event]:
    """Return the events the guards allow an officer to record on `cert` today (registry/domain/guards.py):
    no review outside its window or without eligibility, no result without a review under way."""
    if cert.status not in LIVE:
        return []
    return allowed_actions(get_session(), rules(), cert, today(), OFFICER_EVENTS)


def reason_name(cert: Certification, code: str | None) -> str:
    """Return a revocation reason's name under the title's policy."""
    if not code:
        return ""
    reason = policies().tier(cert.tier, policy_code=cert.policy_code).reason(code)
    return reason.name if reason else code


def edit_form(enterprise: Enterprise, *, from_request: bool = True, unmasked: bool = False) -> EnterpriseForm:
    """Return the edit form: the posted values, or the enterprise's current ones (contacts masked unless
    unmasked: a masked value posted back unchanged leaves the contact as it is, see `unchanged_contacts`)."""
    form = EnterpriseForm(prefix="edit", obj=enterprise, **({} if from_request else {"formdata": None}))
    if not from_request or not form.is_submitted():
        form.version.data = str(enterprise.version)
        for name, value in unmask.contacts(enterprise, unmasked).items():
            form[name].data = value
    form.region_code.choices = region_choices(current_actor(), blank=None, districts=True)
    if not from_request or not form.is_submitted():
        form.officer_id.data = str(enterprise.officer_id or "")
    candidates = officer_candidates(get_session(), enterprise.region_code)
    if enterprise.officer is not None and enterprise.officer not in candidates:
        candidates.insert(0, enterprise.officer)  # shown as it is, so the form can replace it
    form.officer_id.choices = choices([("", "未指定"), *[
        (str(u.id), f"{u.display_name or u.username}（{region_name(u.region_code)}）") for u in candidates]])
    return form


def unchanged_contacts(enterprise: Enterprise, data: dict) -> dict:
    """Drop the contact fields posted as their masked form: the form showed them masked, nobody changed them."""
    return {k: v for k, v in data.items()
            if not (k in CONTACT_FIELDS and v is not None and getattr(enterprise, k) is not None
                    and v == mask_field(k, getattr(enterprise, k)) and v != getattr(enterprise, k))}


def render_page(enterprise: Enterprise, form: EnterpriseForm | None = None, status: int = 200,
                unmasked: bool = False):
    """Render the enterprise page (the edit form only for those who may write); contacts masked unless unmasked."""
    actor = current_actor()
    writable = can(actor, Action.WRITE)
    if writable and form is None:
        form = edit_form(enterprise, unmasked=unmasked)
    bans = get_session().scalars(sa.select(Ban).where(Ban.uscc == enterprise.uscc).order_by(Ban.starts_on)).all()
    history, history_total = enterprise_history(actor, enterprise.id) if can(actor, Action.READ_AUDIT) else (None, 0)
    return render_template(
        "enterprise.html", e=enterprise, form=form, writable=writable, today=today(), bans=bans,
        lift_form=lift_form(today()) if writable else None,
        history=history, history_total=history_total, contacts=unmask.contacts(enterprise, unmasked),
        unmasked=unmasked, may_unmask=unmask.may_unmask(actor),
        title_actions=title_actions, reason_name=reason_name, cause_names=CAUSE_NAMES,
        change_kinds=CHANGE_KIND_NAMES, size_names=SIZE_NAMES), status


@bp.get("/enterprises/<int:enterprise_id>")
@requires(Action.READ)
def enterprise(enterprise_id: int):
    """Show one enterprise with its titles' history, reports and bans (?unmask=1: the contact in full, audited)."""
    session, actor = get_session(), current_actor()
    unmasked = unmask.requested(actor)
    record = get_enterprise(session, actor, enterprise_id)
    if unmasked:
        recorded(session, actor, purpose="企业详情页", enterprises=[record], at=utcnow())
    return render_page(record, unmasked=unmasked)


@bp.post("/enterprises/<int:enterprise_id>")
@requires(Action.WRITE)
def enterprise_edit(enterprise_id: int):
    """Save the header fields if nobody changed the enterprise since the form was read."""
    session, actor = get_session(), current_actor()
    record = get_enterprise(session, actor, enterprise_id)
    form = edit_form(record)
    if not form.validate():
        return render_page(record, form, 422)
    data = unchanged_contacts(record, {k: (form[k].data if form[k].data != "" else None) for k in EDITABLE})
    if form.officer_id.raw_data:  # a form without the field leaves the officer as it is
        officer = form.officer_id.data or ""
        if officer and not officer.isdigit():
            form.officer_id.errors = ["请选择服务专员"]
            return render_page(record, form, 422)
        data["officer_id"] = int(officer) if officer else None
    filed = None
    try:
        new_uscc = data.get("uscc")
        if new_uscc is not None and uscc.normalize(new_uscc) != record.uscc:  # four-eyes: proposed, not saved
            del data["uscc"]
        else:
            new_uscc = None
        _, warnings = update_enterprise(session, actor=actor, enterprise_id=record.id, data=data,
                                        version=int(form.version.data), at=utcnow())
        if new_uscc is not None:
            filed = four_eyes.propose_uscc_change(session, actor=actor, enterprise_id=record.id, new_uscc=new_uscc,
                                                  at=utcnow())
        session.commit()
    except (StaleVersion, StaleDataError) as exc:
        session.rollback()
        flash((exc.message if isinstance(exc, StaleVersion) else CHANGED).split(" / ")[0], "error")
        return render_page(record, edit_form(record, from_request=False), 409)
    except (RuleViolation, Conflict, *DB_CONFLICTS) as exc:  # e.g. the USCC is registered (maybe elsewhere)
        session.rollback()
        refusal = exc if isinstance(exc, RuleViolation | Conflict) else as_conflict(exc)
        if refusal is None:
            raise
        attach_errors(form, refusal)
        return render_page(record, form, 409 if isinstance(refusal, Conflict) else 422)
    flash("企业信息已保存")
    if filed is not None:
        flash(f"统一社会信用代码的变更已提交（申请编号 {filed.id}），须由同地区另一位业务人员或业务管理员"
              "在「待确认事项」中确认后生效，此前代码不变")
    for warning in warnings:
        flash(warning.split(" / ")[0], "error")
    return redirect(url_for("pages.enterprise", enterprise_id=record.id))
