"""Migration 0026 on SQLite and PostgreSQL: the new CHECK values hold, the old refuse, downgrade keeps data."""

import pytest
import sqlalchemy as sa

from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade

OBJECTION = ("INSERT INTO objections (id, batch_id, application_id, region_code, submitter_name, submitter_identity,"
             " contact, grounds, evidence, confidential, received_on, status, resolution_note, resolved_on, created_at)"
             " VALUES (1, 1, 1, '331002', '匿名', :identity, '', 'g', '', true, '2026-06-10', :status, :note,"
             " :resolved, CURRENT_TIMESTAMP)")


CHECK = "(?i)check constraint|ck_objections"


def plain(url):
    """An engine without the app's SQLite foreign-key pragma (SQLite leaves foreign keys off by default)."""
    return sa.create_engine(url) if url.startswith("sqlite") else make_engine(url)


def unchecked_keys(conn):
    """Skip foreign keys (PostgreSQL: replica role), keep the CHECK constraints."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET session_replication_role = replica"))


def test_anonymous_objection_is_storable_and_downgrade_refuses_to_drop_it(empty_url):
    url = empty_url
    upgrade(url)
    engine = make_engine(url)
    cols = {c["name"] for c in sa.inspect(engine).get_columns("pool_verdicts")}
    assert {"pool_id", "enterprise_id", "verdict", "admitted", "by_run", "reasons"} <= cols
    with plain(url).connect() as conn:  # the CHECKs only: no batch or application behind the row
        unchecked_keys(conn)
        conn.execute(sa.text(OBJECTION), dict(identity="anonymous", status="not_accepted", note="n",
                                              resolved="2026-06-10"))
        with pytest.raises(sa.exc.IntegrityError, match=CHECK):
            with conn.begin_nested():
                conn.execute(sa.text(OBJECTION.replace("(1,", "(2,")), dict(identity="nobody", status="open",
                                                                               note=None, resolved=None))
        conn.commit()
    engine.dispose()
    with pytest.raises(RuntimeError, match="匿名异议"):
        downgrade(url, "0021")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM objections"))
    engine.dispose()
    downgrade(url, "0021")
    engine = plain(url)
    assert "pool_verdicts" not in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        unchecked_keys(conn)
        with pytest.raises(sa.exc.IntegrityError, match=CHECK):
            conn.execute(sa.text(OBJECTION), dict(identity="anonymous", status="not_accepted", note="n",
                                                  resolved="2026-06-10"))
    engine.dispose()
