"""安全策略: the security administrator sets the password, session and login values (issue 16 §4)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from wtforms import IntegerField
from wtforms.validators import InputRequired

from registry.accounts import security_policy
from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, can
from registry.domain.errors import RuleViolation
from registry.domain.security_policy import RULES
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.web.pages import bp
from registry.web.pages.flow import attach_errors
from registry.web.pages.forms import PageForm


class SecurityPolicyForm(PageForm):
    """One whole-number field per policy value (bounds checked by the domain, messages in Chinese)."""


for _name, _rule in RULES.items():
    setattr(SecurityPolicyForm, _name, IntegerField(f"{_rule.label}（{_rule.unit}）" if _rule.unit else _rule.label,
                                                    validators=[InputRequired(f"请填写{_rule.label}")]))


def _settings():  # noqa: ANN202
    from flask import current_app

    return current_app.config["REGISTRY"]


@bp.route("/security-policy", methods=["GET", "POST"])
@requires(Action.SET_SECURITY_POLICY, Action.VIEW_ACCOUNTS)
def security_policy_page():
    """Show the policy in force (and the environment's values); a security administrator changes it."""
    session, actor = get_session(), current_actor()
    may_set = can(actor, Action.SET_SECURITY_POLICY)
    values = security_policy.current_values(session, _settings())
    form = SecurityPolicyForm(data=values)
    status = 200
    if may_set and form.validate_on_submit():
        changes = {name: form[name].data for name in RULES}
        try:
            security_policy.set_policy(session, actor=actor, changes=changes, settings=_settings(), at=utcnow())
            session.commit()
        except RuleViolation as exc:
            session.rollback()
            attach_errors(form, exc)
            status = 422
        else:
            g.pop("security_settings", None)
            flash("安全策略已更新，立即生效（已记入审计日志）")
            return redirect(url_for("pages.security_policy_page"))
    elif form.is_submitted():
        status = 422 if may_set else 403
    defaults = {name: int(getattr(_settings(), name)) for name in RULES}
    return render_template("security_policy.html", form=form, rules=RULES, defaults=defaults, may_set=may_set), status
