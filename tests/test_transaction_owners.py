"""One transaction owner per unit of work, and one clock (issue 15 §3).

Services never commit. A unit of work is committed by its owner only:

- a web request: the feature's views (api.py, pages.py and their kin) and the web kit (registry/web/),
  plus the request's own authentication bookkeeping (registry/accounts/access.py);
- a command: registry/cli/base.py `unit_of_work`;
- a job: the jobs process (jobs/: the scan, the digest and watchdog, the outbox sender, the import
  executor), which lives outside registry/;
- the platform's session plumbing: registry/platform/db.py (`begin_writes` ends a read-only
  request's reads).

The check reads every module of registry/ and fails on `.commit()` or a `.begin()` transaction
(a savepoint, `begin_nested`, is a service's own business) anywhere else. "Today" has one home,
registry/platform/clock.py: nothing else reads the wall clock.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

from tests.conftest import ROOT

VIEW_FILES = ("api.py", "api_*.py", "*_api.py", "pages.py", "page_*.py", "*_pages.py")
OWNER_MODULES = {"registry/accounts/access.py", "registry/cli/base.py", "registry/platform/db.py"}
CLOCK = "registry/platform/clock.py"


def owns_transactions(path: str) -> bool:
    """Tell whether the module at `path` (relative to the root) may commit a unit of work."""
    name = path.rsplit("/", 1)[-1]
    return (path in OWNER_MODULES or path.startswith(("registry/web/", "jobs/"))
            or any(fnmatch.fnmatch(name, pattern) for pattern in VIEW_FILES))


def transaction_calls(source: str) -> list[tuple[int, str]]:
    """Every `x.commit()` and `x.begin()` call in `source`, as (line, text)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "begin")):
            found.append((node.lineno, ast.unparse(node)))
    return found


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """Reads of the wall clock (datetime's `now`, date's `today`) and definitions of a `today_in`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("now", "utcnow", "today") and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("datetime", "date")):
            found.append((node.lineno, ast.unparse(node)))
        if isinstance(node, ast.FunctionDef) and node.name == "today_in":
            found.append((node.lineno, f"def {node.name}"))
    return found


def modules(*folders: str) -> list[tuple[str, str]]:
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
            for folder in folders for p in sorted(ROOT.joinpath(folder).rglob("*.py"))]


def test_services_never_commit():
    violations = [f"{path}:{line}: {text}" for path, source in modules("registry")
                  if not owns_transactions(path) for line, text in transaction_calls(source)]
    assert violations == []


def test_the_runners_live_with_the_jobs_process():
    owners = {path for path, source in modules("jobs") if transaction_calls(source)}
    assert {"jobs/scan.py", "jobs/outbox.py", "jobs/digests.py", "jobs/imports.py"} <= owners


def test_today_has_one_home():
    reads = [f"{path}:{line}: {text}" for path, source in modules("registry", "jobs")
             if path != CLOCK for line, text in wall_clock_reads(source)]
    assert reads == []


def test_the_checks_see_a_commit_and_a_clock_read():
    service = "def f(session, sessions):\n    session.commit()\n    with sessions.begin() as s:\n        pass\n" \
              "    with session.begin_nested():\n        pass\n"
    assert [line for line, _ in transaction_calls(service)] == [2, 3]
    assert not owns_transactions("registry/reminders/services.py")
    assert owns_transactions("registry/reminders/api.py") and owns_transactions("registry/accounts/admin_pages.py")
    assert owns_transactions("registry/pipeline/page_board.py") and owns_transactions("jobs/outbox.py")
    # made-up source the detector must flag (spelled in pieces: this file itself reads no clock)
    clocked = "from datetime import date, datetime\ndef today_in(tz):\n    return datetime." + "now(tz).date()\n" \
              "x = date." + "today()\n"
    assert sorted(line for line, _ in wall_clock_reads(clocked)) == [2, 3, 4]
    assert Path(ROOT, CLOCK).exists()
