"""/session, /sessions and /tokens: log in and out as a JSON client; list and end sessions; tokens.

A login starts a server-side session (registry/accounts/sessions.py) and ends the account's
other sessions; logout ends it for good. Tokens are created only from a browser session (never
with a token), carry a scope (read or write) and expire (settings.token_days); their owner and
the admins of the owner's region can list and revoke them.
"""

from __future__ import annotations

from flask import g, jsonify, request

from registry.accounts import second_factor, sessions, users
from registry.accounts.access import current_actor, limits, logged_in, security_settings, sign_in, sign_out
from registry.accounts.auth import (
    AccountLocked,
    AddressThrottled,
    LoginFailed,
    Throttle,
    authenticate,
    list_tokens,
    revoke_token,
)
from registry.domain.errors import PermissionDenied
from registry.platform.extensions import get_session
from registry.web.api import bp, load
from registry.web.api.common import schema
from registry.web.api.docs import doc
from registry.web.api.schemas import OwnerArgs, SessionIn, SessionOut, TokenCreatedOut, TokenIn, TokenOut
from registry.web.clock import now


@bp.post("/session")
@doc("登录（会话 Cookie）；用户不存在与密码错误答复相同（401）；账户或地址连续失败将限制（429）；"
     "新登录结束该账户的其他会话；已绑定或须用双因素认证的账户须同时提供 code（动态验证码或恢复码），"
     "缺少时 401 且 second_factor=required，尚未绑定时 403", body=SessionIn, errors=(401, 403, 429))
def create_session():
    """Log in with username and password; sets the session cookie."""
    data, session = load(SessionIn()), get_session()
    try:
        user = authenticate(session, username=data["username"], password=data["password"], at=now(),
                            throttle=Throttle.of(security_settings()), ip=request.remote_addr,
                            request_id=g.get("request_id"))
    except (LoginFailed, AccountLocked, AddressThrottled):
        session.commit()  # keep the failure counts and the audit event even though the login is refused
        raise
    settings, passed = security_settings(), None
    if second_factor.needed(user, settings.second_factor_required_for_all):
        session.commit()  # the password was right (its failure count is reset); the second factor decides
        if not second_factor.enrolled(user):
            raise PermissionDenied("本账号须使用双因素认证，请先在浏览器登录页完成绑定 / enrol the second factor "
                                   "in the browser first", second_factor="enrol")
        if not data.get("code"):
            raise second_factor.SecondFactorRequired("请提供动态验证码（code） / the second factor is required",
                                                     second_factor="required")
        try:
            passed = second_factor.verify(session, user=user, code=data["code"], at=now(),
                                          throttle=Throttle.of(settings), ip=request.remote_addr,
                                          request_id=g.get("request_id"))
        except (second_factor.SecondFactorFailed, AccountLocked):
            session.commit()
            raise
    sign_in(user, passed)
    return jsonify(username=user.username, role=user.role.value, region_code=user.region_code,
                   second_factor=passed)


@bp.delete("/session")
@doc("退出登录（服务端结束会话，旧 Cookie 随即失效）", errors=(401,))
@logged_in
def delete_session():
    """Log out: the session ends server-side and the cookie is cleared."""
    sign_out()
    return jsonify(ok=True)


@bp.get("/sessions")
@doc("列出未结束的会话（本人；管理员可用 ?user= 查看本地区用户的会话）", query=OwnerArgs, response=SessionOut,
     many=True, errors=(401, 404))
@logged_in
def list_sessions():
    """List open sessions: one's own, or (admins) a user's of their region."""
    args = schema(OwnerArgs).load(request.args.to_dict())
    rows = sessions.listing(get_session(), actor=current_actor(), username=args["user"], at=now(), limits=limits())
    return jsonify(items=SessionOut(many=True).dump(rows), total=len(rows), page=1, per_page=max(len(rows), 1))


@bp.delete("/sessions")
@doc("结束会话：本人的全部会话，或（管理员）?user= 本地区某用户的全部会话", query=OwnerArgs, errors=(401, 404))
@logged_in
def delete_sessions():
    """End every open session of a user (one's own, or admins: a user of their region)."""
    args, session = schema(OwnerArgs).load(request.args.to_dict()), get_session()
    actor = current_actor()
    ended = sessions.revoke_user_sessions(session, actor=actor, username=args["user"] or actor.name, at=now())
    session.commit()
    return jsonify(ended=ended)


@bp.get("/tokens")
@doc("列出 API 令牌（本人；管理员可用 ?user=用户名 或 ?user=* 查看本地区的令牌；?all=1 含已吊销、已过期）",
     query=OwnerArgs, response=TokenOut, many=True, errors=(401, 404))
@logged_in
def get_tokens():
    """List tokens (never the tokens themselves): own, or (admins) a user's or all in their region."""
    args = schema(OwnerArgs).load(request.args.to_dict())
    rows = list_tokens(get_session(), actor=current_actor(), username=args["user"], include_ended=args["all"],
                       at=now())
    return jsonify(items=TokenOut(many=True).dump(rows), total=len(rows), page=1, per_page=max(len(rows), 1))


@bp.post("/tokens")
@doc("创建 API 令牌（仅显示一次）；只能在浏览器会话中创建，不能用令牌创建令牌（403）；"
     "scope=read 只读（写操作 403）或 write 读写；到期天数见设置 REGISTRY_TOKEN_DAYS",
     body=TokenIn, response=TokenCreatedOut, status=201, errors=(401, 403))
@logged_in
def create_token():
    """Create a bearer token for the logged-in user; the plain token is shown once."""
    actor, session = current_actor(), get_session()
    data = load(TokenIn(), request.get_json(silent=True) or {})
    token, plain = users.create_token(session, actor=actor, username=actor.name, name=data["name"],
                                      scope=data["scope"], at=now(),
                                      days=security_settings().token_days)
    session.commit()
    return jsonify({**TokenOut().dump(token), "token": plain}), 201


@bp.delete("/tokens/<int:token_id>")
@doc("吊销 API 令牌（本人的；管理员可吊销本地区任何令牌；只读令牌也可吊销自身）", errors=(401, 404))
@logged_in
def delete_token(token_id: int):
    """Revoke a token (one's own; admins any in their region)."""
    session = get_session()
    revoke_token(session, actor=current_actor(), token_id=token_id, at=now())
    session.commit()
    return jsonify(ok=True)
