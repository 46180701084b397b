"""GET /api/v1/health reports each job's last success and whether the daily scan is late."""

from datetime import timedelta

from registry import create_app
from registry.db import utcnow
from registry.services import jobruns


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
