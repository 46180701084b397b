"""账号管理: accounts under 三员分立 (issue 16 §1, §4).

The system administrator proposes (new account, disable, enable, unlock, reset the password,
change the role or region); the security administrator of the region approves or rejects each
proposal on the same pages. Nothing changes before the approval. Every step is audited.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from registry.accounts import admin as accounts
from registry.accounts.access import current_actor, requires, security_settings
from registry.accounts.users import password_policy
from registry.domain.actors import ROLE_NAMES, Action, can
from registry.domain.errors import Conflict, PermissionDenied, RuleViolation
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.proposals import services as proposals
from registry.web.pages import bp
from registry.web.pages.choices import region_choices
from registry.web.pages.flow import attach_errors
from registry.web.pages.forms import PageForm, choices

OPERATIONS = {"disable": "account.disable", "enable": "account.enable", "unlock": "account.unlock",
              "reset": "account.reset", "update": "account.update"}


class NewAccountForm(PageForm):
    """A new account: who, which role and region, and a first password the user must change."""

    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    display_name = StringField("姓名", validators=[Optional(), Length(max=64)])
    email = EmailField("邮箱", validators=[DataRequired("请输入邮箱"), Length(max=254)])
    role = SelectField("角色", validators=[DataRequired("请选择角色")])
    region_code = SelectField("管辖地区", validators=[DataRequired("请选择地区")])
    password = PasswordField("初始密码（用户首次登录须修改）", validators=[DataRequired("请输入初始密码")])
    note = TextAreaField("说明", validators=[Optional(), Length(max=1000)])


class ChangeForm(PageForm):
    """One proposed change of an account: the fields that kind needs, and why."""

    role = SelectField("新角色", validators=[Optional()])
    region_code = SelectField("新管辖地区", validators=[Optional()])
    password = PasswordField("临时密码（用户下次登录须修改）", validators=[Optional()])
    note = TextAreaField("说明", validators=[Optional(), Length(max=1000)])


class DecisionForm(PageForm):
    """Approve or reject, with an optional note."""

    note = TextAreaField("审批意见", validators=[Optional(), Length(max=1000)])


def _regions() -> list:
    actor = current_actor()
    nationwide = [("000000", "全国（000000）")] if actor.region_code == "000000" else []
    return choices([("", "请选择"), *nationwide, *[(c.value, c.label) for c in region_choices(actor, blank=None,
                                                                                              districts=True)]])


def _roles(blank: str = "请选择") -> list:
    return choices([("", blank), *[(r.value, name) for r, name in ROLE_NAMES.items()]])


def _change_form() -> ChangeForm:
    form = ChangeForm()
    form.role.choices, form.region_code.choices = _roles("不变"), _regions()
    form.region_code.choices[0] = choices([("", "不变")])[0]
    return form


@bp.get("/accounts", endpoint="accounts")
@requires(Action.VIEW_ACCOUNTS)
def accounts_page():
    """The region's accounts and the account changes waiting for approval (and the recently decided)."""
    session, actor = get_session(), current_actor()
    return render_template("accounts.html", users=accounts.list_users(session, actor=actor),
                           pending=proposals.listing(session, actor, accounts=True),
                           decided=[p for p in proposals.listing(session, actor, accounts=True, status=None, limit=30)
                                    if p.status.value != "pending"],
                           may_propose=can(actor, Action.MANAGE_USERS), may_approve=can(actor, Action.APPROVE_ACCOUNTS),
                           kind_names=proposals.KIND_NAMES, status_names=proposals.STATUS_NAMES,
                           decision=DecisionForm(), now_utc=utcnow())


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires(Action.MANAGE_USERS)
def account_new():
    """Propose a new account (it is created when a security administrator approves)."""
    session, actor = get_session(), current_actor()
    form = NewAccountForm()
    form.role.choices, form.region_code.choices = _roles(), _regions()
    status = 200
    if form.validate_on_submit():
        try:
            row = accounts.propose_create(session, actor=actor, data=form.data, at=utcnow(),
                                          policy=password_policy(security_settings()))
            session.commit()
        except (RuleViolation, Conflict) as exc:
            session.rollback()
            attach_errors(form, exc)
            status = 409 if isinstance(exc, Conflict) else 422
        else:
            flash(f"已提交：{row.summary}。须经安全管理员批准后生效")
            return redirect(url_for("pages.accounts"))
    elif form.is_submitted():
        status = 422
    policy = password_policy(security_settings())
    return render_template("account_new.html", form=form, policy=policy), status


@bp.route("/accounts/<username>", methods=["GET"])
@requires(Action.VIEW_ACCOUNTS)
def account(username: str):
    """One account: its state, its pending changes, and (system administrators) the changes to propose."""
    session, actor = get_session(), current_actor()
    user = accounts.get_user(session, actor, username)
    return _render_account(user, _change_form())


def _render_account(user, form: ChangeForm, status: int = 200):  # noqa: ANN001, ANN202
    session, actor = get_session(), current_actor()
    pending = [p for p in proposals.listing(session, actor, accounts=True) if p.target_id == user.id]
    return render_template("account.html", user=user, form=form, pending=pending, today_at=utcnow(),
                           may_propose=can(actor, Action.MANAGE_USERS) and actor.user_id != user.id,
                           kind_names=proposals.KIND_NAMES,
                           policy=password_policy(security_settings())), status


@bp.post("/accounts/<username>/<any(disable, enable, unlock, reset, update):operation>")
@requires(Action.MANAGE_USERS)
def account_change(username: str, operation: str):
    """Propose one change of an account (it takes effect when a security administrator approves)."""
    session, actor = get_session(), current_actor()
    user = accounts.get_user(session, actor, username)
    form = _change_form()
    if not form.validate_on_submit():
        return _render_account(user, form, 422)
    data = {"note": form.note.data, "password": form.password.data, "role": form.role.data or None,
            "region_code": form.region_code.data or None}
    try:
        row = accounts.propose_change(session, actor=actor, username=user.username, kind=OPERATIONS[operation],
                                      data=data, at=utcnow(), policy=password_policy(security_settings()))
        session.commit()
    except (RuleViolation, Conflict, PermissionDenied) as exc:
        session.rollback()
        if isinstance(exc, PermissionDenied):
            form.form_errors.append(exc.message.split(" / ")[0])
        else:
            attach_errors(form, exc)
        return _render_account(accounts.get_user(session, actor, username), form,
                               403 if isinstance(exc, PermissionDenied) else 409 if isinstance(exc, Conflict) else 422)
    flash(f"已提交：{row.summary}。须经安全管理员批准后生效")
    return redirect(url_for("pages.account", username=user.username))


@bp.post("/accounts/proposals/<int:proposal_id>/<any(approve, reject):decision>")
@requires(Action.APPROVE_ACCOUNTS)
def account_decision(proposal_id: int, decision: str):
    """Approve (the change takes effect now) or reject an account change."""
    session, actor = get_session(), current_actor()
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("请求已过期，请刷新后重试", "error")
        return redirect(url_for("pages.accounts"))
    decide = accounts.approve if decision == "approve" else accounts.reject
    try:
        row = decide(session, actor=actor, proposal_id=proposal_id, at=utcnow(), note=form.note.data)
        session.commit()
    except (RuleViolation, Conflict, PermissionDenied) as exc:
        session.rollback()
        flash(str(exc.message).split(" / ")[0], "error")
    else:
        flash(f"{'已批准并生效' if decision == 'approve' else '已驳回'}：{row.summary}")
    return redirect(url_for("pages.accounts"))
