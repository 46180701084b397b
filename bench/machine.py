"""What the figures were measured on: CPU, memory, Python, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path

import sqlalchemy as sa


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def describe(engine: sa.Engine) -> dict[str, str]:
    """Machine and database facts for the report."""
    memory = _memory_gib()
    facts = {
        "cores": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": f"{memory:.1f} GiB" if memory else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "load average (1, 5, 15 min) at the start": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            facts["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar_one()
            settings = ("shared_buffers", "work_mem", "effective_cache_size", "max_wal_size", "synchronous_commit")
            facts["postgresql settings"] = ", ".join(
                f"{s}={conn.exec_driver_sql(f'SHOW {s}').scalar_one()}" for s in settings)
    return facts
