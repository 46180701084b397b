"""Issue 16 §5: audit retention. No command removes events younger than REGISTRY_AUDIT_RETENTION_DAYS (≥ 180);
older ones may be archived to a file, and only after the chain and its anchor verify and the written file
verifies (SQLite and PostgreSQL, committed databases driven through the CLI)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from config import Settings
from registry import create_app
from registry.audit import trail as audit
from registry.domain.actors import system_actor
from registry.platform.db import make_engine
from tests.audit.helpers import MESSAGE, drop_guards, restore_guards
from tests.conftest import NOW, ROOT, backends, fresh_database

KEY = "a" * 64
TODAY = "2026-06-01"  # NOW in Beijing
DAYS_AGO = (400, 300, 200, 100, 10)  #: one event each, in this order


@pytest.fixture(params=backends())
def app(request, tmp_path):
    """A migrated database with five events, 400 … 10 days old, anchored with KEY."""
    url, pg = fresh_database(request.param, tmp_path)
    application = create_app(Settings(env="testing", database_url=url, secret_key="t", audit_anchor_key=KEY,
                                      policy_dir=ROOT / "config" / "policies"))
    assert application.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with application.app_context():
        session = application.extensions["registry.sessionmaker"]()
        for days in DAYS_AGO:
            audit.record(session, actor=system_actor("cli", "tests"), action="x.done", entity_type="thing",
                         entity_id=days, changes={"days": [None, days]}, at=NOW - timedelta(days=days))
        session.commit()
        session.close()
    yield application
    application.extensions["registry.engine"].dispose()
    if pg is not None:
        pg.drop()


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def sql(app, statement, **params):
    engine = make_engine(app.config["REGISTRY"].database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def remaining(app):
    return [r.entity_id for r in sql(app, "SELECT entity_id FROM audit_events WHERE action = 'x.done' ORDER BY id")]


def day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def test_nothing_younger_than_the_retention_period_is_archived(app, tmp_path):
    out = tmp_path / "a.jsonl"
    refused = run(app, "audit", "archive", "--before", day(150), "--out", str(out), "--today", TODAY)
    assert refused.exit_code == 1 and "只能归档 180 天保存期限之前的事件" in refused.output, refused.output
    assert remaining(app) == list(DAYS_AGO) and not out.exists()
    longer = create_app(app.config["REGISTRY"].with_overrides(audit_retention_days=365))
    refused = longer.test_cli_runner().invoke(args=["audit", "archive", "--before", day(250), "--out", str(out),
                                                    "--today", TODAY])
    assert refused.exit_code == 1 and "365 天" in refused.output and remaining(app) == list(DAYS_AGO)
    longer.extensions["registry.engine"].dispose()


def test_old_events_move_to_a_file_that_verifies_and_the_chain_walks_on_from_it(app, tmp_path):
    out = tmp_path / "audit-2025.jsonl"
    done = run(app, "audit", "archive", "--before", day(250), "--out", str(out), "--today", TODAY)
    assert done.exit_code == 0 and "2 条" in done.output, done.output
    assert remaining(app) == [200, 100, 10]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["first_id"] == 1 and lines[0]["last_id"] == 2 and [e["entity_id"] for e in lines[1:]] == [400, 300]
    verified = run(app, "audit", "verify")
    assert verified.exit_code == 0 and "锚点相符" in verified.output and "自已归档的事件 #2 之后核验" in verified.output
    assert run(app, "audit", "verify-archive", str(out)).exit_code == 0
    [(action, changes)] = sql(app, "SELECT action, changes FROM audit_events ORDER BY id DESC LIMIT 1")
    changes = json.loads(changes) if isinstance(changes, str) else changes  # SQLite gives the text
    assert action == "audit.archived" and changes["count"] == [None, 2] and changes["file"] == [None, out.name]
    with pytest.raises(sa.exc.DBAPIError, match=MESSAGE):  # younger events stay undeletable
        sql(app, "DELETE FROM audit_events WHERE entity_id = 10")
    again = run(app, "audit", "archive", "--before", day(250), "--out", str(out), "--today", TODAY)
    assert again.exit_code == 1 and "已存在" in again.output


def test_a_tampered_archive_file_is_found(app, tmp_path):
    out = tmp_path / "a.jsonl"
    assert run(app, "audit", "archive", "--before", day(350), "--out", str(out), "--today", TODAY).exit_code == 0
    out.write_text(out.read_text(encoding="utf-8").replace('"days": [null, 400]', '"days": [null, 401]'),
                   encoding="utf-8")
    broken = run(app, "audit", "verify-archive", str(out))
    assert broken.exit_code == 1 and "内容与其哈希不符" in broken.output, broken.output


def test_nothing_is_removed_when_the_chain_does_not_verify(app, tmp_path):
    engine = make_engine(app.config["REGISTRY"].database_url)
    with engine.begin() as conn:
        drop_guards(conn)
        conn.execute(sa.text("UPDATE audit_events SET note = 'edited' WHERE entity_id = 300"))
        restore_guards(conn)
    engine.dispose()
    out = tmp_path / "a.jsonl"
    refused = run(app, "audit", "archive", "--before", day(250), "--out", str(out), "--today", TODAY)
    assert refused.exit_code == 1 and "审计链未通过核验" in refused.output, refused.output
    assert remaining(app) == list(DAYS_AGO) and not out.exists()


def test_archiving_needs_the_anchor_key_and_a_wrong_key_removes_nothing(app, tmp_path):
    out = tmp_path / "a.jsonl"
    settings = app.config["REGISTRY"]
    for key, words in (("", "须配置锚点密钥"), ("b" * 64, "锚点不符")):
        other = create_app(settings.with_overrides(audit_anchor_key=key))
        refused = other.test_cli_runner().invoke(args=["audit", "archive", "--before", day(250), "--out", str(out),
                                                       "--today", TODAY])
        other.extensions["registry.engine"].dispose()
        assert refused.exit_code == 1 and words in refused.output, refused.output
        assert remaining(app) == list(DAYS_AGO) and not out.exists()
