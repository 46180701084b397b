"""The scheduler process: its schedule, its single-instance lock, and a real `jobs run` started and stopped."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import sessionmaker

from jobs import tasks
from jobs.runner import InstanceLock, background_priority, build_scheduler
from jobs.tasks import JobContext
from registry.platform.db import make_engine, utcnow
from registry.roster.imports.run import ABANDONED_AFTER
from registry.roster.models import ImportRun
from tests.conftest import ROOT
from tests.jobs.test_cli import make_app, run

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux keeps the nice value per thread")
def test_the_jobs_process_runs_below_the_web_and_its_threads_inherit_it():
    """`jobs run` lowers its priority first (REGISTRY_JOBS_NICE) and never raises one it was started with.

    In a thread of its own: Linux keeps nice values per thread, and the test process must not change.
    """
    seen: dict[str, int | None] = {}

    def jobs_main() -> None:
        before = os.getpriority(os.PRIO_PROCESS, 0)
        seen["lowered"] = background_priority(max(before, 5))
        child = threading.Thread(target=lambda: seen.update(inherited=os.getpriority(os.PRIO_PROCESS, 0)))
        child.start()
        child.join()
        seen["kept"] = background_priority(0)  # asked for a higher priority: unchanged
        seen["expected"] = max(before, 5)

    thread = threading.Thread(target=jobs_main)
    thread.start()
    thread.join()
    assert seen["lowered"] == seen["inherited"] == seen["kept"] == seen["expected"]


def test_scheduler_has_every_job_with_explicit_ids_triggers_and_safe_defaults(settings, policies):
    ctx = JobContext(settings=settings, sessions=sessionmaker(), policies=policies)
    scheduler = build_scheduler(ctx)
    assert scheduler.timezone == SHANGHAI and not scheduler.running
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"daily-scan", "send-outbox", "send-channels", "officer-digest", "watchdog", "import-reaper"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 6 * 3600)
        assert job.args == (ctx,)
    assert isinstance(jobs["send-outbox"].trigger, IntervalTrigger)
    assert jobs["send-outbox"].trigger.interval == timedelta(minutes=2)
    assert jobs["import-reaper"].trigger.interval == timedelta(minutes=1)  # a dead import is failed within minutes
    assert jobs["send-channels"].trigger.interval == timedelta(minutes=1)  # a robot's rate limit is per minute
    night = datetime(2026, 6, 1, 0, 30, tzinfo=SHANGHAI)  # a Monday, 00:30 in Beijing
    expected = {"daily-scan": datetime(2026, 6, 1, 1, 0, tzinfo=SHANGHAI),
                "officer-digest": datetime(2026, 6, 1, 8, 0, tzinfo=SHANGHAI),
                "watchdog": datetime(2026, 6, 1, 1, 30, tzinfo=SHANGHAI)}
    for job_id, at in expected.items():
        trigger = jobs[job_id].trigger
        assert isinstance(trigger, CronTrigger) and trigger.timezone == SHANGHAI
        assert trigger.get_next_fire_time(None, night) == at
    tuesday = datetime(2026, 6, 2, 9, 0, tzinfo=SHANGHAI)
    next_monday = datetime(2026, 6, 8, 8, 0, tzinfo=SHANGHAI)
    assert jobs["officer-digest"].trigger.get_next_fire_time(None, tuesday) == next_monday


def test_only_one_process_holds_the_scheduler_lock(database_url):
    first, second = InstanceLock(database_url), InstanceLock(database_url)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        assert not second.acquire(stop, poll=0.05)  # idles, then gives up when told to stop
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def wait_for(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_jobs_run_catches_up_lets_a_second_one_idle_and_stops_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    assert run(make_app(url), "init-db").exit_code == 0
    # at the web's priority: the 30 s waits below are about what the process does, not about how a nice-10
    # process fares on a machine whose cores other runs keep busy (its priority has a test of its own)
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_SMTP_PORT": "1", "REGISTRY_JOBS_NICE": "0"}
    command = [sys.executable, "-m", "flask", "--app", "app", "jobs", "run"]
    logs = [(tmp_path / f"jobs{n}.log").open("w") for n in (1, 2)]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT)
    engine = make_engine(url)
    try:
        def scanned():
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT status FROM job_runs WHERE job_name = 'scan'")).scalar()
        assert wait_for(lambda: scanned() == "succeeded"), (tmp_path / "jobs1.log").read_text()
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT)
        assert wait_for(lambda: "idling" in (tmp_path / "jobs2.log").read_text())
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0 and second.wait(timeout=30) == 0
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
        engine.dispose()
        for log in logs:
            log.close()
    text = (tmp_path / "jobs1.log").read_text()
    assert "scheduler started: daily-scan, send-outbox, send-channels, officer-digest, import-reaper, watchdog" in text
    assert "signal 15: stopping" in text
    assert "scheduler started" not in (tmp_path / "jobs2.log").read_text()


def test_the_watchdog_runs_an_undone_scan_before_judging_it(tmp_path, policies):
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    app = make_app(url)
    assert run(app, "init-db").exit_code == 0
    ctx = JobContext(settings=app.config["REGISTRY"], sessions=app.extensions["registry.sessionmaker"],
                     policies=policies)
    tasks.watchdog(ctx)
    tasks.watchdog(ctx)
    with app.extensions["registry.engine"].connect() as conn:
        runs = conn.execute(sa.text("SELECT job_name, run_on, status FROM job_runs ORDER BY job_name")).all()
        alerts = conn.execute(sa.text("SELECT COUNT(*) FROM outbox_messages")).scalar_one()
    today = ctx.today().isoformat()
    assert [(name, str(on), status) for name, on, status in runs] == [
        ("scan", today, "succeeded"), ("watchdog", today, "succeeded")]
    assert alerts == 0


def test_the_watchdog_fails_page_imports_whose_worker_is_gone(tmp_path, policies):
    """A running import whose heartbeat is older than REGISTRY_IMPORT_HEARTBEAT_MINUTES is failed (its worker is
    gone); one still beating is not, however old; a queued one nobody claimed for ABANDONED_AFTER is failed."""
    app = make_app(f"sqlite:///{tmp_path / 'reap.db'}")
    assert run(app, "init-db").exit_code == 0
    ctx = JobContext(settings=app.config["REGISTRY"].with_overrides(import_heartbeat_minutes=5),
                     sessions=app.extensions["registry.sessionmaker"], policies=policies)
    now = utcnow()
    with ctx.sessions() as session, session.begin():
        for name, status, age, beat in (("old.xlsx", "running", timedelta(minutes=30), timedelta(minutes=6)),
                                        ("queued.xlsx", "queued", ABANDONED_AFTER + timedelta(hours=1), None),
                                        ("fresh.xlsx", "running", ABANDONED_AFTER * 2, timedelta(minutes=1)),
                                        ("done.xlsx", "applied", ABANDONED_AFTER * 2, None)):
            session.add(ImportRun(filename=name, mode="apply", status=status, region_code="330000",
                                  created_at=now - age, heartbeat_at=now - beat if beat else None))
    tasks.watchdog(ctx)
    with ctx.sessions() as session:
        status = dict(session.execute(sa.select(ImportRun.filename, ImportRun.status)).all())
        [old] = session.scalars(sa.select(ImportRun).where(ImportRun.filename == "old.xlsx"))
    assert status == {"old.xlsx": "failed", "queued.xlsx": "failed", "fresh.xlsx": "running", "done.xlsx": "applied"}
    assert "导入中断" in old.errors[0]["message"] and old.finished_at is not None
