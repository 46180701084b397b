"""Six identical requests at once, through the real app on a committed database: exactly one effect.

Each request runs in its own thread with its own test client, so each has its own session and
database connection (the app's pool). The threads wait at a barrier and then post the same body.
Every POST that creates something is covered: enterprise, grant, lifecycle event, annual report,
change report, application, opinion, objection, import confirmation — and six PATCHes carrying one
version. The rule (docs/concurrency.md): one request has the effect (one row, one audit event); the
others answer 409 with a Chinese message (the annual report, an upsert, answers the same report
with 201 and records nothing). No request may answer 5xx. On PostgreSQL this is the real race; on
SQLite the writers queue and the same answers must come out.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from registry import create_app
from registry.accounts.users import create_token, create_user
from registry.audit.models import AuditEvent
from registry.cli.base import today_in
from registry.domain.actors import system_actor
from registry.domain.lifecycle import Event
from registry.domain.policy import load_policies
from registry.enterprises.models import AnnualReport, ChangeReport, Enterprise
from registry.pipeline.models import Application, Objection, Opinion, PoolMember
from registry.platform.db import utcnow
from registry.policies.rules import load_rules
from registry.roster.models import ImportRun
from registry.titles.models import Certification, CertificationEvent, CertificationTerm
from registry.titles.services import EventInput, apply_event
from tests.conftest import ROOT
from tests.factories import grant, make_enterprise, make_uscc
from tests.racing import race
from tests.roster.files import csv_bytes
from tests.web.fixtures import PASSWORD, csrf_from, login
from tests.web.pipeline_data import LEVELS, candidate, new_batch, recommend

N = 6
ADMIN = system_actor("cli", "tests")


class Live:
    """The app on a committed database, API clients by level, and a way to fire N requests at once."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        url = factory.kw["bind"].url.render_as_string(hide_password=False)
        settings = Settings(env="testing", database_url=url, secret_key="test-secret",
                            policy_dir=ROOT / "config" / "policies")
        self.app: Flask = create_app(settings)
        self.app.config["TESTING"] = True
        self.today = today_in(settings.timezone)
        self.tokens: dict[str, str] = {}
        with factory() as session:
            for level, region in {**LEVELS, "hangzhou": "330100"}.items():
                role = "admin" if region == "000000" else "officer"
                create_user(session, actor=ADMIN, username=f"{level}-user", role=role, region_code=region,
                            email=f"{level}@gov.example.cn", password=PASSWORD, at=utcnow())  # the live app's now (password age)
                _, self.tokens[level] = create_token(session, actor=ADMIN, username=f"{level}-user", name="t", at=utcnow())
            session.commit()
        for level in self.tokens:  # last_used_at is written now, not by the racing requests
            assert self.client(level).get("/api/v1/tiers").status_code == 200

    def client(self, level: str = "province") -> FlaskClient:
        """A new API client of the officer acting at `level`."""
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[level]}"
        return client

    def race(self, send, level: str = "province", n: int = N) -> list[tuple[int, Any]]:  # noqa: ANN001
        """Call `send(client)` from n threads at once, each with its own client of `level`; return
        (status, json) per thread."""
        def one(client: FlaskClient) -> tuple[int, Any]:
            response = send(client)
            body = response.get_json(silent=True)
            return response.status_code, response.get_data(as_text=True) if body is None else body

        return race(one, [self.client(level) for _ in range(n)], failed=lambda exc: (599, repr(exc)), timeout=120)

    def count(self, model: type, *where: sa.ColumnElement[bool]) -> int:
        """Count committed rows of `model`."""
        with self.factory() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    def audit(self, action: str, entity_type: str | None = None, entity_id: int | None = None) -> int:
        """Count committed audit events of `action` (on one entity when given)."""
        where = [AuditEvent.action == action]
        if entity_id is not None:
            where += [AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id]
        return self.count(AuditEvent, *where)

    def seed(self, build):  # noqa: ANN001, ANN201  build(session, rules) -> value
        """Build committed data with the shipped policies; return what `build` returns."""
        with self.factory() as session:
            value = build(session, load_rules(session, load_policies(ROOT / "config" / "policies")))
            session.commit()
            return value


@pytest.fixture
def live(committed_factory) -> Live:
    live = Live(committed_factory)
    yield live
    live.app.extensions["registry.engine"].dispose()


def one_winner(results: list[tuple[int, Any]], won: int = 201, lost: int = 409) -> dict:
    """Assert one `won` and the rest `lost` with a Chinese message; return the winner's body."""
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({won: 1, lost: N - 1}), results
    for status, body in results:
        if status == lost:
            message = body.get("error") or next(iter(body["errors"].values()))[0]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in str(message)), body
    return next(body for status, body in results if status == won)


def enterprise_with_title(live: Live) -> tuple[int, int]:
    def build(session: Session, rules) -> tuple[int, int]:  # noqa: ANN001
        ent = make_enterprise(session, ADMIN, region_code="331002")
        cert = grant(session, ADMIN, rules, ent, "innovative_sme", live.today - timedelta(days=400))
        return ent.id, cert.id
    return live.seed(build)


# --------------------------------------------------------------------- the register


def test_six_identical_enterprise_registrations_make_one(live):
    code = make_uscc("331002")
    body = {"uscc": code, "name": "台州同时登记有限公司", "region_code": "331002"}
    winner = one_winner(live.race(lambda c: c.post("/api/v1/enterprises", json=body)))
    assert live.count(Enterprise, Enterprise.uscc == code) == 1
    assert live.audit("enterprise.created", "enterprise", winner["id"]) == 1


def test_a_uscc_registered_in_another_region_is_409_naming_no_region(live):
    code = make_uscc("330106")
    live.seed(lambda session, _: make_enterprise(session, ADMIN, region_code="330106", uscc=code, name="杭州某公司"))
    refused = live.client("city").post("/api/v1/enterprises", json={"uscc": code, "name": "台州某公司",
                                                                      "region_code": "331002"})
    assert refused.status_code == 409, refused.get_json()
    body = refused.get_json()
    assert body["error"].startswith("该统一社会信用代码已登记") and body.get("field") == "uscc"
    assert "330106" not in str(body) and "杭州" not in str(body) and "existing_id" not in body


def test_six_same_version_patches_one_200_five_409(live):
    ent_id, _ = enterprise_with_title(live)
    version = live.client().get(f"/api/v1/enterprises/{ent_id}").get_json()["version"]
    results = live.race(lambda c: c.patch(f"/api/v1/enterprises/{ent_id}",
                                          json={"contact_name": "张三", "version": version}))
    winner = one_winner(results, won=200)
    assert winner["version"] == version + 1
    assert live.audit("enterprise.updated", "enterprise", ent_id) == 1


def test_six_identical_grants_make_one_title(live):
    ent_id = live.seed(lambda session, _: make_enterprise(session, ADMIN, region_code="331002").id)
    body = {"tier": "innovative_sme", "recognized_on": (live.today - timedelta(days=30)).isoformat()}
    winner = one_winner(live.race(lambda c: c.post(f"/api/v1/enterprises/{ent_id}/certifications", json=body)))
    assert live.count(Certification, Certification.enterprise_id == ent_id) == 1
    assert live.count(CertificationTerm, CertificationTerm.certification_id == winner["id"]) == 1
    assert live.count(CertificationEvent, CertificationEvent.certification_id == winner["id"]) == 1
    assert live.audit("certification.granted") == 1


def test_six_identical_lifecycle_events_are_recorded_once(live):
    def build(session: Session, rules) -> int:  # noqa: ANN001  a title under review (submitted in its window)
        ent = make_enterprise(session, ADMIN, region_code="331002")
        recognised = live.today - timedelta(days=3 * 365 - 30)  # three years end in about 30 days: in the window
        cert = grant(session, ADMIN, rules, ent, "innovative_sme", recognised)
        submitted = live.today - timedelta(days=2)
        apply_event(session, actor=ADMIN, rules=rules, certification_id=cert.id,
                    event=EventInput(Event.SUBMIT_REVIEW, submitted), at=utcnow(), today=submitted)
        return cert.id
    cert_id = live.seed(build)
    body = {"action": "pass_review", "effective_on": (live.today - timedelta(days=1)).isoformat()}
    one_winner(live.race(lambda c: c.post(f"/api/v1/certifications/{cert_id}/events", json=body)), won=200)
    assert live.count(CertificationEvent, CertificationEvent.certification_id == cert_id,
                      CertificationEvent.action == "pass_review") == 1
    assert live.count(CertificationTerm, CertificationTerm.certification_id == cert_id) == 2  # one renewal
    assert live.audit("certification.pass_review", "certification", cert_id) == 1


def test_six_identical_annual_reports_are_one_report_and_one_audit_event(live):
    ent_id, _ = enterprise_with_title(live)
    body = {"year": live.today.year - 1, "submitted_on": live.today.isoformat(), "revenue": "1000000.00",
            "employees": 30}
    results = live.race(lambda c: c.post(f"/api/v1/enterprises/{ent_id}/annual-reports", json=body))
    assert {status for status, _ in results} == {201}, results  # an upsert: the repeats change nothing
    assert len({body["id"] for _, body in results}) == 1
    assert live.count(AnnualReport, AnnualReport.enterprise_id == ent_id) == 1
    assert live.audit("annual_report.recorded") == 1 and live.audit("annual_report.corrected") == 0


def test_six_identical_change_reports_make_one(live):
    ent_id, _ = enterprise_with_title(live)
    body = {"kind": "rename", "occurred_on": (live.today - timedelta(days=3)).isoformat(),
            "reported_on": live.today.isoformat(), "details": "更名为台州新名有限公司"}
    one_winner(live.race(lambda c: c.post(f"/api/v1/enterprises/{ent_id}/change-reports", json=body)))
    assert live.count(ChangeReport, ChangeReport.enterprise_id == ent_id) == 1
    assert live.audit("change_report.recorded") == 1


# --------------------------------------------------------------------- the pipeline


def little_giant_candidate(live: Live) -> int:
    return live.seed(lambda session, rules: candidate(session, ADMIN, rules, live.today).id)


def test_six_identical_applications_make_one(live):
    ent_id = little_giant_candidate(live)
    batch = new_batch(live.client(), live.today)
    url = f"/api/v1/batches/{batch['id']}/applications"
    one_winner(live.race(lambda c: c.post(url, json={"enterprise_id": ent_id})))
    assert live.count(Application, Application.enterprise_id == ent_id) == 1
    assert live.audit("application.created") == 1


def test_six_identical_opinions_make_one(live):
    ent_id = little_giant_candidate(live)
    batch = new_batch(live.client(), live.today)
    application = live.client().post(f"/api/v1/batches/{batch['id']}/applications", json={"enterprise_id": ent_id})
    application_id = application.get_json()["id"]
    clients = {level: live.client(level) for level in LEVELS}
    assert recommend(clients, application_id, ("district",)).status_code == 201
    city = live.race(lambda c: c.post(f"/api/v1/applications/{application_id}/opinions",
                                      json={"level": "city", "decision": "recommend"}), level="city")
    one_winner(city)
    assert live.count(Opinion, Opinion.application_id == application_id, Opinion.level == "city") == 1
    assert live.audit("application.recommend", "application", application_id) == 2  # district, then city once


def publicised(live: Live) -> tuple[str, dict]:
    """A batch in publicity (ended yesterday) with one recommended application; the objection body."""
    ent_id = little_giant_candidate(live)
    batch = new_batch(live.client(), live.today)
    application = live.client().post(f"/api/v1/batches/{batch['id']}/applications",
                                     json={"enterprise_id": ent_id}).get_json()
    clients = {level: live.client(level) for level in LEVELS}
    assert recommend(clients, application["id"]).status_code == 201
    starts, ends = live.today - timedelta(days=8), live.today - timedelta(days=1)
    url = f"/api/v1/batches/{batch['id']}"
    publicity = live.client().post(f"{url}/publicity", json={
        "starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "published_where": "浙江省经济和信息化厅网站"})
    assert publicity.status_code == 200, publicity.get_json()
    return url, {"application_id": application["id"], "submitter_name": "王建国", "submitter_identity": "real_name",
                 "contact": "13800000000", "grounds": "研发费用与审计报告不符", "received_on": ends.isoformat()}


def test_six_identical_objections_make_one(live):
    url, objection = publicised(live)
    one_winner(live.race(lambda c: c.post(f"{url}/objections", json=objection)))
    assert live.count(Objection, Objection.application_id == objection["application_id"]) == 1
    assert live.audit("objection.filed") == 1


# --------------------------------------------------------------------- imports


def test_six_identical_import_confirmations_apply_once(live):
    code = make_uscc("331002")
    content = csv_bytes([[1, "台州并发导入有限公司", code, "331002", "", "", "", ""]])
    client = live.app.test_client()
    assert login(client, "province-user").status_code == 302
    live.app.config["IMPORTS_INLINE"] = True  # the dry run and the apply run in the request
    page = client.get("/imports")
    uploaded = client.post("/imports", data={"file": (BytesIO(content), "roster.csv"), "mode": "dry_run",
                                             "csrf_token": csrf_from(page.get_data(as_text=True))},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:2000]
    with live.factory() as session:
        dry = session.scalar(sa.select(ImportRun).order_by(ImportRun.id.desc()))
        assert dry.status == "validated", dry.errors
        dry_id = dry.id
    token = csrf_from(client.get(f"/imports/{dry_id}").get_data(as_text=True))
    cookie = client.get_cookie("session")

    def confirm(c: FlaskClient):  # noqa: ANN202
        c.set_cookie("session", cookie.value)
        return c.post(f"/imports/{dry_id}/confirm", data={"csrf_token": token})

    results = live.race(confirm)
    assert {status for status, _ in results} == {302}, results  # idempotent: every click lands on the one apply run
    assert live.count(ImportRun, ImportRun.source_id == dry_id) == 1
    assert live.count(Enterprise, Enterprise.uscc == code) == 1
    assert live.audit("enterprise.created") == 1


# --------------------------------------------------------------------- the pages


def test_a_page_grant_lost_to_a_concurrent_one_shows_the_form_again_with_a_chinese_message(live):
    ent_id = live.seed(lambda session, _: make_enterprise(session, ADMIN, region_code="331002").id)
    day = (live.today - timedelta(days=30)).isoformat()
    # One person has one session (a new login ends the old one), so N officers of the province race.
    live.seed(lambda session, _: [create_user(session, actor=ADMIN, username=f"province-officer-{n}", role="officer",
                                              region_code="330000", email=f"p{n}@gov.example.cn", password=PASSWORD,
                                              at=utcnow()) for n in range(N)])
    clients = []
    for n in range(N):
        client = live.app.test_client()
        assert login(client, f"province-officer-{n}").status_code == 302
        token = csrf_from(client.get(f"/enterprises/{ent_id}/grant").get_data(as_text=True))
        clients.append((client, token))
    pending = iter(clients)
    lock = threading.Lock()

    def confirm(_: FlaskClient):  # noqa: ANN202
        with lock:
            client, token = next(pending)
        return client.post(f"/enterprises/{ent_id}/grant", data={
            "tier": "innovative_sme", "recognized_on": day, "csrf_token": token, "confirmed": "1"})

    results = live.race(confirm)
    assert Counter(status for status, _ in results) == Counter({302: 1, 409: N - 1}), results
    assert live.count(Certification, Certification.enterprise_id == ent_id) == 1
    for status, html in results:
        if status == 409:  # the form again, with what was typed and why it was not saved
            assert "重复提交" in html and f'value="{day}"' in html, html



def test_six_identical_objection_resolutions_resolve_once(live):
    url, objection = publicised(live)
    filed = live.client().post(f"{url}/objections", json=objection).get_json()
    body = {"outcome": "rejected", "note": "经核查，研发费用与审计报告一致"}
    one_winner(live.race(lambda c: c.post(f"/api/v1/objections/{filed['id']}/resolution", json=body)), won=200)
    assert live.audit("objection.rejected", "objection", filed["id"]) == 1


def test_six_identical_finalisations_grant_once(live):
    url, objection = publicised(live)
    body = {"published_on": live.today.isoformat(), "document_no": "工信厅企业函〔2026〕1号"}
    one_winner(live.race(lambda c: c.post(f"{url}/finalise", json=body)), won=200)
    assert live.count(Certification, Certification.tier == "little_giant") == 1
    assert live.audit("batch.finalised") == 1 and live.audit("application.granted") == 1


def test_six_identical_batches_make_one(live):
    deadlines = {level: (live.today + timedelta(days=10 * (i + 1))).isoformat()
                 for i, level in enumerate(("district", "city", "province", "ministry"))}
    body = {"tier": "little_giant", "year": live.today.year, "name": "并发批次", "quotas": {"331000": 2},
            "deadlines": deadlines}
    one_winner(live.race(lambda c: c.post("/api/v1/batches", json=body)))
    assert live.audit("batch.created") == 1


def test_six_identical_resubmissions_start_one_new_round(live):
    ent_id = little_giant_candidate(live)
    batch = new_batch(live.client(), live.today)
    application_id = live.client().post(f"/api/v1/batches/{batch['id']}/applications",
                                        json={"enterprise_id": ent_id}).get_json()["id"]
    returned = live.client("district").post(f"/api/v1/applications/{application_id}/opinions",
                                            json={"level": "district", "decision": "return", "note": "请补正审计报告"})
    assert returned.status_code == 201, returned.get_json()
    winner = one_winner(live.race(lambda c: c.post(f"/api/v1/applications/{application_id}/resubmission", json={}),
                                  level="district"), won=200)
    assert winner["round"] == 2
    assert live.audit("application.resubmitted", "application", application_id) == 1


def test_six_identical_publicity_starts_publish_once(live):
    ent_id = little_giant_candidate(live)
    batch = new_batch(live.client(), live.today)
    application_id = live.client().post(f"/api/v1/batches/{batch['id']}/applications",
                                        json={"enterprise_id": ent_id}).get_json()["id"]
    assert recommend({level: live.client(level) for level in LEVELS}, application_id).status_code == 201
    body = {"starts_on": live.today.isoformat(), "ends_on": (live.today + timedelta(days=7)).isoformat(),
            "published_where": "浙江省经济和信息化厅网站"}
    one_winner(live.race(lambda c: c.post(f"/api/v1/batches/{batch['id']}/publicity", json=body)), won=200)
    assert live.audit("batch.publicity", "batch", batch["id"]) == 1


def test_six_identical_pool_additions_add_once(live):
    live.seed(lambda session, rules: candidate(session, ADMIN, rules, live.today))
    pool = live.client().post("/api/v1/pools/run", json={"tier": "little_giant", "year": live.today.year})
    assert pool.status_code == 201, pool.get_json()
    outsider = live.seed(lambda session, _: make_enterprise(session, ADMIN, region_code="331002").id)
    body = {"enterprise_id": outsider, "reason": "经实地走访，具备培育潜力"}
    one_winner(live.race(lambda c: c.post(f"/api/v1/pools/{pool.get_json()['id']}/members", json=body)))
    assert live.count(PoolMember, PoolMember.enterprise_id == outsider) == 1
    assert live.audit("pool.member_added") == 1


def test_six_identical_api_imports_apply_the_file_once(live):
    code = make_uscc("331002")
    content = csv_bytes([[1, "台州接口导入有限公司", code, "331002", "创新型中小企业",
                          (live.today - timedelta(days=30)).isoformat(), "", ""]])
    results = live.race(lambda c: c.post("/api/v1/imports", data={"file": (BytesIO(content), "roster.csv"),
                                                                   "mode": "apply"},
                                         content_type="multipart/form-data"))
    # the others: 409 (PostgreSQL: the USCC was taken while they checked) or, once the first has committed,
    # an applied run that finds everything in place and changes nothing
    assert all(status in (201, 409) for status, _ in results), results
    new = [body for status, body in results if status == 201 and body["counts"].get("new_enterprises")]
    assert len(new) == 1, results
    assert live.count(Enterprise, Enterprise.uscc == code) == 1
    assert live.count(Certification) == 1
    assert live.audit("enterprise.created") == 1 and live.audit("certification.granted") == 1
