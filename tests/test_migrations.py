"""Migrations on SQLite and PostgreSQL: empty → head, no drift, downgrade round trip, append-only audit."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from registry.platform.db import make_engine
from registry.platform.migrate import alembic_config, downgrade, upgrade


def test_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def tables(url):
    engine = make_engine(url)
    names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    return names


def test_upgrade_check_downgrade_round_trip(empty_url):
    upgrade(empty_url)
    assert {"enterprises", "certifications", "certification_terms", "audit_events", "bans"} <= tables(empty_url)
    command.check(alembic_config(empty_url))  # raises if the models drifted from the migrations
    downgrade(empty_url, "base")
    assert tables(empty_url) == set()
    upgrade(empty_url)
    command.check(alembic_config(empty_url))


def test_database_refuses_update_and_delete_of_audit_rows(empty_url):
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO audit_events (id, occurred_at, actor_kind, actor_name, action, entity_type, changes,"
            " prev_hash, hash) VALUES (1, CURRENT_TIMESTAMP, 'cli', 't', 'x', 'y', '{}', 'p', 'h')"))
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT action FROM audit_events")).scalar_one() == "x"
    engine.dispose()
