"""Issue 13 §8c: imports run in one background executor in the jobs process: exclusive claims, a heartbeat,
the reaper that fails a run whose worker died within minutes, and a real `jobs run` that processes an upload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from jobs.imports import Executor, claim_next, execute
from registry.accounts.models import User
from registry.accounts.users import create_user
from registry.audit import trail as audit
from registry.domain.actors import Actor, Role, system_actor
from registry.enterprises.models import Enterprise
from registry.platform.db import utcnow
from registry.policies.rules import load_rules
from registry.roster.imports import queue_import
from registry.roster.imports.queue import fail_stale_imports
from registry.roster.imports.run import ABANDONED_AFTER
from registry.roster.models import ImportRun
from tests.conftest import NOW, ROOT
from tests.jobs.test_cli import make_app, run
from tests.roster.files import roster_rows, xlsx

TODAY = date(2026, 6, 1)


def uploader(sessions, username: str = "officer-331000") -> Actor:
    """Create an officer of 台州 and return them as the web would (token, from an address, with a request id)."""
    with sessions() as session:
        user = create_user(session, actor=system_actor("cli", "tests"), username=username, role="officer",
                           region_code="331000", email=f"{username}@gov.example.cn", password="long-enough", at=NOW)
        session.commit()
        return Actor(kind="token", name=user.username, role=Role.OFFICER, region_code="331000", user_id=user.id,
                     token_id=7, ip="10.20.30.40", request_id="upload-req-1")


def queue(sessions, actor: Actor, policies, rows: int = 3, *, serial: int = 840_000, mode: str = "apply") -> int:
    with sessions() as session:
        run_ = queue_import(session, actor=actor, rules=load_rules(session, policies), filename="名单.xlsx",
                            content=xlsx(roster_rows(rows, serial=serial)), mode=mode, at=NOW)
        session.commit()
        return run_.id


def statuses(sessions) -> dict[int, str]:
    with sessions() as session:
        return dict(session.execute(sa.select(ImportRun.id, ImportRun.status)).all())


def test_two_concurrent_claimers_one_run_exactly_one_wins(committed_factory, policies):
    sessions = committed_factory
    run_id = queue(sessions, uploader(sessions), policies)
    for attempt in range(5):  # several rounds: the race must go one way every time
        if attempt:
            with sessions.begin() as session:
                session.execute(sa.update(ImportRun).values(status="queued", worker=None))
        barrier, won = threading.Barrier(2), []

        def claimer(name: str, barrier: threading.Barrier = barrier, won: list = won) -> None:
            with sessions() as session:
                barrier.wait()
                won.append((name, claim_next(session, worker=name, now=NOW)))

        threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        winners = [(name, got) for name, got in won if got is not None]
        assert len(won) == 2 and len(winners) == 1 and winners[0][1] == run_id
        with sessions() as session:
            row = session.get(ImportRun, run_id)
            assert (row.status, row.worker, row.started_at, row.heartbeat_at) == ("running", winners[0][0], NOW, NOW)


def test_many_claimers_take_every_queued_run_once(committed_factory, policies):
    sessions = committed_factory
    actor = uploader(sessions)
    ids = [queue(sessions, actor, policies, 1, serial=841_000 + 10 * n) for n in range(12)]
    taken: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        try:
            with sessions() as session:
                while (got := claim_next(session, worker=name, now=NOW)) is not None or _queued(session):
                    if got is not None:
                        taken.append((name, got))
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(got for _, got in taken) == ids  # each run claimed once, none lost


def _queued(session) -> bool:
    return bool(session.scalar(sa.select(sa.func.count()).select_from(ImportRun).where(ImportRun.status == "queued")))


def test_on_postgresql_a_claimer_skips_a_locked_run_instead_of_waiting(committed_factory, policies):
    sessions = committed_factory
    with sessions() as probe:
        if probe.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite has no row locks: its compare-and-set is shown by the tests above")
    actor = uploader(sessions)
    first, second = queue(sessions, actor, policies, 1, serial=842_000), queue(sessions, actor, policies, 1,
                                                                                serial=842_100)
    with sessions() as holder:  # another claimer is half-way through claiming the oldest run
        holder.execute(sa.select(ImportRun.id).where(ImportRun.id == first).with_for_update())
        started = time.monotonic()
        with sessions() as session:
            assert claim_next(session, worker="w2", now=NOW) == second
        assert time.monotonic() - started < 5  # not blocked on the locked row
        holder.rollback()
    with sessions() as session:
        assert claim_next(session, worker="w3", now=NOW) == first


def test_a_run_whose_heartbeat_is_stale_is_failed_with_a_reason(committed_factory):
    sessions = committed_factory
    now = NOW
    rows = {  # name: (status, created, heartbeat)
        "dead.xlsx": ("running", now - timedelta(minutes=20), now - timedelta(minutes=6)),
        "never-beat.xlsx": ("running", now - timedelta(minutes=6), None),
        "long-alive.xlsx": ("running", now - timedelta(hours=7), now - timedelta(minutes=1)),
        "just-claimed.xlsx": ("running", now - timedelta(minutes=2), None),
        "queued-forever.xlsx": ("queued", now - ABANDONED_AFTER - timedelta(minutes=1), None),
        "queued.xlsx": ("queued", now - timedelta(hours=1), None),
        "done.xlsx": ("applied", now - timedelta(days=1), now - timedelta(days=1)),
    }
    with sessions.begin() as session:
        for name, (status, created, beat) in rows.items():
            session.add(ImportRun(filename=name, mode="apply", status=status, region_code="331000",
                                  created_at=created, heartbeat_at=beat))
    with sessions.begin() as session:
        assert fail_stale_imports(session, at=now, stale_after=timedelta(minutes=5)) == 3
    with sessions() as session:
        found = {r.filename: r for r in session.scalars(sa.select(ImportRun))}
    assert {name: r.status for name, r in found.items()} == {
        "dead.xlsx": "failed", "never-beat.xlsx": "failed", "long-alive.xlsx": "running",
        "just-claimed.xlsx": "running", "queued-forever.xlsx": "failed", "queued.xlsx": "queued",
        "done.xlsx": "applied"}
    dead = found["dead.xlsx"]
    assert dead.finished_at == now and "导入中断" in dead.errors[0]["message"]
    assert "超过 5 分钟没有心跳" in dead.errors[0]["message"] and "未导入任何数据" in dead.errors[0]["message"]
    assert "jobs run" in found["queued-forever.xlsx"].errors[0]["message"]


def test_a_killed_worker_is_failed_within_minutes_and_nothing_of_it_is_written(committed_factory, policies):
    sessions = committed_factory
    run_id = queue(sessions, uploader(sessions), policies, 5, serial=843_000)
    with sessions() as session:  # a worker claims the run, starts, and its process is killed (no more beats)
        assert claim_next(session, worker="dead-host:1", now=NOW) == run_id
    for minutes, expected in ((4, "running"), (6, "failed")):
        with sessions.begin() as session:
            fail_stale_imports(session, at=NOW + timedelta(minutes=minutes), stale_after=timedelta(minutes=5))
        assert statuses(sessions)[run_id] == expected
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == 0


def test_the_executor_acts_as_the_uploader_and_records_where_they_came_from(committed_factory, policies):
    sessions = committed_factory
    actor = uploader(sessions)
    run_id = queue(sessions, actor, policies, 3, serial=844_000)
    executor = Executor(sessions, policies, clock=lambda: NOW, today=lambda: TODAY, heartbeat_minutes=5)
    assert executor.run_once() == run_id
    assert executor.run_once() is None  # nothing queued any more
    with sessions() as session:
        done = session.get(ImportRun, run_id)
        assert (done.status, done.counts["new_enterprises"], done.worker) == ("applied", 3, executor.worker)
        events = session.execute(sa.text(
            "SELECT actor_kind, actor_name, ip, request_id FROM audit_events WHERE action = 'import.applied'")).all()
    assert [tuple(e) for e in events] == [("token", "officer-331000", "10.20.30.40", "upload-req-1")]


def test_a_deactivated_uploader_fails_the_run_and_writes_nothing(committed_factory, policies):
    sessions = committed_factory
    run_id = queue(sessions, uploader(sessions), policies, 2, serial=845_000)
    with sessions.begin() as session, audit.bulk_allowed(session, actor=system_actor("cli", "tests"),
                                                         action="user.deactivated", at=NOW):
        session.execute(sa.update(User).values(is_active=False))
    Executor(sessions, policies, clock=lambda: NOW, today=lambda: TODAY, heartbeat_minutes=5).run_once()
    with sessions() as session:
        failed = session.get(ImportRun, run_id)
        assert failed.status == "failed" and "账户不存在或已停用" in failed.errors[0]["message"]
        assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == 0


def test_the_heartbeat_moves_while_a_long_import_works_on_postgresql(committed_factory, policies):
    sessions = committed_factory
    engine = None
    with sessions() as probe:
        engine = probe.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the import's transaction holds the write lock, and the reaper waits on it just the same")
    run_id = queue(sessions, uploader(sessions), policies, 2, serial=846_000)
    with sessions() as session:
        claim_next(session, worker="w", now=NOW)
    beats = []
    with engine.connect() as blocker:  # the import's first INSERT waits for us: a long import
        blocker.execute(sa.text("LOCK TABLE enterprises IN EXCLUSIVE MODE"))
        worker = threading.Thread(target=execute, args=(sessions, policies, run_id), kwargs=dict(
            clock=utcnow, today=TODAY, heartbeat_seconds=0.2))
        worker.start()
        deadline = time.monotonic() + 20
        while len(set(beats)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
            with sessions() as session:
                beats.append(session.scalar(sa.select(ImportRun.heartbeat_at).where(ImportRun.id == run_id)))
        assert statuses(sessions)[run_id] == "running" and len({b for b in beats if b and b > NOW}) >= 2
        blocker.rollback()
    worker.join(60)
    assert statuses(sessions)[run_id] == "applied"


@pytest.mark.timeout(600)
def test_jobs_run_processes_a_queued_upload(tmp_path, policies):
    """The real thing: an upload queued by the web is imported by `flask jobs run` in its own process."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    app = make_app(url)
    assert run(app, "init-db").exit_code == 0
    sessions = app.extensions["registry.sessionmaker"]
    run_id = queue(sessions, uploader(sessions), policies, 4, serial=847_000)
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_SMTP_PORT": "1"}
    log = (tmp_path / "jobs.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "run"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        # generous bounds: the process also runs its catch-up scan, which takes the SQLite write lock and, on a
        # loaded machine or with the clock moved years ahead (tests/test_clock.py), takes minutes, not seconds
        deadline = time.monotonic() + 180
        while statuses(sessions)[run_id] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.3)
        assert statuses(sessions)[run_id] == "applied", (tmp_path / "jobs.log").read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=360) == 0  # the catch-up scan finishes first (see above)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
        app.extensions["registry.engine"].dispose()
    text = (tmp_path / "jobs.log").read_text()
    assert "import executor started" in text and f"import {run_id} claimed" in text
