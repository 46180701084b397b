"""Migration 0034 on SQLite and PostgreSQL: existing users keep reminder e-mail (default on); downgrade refuses while
a user has switched it off (dropping the column would resume e-mail to them), and succeeds once none has."""

import pytest
import sqlalchemy as sa

from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade

USER = ("INSERT INTO users (id, username, display_name, email, password_hash, role, region_code, is_active,"
        " session_token, failed_login_count, wants_daily_digest, created_at, must_change_password,"
        " second_factor_failures) VALUES (:id, :name, '', :email, 'x', 'officer', '331000', :t,"
        " :token, 0, :f, '2026-12-06 15:00:00', :f, 0)")


def columns(engine):
    return {c["name"] for c in sa.inspect(engine).get_columns("users")}


def test_existing_users_keep_e_mail_and_downgrade_refuses_to_drop_an_opt_out(empty_url):
    url = empty_url
    upgrade(url, "0032")
    engine = make_engine(url)
    with engine.begin() as conn:
        for uid in (1, 2):
            conn.execute(sa.text(USER), {"id": uid, "name": f"u{uid}", "email": f"u{uid}@gov.example.cn",
                                       "token": f"token-{uid}", "t": True, "f": False})
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT wants_reminder_email FROM users ORDER BY id")).scalars().all() == [
            True, True]  # existing users: e-mail stays on, as before
        conn.execute(sa.text("UPDATE users SET wants_reminder_email = :off WHERE id = 2"), {"off": False})
    engine.dispose()
    with pytest.raises(RuntimeError, match="1 位用户已关闭邮件提醒"):
        downgrade(url, "0032")
    engine = make_engine(url)
    assert "wants_reminder_email" in columns(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET wants_reminder_email = :on"), {"on": True})
    engine.dispose()
    downgrade(url, "0032")
    engine = make_engine(url)
    assert "wants_reminder_email" not in columns(engine) and "email" in columns(engine)
    engine.dispose()
    upgrade(url)  # and up again: the round trip
