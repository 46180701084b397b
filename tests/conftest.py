"""Shared fixtures: a migrated database per backend, a SAVEPOINT per test, the app and clients.

Every database test runs on SQLite and, when REGISTRY_TEST_DATABASE_URL points at a server, on
PostgreSQL too. PostgreSQL tests run in a database of their own, created for this run and
dropped afterwards (the shared `test` database is only used to connect). With
REGISTRY_REQUIRE_PG=1 a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from config import Settings
from registry.audit.guard import guarded_sessionmaker, install_audit_guard
from registry.domain.actors import Actor, Role, system_actor
from registry.domain.policy import PolicySet, load_policies
from registry.platform.clock import parse_clock, set_clock
from registry.platform.db import make_engine
from registry.platform.migrate import upgrade
from registry.policies.rules import Rules, load_rules
from registry.regions.reference import sync_regions

#: the web fixtures (an app on the test session, clients logged in as a role of a region) for every folder:
#: feature folders hold their own API and page tests (issue 15)
pytest_plugins = ["tests.web.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("REGISTRY_REQUIRE_PG") == "1"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
# The suite's "now": no test reads the wall clock. Every in-process clock read (datetime.now,
# date.today, time.time) starts here and ticks on; subprocesses (the CLI, `make run`, the browser
# tests' server) get the same instant through REGISTRY_CLOCK. CI runs the suite again with
# REGISTRY_TEST_NOW moved (a 29 February, a year without holiday data): see `make test-clock`.
TEST_NOW = parse_clock(os.environ.get("REGISTRY_TEST_NOW") or "2026-12-06T10:00:00", "Asia/Shanghai")
os.environ["REGISTRY_CLOCK"] = TEST_NOW.isoformat()


def _pg_reachable() -> str | None:
    if not PG_URL:
        return "REGISTRY_TEST_DATABASE_URL is not set"
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001  any failure means "no server"
        return f"cannot reach {PG_URL}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


PG_PROBLEM = _pg_reachable()


def pytest_configure(config: pytest.Config) -> None:
    """Fail the whole run at once when PostgreSQL is required but absent; pin the clock."""
    if REQUIRE_PG and PG_PROBLEM:
        raise pytest.UsageError(f"REGISTRY_REQUIRE_PG=1 but PostgreSQL is unavailable: {PG_PROBLEM}")
    traveller = time_machine.travel(TEST_NOW, tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def backends() -> list:
    """Return the backends this run covers."""
    params = ["sqlite"]
    params.append(pytest.param("postgresql", marks=pytest.mark.skipif(
        bool(PG_PROBLEM), reason=f"PostgreSQL tests skipped: {PG_PROBLEM}")))
    return params


class PgDatabase:
    """A throwaway PostgreSQL database on the test server."""

    def __init__(self) -> None:
        self.name = f"registry_test_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(PG_URL).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def fresh_database(kind: str, tmp_dir: Path) -> tuple[str, PgDatabase | None]:
    """Create an empty database of `kind`; return its URL and the handle to drop it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_dir / f'registry-{uuid.uuid4().hex[:8]}.db'}", None
    pg = PgDatabase()
    return pg.url, pg


@pytest.fixture(scope="session", params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the region tree, for the whole run, per backend."""
    url, pg = fresh_database(request.param, tmp_path_factory.mktemp("db"))
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_regions(session)
        session.commit()
    engine.dispose()
    yield url
    if pg is not None:
        pg.drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the migrated test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits only release SAVEPOINTs; everything is rolled back afterwards."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    install_audit_guard(session)  # as make_sessionmaker does for the app's sessions
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture(scope="session")
def policies() -> PolicySet:
    """The shipped policy files."""
    return load_policies(ROOT / "config" / "policies")


@pytest.fixture
def rules(session: Session, policies: PolicySet) -> Rules:
    """Policies plus the calendar as stored in the test database."""
    return load_rules(session, policies)


@pytest.fixture
def admin() -> Actor:
    """A nationwide system actor (as the CLI acts)."""
    return system_actor("cli", "tests")


def officer_of(region: str, role: Role = Role.OFFICER, user_id: int | None = None) -> Actor:
    """An actor of `role` scoped to `region`."""
    return Actor(kind="user", name=f"{role.value}-{region}", role=role, region_code=region, user_id=user_id)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(env="testing", database_url=database_url, secret_key="test-secret",
                    policy_dir=ROOT / "config" / "policies")


def d(text: str) -> date:
    """Shorthand for a date literal."""
    return date.fromisoformat(text)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real scrypt, at a lower work factor: tests create hundreds of users."""
    from werkzeug.security import generate_password_hash

    import registry.accounts.users as users

    monkeypatch.setattr(users, "generate_password_hash",
                        lambda password, method="scrypt": generate_password_hash(password, method="scrypt:1024:8:1"))


@pytest.fixture(params=backends())
def empty_url(request, tmp_path):
    """The URL of an empty database (no tables) on each backend, dropped afterwards: for migration tests."""
    url, pg = fresh_database(request.param, tmp_path)
    yield url
    if pg is not None:
        pg.drop()


@pytest.fixture(params=backends())
def committed_factory(request, tmp_path):
    """A session factory on a fresh, migrated, committed database (no SAVEPOINT wrapper): for tests of
    concurrent transactions, which the shared rolled-back test session cannot show."""
    url, pg = fresh_database(request.param, tmp_path)
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_regions(session)
        session.commit()
    yield guarded_sessionmaker(engine)
    engine.dispose()
    if pg is not None:
        pg.drop()


@pytest.fixture
def clock_at_now():
    """Pages and the API read "today" from the one clock: pinned to NOW (2026-06-01, Shanghai), restored after."""
    set_clock(NOW)
    yield
    set_clock(None)
