"""Issue 13 §8c from the web's side: a page upload and a large API upload are only stored and queued — no import
runs in the web process — and the jobs process's executor processes them as the uploader."""

from __future__ import annotations

import threading
from datetime import date

import sqlalchemy as sa

from jobs.imports import claim, execute
from registry.enterprises.models import Enterprise
from registry.roster.models import ImportRun
from tests.conftest import NOW
from tests.roster.files import roster_rows, xlsx
from tests.roster.test_imports_api import upload as api_upload
from tests.roster.test_imports_pages import run_id_of
from tests.roster.test_imports_pages import upload as page_upload

TODAY = date(2026, 6, 1)


def process_as_the_executor(session, policies, run_id: int) -> None:
    """What the jobs process does with a queued run (here on the test's one session)."""
    assert claim(session, run_id, worker="jobs-test:1", now=NOW)
    execute(lambda: session, policies, run_id, clock=lambda: NOW, today=TODAY)


def test_a_page_upload_is_only_queued_in_the_web_process(app, login_as, session):
    assert not app.config["IMPORTS_INLINE"]
    officer = login_as("officer", "331000")
    officer.environ_base.update(REMOTE_ADDR="10.1.1.9", HTTP_X_REQUEST_ID="page-upload-77")
    before = {t.name for t in threading.enumerate()}
    run_id = run_id_of(page_upload(officer, xlsx(roster_rows(2, serial=850_000)), mode="apply"))
    assert {t.name for t in threading.enumerate()} - before == set()  # no thread of the web runs it
    session.expire_all()
    run = session.get(ImportRun, run_id)
    assert (run.status, run.started_at, run.worker) == ("queued", None, None)
    assert run.submitted_by == {"kind": "user", "token_id": None, "ip": "10.1.1.9", "request_id": "page-upload-77"}
    assert "排队中" in officer.get(f"/imports/{run_id}").get_data(as_text=True)


def test_a_large_api_upload_is_answered_202_and_processed_by_the_executor(app, api_as, session, policies):
    app.config["IMPORTS_API_INLINE_MAX_BYTES"] = 1024  # the file below is larger
    officer = api_as("officer", "331000")
    rows = roster_rows(5, serial=851_000)
    response = api_upload(officer, xlsx(rows), mode="apply")
    body = response.get_json()
    assert response.status_code == 202, body
    assert body["status"] == "queued" and response.headers["Location"].endswith(f"/api/v1/imports/{body['id']}")
    assert officer.get(response.headers["Location"]).get_json()["status"] == "queued"
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)
                          .where(Enterprise.uscc.in_([r[2] for r in rows]))) == 0
    assert session.get(ImportRun, body["id"]).submitted_by["kind"] == "token"

    process_as_the_executor(session, policies, body["id"])
    done = officer.get(response.headers["Location"]).get_json()
    assert done["status"] == "applied" and done["counts"]["new_enterprises"] == 5
    assert done["progress"] == {"processed_rows": 5, "total_rows": 5}


def test_a_small_api_upload_is_still_answered_in_the_request(app, api_as):
    app.config["IMPORTS_API_INLINE_MAX_BYTES"] = 10 * 1024 * 1024
    response = api_upload(api_as("officer", "331000"), xlsx(roster_rows(2, serial=852_000)), mode="dry_run")
    assert response.status_code == 201 and response.get_json()["status"] == "validated"


def test_the_openapi_document_names_the_202(client):
    responses = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/imports"]["post"]["responses"]
    assert {"201", "202"} <= set(responses)
