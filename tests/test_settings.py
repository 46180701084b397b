"""Settings: the secret key never defaults in production; bad values are named."""

import pytest

from config.settings import Settings, SettingsError
from registry import create_app
from tests.conftest import ROOT, TEST_NOW

#: production also requires the personal-information keys (issue 16 §6; tests/privacy/test_keys.py)
PI_KEYS = {"REGISTRY_PI_KEY": "k1:" + "ab" * 16, "REGISTRY_PI_INDEX_KEY": "cd" * 32}


def test_production_requires_a_secret_key():
    with pytest.raises(SettingsError, match="REGISTRY_SECRET_KEY"):
        Settings.from_env({"REGISTRY_ENV": "production"})
    settings = Settings.from_env({"REGISTRY_ENV": "production", "REGISTRY_SECRET_KEY": "s3cret", **PI_KEYS})
    assert settings.secret_key == "s3cret" and settings.is_production


def test_bad_smtp_settings_are_named():
    with pytest.raises(SettingsError, match="REGISTRY_SMTP_SECURITY"):
        Settings.from_env({"REGISTRY_SMTP_SECURITY": "tls1"})
    with pytest.raises(SettingsError, match="REGISTRY_SMTP_PORT"):
        Settings.from_env({"REGISTRY_SMTP_PORT": "twenty-five"})


def test_relative_sqlite_url_is_relative_to_the_project():
    settings = Settings.from_env({"REGISTRY_DATABASE_URL": "sqlite:///instance/x.db", "REGISTRY_SECRET_KEY": "k"})
    assert settings.database_url == f"sqlite:///{ROOT / 'instance' / 'x.db'}"


def test_production_cookies_are_secure(tmp_path):
    settings = Settings(env="production", secret_key="k", database_url=f"sqlite:///{tmp_path / 'x.db'}",
                        policy_dir=ROOT / "config" / "policies", pi_key=PI_KEYS["REGISTRY_PI_KEY"],
                        pi_index_key=PI_KEYS["REGISTRY_PI_INDEX_KEY"])
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax" and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SECRET_KEY"] == "k"


def test_clock_setting_moves_today_and_is_refused_in_production():
    from datetime import date

    from registry.platform import clock

    moved = Settings.from_env({"REGISTRY_CLOCK": "2028-02-29"})
    assert moved.clock == "2028-02-29"
    try:
        clock.set_clock(clock.parse_clock("2028-02-29", moved.timezone))
        assert clock.today_in("Asia/Shanghai") == date(2028, 2, 29)
        assert clock.utcnow().isoformat().startswith("2028-02-29T02:")  # 10:00 in Shanghai
    finally:
        clock.set_clock(None)
    assert clock.today_in("Asia/Shanghai") == TEST_NOW.date()  # the suite's pinned day again
    with pytest.raises(SettingsError, match="REGISTRY_CLOCK"):
        Settings.from_env({"REGISTRY_ENV": "production", "REGISTRY_SECRET_KEY": "k", "REGISTRY_CLOCK": "2028-02-29"})
    with pytest.raises(SettingsError, match="REGISTRY_CLOCK"):
        Settings.from_env({"REGISTRY_CLOCK": "next tuesday"})


def test_proxy_and_worker_settings_default_and_are_checked():
    settings = Settings.from_env({"REGISTRY_SECRET_KEY": "k"})
    assert (settings.trusted_proxies, settings.outbox_alarm_minutes, settings.import_heartbeat_minutes) == (0, 30, 5)
    settings = Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_TRUSTED_PROXIES": "2",
                                  "REGISTRY_OUTBOX_ALARM_MINUTES": "90", "REGISTRY_IMPORT_HEARTBEAT_MINUTES": "3"})
    assert (settings.trusted_proxies, settings.outbox_alarm_minutes, settings.import_heartbeat_minutes) == (2, 90, 3)
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k"}).jobs_nice == 10
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_JOBS_NICE": "0"}).jobs_nice == 0
    for name, bad in [("REGISTRY_TRUSTED_PROXIES", "-1"), ("REGISTRY_TRUSTED_PROXIES", "one"),
                      ("REGISTRY_OUTBOX_ALARM_MINUTES", "0"), ("REGISTRY_IMPORT_HEARTBEAT_MINUTES", "1e9"),
                      ("REGISTRY_JOBS_NICE", "-5"), ("REGISTRY_JOBS_NICE", "20")]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({"REGISTRY_SECRET_KEY": "k", name: bad})


def test_proxy_fix_only_with_trusted_proxies(tmp_path):
    from werkzeug.middleware.proxy_fix import ProxyFix

    base = Settings(env="testing", secret_key="k", database_url=f"sqlite:///{tmp_path / 'x.db'}",
                    policy_dir=ROOT / "config" / "policies")
    assert not isinstance(create_app(base).wsgi_app, ProxyFix)
    fixed = create_app(base.with_overrides(trusted_proxies=2)).wsgi_app
    assert isinstance(fixed, ProxyFix) and fixed.x_for == 2 and fixed.x_proto == 2
