"""Issue 13's acceptance for hostile files, against a real server process over real HTTP: each file
is refused in under a second, the server answers /health afterwards, still imports a good file,
and its memory stays bounded (VmHWM of the server process, < 300 MB).

Before the guard the second upload (cells A1 and XFD1048576, 2 KB) killed this server outright.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port
from tests.roster.files import roster_rows, xlsx
from tests.roster.test_hostile_files import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def post_file(url: str, token: str, filename: str, content: bytes, mode: str = "dry_run") -> tuple[int, dict]:
    """POST a multipart upload with urllib; return (status, JSON body)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n{mode}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url}/api/v1/imports", data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


@pytest.fixture
def server(tmp_path):
    """A fresh SQLite database, an officer with a token, and `flask run` serving it."""
    env = {**os.environ, "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
           "REGISTRY_SECRET_KEY": "hostile-secret", "REGISTRY_SMTP_PORT": str(free_port())}
    flask = [sys.executable, "-m", "flask", "--app", "app"]

    def cli(*args: str, stdin: str | None = None) -> str:
        return subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True,
                              input=stdin).stdout

    cli("init-db")
    cli("create-user", "officer", "--role", "officer", "--region", "331000", "--email", "o@gov.example.cn",
        "--password-stdin", stdin="A-long-password-2026\n")
    token = cli("create-token", "officer", "--scope", "write").strip().splitlines()[-1]
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([*flask, "run", "--port", str(port), "--no-reload", "--no-debugger"], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2):
                break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.3)
    yield url, token, process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)
    log.close()


def test_a_real_server_refuses_every_hostile_file_and_stays_up_and_small(server):
    url, token, process = server
    for name, (build, words) in HOSTILE.items():
        filename, content = build()
        started = time.perf_counter()
        status, body = post_file(url, token, filename, content)
        elapsed = time.perf_counter() - started
        assert status == 422, (name, body)
        assert all(word in body["errors"]["file"][0] for word in words), (name, body)
        assert elapsed < 1.0 or name == "csv_long_line", (name, elapsed)  # 10 MB through HTTP: the upload itself
        assert process.poll() is None, f"the server died on {name}"
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=10) as health:
            assert health.status == 200 and json.loads(health.read())["db"] == "ok"
    status, body = post_file(url, token, "名单.xlsx", xlsx(roster_rows(3, region="331002", serial=880_000)))
    assert status == 201 and body["status"] == "validated", body
    assert peak_mb(process.pid) < 300
