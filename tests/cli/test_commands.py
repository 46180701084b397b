"""CLI commands against a real (SQLite) database file: init-db, seed-demo, create-user, policies check."""

import pytest
import sqlalchemy as sa

from config import Settings
from registry import create_app
from registry.cli.demo import USERS
from registry.platform.db import make_engine
from tests.conftest import ROOT


def make_app(tmp_path, **overrides):
    settings = Settings(env="testing", database_url=f"sqlite:///{tmp_path / 'cli.db'}", secret_key="t",
                        policy_dir=ROOT / "config" / "policies").with_overrides(**overrides)
    return create_app(settings), settings


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def counts(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        result = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                  for t in ("enterprises", "certifications", "audit_events", "users", "annual_reports", "bans",
                            "batches", "applications", "objections")}
    engine.dispose()
    return result


def test_init_db_and_seed_demo_are_idempotent(tmp_path):
    app, settings = make_app(tmp_path)
    assert run(app, "init-db").exit_code == 0
    first = run(app, "seed-demo", "--size", "120", "--today", "2026-11-22")
    assert first.exit_code == 0, first.output
    after_first = counts(settings.database_url)
    # the roster asked for plus the pipeline scene's six 椒江 applicants; every demo user (issue 18 point 10:
    # each business role at province, city and district level, and the three administrator roles)
    assert after_first["enterprises"] == 120 + 6 and after_first["users"] == len(USERS) == 17
    assert (after_first["batches"], after_first["applications"], after_first["objections"]) == (2, 6, 1)
    assert after_first["certifications"] > 120
    second = run(app, "seed-demo", "--size", "120", "--today", "2026-11-22")
    assert second.exit_code == 0 and "0 enterprises" in second.output
    assert counts(settings.database_url) == after_first


def create_user(app, name, *options, password="Long-enough-1", region="331000"):  # noqa: ANN001, ANN201
    return app.test_cli_runner().invoke(args=["create-user", name, "--role", "officer", "--region", region,
                                              "--email", f"{name}@x.cn", *options], input=f"{password}\n")


def test_create_user_refuses_bad_input_with_a_reason(tmp_path):
    app, settings = make_app(tmp_path)
    run(app, "init-db")
    ok = create_user(app, "li", "--password-stdin")
    assert ok.exit_code == 0, ok.output
    bad = create_user(app, "wang", "--password-stdin", region="999999")
    assert bad.exit_code == 1 and "999999" in bad.output
    dup = create_user(app, "li", "--password-stdin")
    assert dup.exit_code == 1 and "li" in dup.output
    assert counts(settings.database_url)["users"] == 1


def test_create_user_never_takes_the_password_on_the_command_line(tmp_path):
    app, settings = make_app(tmp_path)
    run(app, "init-db")
    argv = app.test_cli_runner().invoke(args=["create-user", "li", "--role", "officer", "--region", "331000",
                                              "--email", "li@x.cn", "--password", "Long-enough-1"])
    assert argv.exit_code == 2 and "--password" in argv.output  # no such option
    prompted = app.test_cli_runner().invoke(
        args=["create-user", "li", "--role", "officer", "--region", "331000", "--email", "li@x.cn"],
        input="Long-enough-1\nLong-enough-1\n")  # asked twice, hidden
    assert prompted.exit_code == 0, prompted.output
    assert "Long-enough-1" not in prompted.output  # hide_input: never echoed
    mismatch = app.test_cli_runner().invoke(
        args=["create-user", "wang", "--role", "officer", "--region", "331000", "--email", "w@x.cn"],
        input="Long-enough-1\nLong-enough-2\n")
    assert mismatch.exit_code != 0 and counts(settings.database_url)["users"] == 1
    empty = create_user(app, "zhao", "--password-stdin", password="")
    assert empty.exit_code == 1 and "标准输入中没有密码" in empty.output


@pytest.mark.parametrize(("password", "why"), [("Short-1", "至少 10 位"), ("alllowercase-only", "至少 3 类"),
                                               ("Li-Long-enough-1", "不得包含用户名")])
def test_create_user_applies_the_password_policy(tmp_path, password, why):
    app, settings = make_app(tmp_path)
    run(app, "init-db")
    result = create_user(app, "li", "--password-stdin", password=password)
    assert result.exit_code == 1 and why in result.output, result.output
    assert counts(settings.database_url)["users"] == 0


def test_reset_password_from_stdin_forces_a_change_and_is_audited(tmp_path):
    app, settings = make_app(tmp_path)
    run(app, "init-db")
    assert create_user(app, "li", "--password-stdin").exit_code == 0
    same = app.test_cli_runner().invoke(args=["reset-password", "li", "--password-stdin"], input="Long-enough-1\n")
    assert same.exit_code == 1 and "最近 5 次" in same.output  # the current password is in the history
    reset = app.test_cli_runner().invoke(args=["reset-password", "li", "--password-stdin"], input="Other-pass-22\n")
    assert reset.exit_code == 0, reset.output
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT must_change_password FROM users WHERE username = 'li'")).scalar_one()
        assert conn.execute(sa.text("SELECT count(*) FROM password_history")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT action FROM audit_events ORDER BY id DESC LIMIT 1")).scalar_one() \
            == "user.password_reset"
    engine.dispose()
    missing = app.test_cli_runner().invoke(args=["reset-password", "nobody", "--password-stdin"],
                                           input="Other-pass-22\n")
    assert missing.exit_code == 1 and "nobody" in missing.output


def test_policies_check(tmp_path):
    app, _ = make_app(tmp_path)
    result = run(app, "policies", "check")
    assert result.exit_code == 0 and "national-2022" in result.output
    bad_dir = tmp_path / "policies"
    bad_dir.mkdir()
    (bad_dir / "broken.toml").write_text("[policy]\ncode = 1\n", encoding="utf-8")
    app, _ = make_app(tmp_path, policy_dir=ROOT / "config" / "policies")
    app.config["REGISTRY"] = app.config["REGISTRY"].with_overrides(policy_dir=bad_dir)
    result = app.test_cli_runner().invoke(args=["policies", "check"])
    assert result.exit_code == 1 and "broken.toml" in result.output and "policy.code" in result.output


def test_seed_demo_refuses_production(tmp_path):
    app, settings = make_app(tmp_path)
    assert run(app, "init-db").exit_code == 0
    production, _ = make_app(tmp_path, env="production", pi_key="k1:" + "ab" * 16, pi_index_key="cd" * 32)
    refused = production.test_cli_runner().invoke(args=["seed-demo", "--size", "5", "--today", "2026-11-22"])
    assert refused.exit_code == 1
    assert "REGISTRY_ENV=production" in refused.output and "演示数据" in refused.output
    assert counts(settings.database_url)["enterprises"] == 0 and counts(settings.database_url)["users"] == 0


def test_policies_doc_writes_and_checks_the_generated_file(tmp_path):
    app, _ = make_app(tmp_path)
    committed = run(app, "policies", "doc", "--check")
    assert committed.exit_code == 0, committed.output  # docs/policies.md is up to date
    out = tmp_path / "policies.md"
    assert run(app, "policies", "doc", "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    out.write_text("stale\n", encoding="utf-8")
    stale = app.test_cli_runner().invoke(args=["policies", "doc", "--check", "--out", str(out)])
    assert stale.exit_code == 1 and "flask policies doc" in stale.output


def test_policies_check_refuses_a_rule_without_a_source(tmp_path):
    from tests.domain.test_policy import MINIMAL

    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "x-2026.toml").write_text(MINIMAL, encoding="utf-8")
    app, _ = make_app(tmp_path, policy_dir=directory)
    result = app.test_cli_runner().invoke(args=["policies", "check"])
    assert result.exit_code == 1 and "validity.years" in result.output


def test_create_user_knows_every_role_of_spec_6(tmp_path):
    """The operator creates the first administrators from the command line (nobody else can: 三员分立)."""
    app, _settings = make_app(tmp_path)
    run(app, "init-db")
    for n, role in enumerate(("sysadmin", "secadmin", "auditadmin", "leader")):
        made = app.test_cli_runner().invoke(args=["create-user", f"u{n}", "--role", role, "--region", "330000",
                                                  "--email", f"u{n}@x.cn", "--password-stdin"],
                                            input="Long-enough-1\n")
        assert made.exit_code == 0, made.output
    bad = app.test_cli_runner().invoke(args=["create-user", "x", "--role", "root", "--region", "330000",
                                             "--email", "x@x.cn", "--password-stdin"], input="Long-enough-1\n")
    assert bad.exit_code != 0 and "root" in bad.output
