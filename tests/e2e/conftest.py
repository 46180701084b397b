"""End-to-end fixtures: the app started as `make run` starts it, and Debian's Chromium via Playwright.

The server is the real thing: `flask init-db`, `flask seed-demo`, then registry.devserver (the web
server beside the scheduler process) on a free port with a fresh SQLite database. Chromium is
Debian's (/usr/bin/chromium, installed by .ci/run); outside CI a missing browser skips these tests
with a message, in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
MISSING = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run browser tests"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DEMO_SIZE = "150"
DEMO_PASSWORD = "demo-admin-2026"
# No network here: Chromium must not try to reach Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip (or, in CI, fail) browser tests when Chromium is absent."""
    if Path(CHROMIUM).exists() or os.environ.get("CI"):
        return  # in CI a missing browser fails in the `browser` fixture
    for item in items:
        if "e2e" in item.nodeid:
            item.add_marker(pytest.mark.skip(reason=MISSING))


#: the environment each running server was started with, by its URL (a test adds data through the services)
SERVER_ENVS: dict[str, dict[str, str]] = {}
#: when (this machine's clock) each server was started: its own clock started at REGISTRY_CLOCK then
SERVER_STARTED: dict[str, float] = {}


def server_now(server: str) -> datetime:
    """The server's "now" (REGISTRY_CLOCK when it started, ticking on), to within the seconds it took to start:
    what a phone's authenticator would read in the server's world."""
    started_at = datetime.fromisoformat(SERVER_ENVS[server]["REGISTRY_CLOCK"])
    return started_at + timedelta(seconds=time.time() - SERVER_STARTED[server])


def seed_with_services(server: str, function: str) -> str:
    """Run `module:function` (no arguments; it builds the app from the environment and commits) against the
    running server's database, in its own process as a CLI command would; return what it printed."""
    module, name = function.split(":")
    done = subprocess.run([sys.executable, "-c", f"from {module} import {name}; {name}()"], cwd=ROOT,
                          env=SERVER_ENVS[server], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def free_port() -> int:
    """Return a port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url} within {timeout}s")


@contextmanager
def running_server(workdir: Path) -> Iterator[str]:
    """Start the app as `make run` does, on a free port with a fresh database in `workdir`; yield its URL."""
    port = free_port()
    env = {**os.environ, "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'registry.db'}", "REGISTRY_PORT": str(port),
           "REGISTRY_SECRET_KEY": "e2e-secret", "REGISTRY_SMTP_PORT": str(free_port()), "FLASK_APP": "app",
           "REGISTRY_DEMO_PASSWORD": DEMO_PASSWORD}  # seed-demo's users get a random password unless asked
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed-demo", "--size", DEMO_SIZE, "--if-empty"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (workdir / "server.log").open("w")
    SERVER_STARTED[f"http://127.0.0.1:{port}"] = time.time()
    process = subprocess.Popen([sys.executable, "-m", "registry.devserver"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    SERVER_ENVS[url] = env
    try:
        _wait_for(f"{url}/api/v1/health", process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright (one at a time per process: Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"CI: {MISSING}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app started as `make run` starts it, for the whole run."""
    with running_server(tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, server):  # noqa: ANN001, ANN201
    """A fresh browser context (own cookies) opened on the app."""
    context = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1366, "height": 900},
                                  accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:  # noqa: ANN001
    """Log in through the form."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def screenshot(page, name: str, *, full_page: bool = True) -> None:  # noqa: ANN001
    """Save a screenshot for the README (long lists: just the first screen)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def second_person_confirms(browser, server: str, username: str = "tz_admin") -> None:  # noqa: ANN001
    """Four-eyes (issue 16 §4): another person of the region confirms the pending proposal on 待确认事项."""
    context = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1366, "height": 900})
    try:
        other = context.new_page()
        other.set_default_timeout(15000)
        login(other, username)
        other.goto("/proposals")
        other.get_by_role("button", name="确认生效").first.click()
        other.wait_for_load_state()
    finally:
        context.close()
