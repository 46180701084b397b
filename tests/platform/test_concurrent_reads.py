"""Identical read requests at once on the app's own engine (no shared test session), both backends: each clean
read request ends with COMMIT (end_reads) and runs cached compiled statements (run_compiled) — every answer must
be the one a lone request gets; a write right after a streamed download saves and is seen."""

from __future__ import annotations

import pytest

from config import Settings
from registry import create_app
from registry.accounts.users import create_token, create_user
from registry.domain.actors import system_actor
from registry.platform.db import utcnow
from registry.platform.migrate import upgrade
from registry.regions.reference import sync_regions
from tests.conftest import ROOT, fresh_database
from tests.factories import make_enterprise, make_uscc
from tests.racing import race
from tests.web.fixtures import PASSWORD


@pytest.fixture
def site(engine, tmp_path):
    url, pg = fresh_database(engine.dialect.name, tmp_path)
    upgrade(url)
    app = create_app(Settings(env="testing", database_url=url, secret_key="test-secret",
                              policy_dir=ROOT / "config" / "policies"))
    app.config["TESTING"] = True
    admin = system_actor("cli", "tests")
    with app.extensions["registry.sessionmaker"]() as session:
        sync_regions(session)
        create_user(session, actor=admin, username="officer", role="officer", region_code="331000",
                    email="officer@gov.example.cn", password=PASSWORD, at=utcnow())
        token = create_token(session, actor=admin, username="officer", name="t", at=utcnow())[1]
        ids = [make_enterprise(session, admin, uscc=make_uscc("331002", 734_000 + i), region_code="331002",
                               name=f"台州并发{i}有限公司").id for i in range(12)]
        session.commit()
    yield app, token, ids
    app.extensions["registry.engine"].dispose()
    if pg is not None:
        pg.drop()


def _client(app, token):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_identical_read_requests_at_once_answer_as_one_alone(site):
    app, token, _ = site
    paths = ["/api/v1/enterprises?per_page=5&page=2&sort=uscc", "/api/v1/enterprises?q=并发1"]
    alone = {p: _client(app, token).get(p).get_data() for p in paths}

    def run(_):
        client = _client(app, token)
        answers = []
        for _ in range(15):
            for p in paths:
                response = client.get(p)
                answers.append((p, response.status_code, response.get_data()))
        return answers

    outcomes = race(run, range(6), timeout=120)  # a reader that raised leaves its repr (a str)
    assert not any(isinstance(o, str) for o in outcomes), outcomes
    answers = [answer for outcome in outcomes for answer in outcome]
    assert len(answers) == 6 * 15 * len(paths)
    assert all(status == 200 and body == alone[p] for p, status, body in answers)


def test_a_write_right_after_a_streamed_download_saves(site):
    app, token, ids = site
    client = _client(app, token)
    download = client.get("/api/v1/exports/roster.csv")
    assert download.status_code == 200 and "台州并发3有限公司".encode() in download.get_data()
    version = client.get(f"/api/v1/enterprises/{ids[3]}").get_json()["version"]
    answer = client.patch(f"/api/v1/enterprises/{ids[3]}", json={"version": version, "name": "台州改名有限公司"})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert client.get(f"/api/v1/enterprises/{ids[3]}").get_json()["name"] == "台州改名有限公司"
    assert "台州改名有限公司".encode() in client.get("/api/v1/exports/roster.csv").get_data()
