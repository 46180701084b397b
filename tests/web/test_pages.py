"""The Chinese pages through the test client: rendering, region scope, roles, CSRF, login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.cli.base import today_in
from registry.domain.lifecycle import Event
from registry.enterprises.services import record_change_report
from registry.reminders.models import OutboxMessage
from registry.runs.models import JobRun
from registry.titles.models import Certification
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW
from tests.factories import grant, make_enterprise, make_uscc, report
from tests.web.fixtures import login
from tests.web.pages import page, post, unlabelled


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def taizhou(session, admin, rules, today):
    """An enterprise in 椒江区 (台州) with a live title, reports and a change report."""
    ent = make_enterprise(session, admin, region_code="331002", name="台州精工机械有限公司")
    cert = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=700), document_no="浙〔2025〕1号")
    report(session, admin, ent, today.year - 2, revenue=50_000_000)
    record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                         occurred_on=today - timedelta(days=30), reported_on=None, details="更名", at=NOW, today=today)
    session.commit()
    return ent, cert


@pytest.fixture
def hangzhou(session, admin, rules, today):
    ent = make_enterprise(session, admin, region_code="330102", name="杭州西湖电子有限公司")
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=100))
    session.commit()
    return ent


def form_pages(ent, cert):
    return [f"/enterprises/{ent.id}/grant", f"/enterprises/{ent.id}/annual-reports/new",
            f"/enterprises/{ent.id}/change-reports/new",
            *[f"/certifications/{cert.id}/{a}" for a in ("submit_review", "pass_review", "fail_review", "revoke",
                                                        "withdraw", "supersede")]]


def test_every_page_renders_for_an_officer_with_labelled_controls(login_as, taizhou, hangzhou):
    ent, cert = taizhou
    officer = login_as("officer", "331000")
    filters = ("?q=台州&tier=innovative_sme&status=active&expiring_within_days=3650&as_of=2026-01-01"
               "&sort=uscc&region=331002")
    results = {f"/certifications/{cert.id}/{a}" for a in ("pass_review", "fail_review")}
    for url in ["/", "/enterprises", f"/enterprises{filters}", f"/enterprises/{ent.id}", *form_pages(ent, cert)]:
        if url in results:  # issue 14: a review's result only for a review under way (the title is active)
            assert "不能执行" in page(officer, url, status=409)
            continue
        html = page(officer, url)
        assert 'lang="zh-CN"' in html
        assert unlabelled(html) == [], url
    enterprise = page(officer, f"/enterprises/{ent.id}")
    assert "授予称号" in enterprise and "修改基本信息" in enterprise and "浙〔2025〕1号" in enterprise


def test_auditor_sees_every_page_without_action_forms(login_as, taizhou):
    ent, cert = taizhou
    auditor = login_as("auditor", "330000")
    for url in ["/", "/enterprises", f"/enterprises/{ent.id}"]:
        page(auditor, url)
    html = page(auditor, f"/enterprises/{ent.id}")
    assert "授予称号</a>" not in html and "修改基本信息" not in html and "撤销</a>" not in html
    for url in form_pages(ent, cert):
        page(auditor, url, status=403)


def test_auditor_gets_403_on_every_post_and_nothing_changes(login_as, taizhou, session):
    ent, cert = taizhou
    auditor = login_as("auditor", "330000")
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    posts = {
        f"/enterprises/{ent.id}": {"edit-version": ent.version, "edit-name": "改名", "edit-uscc": ent.uscc,
                                   "edit-region_code": ent.region_code},
        f"/enterprises/{ent.id}/grant": {"tier": "specialized_sme", "recognized_on": "2026-01-05", "confirmed": 1},
        f"/enterprises/{ent.id}/annual-reports/new": {"year": 2025, "submitted_on": "2026-03-01", "confirmed": 1},
        f"/enterprises/{ent.id}/change-reports/new": {"kind": "other", "occurred_on": "2026-03-01", "confirmed": 1},
        f"/certifications/{cert.id}/revoke": {"version": cert.version, "effective_on": "2026-03-01",
                                              "reason_code": "fraud", "document_no": "X", "confirmed": 1},
    }
    for url, data in posts.items():
        assert post(auditor, url, data, token_from="/enterprises").status_code == 403, url
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_taizhou_officer_sees_only_taizhou(login_as, taizhou, hangzhou):
    ent, _ = taizhou
    officer = login_as("officer", "331000")
    roster = page(officer, "/enterprises")
    assert ent.name in roster and hangzhou.name not in roster and "共 1 家企业" in roster
    page(officer, f"/enterprises/{hangzhou.id}", status=404)
    response = post(officer, f"/enterprises/{hangzhou.id}/grant",
                    {"tier": "specialized_sme", "recognized_on": "2026-01-05", "confirmed": 1},
                    token_from="/enterprises")
    assert response.status_code == 404
    dashboard = page(officer, "/")
    assert "台州市" in dashboard and "杭州市" not in dashboard


@pytest.mark.parametrize(("region", "sees"), [("330000", True), ("331000", True), ("331002", True),
                                              ("331003", False), ("330100", False)])
def test_enterprise_page_scope_for_own_parent_child_and_sibling_regions(login_as, taizhou, region, sees):
    ent, cert = taizhou
    officer = login_as("officer", region)
    page(officer, f"/enterprises/{ent.id}", status=200 if sees else 404)
    page(officer, f"/certifications/{cert.id}/revoke", status=200 if sees else 404)
    assert (ent.name in page(officer, "/enterprises")) is sees


def test_region_filter_offers_only_the_actors_subtree(login_as, taizhou):
    officer = login_as("officer", "331000")
    html = page(officer, "/enterprises")
    assert 'value="331002"' in html and 'value="330102"' not in html
    assert "不是有效的选择" in page(officer, "/enterprises?region=330102")


def test_post_without_csrf_token_is_refused_and_changes_nothing(login_as, taizhou, session):
    ent, _ = taizhou
    officer = login_as("officer", "331000")
    response = officer.post(f"/enterprises/{ent.id}/grant",
                            data={"tier": "specialized_sme", "recognized_on": "2026-01-05", "confirmed": "1"})
    assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Certification)
                          .where(Certification.enterprise_id == ent.id)) == 1


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/enterprises")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused_and_five_failures_lock_the_account(app, make_user):
    make_user("officer", "331000")
    client = app.test_client()
    for _ in range(4):
        response = login(client, "officer-331000", "wrong-password")
        assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)
    locked = login(client, "officer-331000", "wrong-password")
    assert locked.status_code == 429 and "锁定" in locked.get_data(as_text=True)
    assert login(client, "officer-331000").status_code == 429  # even the right password, until the lock ends


def test_assets_are_local(login_as, taizhou):
    officer = login_as("officer", "331000")
    html = page(officer, "/")
    assert "https://" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    css = officer.get("/assets/app.css")
    assert css.status_code == 200 and b"--brand" in css.data


def test_roster_paginates_fifty_a_page_and_searches_by_uscc(login_as, session, admin):
    made = [make_enterprise(session, admin, region_code="331002", name=f"批量企业{i:02d}有限公司") for i in range(52)]
    session.commit()
    officer = login_as("officer", "331000")
    first = page(officer, "/enterprises?sort=name")
    assert "共 52 家企业" in first and "第 1 / 2 页" in first and "批量企业49" in first and "批量企业50" not in first
    second = page(officer, "/enterprises?sort=name&page=2")
    assert "批量企业50" in second and "批量企业51" in second and "rel=\"prev\"" in second
    found = page(officer, f"/enterprises?q={made[7].uscc[:17]}")
    assert "共 1 家企业" in found and made[7].name in found


def test_roster_shows_a_bad_filter_instead_of_failing(login_as, taizhou):
    officer = login_as("officer", "331000")
    html = page(officer, "/enterprises?expiring_within_days=abc&as_of=2026-13-45")
    assert "不是有效的整数" in html and "不是有效的日期值" in html and "共 1 家企业" in html


def test_dashboard_lists_overdue_updates_flags_mail_and_job_health(login_as, session, admin, rules, today):
    lagging = make_enterprise(session, admin, region_code="331002", name="逾期更新企业")
    grant(session, admin, rules, lagging, "innovative_sme", today.replace(month=1, day=1) - timedelta(days=400))
    giant = make_enterprise(session, admin, region_code="331002", name="前置丧失企业")
    base = grant(session, admin, rules, giant, "innovative_sme", today - timedelta(days=500))
    report(session, admin, giant, today.year - 1)
    grant(session, admin, rules, giant, "specialized_sme", today - timedelta(days=400))
    apply_event(session, actor=admin, rules=rules, certification_id=base.id, at=NOW, today=today,
                event=EventInput(Event.WITHDRAW, today - timedelta(days=10)))
    for status in ("sent", "sent", "failed"):
        session.add(OutboxMessage(dedupe_key=f"k-{status}-{make_uscc()}", message_id="m", region_code="331002",
                                  to_addr="a@b.cn", subject="s", body_text="b", status=status,
                                  next_attempt_at=datetime.now(UTC)))
    session.commit()
    officer = login_as("officer", "331000")
    html = page(officer, "/")
    assert "逾期更新企业" in html and "前置丧失企业" in html and "前置条件丧失" in html
    assert '<th scope="row">已发送</th><td class="num">2</td>' in html
    assert '<th scope="row">发送失败</th><td class="num">1</td>' in html
    assert "每日扫描从未成功运行" in html and "（scan）" not in html  # issue 18: no job codes on screen
    assert '<svg' in html and "<title" in html and "未来12个月到期的称号" in html
    session.add(JobRun(job_name="scan", run_on=today, status="succeeded", started_at=datetime.now(UTC),
                       finished_at=datetime.now(UTC) - timedelta(hours=1)))
    session.commit()
    assert "从未成功运行" not in page(officer, "/")


def test_dashboard_counts_only_the_region(login_as, taizhou, hangzhou, session):
    officer = login_as("officer", "331000")
    html = page(officer, "/")
    assert "共 1 个" in html
    province = login_as("officer", "330000")
    assert "共 2 个" in page(province, "/")


def test_export_link_carries_the_filters_once_the_export_exists(app, login_as, taizhou):
    if "api.export_roster" not in app.view_functions:
        app.add_url_rule("/api/v1/exports/roster.xlsx", "api.export_roster", lambda: "")
    officer = login_as("officer", "331000")
    html = page(officer, "/enterprises?tier=innovative_sme&expiring_within_days=90")
    assert "/api/v1/exports/roster.xlsx?" in html
    assert "tier=innovative_sme" in html and "expiring_within_days=90" in html
