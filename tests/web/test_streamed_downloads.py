"""Every download reads in a short session of its own: a write right after it is saved at once (issue 13).

These tests run the real app on a committed database of its own (a SQLite file, a PostgreSQL
database), not on the tests' shared SAVEPOINT session: a download that left a transaction open
would hold SQLite's write lock (the next write waits out the 30 s busy timeout and fails) or
leave a PostgreSQL connection "idle in transaction" — both show here. Each download is read
whole, aborted midway (the body iterated in part, then closed, as a server does when the client
goes away), abandoned before its body, or read slowly with writes in between.
"""

from __future__ import annotations

import csv
import html
import io
import re
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.engine import make_url

from config import Settings
from registry import create_app
from registry.accounts.users import create_token, create_user
from registry.cli.base import today_in
from registry.domain.actors import system_actor
from registry.enterprises.models import Enterprise
from registry.platform.db import utcnow
from registry.platform.migrate import upgrade
from registry.policies.rules import load_rules
from registry.regions.reference import sync_regions
from tests.conftest import ROOT, backends, fresh_database
from tests.factories import make_enterprise
from tests.roster.files import roster_rows, xlsx
from tests.web.fixtures import PASSWORD, login
from tests.web.pages import edit_enterprise
from tests.web.pipeline_data import candidate

EXPORT_LINK = re.compile(r'href="([^"]*/exports/roster\.csv[^"]*)"')
PROMPT = 5.0  #: seconds a write may take right after a download (the busy timeout is 30 s)


class Live:
    """The app on a committed database, with a province officer's API and page clients and some data."""

    def __init__(self, app: Flask, url: str, token: str) -> None:
        self.app, self.url, self.token = app, url, token
        self.engine = app.extensions["registry.engine"]
        self.paths: dict[str, str] = {}
        self.enterprise_id = 0
        self.page = app.test_client()

    def api(self) -> FlaskClient:
        """A new API client (one per thread)."""
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return client

    def client_for(self, name: str) -> FlaskClient:
        """The client a download is fetched with (the page route needs the logged-in session)."""
        return self.page if self.paths[name].startswith("/imports/") else self.api()

    def nothing_held(self) -> None:
        """Assert no connection holds a transaction: SQLite's write lock is free; no PG session idles in one.

        A download whose audit event found the chain busy hands it to a recorder thread that waits its turn like
        any writer: such a thread is working, not left behind, so it is let finish first (it failed a CI run on
        PostgreSQL under load: one recorder between its statements counted as "idle in transaction")."""
        for thread in list(self.app.extensions.get("registry.download_audit_threads", [])):
            thread.join(timeout=60)
            assert not thread.is_alive(), "a deferred download event was never recorded"
        if self.engine.dialect.name == "sqlite":
            raw = sqlite3.connect(make_url(self.url).database, timeout=0.2)
            try:
                raw.execute("BEGIN IMMEDIATE")  # "database is locked" if a transaction was left holding it
                raw.rollback()
            finally:
                raw.close()
            return
        with self.engine.connect() as conn:
            stuck = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar_one()
        assert stuck == 0, f"{stuck} connection(s) left idle in transaction"

    def edit(self, client: FlaskClient | None = None, *, note: str = "") -> float:
        """PATCH the enterprise as the roster page's editor would; return the seconds it took (asserting 200)."""
        client = client or self.api()
        version = client.get(f"/api/v1/enterprises/{self.enterprise_id}").get_json()["version"]
        started = time.perf_counter()
        response = client.patch(f"/api/v1/enterprises/{self.enterprise_id}",
                                json={"version": version, "contact_name": f"联系人{note}"[:64]})
        took = time.perf_counter() - started
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return took


@pytest.fixture(scope="module", params=backends())
def live(request, tmp_path_factory) -> Iterator[Live]:
    url, pg = fresh_database(request.param, tmp_path_factory.mktemp("live"))
    upgrade(url)
    settings = Settings(env="testing", database_url=url, secret_key="test-secret",
                        policy_dir=ROOT / "config" / "policies")
    app = create_app(settings)
    app.config.update(TESTING=True, IMPORTS_INLINE=True)
    admin = system_actor("cli", "tests")
    today = today_in(settings.timezone)
    with app.extensions["registry.sessionmaker"]() as session:
        sync_regions(session)
        session.commit()
        create_user(session, actor=admin, username="province", role="officer", region_code="330000",
                    email="province@gov.example.cn", password=PASSWORD, at=utcnow())  # the live app's now (password age)
        _, token = create_token(session, actor=admin, username="province", name="tests", at=utcnow())
        rules = load_rules(session, app.extensions["registry.policies"])
        editable = make_enterprise(session, admin, region_code="331002")
        for _ in range(30):
            make_enterprise(session, admin, region_code="331002")
        candidate(session, admin, rules, today)  # commits
        enterprise_id = editable.id
    state = Live(app, url, token)
    state.enterprise_id = enterprise_id
    client = state.api()
    pool = client.post("/api/v1/pools/run", json={"tier": "little_giant", "year": today.year})
    assert pool.status_code == 201, pool.get_json()
    bad = [list(r) for r in roster_rows(2, serial=870_000)]
    bad[0][4] = "金牌企业"
    failed = client.post("/api/v1/imports", data={"mode": "apply", "file": (io.BytesIO(xlsx(bad)), "名单.xlsx")},
                         content_type="multipart/form-data").get_json()
    assert failed["status"] == "failed" and failed["errors_url"], failed
    assert login(state.page, "province").status_code == 302
    run_id = failed["id"]
    state.paths = {
        "roster.csv": "/api/v1/exports/roster.csv", "roster.xlsx": "/api/v1/exports/roster.xlsx",
        "audit.csv": "/api/v1/audit/export.csv", "audit.xlsx": "/api/v1/audit/export.xlsx",
        "pool.xlsx": f"/api/v1/pools/{pool.get_json()['id']}/export.xlsx",
        "errors.xlsx": f"/api/v1/imports/{run_id}/errors.xlsx",
        "errors.xlsx (page)": f"/imports/{run_id}/errors.xlsx",
    }
    yield state
    state.engine.dispose()
    if pg is not None:
        pg.drop()


DOWNLOADS = ("roster.csv", "roster.xlsx", "audit.csv", "audit.xlsx", "pool.xlsx", "errors.xlsx", "errors.xlsx (page)")


def content_ok(name: str, body: bytes) -> None:
    """The file is whole and what it says it is."""
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert len(rows) > 10, rows[:3]
    else:
        book = load_workbook(io.BytesIO(body), read_only=True)
        assert sum(1 for _ in book.worksheets[0].iter_rows()) >= 2


@pytest.mark.parametrize("name", DOWNLOADS)
def test_a_write_right_after_a_download_is_saved_at_once(live, name):
    response = live.client_for(name).get(live.paths[name])
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    content_ok(name, response.data)
    live.nothing_held()
    assert live.edit(note=name) < PROMPT


def test_roster_page_export_then_edit_on_the_page_client(live):
    """Acceptance: 导出 CSV from the roster page, then edit an enterprise on its page — previewed, then saved."""
    roster = live.page.get("/enterprises")
    assert roster.status_code == 200
    link = EXPORT_LINK.search(roster.get_data(as_text=True))
    assert link, "no 导出 CSV link on the roster page"
    exported = live.page.get(html.unescape(link.group(1)))
    assert exported.status_code == 200 and exported.data.startswith("\ufeff".encode())
    content_ok("roster.csv", exported.data)
    url = f"/enterprises/{live.enterprise_id}"
    with live.app.extensions["registry.sessionmaker"]() as session:
        ent = session.get(Enterprise, live.enterprise_id)
        fields = {"edit-version": ent.version, "edit-name": ent.name, "edit-uscc": ent.uscc,
                  "edit-region_code": ent.region_code, "edit-contact_name": "导出后修改"}
    started = time.perf_counter()
    _, saved = edit_enterprise(live.page, live.enterprise_id, fields, reason="导出后核对更正联系人")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    assert time.perf_counter() - started < PROMPT
    assert "导****" in live.page.get(url).get_data(as_text=True)  # saved; shown masked (issue 16 §6)
    live.nothing_held()


@pytest.mark.parametrize("name", ("roster.csv", "audit.csv", "roster.xlsx", "pool.xlsx"))
def test_a_download_aborted_midway_leaves_nothing_open(live, name, monkeypatch):
    monkeypatch.setattr("registry.web.downloads.CHUNK", 256)  # several chunks even for a small file
    response = live.client_for(name).get(live.paths[name], buffered=False)
    body = iter(response.response)
    first, second = next(body), next(body)
    assert first and second
    response.close()  # what the server does when the client hangs up
    live.nothing_held()
    assert live.edit(note=f"abort {name}") < PROMPT


def test_a_download_never_read_opens_nothing(live):
    response = live.api().get(live.paths["roster.csv"], buffered=False)
    response.close()  # the client went away before the body
    live.nothing_held()
    assert live.edit(note="never read") < PROMPT


def test_a_slow_client_holds_no_transaction_while_it_reads(live, monkeypatch):
    monkeypatch.setattr("registry.web.downloads.CHUNK", 128)
    whole = live.api().get(live.paths["roster.csv"]).data
    response = live.api().get(live.paths["roster.csv"], buffered=False)
    body = iter(response.response)
    received = [next(body)]
    for n in range(3):  # the client is slow: writes go on between its reads
        live.nothing_held()
        assert live.edit(note=f"slow {n}") < PROMPT
        received.append(next(body))
    received.extend(body)
    response.close()
    assert b"".join(received) == whole  # the file is the snapshot read before the first byte
    live.nothing_held()


def test_a_download_in_another_region_is_still_scoped(live):
    """The download's own session is scoped like the request's: a 杭州 officer's export lists 杭州 only."""
    with live.app.extensions["registry.sessionmaker"]() as session:
        admin = system_actor("cli", "tests")
        create_user(session, actor=admin, username="hangzhou", role="officer", region_code="330100",
                    email="hz@gov.example.cn", password=PASSWORD, at=utcnow())  # the live app's now (password age)
        _, token = create_token(session, actor=admin, username="hangzhou", name="tests", at=utcnow())
        make_enterprise(session, admin, region_code="330106", name="杭州导出范围测试有限公司")
        session.commit()
    hangzhou = live.app.test_client()
    hangzhou.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    rows = list(csv.reader(io.StringIO(hangzhou.get(live.paths["roster.csv"]).data.decode("utf-8-sig"))))
    names = [r[1] for r in rows[1:]]
    assert names == ["杭州导出范围测试有限公司"]
    province = list(csv.reader(io.StringIO(live.api().get(live.paths["roster.csv"]).data.decode("utf-8-sig"))))
    listed = [r[1] for r in province[1:]]
    assert "杭州导出范围测试有限公司" in listed and len(listed) > 30  # the province sees 杭州 and 台州
    live.nothing_held()


@pytest.mark.parametrize("abort", (False, True), ids=("whole", "aborted"))
def test_thirty_parallel_exports_leave_no_connection_idle_in_transaction(live, abort, monkeypatch):
    if abort:
        monkeypatch.setattr("registry.web.downloads.CHUNK", 256)
    errors: list[str] = []
    start = threading.Barrier(30)

    def export(n: int) -> None:
        try:
            client = live.api()
            name = ("roster.csv", "audit.csv", "roster.xlsx")[n % 3]
            start.wait(timeout=30)
            response = client.get(live.paths[name], buffered=not abort)
            if response.status_code != 200:
                errors.append(f"{name}: {response.status_code}")
            elif abort:
                next(iter(response.response))
                response.close()
            else:
                content_ok(name, response.data)
        except Exception as exc:  # noqa: BLE001  reported below
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=export, args=(n,)) for n in range(30)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:5]
    assert time.perf_counter() - started < 60
    live.nothing_held()
    assert live.edit(note=f"after 30 {abort}") < PROMPT


def test_a_refused_download_is_an_ordinary_response(live):
    """Permission and existence are checked in the request, before any body: a 404 is JSON, not a broken file."""
    missing = live.api().get("/api/v1/pools/999999/export.xlsx")
    assert missing.status_code == 404 and missing.is_json
    live.nothing_held()
