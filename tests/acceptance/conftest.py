"""Acceptance tests reuse the fixtures of the web, jobs and browser suites (imported by name; nothing moved).

The browser and the server are module-scoped here: Playwright's sync API allows one running
instance per process, so this module's must end before tests/e2e starts its session-wide one.
"""

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import chromium, page, running_server  # noqa: F401  (page: a fixture)
from tests.jobs.conftest import mail_settings, sessions, smtp_server  # noqa: F401  (fixtures)
from tests.web.fixtures import api_as, app, client, clock, login_as, make_user  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app started as `make run` starts it, for one test module."""
    with running_server(tmp_path_factory.mktemp("acceptance-e2e")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium for one test module."""
    with chromium() as launched:
        yield launched
