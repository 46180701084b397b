"""Issue 16 point 8: `seed-demo` gives the demo users a random password, printed once, unless asked."""

from __future__ import annotations

import re

from tests.cli.test_commands import make_app, run

SHOWN = re.compile(r"演示用户密码（仅显示这一次）：(\S+) /")


def login(app, username: str, password: str) -> int:
    return app.test_client().post("/api/v1/session", json={"username": username, "password": password}).status_code


def test_demo_password_is_random_printed_once_and_works(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTRY_DEMO_PASSWORD", raising=False)
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    passwords = []
    for where in (first_dir, second_dir):
        app, _ = make_app(where)
        assert run(app, "init-db").exit_code == 0
        seeded = run(app, "seed-demo", "--size", "3", "--today", "2026-11-22")
        assert seeded.exit_code == 0, seeded.output
        passwords.append(SHOWN.search(seeded.output).group(1))
        assert "demo-admin-2026" not in seeded.output
        assert login(app, "admin", passwords[-1]) == 200
        assert login(app, "tz_officer", "demo-admin-2026") == 401
        again = run(app, "seed-demo", "--size", "3", "--today", "2026-11-22")
        assert again.exit_code == 0 and not SHOWN.search(again.output) and "密码未变" in again.output
        app.extensions["registry.engine"].dispose()
    assert passwords[0] != passwords[1] and min(len(p) for p in passwords) >= 16


def test_a_known_demo_password_when_asked(tmp_path, monkeypatch):
    app, _ = make_app(tmp_path)
    assert run(app, "init-db").exit_code == 0
    monkeypatch.setenv("REGISTRY_DEMO_PASSWORD", "Known-demo-2026")
    seeded = run(app, "seed-demo", "--size", "2", "--today", "2026-11-22")
    assert seeded.exit_code == 0 and "Known-demo-2026" in seeded.output
    assert login(app, "auditor", "Known-demo-2026") == 200
    app.extensions["registry.engine"].dispose()


def test_the_flag_names_the_password(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTRY_DEMO_PASSWORD", raising=False)
    app, _ = make_app(tmp_path)
    assert run(app, "init-db").exit_code == 0
    assert run(app, "seed-demo", "--size", "2", "--demo-password", "Flag-pass-2026").exit_code == 0
    assert login(app, "hz_officer", "Flag-pass-2026") == 200
    app.extensions["registry.engine"].dispose()


def test_the_demo_seeds_on_any_day_of_the_year(tmp_path, monkeypatch):
    """Last year's reports are filed January to April: seeded on 2 January or 28 February, the demo refused its own
    filing dates as after today ("填报日期晚于今天") and `make run` stopped there."""
    monkeypatch.setenv("REGISTRY_DEMO_PASSWORD", "Known-demo-2026")
    for n, day in enumerate(("2027-01-02", "2028-02-29", "2031-04-24", "2031-04-30")):
        where = tmp_path / str(n)
        where.mkdir()
        app, _ = make_app(where)
        assert run(app, "init-db").exit_code == 0
        seeded = run(app, "seed-demo", "--size", "8", "--today", day)
        assert seeded.exit_code == 0, (day, seeded.output[-800:])
        app.extensions["registry.engine"].dispose()
