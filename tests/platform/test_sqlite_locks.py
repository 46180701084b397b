"""SQLite as an embedded database: readers never take the write lock, writers take it briefly (issue 13).

Real threads on a real SQLite file in WAL mode, the app on it (no shared test session). A
transaction that holds the write lock is a raw sqlite3 connection (as a long import apply is:
one IMMEDIATE transaction); readers must answer well under the 30 s busy timeout meanwhile, and a
long read (/audit/verify) must not hold up a write.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from config import Settings
from registry import create_app
from registry.accounts.models import ApiToken
from registry.accounts.users import create_token, create_user
from registry.audit.guard import guarded_sessionmaker
from registry.domain.actors import system_actor
from registry.enterprises.models import Enterprise
from registry.platform.db import NOWAIT_MS, ReadOnlySessionError, make_engine, set_read_only, utcnow, writing
from registry.platform.migrate import upgrade
from registry.regions.reference import sync_regions
from registry.roster.models import ImportRun
from tests.conftest import ROOT
from tests.factories import make_enterprise
from tests.web.fixtures import PASSWORD, login

PROMPT = 2.0  #: "promptly": well under the 30 s busy timeout


class Site:
    """The app on a SQLite file with an officer (token and cookie clients) and an enterprise."""

    def __init__(self, tmp_path) -> None:  # noqa: ANN001
        self.url = f"sqlite:///{tmp_path / 'registry.db'}"
        upgrade(self.url)
        settings = Settings(env="testing", database_url=self.url, secret_key="test-secret",
                            policy_dir=ROOT / "config" / "policies")
        self.app = create_app(settings)
        self.app.config["TESTING"] = True
        admin = system_actor("cli", "tests")
        with self.app.extensions["registry.sessionmaker"]() as session:
            sync_regions(session)
            create_user(session, actor=admin, username="officer", role="officer", region_code="331000",
                        email="officer@gov.example.cn", password=PASSWORD, at=utcnow())  # the live app's now (password age)
            self.tokens = [create_token(session, actor=admin, username="officer", name=f"t{n}", at=utcnow())[1]
                           for n in range(3)]
            self.enterprise_id = make_enterprise(session, admin, region_code="331002").id
            session.commit()
        self.page = self.app.test_client()
        assert login(self.page, "officer").status_code == 302

    def api(self, token: int = 0):  # noqa: ANN201
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[token]}"
        return client

    def raw(self, timeout: float = 30.0) -> sqlite3.Connection:
        conn = sqlite3.connect(make_url(self.url).database, timeout=timeout, isolation_level=None,
                               check_same_thread=False)
        return conn

    def lock_is_free(self) -> bool:
        probe = self.raw(timeout=0.05)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    def edit(self, client=None, note: str = "") -> tuple[int, float]:  # noqa: ANN001
        client = client or self.api()
        version = client.get(f"/api/v1/enterprises/{self.enterprise_id}").get_json()["version"]
        started = time.perf_counter()
        response = client.patch(f"/api/v1/enterprises/{self.enterprise_id}",
                                json={"version": version, "contact_name": f"联系人{note}"})
        return response.status_code, time.perf_counter() - started


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    made = Site(tmp_path)
    yield made
    made.app.extensions["registry.engine"].dispose()


def timed(fn):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def test_reads_answer_promptly_while_a_long_write_transaction_holds_the_lock(site):
    site.api(0).get("/api/v1/enterprises")  # token 0 stamped; token 1 is due for its first stamp below
    writer = site.raw()
    writer.execute("BEGIN IMMEDIATE")  # a long import apply: one transaction holding the write lock
    writer.execute("UPDATE enterprises SET contact_name = '导入中' WHERE id = ?", (site.enterprise_id,))
    try:
        assert not site.lock_is_free()  # the lock really is held (else this test proves nothing)
        reads = {
            "roster API (token)": lambda: site.api(0).get("/api/v1/enterprises"),
            "roster API (token whose last-used stamp is due)": lambda: site.api(1).get("/api/v1/enterprises"),
            "roster page (cookie)": lambda: site.page.get("/enterprises"),
            "enterprise page": lambda: site.page.get(f"/enterprises/{site.enterprise_id}"),
            "roster CSV export": lambda: site.api(0).get("/api/v1/exports/roster.csv"),
            "audit verify": lambda: site.api(0).get("/api/v1/audit/verify"),
        }
        for name, read in reads.items():
            response, seconds = timed(read)
            assert response.status_code == 200, (name, response.status_code, response.get_data(as_text=True)[:300])
            assert seconds < PROMPT, f"{name} took {seconds:.1f} s behind a writer"
        detail = site.api(0).get(f"/api/v1/enterprises/{site.enterprise_id}").get_json()
        assert detail["contact_name"] != "导入中"  # the committed snapshot, not the writer's uncommitted row
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with site.app.extensions["registry.sessionmaker"]() as session:
        stamped = session.scalars(sa.select(ApiToken.last_used_at).order_by(ApiToken.id)).all()
    assert stamped[1] is None  # the due stamp was skipped, not waited for
    # the CSV export's deferred audit event takes the write lock once the writer is gone: let it finish, or the
    # stamp below — which no longer waits for the lock within 5 s of a refusal — may find it taken and skip again
    for thread in list(site.app.extensions.get("registry.download_audit_threads", [])):
        thread.join(timeout=30)
    site.api(1).get("/api/v1/enterprises")
    with site.app.extensions["registry.sessionmaker"]() as session:
        assert session.scalars(sa.select(ApiToken.last_used_at).order_by(ApiToken.id)).all()[1] is not None


def test_a_write_waits_for_the_writer_then_saves(site):
    """Writers still take turns (IMMEDIATE, under the busy timeout): a PATCH during a short write saves after it."""
    client = site.api()
    version = client.get(f"/api/v1/enterprises/{site.enterprise_id}").get_json()["version"]
    writer = site.raw()
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.0, lambda: writer.execute("COMMIT"))
    started = time.perf_counter()
    release.start()
    try:
        response = client.patch(f"/api/v1/enterprises/{site.enterprise_id}",
                                json={"version": version, "contact_name": "等写完再存"})
        seconds = time.perf_counter() - started
    finally:
        release.join()
        writer.close()
    assert response.status_code == 200 and 0.9 < seconds < 1.0 + PROMPT


def test_a_long_audit_verify_does_not_block_a_write(site, monkeypatch):
    from registry.audit import api as audit_api

    inside, finish = threading.Event(), threading.Event()
    real_verify = audit_api.audit.verify

    def slow_verify(session):  # noqa: ANN001, ANN202  verify, then hold its read transaction open
        result = real_verify(session)
        inside.set()
        finish.wait(timeout=15)
        return result

    monkeypatch.setattr(audit_api.audit, "verify", slow_verify)
    answers: list = []
    reader = threading.Thread(target=lambda: answers.append(site.api(0).get("/api/v1/audit/verify")))
    reader.start()
    try:
        assert inside.wait(timeout=10)
        assert site.lock_is_free()  # the verifying request reads without the write lock
        status, seconds = site.edit(site.api(2), note="during verify")
        assert status == 200 and seconds < PROMPT, f"the write took {seconds:.1f} s behind /audit/verify"
    finally:
        finish.set()
        reader.join(timeout=20)
    assert answers and answers[0].status_code == 200 and answers[0].get_json()["ok"]


def test_a_write_holds_the_lock_only_for_its_unit_of_work(site, monkeypatch):
    """A PATCH authenticates in a read transaction; the write lock is taken by the view's unit of work."""
    from registry.enterprises import api

    real, seen = api.enterprises.update_enterprise, []

    def probed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(site.lock_is_free())  # authenticated, body validated: nothing held yet
        result = real(*args, **kwargs)
        seen.append(site.lock_is_free())  # the unit of work writes: it holds the lock until its commit
        return result

    monkeypatch.setattr(api.enterprises, "update_enterprise", probed)
    status, _ = site.edit(note="probe")
    assert status == 200 and seen == [True, False]
    assert site.lock_is_free()


# -- the session modes themselves -------------------------------------------------------------------------------


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'modes.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_regions(session)
        session.commit()
    yield guarded_sessionmaker(engine), url
    engine.dispose()


def _begins(factory, read_only: bool) -> list[str]:  # noqa: ANN001
    engine = factory.kw["bind"]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if statement.startswith("BEGIN"):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with factory() as session:
            set_read_only(session, read_only)
            session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return statements


def test_read_only_sessions_begin_deferred_and_others_immediate(sessions):
    factory, _ = sessions
    assert _begins(factory, read_only=True) == ["BEGIN DEFERRED"]
    assert _begins(factory, read_only=False) == ["BEGIN IMMEDIATE"]


def test_a_read_only_session_refuses_to_write(sessions):
    factory, _ = sessions
    with factory() as session:
        set_read_only(session, True)
        with pytest.raises(ReadOnlySessionError):
            make_enterprise(session, system_actor("cli", "tests"), region_code="331002")
            session.flush()
        session.rollback()
        assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == 0


def test_the_mode_changes_only_between_transactions(sessions):
    factory, _ = sessions
    with factory() as session:
        set_read_only(session, True)
        session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
        with pytest.raises(RuntimeError):
            set_read_only(session, False)
        session.rollback()
        set_read_only(session, False)
        session.scalar(sa.select(sa.func.count()).select_from(Enterprise))


def test_a_no_wait_write_gives_up_quickly_when_the_lock_is_taken(sessions):
    factory, url = sessions
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with factory() as session:
            set_read_only(session, True)
            started = time.perf_counter()
            with pytest.raises(sa.exc.OperationalError), writing(session, wait=False):
                session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
            assert time.perf_counter() - started < 1.0 + NOWAIT_MS / 1000
            assert session.info.get("registry.read_only")  # back to reading
            assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == 0  # reads go on
            busy = session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar_one()
            assert busy == 30_000  # the usual busy timeout is restored on the connection
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_no_wait_writes_stop_waiting_while_a_long_writer_holds_the_lock(sessions):
    """Behind a long writer (an import's transaction) only the first no-wait write waits NOWAIT_MS; the next
    ones in the process give up at once until one succeeds (or BUSY_MEMORY_S passes), then they wait again."""
    factory, url = sessions

    def attempt() -> tuple[bool, float]:
        with factory() as session:
            set_read_only(session, True)
            started = time.perf_counter()
            try:
                with writing(session, wait=False):
                    session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
                    session.commit()
                    done = True
            except sa.exc.OperationalError:
                done = False
            return done, time.perf_counter() - started

    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        first, waited = attempt()
        assert not first and waited >= NOWAIT_MS / 1000 * 0.9
        for _ in range(5):
            done, quick = attempt()
            assert not done and quick < NOWAIT_MS / 1000 / 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert attempt()[0]  # the lock is free: the write goes through at once
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        done, waited = attempt()
        assert not done and waited >= NOWAIT_MS / 1000 * 0.9  # a success forgot the busy writer: waits again
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_read_only_session_refuses_statements_that_write(sessions):
    factory, _ = sessions
    with factory() as session:
        set_read_only(session, True)
        with pytest.raises(ReadOnlySessionError):
            session.execute(sa.update(ImportRun).where(ImportRun.id == 0).values(filename="x"))
        session.rollback()
        set_read_only(session, False)
        assert session.execute(sa.update(ImportRun).where(ImportRun.id == 0).values(filename="x")
                               .execution_options(synchronize_session=False)).rowcount == 0


def test_the_cli_verify_and_export_read_while_a_writer_holds_the_lock(site, tmp_path):
    writer = site.raw()
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert not site.lock_is_free()
        for args in (["audit", "verify"], ["export-roster", str(tmp_path / "out.csv")]):
            result, seconds = timed(lambda a=args: site.app.test_cli_runner().invoke(args=a, catch_exceptions=False))
            assert result.exit_code == 0, (args, result.output)
            assert seconds < PROMPT, f"{args} took {seconds:.1f} s behind a writer"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert (tmp_path / "out.csv").read_bytes().startswith("\ufeff".encode())
