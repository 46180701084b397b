"""The daily scan over the whole roster, against the same set-based SQL run raw.

Two scans run, both real (claimed in the run ledger, committed): the first on day D arms every
reminder the freshly loaded roster implies (a catch-up, as after the first deployment or a long
outage); the second, on D+1, is the steady state that runs every night and carries the target.
The floor of each is the scan's own set-based SELECTs — every statement text it ran once — replayed
on the raw driver; statements the scan repeats per title, per reminder or per e-mail are the
scan's per-item work and are counted, not replayed.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Flask

from bench import timing
from bench.sql import Statement, capture, explain, inline, replayer
from bench.timing import Figure, not_measured, once
from registry.cli.base import today_in
from registry.platform.db import utcnow
from registry.runs.models import JobRun

DOMAIN = "example.gov.cn"


def available() -> str | None:
    """Why the scan cannot be measured, or None."""
    try:
        from jobs.scan import scan_once  # noqa: F401
    except ImportError as exc:
        return f"scan not yet available ({exc})"
    return None


def set_based(statements: list[Statement]) -> list[Statement]:
    """The SELECTs (a WITH … SELECT too) whose text the scan ran exactly once, and the settings (SET) it ran
    them under (PostgreSQL: the scan turns JIT compilation off; its floor runs the same way)."""
    runs = Counter(s.sql for s in statements)
    return [s for s in statements if s.sql.lstrip().upper().startswith("SET ")
            or (runs[s.sql] == 1 and s.sql.lstrip().upper().startswith(("SELECT", "WITH")))]


def _first_free_day(app: Flask) -> date:
    with app.extensions["registry.sessionmaker"]() as session:
        last = session.scalar(sa.select(sa.func.max(JobRun.run_on)).where(JobRun.job_name == "scan"))
    today = today_in("Asia/Shanghai")
    return max(today, last + timedelta(days=1)) if last else today


def _scan(app: Flask, day: date, label: str, target: bool) -> Figure:
    from jobs.scan import scan_once

    engine = app.extensions["registry.engine"]
    with capture(engine) as seen:
        seconds, outcome = once(lambda: scan_once(app.extensions["registry.sessionmaker"],
                                                  policies=app.extensions["registry.policies"], today=day,
                                                  clock=utcnow, domain=DOMAIN))
    memory = timing.last_peak
    if outcome.report is None:
        return not_measured(label, f"the scan for {day} had already run")
    floor_statements = set_based(seen)
    run, close = replayer(engine, floor_statements)
    try:
        floor, fetched = once(run)
        floor_memory = timing.last_peak
    finally:
        close()
    counts = {k: v for k, v in outcome.report.counts().items() if v}
    selects = [s for s in floor_statements if not s.sql.lstrip().upper().startswith("SET ")]  # a SET has no plan
    hot = sorted(selects, key=lambda s: -len(s.sql))[:4]
    return Figure(
        label, seconds, floor, f"its {len(selects)} set-based SELECTs raw",
        target_ratio=2.0 if target else 3.0, target_value=10.0 if target else None,
        memory=memory, floor_memory=floor_memory,
        note=f"did {counts or 'nothing'}; {len(seen):,} statements in all, {len(seen) - len(floor_statements):,} "
             f"of them per-item or writes; the set-based SELECTs fetched {fetched:,} rows",
        details={"statements": [inline(s) for s in hot], "plans": [explain(engine, s) for s in hot]})


def measure(app: Flask) -> list[Figure]:
    """The catch-up scan on D and the steady-state scan on D+1."""
    why = available()
    if why:
        return [not_measured("daily scan", why)]
    day = _first_free_day(app)
    first = _scan(app, day, f"first scan, {day} (catch-up: arms every reminder)", target=False)  # ≤ 3×
    daily = _scan(app, day + timedelta(days=1), f"daily scan, {day + timedelta(days=1)} (steady state)", target=True)
    return [daily, first]
