"""The CLI on a committed database of its own (SQLite and PostgreSQL): its writes are audited,
`audit verify` passes on an intact chain and names the row a DBA edited behind the triggers."""

import pytest
import sqlalchemy as sa

from config import Settings
from registry import create_app
from registry.platform.db import make_engine
from tests.audit.helpers import MESSAGE, drop_guards, restore_guards
from tests.conftest import ROOT, backends, fresh_database


@pytest.fixture(scope="module", params=backends())
def cli_app(request, tmp_path_factory):
    """An app on a fresh database after init-db, create-user and create-token."""
    url, pg = fresh_database(request.param, tmp_path_factory.mktemp("audit-cli"))
    app = create_app(Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies"))
    for args in (["init-db"],
                 ["create-user", "li", "--role", "officer", "--region", "331000", "--email", "li@x.cn",
                  "--password-stdin"],
                 ["create-token", "li", "--label", "报表"]):
        result = app.test_cli_runner().invoke(args=args, input="Long-enough-1\n")
        assert result.exit_code == 0, result.output
    yield app
    app.extensions["registry.engine"].dispose()
    if pg is not None:
        pg.drop()


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def query(app, sql, **params):
    engine = make_engine(app.config["REGISTRY"].database_url)
    try:
        with engine.begin() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()


def test_cli_writes_are_audited(cli_app):
    rows = query(cli_app, "SELECT id, action, actor_kind, actor_name, entity_type FROM audit_events ORDER BY id")
    assert [(r.id, r.action, r.actor_kind, r.entity_type) for r in rows] == [
        (1, "user.created", "cli", "user"), (2, "token.created", "cli", "api_token")]
    assert rows[0].actor_name.startswith("create-user@") and rows[1].actor_name.startswith("create-token@")


def test_verify_passes_and_prints_the_head(cli_app):
    result = run(cli_app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "2 events checked" in result.output and "已核验 2 条事件" in result.output
    [(head_hash,)] = query(cli_app, "SELECT hash FROM audit_events WHERE id = 2")
    assert f"2:{head_hash}" in result.output
    anchored = run(cli_app, "audit", "verify", "--anchor", f"2:{head_hash}")
    assert anchored.exit_code == 0, anchored.output


def test_verify_refuses_a_wrong_anchor(cli_app):
    assert run(cli_app, "audit", "verify", "--anchor", "1:" + "0" * 64).exit_code == 1
    malformed = run(cli_app, "audit", "verify", "--anchor", "one")
    assert malformed.exit_code == 1 and "--anchor" in malformed.output


def test_an_edited_row_makes_verify_exit_1_naming_it(cli_app):
    [(original,)] = query(cli_app, "SELECT actor_name FROM audit_events WHERE id = 1")
    engine = make_engine(cli_app.config["REGISTRY"].database_url)
    try:
        with engine.begin() as conn:
            with pytest.raises(sa.exc.DBAPIError, match=MESSAGE), conn.begin_nested():
                conn.exec_driver_sql("UPDATE audit_events SET actor_name = 'someone-else' WHERE id = 1")
            drop_guards(conn)
            conn.execute(sa.text("UPDATE audit_events SET actor_name = 'someone-else' WHERE id = 1"))
        broken = run(cli_app, "audit", "verify")
        assert broken.exit_code == 1
        assert "#1" in broken.output and "event 1" in broken.output and "does not match its hash" in broken.output
    finally:
        with engine.begin() as conn:  # put it back the way it was, triggers included
            conn.execute(sa.text("UPDATE audit_events SET actor_name = :n WHERE id = 1"), {"n": original})
            restore_guards(conn)
        engine.dispose()
    assert run(cli_app, "audit", "verify").exit_code == 0
    with pytest.raises(sa.exc.DBAPIError, match=MESSAGE):
        query(cli_app, "UPDATE audit_events SET note = 'x' WHERE id = 2")
