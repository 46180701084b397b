"""The form flow every officer action follows: form → consequence to confirm → change → redirect.

The first POST only validates and shows what the policy says will happen; nothing is written. The
confirmation page carries the same fields back with `confirmed=1` and a fresh CSRF token; that
POST calls the service, commits and redirects. A refusal from the rules (RuleViolation, 422) or
a conflict (stale version, illegal transition, 409) re-renders the form with the message beside
the field it names, so the officer sees what to correct; nothing was changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request
from flask_wtf import FlaskForm

from registry.domain.errors import Conflict, PermissionDenied, RuleViolation
from registry.platform.extensions import get_session
from registry.policies.rules import Rules
from registry.policies.rules import current_rules as load_rules
from registry.web.clock import today
from registry.web.errors import DB_CONFLICTS, as_conflict
from registry.web.pages import bp


def rules() -> Rules:
    """Return the policies and calendar, loaded once per request."""
    if "page_rules" not in g:
        g.page_rules = load_rules()
    return g.page_rules


@bp.app_template_filter("local")
def local_time(at: datetime | None) -> str:
    """Show a UTC instant in the configured zone (北京时间)."""
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(current_app.config["REGISTRY"].timezone)).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("zh")
def chinese_part(message: str) -> str:
    """Show the Chinese part of a "中文 / English" message."""
    return str(message).split(" / ")[0]


def attach_errors(form: FlaskForm, exc: RuleViolation | Conflict) -> None:
    """Put a refusal's messages beside the fields they name (the rest above the form)."""
    errors = exc.errors if isinstance(exc, RuleViolation) else {str(exc.details.get("field", "")): [exc.message]}
    for name, messages in errors.items():
        target = form._fields.get(name)
        if target is not None and name != "csrf_token":
            target.errors = [*target.errors, *messages]
        else:
            form.form_errors.extend(messages)


def saved(form: FlaskForm, render: Callable[[FlaskForm, int], Any], action: Callable[[], Any]) -> tuple[Any, Any]:
    """Validate `form` and run `action` (a service call) and commit: (its result, None). On invalid input or a
    refusal, roll back and render the form again with the message beside its field (422) or above it when
    not permitted (403): (None, the response)."""
    if not form.validate_on_submit():
        return None, render(form, 422)
    session = get_session()
    try:
        result = action()
    except RuleViolation as exc:
        session.rollback()
        attach_errors(form, exc)
        return None, render(form, 422)
    except PermissionDenied as exc:
        session.rollback()
        form.form_errors.append(exc.message.split(" / ")[0])
        return None, render(form, 403)
    session.commit()
    return result, None


@dataclass
class Step:
    """One action's pieces: its form page, what it will do, and how to do it."""

    form: FlaskForm
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    consequence: Callable[[], list[str]] = list
    apply: Callable[[], str] = str
    done_url: str = "/"


def _trial(step: Step) -> None:
    """Run the action inside a savepoint and undo it, so the confirmation page is only offered for an
    action that would succeed (the same function decides both). :raises RuleViolation, Conflict:"""
    session = get_session()
    nested = session.begin_nested()
    try:
        step.apply()
        session.flush()
    finally:
        if nested.is_active:
            nested.rollback()


def run(step: Step):  # noqa: ANN201  a Flask response
    """Show the form, then the consequence to confirm, then apply, commit, flash and redirect."""
    form, context = step.form, {"today": today(), **step.context}
    if not form.validate_on_submit() or request.form.get("back"):
        status = 422 if form.is_submitted() and form.errors else 200
        return render_template(step.template, form=form, **context), status
    try:
        lines = step.consequence()
        if request.form.get("confirmed") != "1":
            _trial(step)  # the preview refuses what the action would refuse, before anyone confirms
            echo = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")]
            return render_template("confirm.html", form=form, lines=lines, echo=echo, **context)
        message = step.apply()
        get_session().commit()  # inside: a race lost at commit re-renders the form, nothing typed is lost
    except (RuleViolation, Conflict, *DB_CONFLICTS) as exc:
        get_session().rollback()
        refusal = exc if isinstance(exc, RuleViolation | Conflict) else as_conflict(exc)
        if refusal is None:
            raise
        attach_errors(form, refusal)
        return render_template(step.template, form=form, **context), 409 if isinstance(refusal, Conflict) else 422
    flash(message)
    return redirect(step.done_url)
