"""PostgreSQL plans each statement for its own parameters (registry/platform/db.py, issue 19): a generic plan of
the roster search's `name ILIKE $1` would scan the whole trigram index for a two-character word."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


def test_every_connection_plans_for_its_parameters(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no plan cache")
    with engine.connect() as first, engine.connect() as second:  # each new connection, not only the first
        assert {c.execute(sa.text("SHOW plan_cache_mode")).scalar_one() for c in (first, second)} == {
            "force_custom_plan"}
