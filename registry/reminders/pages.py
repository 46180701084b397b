"""The reminders page (提醒): due, queued, sent, failed and retired reminders with their e-mails; resend.

The request's session shows only the actor's region. Each failed e-mail has a resend button (a
POST with the CSRF token, for officers and admins); the service refuses anything but a failed
e-mail, so a sent one is never queued again, however the button is pressed.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from registry.accounts.access import current_actor, requires
from registry.dashboard import overview
from registry.domain.actors import Action, can
from registry.domain.errors import Conflict
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.reminders import kinds
from registry.reminders.deliveries import (
    MESSAGE_STATUS_NAMES,
    STATE_NAMES,
    ReminderFilter,
    list_reminders,
    resend_message,
)
from registry.web.pages import bp
from registry.web.pages.flow import today
from registry.web.pages.forms import PageForm, choices
from registry.web.pages.helpers import clamped_page

PER_PAGE = 50
MAX_PAGE = 10**6
FILTERS = ("status", "kind", "due_before")


class ReminderFilterForm(PageForm):
    """The list's filters, read from the query string (GET: no CSRF needed)."""

    class Meta:  # noqa: D106
        csrf = False

    status = SelectField("状态", choices=choices([("", "全部状态"), *STATE_NAMES.items()]), validators=[Optional()])
    kind = SelectField("提醒类型", choices=lambda: choices([("", "全部类型"), *kinds.names().items()]),
                       validators=[Optional()])
    due_before = DateField("应发日期不晚于", validators=[Optional()])


def reminder_filter(form: ReminderFilterForm) -> ReminderFilter:
    """Turn the valid fields of the form into a ReminderFilter (an invalid one is ignored and shown)."""
    form.validate()
    return ReminderFilter(**{name: None if form[name].errors or form[name].data in ("", None) else form[name].data
                             for name in FILTERS})


def query_args(f: ReminderFilter) -> dict[str, Any]:
    """Return the filter as query-string arguments (for paging and returning after a resend)."""
    args = {name: getattr(f, name) for name in FILTERS if getattr(f, name) is not None}
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in args.items()}


@bp.get("/reminders")
@requires(Action.READ)
def reminders():
    """List the region's reminders matching the filters, today's and overdue first, with e-mail counts."""
    session, actor = get_session(), current_actor()
    form = ReminderFilterForm(formdata=request.args)
    f = reminder_filter(form)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    rows, total, page, pages = clamped_page(
        lambda n: list_reminders(session, actor, f, page=n, per_page=PER_PAGE, today=today(), policies=policies(),
                                 urgent_first=True), page, PER_PAGE)
    return render_template("reminders.html", form=form, rows=rows, total=total, page=page, pages=pages,
                           args=query_args(f),
                           counts=overview.outbox_counts(session), message_names=MESSAGE_STATUS_NAMES,
                           may_resend=can(actor, Action.WRITE), today=today())


@bp.post("/outbox/<int:message_id>/resend")
@requires(Action.WRITE)
def resend_email(message_id: int):
    """Put a failed e-mail back in the queue and return to the list (CSRF checked by CSRFProtect)."""
    session = get_session()
    back = url_for("pages.reminders", page=min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE),
                   **query_args(reminder_filter(ReminderFilterForm(formdata=request.args))))
    try:
        message = resend_message(session, actor=current_actor(), message_id=message_id, at=utcnow())
    except Conflict as exc:
        session.rollback()
        flash(exc.message.split(" / ")[0], "error")
        return redirect(back)
    session.commit()
    flash(f"已重新排队发送至 {message.to_addr} 的邮件，发送任务下次运行时将发出")
    return redirect(back)
