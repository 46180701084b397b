"""Bearer tokens: last use is recorded to the minute, so a burst of API calls writes it once."""

from __future__ import annotations

from datetime import timedelta

from registry.accounts.auth import LAST_USED_RESOLUTION, user_for_token
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
