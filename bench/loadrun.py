"""Load held (issue 19 point 4): locust against gunicorn on 127.0.0.1, started and stopped here.

gunicorn serves `app:app` on a free port of 127.0.0.1 with the bench database; locust runs
`bench/locustfile.py` headless for a bounded time with a fixed number of users, and stops by
itself; both processes are ours and are ended here whatever happens. On SQLite an import applies
in another process while the users work (the embedded default's worst moment: one writer).
The figure is the p95 of every request; its errors are counted and must be 0.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from flask import Flask

from bench.timing import Figure, not_measured
from registry.regions.models import Region

ROOT = Path(__file__).resolve().parent.parent
P95_TARGET = 0.200  #: seconds (issue 19: p95 ≤ 200 ms under load)


def available() -> str | None:
    """Why the load cannot be run, or None."""
    try:
        import gunicorn  # noqa: F401
        import locust  # noqa: F401
    except ImportError as exc:
        return f"locust or gunicorn is not installed ({exc}): pip install -r requirements-dev.txt"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(base: str, token: str, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    request = urllib.request.Request(f"{base}/api/v1/enterprises?per_page=1", headers={"Authorization": f"Bearer {token}"})
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  127.0.0.1 only
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not answer within 90 s")
        time.sleep(0.5)


def _stop(process: subprocess.Popen) -> None:
    """End a process we started (its own group: gunicorn's workers with it)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _rss_of_group(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn master and workers), bytes."""
    import psutil

    try:
        parent = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
    except psutil.Error:
        return 0


def measure(app: Flask, url: str, token: str, *, users: int, seconds: int, import_rows: int = 0,
            workers: int = 3) -> Figure:
    """`users` officers for `seconds` against gunicorn (with an import applying alongside if `import_rows`)."""
    why = available()
    if why:
        return not_measured("load", why)
    engine = app.extensions["registry.engine"]
    kind = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    label = f"load: {users} users for {seconds} s on {kind}" + (f", a {import_rows:,}-row import applying"
                                                               if import_rows else "")
    with app.extensions["registry.sessionmaker"]() as session:
        districts = [code for (code,) in session.query(Region.code).filter(
            Region.level == "district", Region.code.startswith("33")).order_by(Region.code)]
    if engine.dialect.name == "postgresql":
        # what autovacuum does with docs/operations.md's insert scale factor after the import figure's rows
        # (the default 0.2 would leave them without a visibility map: every count reads their heap pages)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_ENV": "development",
           "REGISTRY_SECRET_KEY": "bench-secret", "BENCH_TOKEN": token, "BENCH_DISTRICTS": ",".join(districts[:12])}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "--timeout", "120", "--log-level", "warning", "app:app"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    importer, outcome = None, None
    try:
        _wait_ready(base, token)
        if import_rows:
            from bench.contention import _apply
            from bench.imports import workbook

            content = workbook(districts, import_rows, seed=int(time.time()) % 1000, series=f"L{int(time.time()) % 10}")
            context = multiprocessing.get_context("spawn")
            started, outcome = context.Event(), context.Queue()
            importer = context.Process(target=_apply, args=(url, content, started, outcome))
            importer.start()
            started.wait(120)
        with tempfile.TemporaryDirectory() as tmp:
            prefix = Path(tmp) / "load"
            locust = subprocess.Popen(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                 "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", base,
                 "--csv", str(prefix), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
                cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                _, errors = locust.communicate(timeout=seconds + 120)
            finally:
                _stop(locust)
            server_rss = _rss_of_group(server.pid)
            stats = list(csv.DictReader((Path(f"{prefix}_stats.csv")).open(encoding="utf-8")))
            failures = list(csv.DictReader((Path(f"{prefix}_failures.csv")).open(encoding="utf-8")))
    finally:
        _stop(server)
    status = "not run"
    if importer is not None:
        try:  # the result first: a child that put into a queue exits only once it has been read
            status = outcome.get(timeout=1800)
        except queue.Empty:
            status = f"no result within 30 min (exit code {importer.exitcode})"
        importer.join(timeout=60)
        if importer.is_alive():
            importer.terminate()
    total = next(r for r in stats if r["Name"] == "Aggregated")
    count, failed = int(total["Request Count"]), int(total["Failure Count"])
    p95 = float(total["95%"]) / 1000
    slowest = sorted((r for r in stats if r["Name"] != "Aggregated"), key=lambda r: -float(r["95%"] or 0))[:3]
    problems = "; ".join(f"{f['Method']} {f['Name']}: {f['Error'][:120]} ×{f['Occurrences']}" for f in failures[:3])
    note = (f"{count:,} requests, {failed} errors, {float(total['Requests/s']):.1f} requests/s, p50 "
            f"{float(total['50%']):.0f} ms, p99 {float(total['99%']):.0f} ms; slowest p95: "
            + ", ".join(f"{r['Name']} {float(r['95%']):.0f} ms" for r in slowest)
            + f"; gunicorn {workers} workers × 4 threads, {server_rss / 1e6:,.0f} MB resident at the end"
            + (f"; the import: {status}" if import_rows else "")
            + (f"; errors: {problems}" if problems else "")
            + (f"; locust said: {errors.decode(errors='replace').strip()[-300:]}" if failed and errors else ""))
    # PostgreSQL: 0 errors and p95 ≤ 200 ms; the embedded SQLite under an import: 0 errors (issue 19)
    return Figure(label, p95, None, "– (a load figure: p95 of all requests, 0 errors)",
                  target_value=P95_TARGET if kind == "PostgreSQL" else None,
                  errors=failed, memory=server_rss, note=note)
