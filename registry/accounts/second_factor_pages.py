"""The second step of a login (动态验证码), enrolment with a QR code, and each user's 双因素认证 page.

After a correct password, a user who has or must have the second factor gets no session yet: the
signed cookie only remembers, for five minutes, that the password was right (access.await_second_factor).
The session starts when a good code (or an unused recovery code) follows; an administrator who
has not enrolled goes through enrolment first. Pages in plain Chinese; the QR code is an SVG
image drawn on the server (no script, no network).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from registry.accounts import second_factor, sessions
from registry.accounts.access import (
    change_reason,
    current_actor,
    drop_pending_login,
    pending_login,
    security_settings,
    sign_in,
)
from registry.accounts.auth import AccountLocked, AddressThrottled, Throttle
from registry.accounts.models import User
from registry.domain.errors import RuleViolation
from registry.platform.db import writing
from registry.platform.extensions import get_session
from registry.web.clock import now
from registry.web.pages import bp

BEIJING = ZoneInfo("Asia/Shanghai")


class CodeForm(FlaskForm):
    """A 6-digit code from the authenticator app, or a recovery code."""

    code = StringField("动态验证码", validators=[DataRequired(message="请输入验证码"),
                                            Length(max=32, message="验证码过长")])


def _after_login(user: User, next_url: str):  # noqa: ANN202
    if reason := change_reason(user):
        flash(reason)
        return redirect(url_for("pages.change_password"))
    from registry.accounts.pages import safe_next

    return redirect(safe_next(next_url or None))


def _enrolment_view(user: User, form: CodeForm, *, action: str, status: int = 200):  # noqa: ANN202
    session = get_session()
    if not user.totp_secret:  # the secret is made once and kept until confirmed (a reload shows the same one)
        with writing(session):  # a GET request's session is read-only: this one write is its own transaction
            user = session.get(User, user.id)
            second_factor.start_enrolment(session, user=user)
            session.commit()
    uri = second_factor.provisioning_uri(user)
    return render_template("second_factor_enrol.html", form=form, qr=second_factor.qr_svg_data_uri(uri),
                           secret=second_factor.spaced(user.totp_secret or ""), action=action,
                           mandatory=second_factor.required(user, _required_for_all())), status


def _required_for_all() -> bool:
    return security_settings().second_factor_required_for_all


@bp.route("/login/second-factor", methods=["GET", "POST"])
def login_second_factor():
    """The second step of a login: a code from the authenticator app, or a recovery code."""
    pending = pending_login()
    if pending is None:
        flash("登录已超时，请重新输入用户名和密码")
        return redirect(url_for("pages.login"))
    user, next_url = pending
    if not second_factor.enrolled(user):
        return redirect(url_for("pages.login_second_factor_enrol"))
    form, error, status = CodeForm(), None, 200
    if form.validate_on_submit():
        session = get_session()
        try:
            passed = second_factor.verify(session, user=user, code=form.code.data, at=now(),
                                          throttle=Throttle.of(security_settings()),
                                          ip=request.remote_addr, request_id=g.get("request_id"))
        except (second_factor.SecondFactorFailed, AccountLocked, AddressThrottled) as exc:
            session.commit()  # keep the failure count and its audit event
            error, status = exc.message.split(" / ")[0], 401
            if isinstance(exc, AccountLocked):
                drop_pending_login()
                flash(error)
                return redirect(url_for("pages.login"))
        else:
            sign_in(user, passed)
            if passed == second_factor.RECOVERY:
                flash("您使用了一个恢复码登录，该恢复码已失效；恢复码将用完时请在“双因素认证”页面重新生成")
            return _after_login(user, next_url)
    return render_template("second_factor.html", form=form, error=error, username=user.username), status


@bp.route("/login/second-factor/enrol", methods=["GET", "POST"])
def login_second_factor_enrol():
    """First login of a user who must use the second factor: bind an authenticator app, then log in."""
    pending = pending_login()
    if pending is None:
        flash("登录已超时，请重新输入用户名和密码")
        return redirect(url_for("pages.login"))
    user, next_url = pending
    if second_factor.enrolled(user):
        return redirect(url_for("pages.login_second_factor"))
    form = CodeForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            codes = second_factor.confirm_enrolment(session, user=user, code=form.code.data, at=now(),
                                                    ip=request.remote_addr, request_id=g.get("request_id"))
        except RuleViolation as exc:
            session.rollback()
            form.code.errors = list(exc.errors.get("code", ["验证码不正确"]))
            return _enrolment_view(user, form, action=url_for("pages.login_second_factor_enrol"), status=422)
        sign_in(user, second_factor.TOTP)  # commits the enrolment with the new session
        return render_template("second_factor_codes.html", codes=codes,
                               next_url=_after_login(user, next_url).location)
    return _enrolment_view(user, form, action=url_for("pages.login_second_factor_enrol"))


@bp.route("/account/second-factor", methods=["GET", "POST"])
def account_second_factor():
    """Every user's 双因素认证 page: enrol (business roles may; administrators have), renew recovery codes."""
    actor = current_actor()
    if actor.kind != "user":
        return redirect(url_for("pages.login"))
    session, user = get_session(), current_user.user
    form = CodeForm()
    if not second_factor.enrolled(user):
        if form.validate_on_submit():
            try:
                codes = second_factor.confirm_enrolment(session, user=user, code=form.code.data, at=now(),
                                                        ip=request.remote_addr, request_id=g.get("request_id"))
            except RuleViolation as exc:
                session.rollback()
                form.code.errors = list(exc.errors.get("code", ["验证码不正确"]))
                return _enrolment_view(user, form, action=url_for("pages.account_second_factor"), status=422)
            row = session.get(sessions.UserSession, sessions.digest(current_user.secret))
            if row is not None:
                row.second_factor = second_factor.TOTP  # this session has just shown the second factor
            session.commit()
            return render_template("second_factor_codes.html", codes=codes, next_url=url_for("pages.dashboard"))
        return _enrolment_view(user, form, action=url_for("pages.account_second_factor"))
    error, status = None, 200
    if form.validate_on_submit():
        try:
            codes = second_factor.renew_recovery_codes(session, user=user, code=form.code.data, at=now(),
                                                       throttle=Throttle.of(security_settings()),
                                                       ip=request.remote_addr, request_id=g.get("request_id"))
        except (second_factor.SecondFactorFailed, AccountLocked) as exc:
            session.commit()
            error, status = exc.message.split(" / ")[0], 401
        else:
            session.commit()
            return render_template("second_factor_codes.html", codes=codes, next_url=url_for("pages.dashboard"))
    left = sum(1 for _ in _unused_codes(session, user))
    since = user.totp_enabled_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if user.totp_enabled_at else ""
    return render_template("second_factor_status.html", form=form, error=error, left=left, since=since,
                           session_passed=current_user.second_factor is not None), status


def _unused_codes(session, user: User):  # noqa: ANN001, ANN202
    import sqlalchemy as sa

    from registry.accounts.models import RecoveryCode

    return session.scalars(sa.select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                            RecoveryCode.used_at.is_(None)))
