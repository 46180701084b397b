"""Hostile files over HTTP and the CLI (issue 13, point 3): each is refused with 422 and a Chinese
message naming the limit in under a second, no import run is recorded, and /health answers after.
"""

from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa

from config.import_limits import MB, ImportLimits
from registry.roster.models import ImportRun
from tests.roster.conftest import registry_counts
from tests.roster.test_hostile_files import HOSTILE
from tests.web.fixtures import csrf_from
from tests.web.pages import page


def runs(session) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(ImportRun))


@pytest.fixture
def officer(api_as):
    return api_as("officer", "331000")


@pytest.mark.parametrize("name", HOSTILE)
def test_the_api_refuses_each_hostile_file_with_422_and_the_server_stays_up(officer, session, client, name):
    build, words = HOSTILE[name]
    filename, content = build()
    before, counts = runs(session), registry_counts(session)
    started = time.thread_time()  # the request runs in this thread: its CPU, not a shared machine's wall clock
    response = officer.post("/api/v1/imports", data={"mode": "apply", "file": (io.BytesIO(content), filename)},
                            content_type="multipart/form-data")
    elapsed = time.thread_time() - started
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    message = response.get_json()["errors"]["file"][0]
    assert all(word in message for word in words), message
    assert elapsed < 1.0, f"{name}: {elapsed:.2f}s"
    assert runs(session) == before and registry_counts(session) == counts  # nothing written, not even a run
    health = client.get("/api/v1/health")
    assert health.status_code == 200 and health.get_json()["db"] == "ok"


@pytest.mark.parametrize("name", ["far_cell", "shared_strings_declared", "binary_csv", "csv_long_line"])
def test_the_upload_page_refuses_a_hostile_file_in_the_form(app, login_as, session, name):
    app.config["IMPORTS_INLINE"] = True
    officer = login_as("officer", "331000")
    build, words = HOSTILE[name]
    filename, content = build()
    before = runs(session)
    data = {"csrf_token": csrf_from(page(officer, "/imports")), "mode": "dry_run", "programme": "",
            "file": (io.BytesIO(content), filename)}
    response = officer.post("/imports", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and all(word in html for word in words), html[:3000]
    assert runs(session) == before


def test_an_old_xls_is_not_offered_by_the_upload_form(login_as):
    html = page(login_as("officer", "331000"), "/imports")
    assert 'accept=".xlsx,.xlsm,.csv"' in html


class TestASmallUploadLimit:
    """REGISTRY_IMPORT_MAX_UPLOAD_MB bounds the request itself: a larger body is 413 before it is read."""

    @pytest.fixture
    def settings(self, settings):
        return settings.with_overrides(import_limits=ImportLimits(upload_bytes=1 * MB))

    def test_a_larger_request_is_413_with_the_limit_in_chinese(self, officer, session):
        before = runs(session)
        response = officer.post("/api/v1/imports", data={"file": (io.BytesIO(b"a,b\n" * (600 * 1024)), "x.csv")},
                                content_type="multipart/form-data")
        assert response.status_code == 413
        assert "文件过大" in response.get_json()["error"] and "1 MB" in response.get_json()["error"]
        assert runs(session) == before

    def test_a_file_over_the_limit_but_inside_the_request_margin_is_422(self, officer):
        response = officer.post("/api/v1/imports", data={"file": (io.BytesIO(b"a,b\n" * (300 * 1024)), "x.csv")},
                                content_type="multipart/form-data")
        assert response.status_code == 422 and "文件大小" in response.get_json()["errors"]["file"][0]


def test_the_cli_refuses_a_hostile_file_before_recording_anything(app, session, tmp_path):
    build, words = HOSTILE["far_cell"]
    filename, content = build()
    path = tmp_path / filename
    path.write_bytes(content)
    before = runs(session)
    result = app.test_cli_runner().invoke(args=["import-roster", str(path), "--today", "2026-06-01"])
    assert result.exit_code == 1 and all(word in result.output for word in words), result.output
    assert runs(session) == before
