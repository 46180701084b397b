"""Roster API p95 idle vs while an import applies: readers must not wait for SQLite's one writer.

The import runs in another process, as in production: queued, then claimed and applied by the
jobs process's import executor (`flask jobs run`, below the web's CPU priority: REGISTRY_JOBS_NICE),
so the figure shows locking and CPU sharing, not this process's GIL. The roster request is
the same as `bench/roster.py`'s first figure, through the WSGI app with an API token. An import
holds the write lock from its first statement to its commit (one IMMEDIATE transaction); the
roster's GET reads DEFERRED from the WAL snapshot (registry/platform/db.py) and should not notice.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Flask

from bench.generate import make_app, officer_name
from bench.imports import available, workbook
from bench.timing import Figure, not_measured, percentile, repeat
from registry.regions.models import Region

QUERY = {"region": "330100", "tier": "innovative_sme", "status": "active", "expiring_within_days": "90"}
IDLE_REQUESTS = 200


def _apply(url: str, content: bytes, started, done) -> None:  # noqa: ANN001  (multiprocessing events)
    """Child process: apply the file the way production does, as the jobs process's import executor.

    A page upload (and an API upload over IMPORTS_API_INLINE_MAX_BYTES) is queued and applied by the
    executor thread of `flask jobs run` (jobs/imports.py) in one transaction, in a process that runs
    below the web's CPU priority (REGISTRY_JOBS_NICE, jobs/runner.py): the same steps here.
    """
    from jobs.imports import Executor
    from jobs.runner import background_priority
    from registry.accounts.models import User
    from registry.cli.base import today_in
    from registry.domain.actors import Actor, Role
    from registry.platform.db import utcnow
    from registry.policies.rules import load_rules
    from registry.roster.imports import queue_import
    from registry.roster.models import ImportRun

    app = make_app(url)
    settings = app.config["REGISTRY"]
    background_priority(settings.jobs_nice)  # what `jobs run` does first
    sessions = app.extensions["registry.sessionmaker"]
    with sessions() as session:
        user = session.query(User).filter_by(username=officer_name("33")).one()
        actor = Actor(kind="user", name=user.username, role=Role.OFFICER, region_code=user.region_code,
                      user_id=user.id)
        run = queue_import(session, actor=actor, rules=load_rules(session, app.extensions["registry.policies"]),
                           filename="bench-contention.xlsx", content=content, mode="apply", at=datetime.now(UTC))
        session.commit()
        run_id = run.id
    executor = Executor(sessions, app.extensions["registry.policies"], clock=utcnow,
                        today=lambda: today_in(settings.timezone),
                        heartbeat_minutes=settings.import_heartbeat_minutes, limits=settings.import_limits)
    started.set()
    claimed = executor.run_once()  # claims the oldest queued run: this one (the bench queues no other)
    with sessions() as session:
        status = session.get(ImportRun, run_id).status
    done.put(status if claimed == run_id else f"the executor claimed {claimed}, not {run_id}")


def measure(app: Flask, token: str, rows: int = 10_000) -> Figure:
    """p95 of the roster's first page while a `rows`-row .xlsx applies, against the same request idle."""
    why = available()
    if why:
        return not_measured("roster p95 during an import", why)
    engine = app.extensions["registry.engine"]
    with app.extensions["registry.sessionmaker"]() as session:
        districts = [code for (code,) in session.query(Region.code).filter(
            Region.level == "district", Region.code.startswith("33")).order_by(Region.code)]
    content = workbook(districts, rows, seed=int(time.time()) % 1000, series=f"C{int(time.time()) % 10}")
    client = app.test_client()
    url = f"/api/v1/enterprises?{urlencode(QUERY)}"
    headers = {"Authorization": f"Bearer {token}"}

    def get() -> None:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code} {response.get_data(as_text=True)[:300]}")

    idle = repeat(get, IDLE_REQUESTS)
    ctx = multiprocessing.get_context("spawn")
    started, done = ctx.Event(), ctx.Queue()
    child = ctx.Process(target=_apply, args=(engine.url.render_as_string(hide_password=False), content, started, done))
    child.start()
    if not started.wait(timeout=120):
        child.kill()
        raise RuntimeError("the import process did not start")
    busy: list[float] = []
    began = time.perf_counter()
    while child.is_alive() and done.empty():
        t0 = time.perf_counter()
        get()
        busy.append(time.perf_counter() - t0)
    applied = time.perf_counter() - began
    child.join(timeout=600)
    status = done.get(timeout=5) if not done.empty() else f"exit code {child.exitcode}"
    if status != "applied" or not busy:
        raise RuntimeError(f"import {status}; {len(busy)} roster requests during it")
    idle95, busy95 = percentile(idle, 95), percentile(busy, 95)
    return Figure(
        f"roster API p95 while a {rows:,}-row import applies ({engine.dialect.name})", busy95, idle95,
        "the same request idle, p95", target_ratio=2.0,  # issue 19: ≤ 2× idle
        note=f"{len(busy)} requests during the {applied:.1f} s apply (max {max(busy) * 1000:.0f} ms, "
             f"p50 {percentile(busy, 50) * 1000:.1f} ms) vs idle p50 {percentile(idle, 50) * 1000:.1f} ms; "
             "the import runs in another process, as the jobs process's executor",
        details={"url": url})
