"""Login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from registry.accounts import second_factor, sessions
from registry.accounts.access import (
    await_second_factor,
    change_reason,
    current_actor,
    security_settings,
    sign_in,
    sign_out,
)
from registry.accounts.auth import AccountLocked, AddressThrottled, LoginFailed, Throttle, authenticate
from registry.accounts.users import change_password as change_own_password
from registry.accounts.users import password_policy
from registry.domain.errors import RuleViolation
from registry.platform.extensions import get_session
from registry.web.clock import now
from registry.web.pages import bp


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired(message="请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])


class ChangePasswordForm(FlaskForm):
    """The current password, the new one and its confirmation."""

    old_password = PasswordField("原密码", validators=[DataRequired(message="请输入原密码")])
    new_password = PasswordField("新密码", validators=[DataRequired(message="请输入新密码")])
    confirm_password = PasswordField("确认新密码", validators=[DataRequired(message="请再次输入新密码")])


def safe_next(target: str | None) -> str:
    """Return `target` only when it is a path on this site (no open redirect)."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log in on a correct password (throttled per account and per address).

    An unknown user and a wrong password get the same page, status and work (services/auth.py).
    """
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        settings, session = security_settings(), get_session()
        try:
            user = authenticate(session, username=form.username.data.strip(), password=form.password.data,
                                at=now(), throttle=Throttle.of(settings), ip=request.remote_addr,
                                request_id=g.get("request_id"))
        except (LoginFailed, AccountLocked, AddressThrottled) as exc:
            session.commit()  # keep the failure count even though the login is refused
            error, status = exc.message.split(" / ")[0], 401 if isinstance(exc, LoginFailed) else 429
        else:
            if second_factor.needed(user, settings.second_factor_required_for_all):
                session.commit()  # the password was right: its failure count is reset, no session yet
                await_second_factor(user, request.args.get("next"))
                return redirect(url_for("pages.login_second_factor" if second_factor.enrolled(user)
                                        else "pages.login_second_factor_enrol"))
            sign_in(user)
            if reason := change_reason(user):  # reset by an administrator, or past its maximum age
                flash(reason)
                return redirect(url_for("pages.change_password"))
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """End the session (server-side too: the old cookie no longer works) and return to the login page."""
    sign_out()
    flash("您已退出登录")
    return redirect(url_for("pages.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Every user changes their own password here (old, new, confirmation); their other sessions end."""
    actor = current_actor()  # 401 → the login page when nobody is logged in
    if actor.kind != "user":
        return redirect(url_for("pages.login"))
    settings, session = security_settings(), get_session()
    policy, form = password_policy(settings), ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(session, actor=actor, old=form.old_password.data, new=form.new_password.data,
                                confirm=form.confirm_password.data, at=now(), policy=policy,
                                keep_session=sessions.digest(current_user.secret))
        except RuleViolation as exc:
            session.rollback()
            for name, messages in exc.errors.items():
                getattr(form, name).errors = list(messages)
        else:
            session.commit()
            flash("密码已修改；您在其他地方的登录会话已结束")
            return redirect(url_for("pages.dashboard"))
    user = current_user.user
    return render_template("change_password.html", form=form, policy=policy,
                           reason=change_reason(user) if request.method == "GET" else None)
