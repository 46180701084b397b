"""Migration 0009 keeps the API tokens that exist: write scope (what they had), expiry 90 days after the upgrade.

The rows are written at 0006 (the revision 0009 follows) and read at head."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade


def test_existing_tokens_get_write_scope_and_a_90_day_grace(empty_url):
    upgrade(empty_url, "0006")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, username, display_name, email, password_hash, role, region_code, is_active,"
            " session_token, failed_login_count, wants_daily_digest, created_at)"
            " VALUES (1, 'li', 'li', 'li@x.cn', 'h', 'officer', '331000', true, 's', 0, false, CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at)"
                             " VALUES (1, 1, 'etl', 'abc', CURRENT_TIMESTAMP)"))
    engine.dispose()
    before = datetime.now(UTC)
    upgrade(empty_url)  # head: 0009 and whatever the integrator chains after it
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        scope, expires = conn.execute(sa.text("SELECT scope, expires_at FROM api_tokens")).one()
    engine.dispose()
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    expires = expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires
    assert scope == "write"
    assert before + timedelta(days=89) < expires < datetime.now(UTC) + timedelta(days=91)
    downgrade(empty_url, "0006")
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM api_tokens")).scalar_one() == "etl"
    engine.dispose()
