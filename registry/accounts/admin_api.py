"""/users and /account-proposals: account administration under 三员分立 (issue 16 §1, §4).

A system administrator proposes (202: the proposal is returned; nothing changes yet); a security
administrator of the region approves or rejects. Passwords travel in the JSON body only.
"""

from __future__ import annotations

from flask import jsonify, request

from registry.accounts import admin as accounts
from registry.accounts.access import current_actor, requires, security_settings
from registry.accounts.users import password_policy
from registry.domain.actors import Action
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.proposals import services as proposals
from registry.web.api import bp, load
from registry.web.api.common import schema
from registry.web.api.docs import doc
from registry.web.api.schemas import (
    AccountIn,
    AccountPatch,
    NoteIn,
    PasswordResetIn,
    ProposalArgs,
    ProposalOut,
    UserOut,
)

SIMPLE = {"disable": "account.disable", "enable": "account.enable", "unlock": "account.unlock"}


def _listed(rows: list, out: object):  # noqa: ANN202
    return jsonify(items=out.dump(rows), total=len(rows), page=1, per_page=max(len(rows), 1))


def _accepted(row):  # noqa: ANN001, ANN202
    get_session().commit()
    return jsonify(ProposalOut().dump(row)), 202


def _body(model):  # noqa: ANN001, ANN202
    return load(model(), request.get_json(silent=True) or {})


@bp.get("/users")
@doc("账号列表（系统管理员、安全管理员；本地区）", response=UserOut, many=True)
@requires(Action.VIEW_ACCOUNTS)
def list_users():
    """List the accounts of the caller's region."""
    return _listed(accounts.list_users(get_session(), actor=current_actor()), UserOut(many=True))


@bp.post("/users")
@doc("提出新建账号（系统管理员）；安全管理员批准后生效，用户首次登录须修改密码", body=AccountIn,
     accepted=ProposalOut, status=202, response=ProposalOut)
@requires(Action.MANAGE_USERS)
def propose_user():
    """Propose an account; it is created when a security administrator approves."""
    data = load(AccountIn())
    row = accounts.propose_create(get_session(), actor=current_actor(), data=data, at=utcnow(),
                                  policy=password_policy(security_settings()))
    return _accepted(row)


@bp.patch("/users/<string(maxlength=64):username>")
@doc("提出变更账号的角色或地区（系统管理员）；安全管理员批准后生效", body=AccountPatch, accepted=ProposalOut,
     status=202, response=ProposalOut)
@requires(Action.MANAGE_USERS)
def propose_user_update(username: str):
    """Propose a new role and/or region for an account."""
    data = load(AccountPatch())
    row = accounts.propose_change(get_session(), actor=current_actor(), username=username, kind="account.update",
                                  data=data, at=utcnow())
    return _accepted(row)


@bp.post("/users/<string(maxlength=64):username>/<any(disable, enable, unlock):operation>")
@doc("提出停用、启用或解除锁定账号（系统管理员）；安全管理员批准后生效", body=NoteIn, body_required=False,
     accepted=ProposalOut, status=202, response=ProposalOut)
@requires(Action.MANAGE_USERS)
def propose_user_switch(username: str, operation: str):
    """Propose disabling, enabling or unlocking an account."""
    data = _body(NoteIn)
    row = accounts.propose_change(get_session(), actor=current_actor(), username=username, kind=SIMPLE[operation],
                                  data=data, at=utcnow())
    return _accepted(row)


@bp.post("/users/<string(maxlength=64):username>/password-reset")
@doc("提出重置密码（系统管理员，临时密码在请求体中）；安全管理员批准后生效，用户下次登录须修改",
     body=PasswordResetIn, accepted=ProposalOut, status=202, response=ProposalOut)
@requires(Action.MANAGE_USERS)
def propose_password_reset(username: str):
    """Propose a password reset; the user must change it at the next login."""
    data = load(PasswordResetIn())
    row = accounts.propose_change(get_session(), actor=current_actor(), username=username, kind="account.reset",
                                  data=data, at=utcnow(), policy=password_policy(security_settings()))
    return _accepted(row)


@bp.get("/account-proposals")
@doc("账号变更申请（默认待审批；?status=confirmed|rejected|all）", query=ProposalArgs, response=ProposalOut, many=True)
@requires(Action.VIEW_ACCOUNTS)
def list_account_proposals():
    """List account changes of the caller's region."""
    args = schema(ProposalArgs).load(request.args.to_dict())
    rows = proposals.listing(get_session(), current_actor(), accounts=True,
                             status=None if args["status"] == "all" else args["status"])
    return _listed(rows, ProposalOut(many=True))


@bp.post("/account-proposals/<int:proposal_id>/<any(approve, reject):decision>")
@doc("批准或驳回账号变更（安全管理员；不能审批本人提出的或涉及本人账号的变更）；重复审批 409", body=NoteIn,
     body_required=False, response=ProposalOut, errors=(401, 403, 404, 409))
@requires(Action.APPROVE_ACCOUNTS)
def decide_account_proposal(proposal_id: int, decision: str):
    """Approve (the change takes effect now) or reject an account change."""
    data, session = _body(NoteIn), get_session()
    decide = accounts.approve if decision == "approve" else accounts.reject
    row = decide(session, actor=current_actor(), proposal_id=proposal_id, at=utcnow(), note=data.get("note"))
    session.commit()
    return jsonify(ProposalOut().dump(row))
