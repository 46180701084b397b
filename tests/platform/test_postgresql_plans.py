"""PostgreSQL plans the roster search for its own values on every execution (registry/platform/db.py
`plan_each`, issue 19): once prepared, a generic plan of `name ILIKE $1` scanned the whole trigram index for a
two-character word. Other statements are still prepared (their generic plans serve them)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.enterprises.queries import RosterFilter, roster_select
from registry.platform.db import PLAN_EACH, make_engine, make_sessionmaker, set_read_only
from registry.platform.extensions import release
from tests.conftest import NOW


def _prepared(conn) -> list[str]:
    return list(conn.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars())


def test_the_search_is_never_prepared_other_statements_are(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no plan cache")
    search = roster_select(RosterFilter(q="锦中"), date(2026, 1, 1))
    plain = roster_select(RosterFilter(tier="innovative_sme"), date(2026, 1, 1))
    assert search.get_execution_options().get(PLAN_EACH) and not plain.get_execution_options().get(PLAN_EACH)
    with engine.connect() as conn:
        for _ in range(8):  # psycopg prepares a statement from its fifth run
            conn.execute(search).all()
            conn.execute(plain).all()
        prepared = _prepared(conn)
    assert not [s for s in prepared if "ILIKE" in s]
    assert [s for s in prepared if "certifications.tier" in s]


def test_the_senders_claim_reads_its_batch_from_an_index_in_order(engine):
    """Migration 0036: the claim's `ORDER BY next_attempt_at, id` among one channel's pending messages comes from
    ix_outbox_messages_due — no sort of every due message (280,000 after a national catch-up: 650 ms a batch)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plan")
    from registry.reminders.outbox import claim_batch

    captured: list[str] = []
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # an empty test table: show the plan the index allows

        def explain(connection, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
            if statement.lstrip().startswith("SELECT outbox_messages.id") and "FOR UPDATE" in statement:
                captured.extend(row[0] for row in cursor.connection.execute("EXPLAIN " + statement, parameters))

        sa.event.listen(conn, "before_cursor_execute", explain)
        from sqlalchemy.orm import Session
        with Session(bind=conn) as session:
            claim_batch(session, NOW, 50)
        conn.rollback()
    plan = "\n".join(captured)
    assert "ix_outbox_messages_due" in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("clean", [True, False])
def test_what_every_request_reads_stays_prepared_across_requests(database_url, clean):
    """A read-only request that ended without an error ends its transaction with COMMIT (extensions.release):
    psycopg drops every prepared statement of the connection on ROLLBACK, so the token check and a roster page
    were parsed and planned afresh by every request (bench/RESULTS.md, pagefloor). After an error: ROLLBACK."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no plan cache")
    engine = make_engine(database_url)  # one pooled connection, reused by each "request"
    try:
        factory = make_sessionmaker(engine)
        plain = roster_select(RosterFilter(tier="innovative_sme"), date(2026, 1, 1))
        for _ in range(8):  # psycopg prepares a statement from its fifth run
            session = factory()
            set_read_only(session, True)
            session.connection().execute(plain).all()
            release(session, clean=clean)
        with engine.connect() as conn:
            prepared = [s for s in _prepared(conn) if "certifications.tier" in s]
        assert bool(prepared) is clean
    finally:
        engine.dispose()
