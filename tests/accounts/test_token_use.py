"""Bearer tokens: last use is recorded to the minute, so a burst of API calls writes it once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from registry.accounts.auth import LAST_USED_RESOLUTION, user_for_token
from registry.accounts.models import ApiToken, User
from registry.accounts.users import create_token, create_user
from tests.conftest import NOW


def test_last_used_is_written_once_a_minute(session, admin):
    create_user(session, actor=admin, username="api_user", role="officer", region_code="330000",
                email="api@example.gov.cn", password="long-enough-1", at=NOW)
    token, plain = create_token(session, actor=admin, username="api_user", name="t", at=NOW)

    user, row = user_for_token(session, plain, NOW)
    assert user.username == "api_user" and row.last_used_at == NOW

    user_for_token(session, plain, NOW + timedelta(seconds=30))
    assert token.last_used_at == NOW  # within the minute: unchanged, nothing to write
    session.flush()
    assert not session.dirty

    later = NOW + LAST_USED_RESOLUTION
    user_for_token(session, plain, later)
    assert token.last_used_at == later


def test_a_request_reads_the_token_as_columns_and_stamps_it_once_a_minute(app, api_as, session, clock):
    """The API's token check (registry.accounts.access.load_actor, issue 19: no ORM objects per request) refuses
    what user_for_token refuses — a revoked token, an expired one, a disabled user's — and still stamps the last
    use, once a minute."""
    reader = api_as("officer", "331000")
    session.commit()
    row = session.scalars(sa.select(ApiToken).order_by(ApiToken.id.desc())).first()
    assert reader.get("/api/v1/enterprises").status_code == 200
    session.expire_all()
    assert row.last_used_at == NOW
    clock.advance(seconds=30)
    assert reader.get("/api/v1/enterprises").status_code == 200
    session.expire_all()
    assert row.last_used_at == NOW  # within the minute: not written
    clock.advance(seconds=30)
    assert reader.get("/api/v1/enterprises").status_code == 200
    session.expire_all()
    assert row.last_used_at == NOW + LAST_USED_RESOLUTION
    # refused as user_for_token refuses: user disabled, token expired, token revoked
    user = session.get(User, row.user_id)
    user.is_active = False
    session.commit()
    assert reader.get("/api/v1/enterprises").status_code == 401
    user.is_active = True
    session.commit()
    assert reader.get("/api/v1/enterprises").status_code == 200
    clock.at = row.expires_at
    assert reader.get("/api/v1/enterprises").status_code == 401
    clock.at = NOW + timedelta(minutes=5)
    row.revoked_at = clock.at
    session.commit()
    assert reader.get("/api/v1/enterprises").status_code == 401
