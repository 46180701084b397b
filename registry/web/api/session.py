"""/session and /tokens: log in and out as a JSON client; create and revoke API tokens."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import login_user, logout_user

from registry.db import utcnow
from registry.domain.actors import Action
from registry.extensions import get_session
from registry.schemas import SessionIn, TokenIn
from registry.services import users
from registry.services.auth import AccountLocked, LoginFailed, authenticate, revoke_token
from registry.web.api import bp, load
from registry.web.api.docs import doc
from registry.web.auth import LoginUser, current_actor, requires


@bp.post("/session")
@doc("登录（会话 Cookie）；连续失败将锁定账户（429）", body=SessionIn, errors=(401, 429))
def create_session():
    """Log in with username and password; sets the session cookie."""
    data, session = load(SessionIn()), get_session()
    settings = current_app.config["REGISTRY"]
    try:
        user = authenticate(session, username=data["username"], password=data["password"], at=utcnow(),
                            max_failures=settings.login_max_failures, lock_minutes=settings.login_lock_minutes,
                            ip=request.remote_addr)
    except (LoginFailed, AccountLocked):
        session.commit()  # keep the failure count even though the login is refused
        raise
    session.commit()
    login_user(LoginUser(user))
    return jsonify(username=user.username, role=user.role.value, region_code=user.region_code)


@bp.delete("/session")
@doc("退出登录", errors=(401,))
@requires(Action.READ)
def delete_session():
    """Log out (clears the session cookie)."""
    logout_user()
    return jsonify(ok=True)


@bp.post("/tokens")
@doc("创建 API 令牌（仅显示一次）", body=TokenIn, status=201, errors=(401, 403))
@requires(Action.READ)
def create_token():
    """Create a bearer token for the logged-in user; the plain token is shown once."""
    actor, session = current_actor(), get_session()
    data = load(TokenIn(), request.get_json(silent=True) or {})
    token, plain = users.create_token(session, actor=actor, username=actor.name, name=data["name"], at=utcnow())
    session.commit()
    return jsonify(id=token.id, name=token.name, token=plain), 201


@bp.delete("/tokens/<int:token_id>")
@doc("吊销 API 令牌", errors=(401, 404))
@requires(Action.READ)
def delete_token(token_id: int):
    """Revoke a token (one's own; admins any in their region)."""
    session = get_session()
    revoke_token(session, actor=current_actor(), token_id=token_id, at=utcnow())
    session.commit()
    return jsonify(ok=True)
