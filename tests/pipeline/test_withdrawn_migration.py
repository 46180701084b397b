"""Migration 0031 on SQLite and PostgreSQL: the status `withdrawn` is storable after it, refused before it, and
downgrade refuses while a withdrawn objection exists (then succeeds once there is none)."""

import pytest
import sqlalchemy as sa

from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade
from tests.pipeline.test_verdict_migration import CHECK, OBJECTION, plain, unchecked_keys


def insert(url, row_id, status):
    with plain(url).connect() as conn:
        unchecked_keys(conn)
        conn.execute(sa.text(OBJECTION.replace("(1,", f"({row_id},")),
                     dict(identity="real_name", status=status, note="误登记，已撤回：x", resolved="2026-06-10"))
        conn.commit()


def test_withdrawn_is_storable_and_downgrade_refuses_to_lose_it(empty_url):
    url = empty_url
    upgrade(url)
    insert(url, 1, "withdrawn")
    with pytest.raises(RuntimeError, match="已撤回的异议"):
        downgrade(url, "0027")
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT status FROM objections")).scalar() == "withdrawn"
        conn.execute(sa.text("DELETE FROM objections"))  # (no batch behind it: SQLite's key check would refuse)
    engine.dispose()
    downgrade(url, "0027")
    with pytest.raises(sa.exc.IntegrityError, match=CHECK):
        insert(url, 2, "withdrawn")
