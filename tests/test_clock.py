"""The suite does not depend on the day it runs: the date-sensitive tests pass with the clock moved.

The whole suite runs at a pinned instant (tests/conftest.py: TEST_NOW). This test runs the tests
whose outcome depends on "today" again, in a subprocess, with the clock moved to 29 February of a
leap year and to a day in a year without holiday data (the calendar then falls back to weekends
and marks dates provisional). SQLite only: the date logic is the same on both backends, and the
PostgreSQL run of the same tests happens at the pinned instant.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DATE_SENSITIVE = ["tests/domain", "tests/titles", "tests/enterprises/test_register_update_and_reports.py",
                  "tests/policies", "tests/dashboard/test_overview.py", "tests/accounts/test_token_use.py",
                  "tests/platform/test_bulkwrite.py", "tests/platform/test_insert_ignore.py",
                  "tests/jobs", "tests/pipeline", "tests/test_settings.py",
                  "tests/web/test_pages.py", "tests/web/test_api.py", "tests/reminders/test_reminders_page_and_api.py"]


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("day", ["2028-02-29", "2031-03-15"])
def test_date_sensitive_tests_pass_with_the_clock_moved(day):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "PYTEST_"))}
    env["REGISTRY_TEST_NOW"] = day
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *DATE_SENSITIVE],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1150)
    tail = "\n".join(result.stdout.splitlines()[-30:])
    assert result.returncode == 0, tail
    assert " passed" in tail and " failed" not in tail, tail
