"""A read-only request that ends without an error ends its transaction with COMMIT (registry/platform/db.py
end_reads: PostgreSQL keeps what psycopg prepared). That COMMIT must never persist what the request left behind
nor fail the request where the rollback before it did not: an ORM change never flushed, a row written below the
ORM on the session's connection. On the app's own engine (the tests' shared SAVEPOINT session never reaches it)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry import create_app
from registry.platform.db import make_engine
from registry.platform.extensions import get_session
from registry.platform.migrate import upgrade
from registry.regions.models import Region
from registry.regions.reference import sync_regions
from tests.conftest import fresh_database

REGIONS = Region.__table__


@pytest.fixture
def own_app(engine, tmp_path, settings):
    """The app on a database of its own (the test's backend), with two GET views that leave something behind."""
    url, pg = fresh_database(engine.dialect.name, tmp_path)
    upgrade(url)
    setup = make_engine(url)
    with Session(setup) as session:
        sync_regions(session)
        session.commit()
    app = create_app(replace(settings, database_url=url))
    app.config["TESTING"] = True

    @app.get("/test-dirty")
    def dirty():
        region = get_session().scalars(sa.select(Region).where(Region.code == "330100")).one()
        region.name = "改过"  # changed for display, never flushed
        return "ok"

    @app.get("/test-core")
    def core():
        get_session().connection().execute(sa.update(REGIONS).where(REGIONS.c.code == "330100").values(name="改过"))
        return "refused", 400  # an error handled by the view: its work is abandoned

    yield app, setup
    app.extensions["registry.engine"].dispose()
    setup.dispose()
    if pg is not None:
        pg.drop()


def _name(setup) -> str:
    with setup.connect() as conn:
        return conn.execute(sa.select(REGIONS.c.name).where(REGIONS.c.code == "330100")).scalar_one()


def test_an_unflushed_change_in_a_read_request_is_dropped_not_a_failure(own_app):
    app, setup = own_app
    before = _name(setup)
    response = app.test_client().get("/test-dirty")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")
    assert _name(setup) == before


def test_a_row_written_below_the_orm_in_a_read_request_is_rolled_back(own_app):
    app, setup = own_app
    if setup.dialect.name != "sqlite":
        pytest.skip("PostgreSQL: end_reads does not see a write below the ORM (a round trip a request would)")
    before = _name(setup)
    assert app.test_client().get("/test-core").status_code == 400
    assert _name(setup) == before
    assert app.test_client().get("/test-dirty").status_code == 200  # the next read request ends as usual
