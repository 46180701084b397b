"""待确认事项: four-eyes on the gravest business actions (issue 16 §4).

Officers and business admins of the region see what waits for a second person — a revocation
that carries a ban, a ban lifted early, a USCC change — and confirm it (never their own) or
reject it; the proposer may withdraw (reject) their own. The enterprise page files the ban
lifting; the revocation and the USCC forms file the other two (pages/titles.py, enterprises.py).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, can
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.proposals import four_eyes
from registry.proposals import services as proposals
from registry.proposals.forms import BanLiftForm
from registry.web.pages import bp
from registry.web.pages.flow import rules, today
from registry.web.pages.forms import PageForm

REFUSALS = (RuleViolation, Conflict, PermissionDenied, NotFound)


class DecisionForm(PageForm):
    """Confirm or reject, with an optional note."""

    note = TextAreaField("意见", validators=[Optional(), Length(max=1000)])


def _message(exc: Exception) -> str:
    if isinstance(exc, RuleViolation):
        return "；".join(m for messages in exc.errors.values() for m in messages).split(" / ")[0]
    return str(getattr(exc, "message", exc)).split(" / ")[0]


@bp.get("/proposals", endpoint="proposals")
@requires(Action.READ)
def proposals_page():
    """What waits for a second person in the region, and what was decided lately."""
    session, actor = get_session(), current_actor()
    decided = [p for p in proposals.listing(session, actor, accounts=False, status=None, limit=50)
               if p.status.value != "pending"]
    return render_template("proposals.html", pending=proposals.listing(session, actor, accounts=False),
                           decided=decided, may_confirm=can(actor, Action.CONFIRM), me=actor.user_id,
                           kind_names=proposals.KIND_NAMES, status_names=proposals.STATUS_NAMES, form=DecisionForm())


@bp.post("/proposals/<int:proposal_id>/<any(confirm, reject):decision>")
@requires(Action.CONFIRM)
def proposal_decision(proposal_id: int, decision: str):
    """Confirm (the change takes effect now) or reject a proposal."""
    session, actor = get_session(), current_actor()
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("请求已过期，请刷新后重试", "error")
        return redirect(url_for("pages.proposals"))
    try:
        if decision == "confirm":
            row = four_eyes.confirm(session, actor=actor, rules=rules(), proposal_id=proposal_id, at=utcnow(),
                                    today=today(), note=form.note.data)
        else:
            row = four_eyes.reject(session, actor=actor, proposal_id=proposal_id, at=utcnow(), note=form.note.data)
        session.commit()
    except REFUSALS as exc:
        session.rollback()
        flash(_message(exc), "error")
        return redirect(url_for("pages.proposals"))
    flash(f"{'已确认并生效' if decision == 'confirm' else '已驳回'}：{row.summary}")
    return redirect(url_for("pages.proposals"))


@bp.post("/bans/<int:ban_id>/lift")
@requires(Action.WRITE)
def ban_lift(ban_id: int):
    """Propose lifting a ban early (from the enterprise page)."""
    session, actor = get_session(), current_actor()
    _, enterprise = four_eyes.get_ban(session, actor, ban_id)
    back = url_for("pages.enterprise", enterprise_id=enterprise.id)
    form = BanLiftForm()
    if not form.validate_on_submit():
        flash("；".join(e for errors in form.errors.values() for e in errors) or "请填写解除日期", "error")
        return redirect(back)
    try:
        row = four_eyes.propose_ban_lift(session, actor=actor, ban_id=ban_id, lifted_on=form.lifted_on.data,
                                         document_no=form.document_no.data or None, note=form.note.data or None,
                                         at=utcnow(), today=today())
        session.commit()
    except REFUSALS as exc:
        session.rollback()
        flash(_message(exc), "error")
        return redirect(back)
    flash(f"已提交：{row.summary}。须由同地区另一位业务人员或业务管理员确认后生效")
    return redirect(back)


