"""GET /api/v1/health reports each job's last success and whether the daily scan is late; 503 when the database
cannot be used (issue 13 §8d), never 500."""

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from config import Settings
from registry import create_app
from registry.platform.db import utcnow
from registry.platform.migrate import upgrade
from registry.runs import ledger as jobruns
from tests.conftest import ROOT


def test_health_shows_last_successes_and_a_late_scan(settings, session):
    app = create_app(settings)
    session.info["shared"] = True
    app.extensions["registry.sessionmaker"] = lambda: session
    client = app.test_client()
    body = client.get("/api/v1/health").get_json()
    assert body["db"] == "ok" and body["scan_late"] is True and "scan" not in body["jobs"]
    now = utcnow()
    run = jobruns.claim(session, job_name="scan", run_on=now.date(), at=now - timedelta(hours=1))
    jobruns.finish(session, run, at=now - timedelta(hours=1))
    jobruns.touch(session, job_name="send-reminders", run_on=now.date(), at=now)
    session.commit()
    body = client.get("/api/v1/health").get_json()
    assert body["scan_late"] is False
    assert set(body["jobs"]) == {"scan", "send-reminders"}


def read_only(directory: Path) -> Iterator[None]:
    """Make `directory` read-only for this process: chmod, and for root (whom chmod does not stop) chattr +i."""
    directory.chmod(0o555)
    immutable = False
    if not _writable(directory):
        pass
    elif subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode == 0:
        immutable = True
    try:
        if _writable(directory):
            pytest.skip("cannot make a directory read-only here (root on a filesystem without chattr)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        directory.chmod(0o755)


def _writable(directory: Path) -> bool:
    probe = directory / "probe"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


def health_of(url: str):
    settings = Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies")
    app = create_app(settings)
    try:
        response = app.test_client().get("/api/v1/health")
        return response.status_code, response.get_json()
    finally:
        app.extensions["registry.engine"].dispose()


def test_health_of_a_missing_sqlite_file_is_503_db_error(tmp_path):
    status, body = health_of(f"sqlite:///{tmp_path / 'no-such-dir' / 'registry.db'}")
    assert (status, body["db"]) == (503, "error") and "数据库" in body["error"]


def test_health_of_a_database_in_a_read_only_directory_is_503_db_error(tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    url = f"sqlite:///{directory / 'registry.db'}"
    upgrade(url)
    status, body = health_of(url)  # readable and writable: ok
    assert (status, body["db"]) == (200, "ok")
    with contextmanager(read_only)(directory):
        status, body = health_of(url)
    assert (status, body["db"]) == (503, "error")


def test_health_with_postgresql_down_is_503_db_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status, body = health_of(f"postgresql+psycopg://postgres@127.0.0.1:{port}/registry?connect_timeout=3")
    assert (status, body["db"]) == (503, "error")
