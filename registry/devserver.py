"""`make run`: the web app on http://127.0.0.1:5000 beside the scheduler process; Ctrl-C stops both.

The scheduler is its own process (never inside the web server or under a reloader), exactly as
in production where it is a separate systemd unit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def demo_logins() -> str:
    """The demo's logins, every one of them (registry/cli/demo.py USERS), for the console."""
    from registry.cli.demo import USERS  # noqa: PLC0415  (the shell imports the demo only to list it)

    lines = [f"  {username:<13}{name}" for username, _role, _region, name, _email in USERS]
    return ("\n演示账号 / demo logins (password for all: printed once by seed-demo above, random unless\n"
            "REGISTRY_DEMO_PASSWORD was set; the administrator roles enrol a second factor at their first login):\n"
            + "\n".join(lines) + "\n")


def main() -> int:
    """Start the scheduler and the web server; stop both on Ctrl-C."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    port = os.environ.get("REGISTRY_PORT", "5000")
    print(demo_logins(), flush=True)
    children = [
        subprocess.Popen([*flask, "jobs", "run"]),
        subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"]),
    ]
    scheduler, web = children
    warned = False
    try:
        while web.poll() is None:
            try:
                web.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            if scheduler.poll() is not None and not warned:
                # Keep serving: the dashboard and /api/v1/health show the stopped scheduler in red.
                print(f"警告：定时任务进程已退出（{scheduler.returncode}） / WARNING: scheduler exited", flush=True)
                warned = True
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return web.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
