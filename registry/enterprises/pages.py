"""The enterprise page: header and edit form, every title's terms and events, reports, bans, audit history.

The edit form carries the version it was read at; a stale version is refused (409) with the
current values shown, so nobody overwrites a colleague's change unseen.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from registry.accounts.access import current_actor, requires
from registry.accounts.models import User
from registry.audit.display import enterprise_history
from registry.audit.trail import Why
from registry.domain import uscc
from registry.domain.actors import Action, can
from registry.domain.errors import Conflict, RuleViolation, StaleVersion
from registry.domain.lifecycle import LIVE, Event
from registry.domain.listings import REPORT_BY_NAMES, REPORT_EVERY_NAMES
from registry.domain.personal import CONTACT_FIELDS, mask_field
from registry.enterprises import assigning
from registry.enterprises.fields import ENTERPRISE
from registry.enterprises.models import CHANGE_KIND_NAMES, SIZE_NAMES, Enterprise
from registry.enterprises.services import (
    get_enterprise,
    officer_candidates,
    planned_changes,
    update_enterprise,
)
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.privacy import unmask
from registry.proposals import four_eyes
from registry.proposals.forms import lift_form
from registry.titles import reports as periodic_reports
from registry.titles.flags import CAUSE_NAMES
from registry.titles.models import Ban, Certification
from registry.titles.services import OFFICER_EVENTS, allowed_actions
from registry.web.errors import CHANGED, DB_CONFLICTS, as_conflict
from registry.web.labels import industry_name
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
        officer_choices=assigning.officer_choices(officer_candidates(get_session(), enterprise.region_code))
        if writable else [],
        title_actions=title_actions, reason_name=reason_name, cause_names=CAUSE_NAMES,
        change_kinds=CHANGE_KIND_NAMES, size_names=SIZE_NAMES,
        periodic=periodic_reports.report_rows(get_session(), rules(), list(enterprise.certifications)),
        period_name=periodic_reports.period_name, report_every=REPORT_EVERY_NAMES, report_by=REPORT_BY_NAMES), status


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


#: the longest reason an edit may carry (it is written into the audit event)
MAX_REASON = 500


def shown(session, name: str, value: object) -> str:  # noqa: ANN001
    """A field's value on the edit preview, as a person reads it (names, not codes; contacts masked)."""
    if value in (None, ""):
        return "（空）"
    if name == "region_code":
        return f"{region_name(str(value))}（{value}）"
    if name == "size_class":
        return SIZE_NAMES.get(value, str(value))  # type: ignore[call-overload]
    if name == "industry_code":
        return industry_name(str(value))
    if name == "officer_id":
        user = session.get(User, int(value))  # type: ignore[arg-type]
        return (user.display_name or user.username) if user is not None else "（已删除的用户）"
    if name in CONTACT_FIELDS:
        return mask_field(name, str(value))
    return str(value)


def edit_data(record: Enterprise, form: EnterpriseForm) -> dict:
    """The posted fields as the service takes them (a contact posted as its masked form left out).
    :raises RuleViolation: an officer choice that is not one of the offered users."""
    data = unchanged_contacts(record, {k: (form[k].data if form[k].data != "" else None) for k in EDITABLE})
    if form.officer_id.raw_data:  # a form without the field leaves the officer as it is
        officer = form.officer_id.data or ""
        if officer and not officer.isdigit():
            raise RuleViolation.on("officer_id", "请选择服务专员")
        data["officer_id"] = int(officer) if officer else None
    return data


def save_edit(session, actor, record: Enterprise, data: dict, version: int,  # noqa: ANN001
              reason: str | None) -> tuple[object | None, list[str]]:
    """Write the changed fields with the reason (a USCC change filed as a proposal for a second person)."""
    data = dict(data)
    new_uscc = data.pop("uscc", None)
    if new_uscc is None or uscc.normalize(new_uscc) == record.uscc:
        new_uscc = None
    why = Why(note=reason or None)
    _, warnings = update_enterprise(session, actor=actor, enterprise_id=record.id, data=data,
                                    version=version, at=utcnow(), why=why)
    filed = None
    if new_uscc is not None:
        filed = four_eyes.propose_uscc_change(session, actor=actor, enterprise_id=record.id, new_uscc=new_uscc,
                                              at=utcnow(), note=reason or None)
    return filed, warnings


def edit_lines(planned: dict) -> list[str]:
    """What saving the edit will do, besides the field changes shown in the table."""
    lines = []
    if "uscc" in planned:
        lines.append("统一社会信用代码的变更不会立即生效：保存后提交为待确认事项，须由同地区另一位业务人员或业务管理员确认，"
                     "此前代码不变（禁止申报记录与名录均按代码关联）")
    if "region_code" in planned:
        lines.append("该企业的称号随之归入新的所在地区；服务专员须覆盖新地区")
    if "officer_id" in planned:
        lines.append("此后该企业的到期提醒发给新的服务专员")
    others = [k for k in planned if k != "uscc"]
    if others:
        lines.append(f"保存 {len(others)} 项修改；未修改的字段保持原值，不写入")
    lines.append("修改及其原因记入审计日志")
    return lines


@bp.post("/enterprises/<int:enterprise_id>")
@requires(Action.WRITE)
def enterprise_edit(enterprise_id: int):
    """Edit the header fields: the form, then a preview of each change (old → new) with a required reason,
    then save — only the fields that changed, if nobody changed the enterprise since the form was read;
    a new USCC is filed for a second person (four-eyes), not saved."""
    session, actor = get_session(), current_actor()
    record = get_enterprise(session, actor, enterprise_id)
    form = edit_form(record)
    if request.form.get("back"):
        return render_page(record, form, 200)
    if not form.validate():
        return render_page(record, form, 422)
    version = int(form.version.data)
    reason = (request.form.get("reason") or "").strip()
    confirmed = request.form.get("confirmed") == "1"
    reason_error = None
    if confirmed and not reason:
        reason_error = "请填写修改原因"
    elif len(reason) > MAX_REASON:
        reason_error = f"修改原因最多 {MAX_REASON} 个字（现有 {len(reason)} 个）"
    try:
        data = edit_data(record, form)
        planned = planned_changes(session, record, data)
        if not planned:
            flash("没有修改任何内容，未保存")
            return redirect(url_for("pages.enterprise", enterprise_id=record.id))
        if confirmed and reason_error is None:
            filed, warnings = save_edit(session, actor, record, data, version, reason)
            session.commit()
        else:
            nested = session.begin_nested()  # tried and undone: a preview only for what would be saved
            try:
                save_edit(session, actor, record, data, version, reason or "（预览）")
                session.flush()
            finally:
                if nested.is_active:
                    nested.rollback()
            session.expire(record)
            record = get_enterprise(session, actor, enterprise_id)
            rows = [(ENTERPRISE[k].label, shown(session, k, old), shown(session, k, new))
                    for k, (old, new) in planned.items() if k in ENTERPRISE]
            echo = [(k, v) for k, v in request.form.items(multi=True)
                    if k not in ("csrf_token", "confirmed", "reason", "back")]
            return render_template("enterprise_edit_confirm.html", e=record, rows=rows, lines=edit_lines(planned),
                                   echo=echo, reason=reason, reason_error=reason_error, max_reason=MAX_REASON,
                                   uscc_only=set(planned) == {"uscc"}), 422 if reason_error else 200
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
    flash("企业信息已保存" if set(planned) != {"uscc"} else "修改已提交")
    if filed is not None:
        flash(f"统一社会信用代码的变更已提交（申请编号 {filed.id}），须由同地区另一位业务人员或业务管理员"
              "在「待确认事项」中确认后生效，此前代码不变")
    for warning in warnings:
        flash(warning.split(" / ")[0], "error")
    return redirect(url_for("pages.enterprise", enterprise_id=record.id))


@bp.post("/enterprises/<int:enterprise_id>/officer")
@requires(Action.WRITE)
def enterprise_officer(enterprise_id: int):
    """指定服务专员 of one enterprise: the picked officer (by name), a preview (now → then), then the assignment."""
    record = get_enterprise(get_session(), current_actor(), enterprise_id)
    back = url_for("pages.enterprise", enterprise_id=record.id)
    result = assigning.assignment([record.id], request.form.get("officer_id"), request.form.get("reason", ""),
                                  confirmed=request.form.get("confirmed") == "1", heading=f"指定「{record.name}」的服务专员",
                                  back_url=back)
    if not isinstance(result, assigning.Assigned):
        return result
    get_session().commit()
    flash(result.message)
    return redirect(back)
