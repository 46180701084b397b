"""Reminders in the API and the pages: filters, region scope, delivery state, resend; the dashboard's health banner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs import outbox as sending
from registry.platform.db import utcnow
from registry.reminders.deliveries import ReminderFilter, list_reminders
from registry.reminders.models import OutboxStatus, ReminderStatus
from registry.runs import ledger as jobruns
from tests.conftest import d
from tests.jobs.conftest import mail_settings, sessions, smtp_server  # noqa: F401  (fixtures, registered by name)
from tests.web.deliveries import BOUNCE, ledger, reminders_of
from tests.web.fixtures import csrf_from
from tests.web.pages import page

API = "/api/v1/reminders"


@pytest.fixture
def books(session, admin, rules):
    return ledger(session, admin, rules)


def listed(client, **args):
    response = client.get(API, query_string=args)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_list_shows_each_reminder_with_its_enterprise_and_delivery(api_as, books, session):
    body = listed(api_as("officer", "331000"), status="failed")
    [item] = body["items"]
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 50)
    assert item["enterprise"] == {"id": books.a.id, "name": books.a.name}
    assert (item["kind"], item["kind_name"], item["milestone"], item["reference_on"], item["due_on"]) == (
        "review_window", "复核申报窗口开启", 14, "2026-06-03", "2026-05-20")
    assert (item["subject_type"], item["subject_name"], item["status"], item["state"], item["state_name"]) == (
        "certification", "创新型中小企业", "queued", "failed", "发送失败")
    mails = {m["to_addr"]: m for m in item["messages"]}
    assert set(mails) == {"boss@a.cn", "li@tz.gov.cn"}
    bounced, delivered = mails["boss@a.cn"], mails["li@tz.gov.cn"]
    assert (bounced["status"], bounced["status_name"], bounced["attempts"], bounced["last_error"]) == (
        "failed", "发送失败", 1, BOUNCE)
    assert (delivered["status"], delivered["last_error"]) == ("sent", None) and delivered["sent_at"]


def test_the_status_kind_and_date_filters(api_as, books, session):
    client = api_as("officer", "331000")
    everything = listed(client, per_page=500)["items"]
    assert {i["enterprise"]["id"] for i in everything} == {books.a.id, books.c.id, books.e.id}
    states = {}
    for item in everything:
        states.setdefault(item["state"], set()).add(item["enterprise"]["id"])
    for state in ("failed", "queued", "sent", "retired"):
        only = listed(client, status=state, per_page=500)
        assert only["total"] == len([i for i in everything if i["state"] == state]) > 0, state
        assert {i["state"] for i in only["items"]} == {state}
    assert states["queued"] == {books.e.id} and states["sent"] == {books.c.id} and states["retired"] == {books.c.id}
    [waiting] = listed(client, status="queued")["items"]
    assert waiting["messages"][0]["status"] == "pending" and waiting["messages"][0]["last_error"].startswith("451")
    expiries = listed(client, kind="expiry", per_page=500)["items"]
    assert expiries and {i["kind"] for i in expiries} == {"expiry"}
    early = listed(client, due_before="2026-05-20", per_page=500)["items"]
    assert early and all(i["due_on"] <= "2026-05-20" for i in early)
    assert len(early) < len(everything)
    bad = client.get(API, query_string={"status": "lost", "due_before": "soon"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"status", "due_before"}


def test_pending_and_due_depend_on_today(session, admin, books, policies):
    def ids(status, today):
        rows, _ = list_reminders(session, admin, ReminderFilter(status=status), page=1, per_page=500,
                                 today=today, policies=policies)
        return {v.reminder.id for v in rows}

    armed = {r.id for r in reminders_of(session, books.a) if r.status == ReminderStatus.PENDING and
             r.due_on == d("2026-06-03")}
    assert armed and armed <= ids("pending", d("2026-06-02")) and not armed & ids("due", d("2026-06-02"))
    assert armed <= ids("due", d("2026-06-03")) and not armed & ids("pending", d("2026-06-03"))


@pytest.mark.parametrize(("region", "sees"), [("330000", "abce"), ("331000", "ace"), ("331002", "ace"),
                                              ("330100", "b"), ("331003", "")])
def test_each_region_sees_its_own_reminders(api_as, books, region, sees):
    items = listed(api_as("auditor", region), per_page=500)["items"]
    assert {i["enterprise"]["id"] for i in items} == {getattr(books, x).id for x in sees}


def resend(client, message):
    return client.post(f"/api/v1/outbox/{message.id}/resend")


def test_resend_requeues_a_failed_mail_once_and_never_a_sent_one(api_as, books, session):
    officer = api_as("officer", "331000")
    bounced, delivered = books.message(session, "boss@a.cn"), books.message(session, "li@tz.gov.cn")
    response = resend(officer, bounced)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["attempts"]) == ("pending", 0)
    session.expire_all()
    assert (bounced.status, bounced.attempts, bounced.next_attempt_at <= utcnow()) == (OutboxStatus.PENDING, 0, True)
    again = resend(officer, bounced)
    assert again.status_code == 409 and "等待发送" in again.get_json()["error"]
    refused = resend(officer, delivered)
    assert refused.status_code == 409 and "不会重复发送" in refused.get_json()["error"]
    session.expire_all()
    assert delivered.status == OutboxStatus.SENT
    assert listed(officer, status="queued")["total"] == 2  # A's reminder waits again, beside E's


def test_resend_is_refused_to_auditors_and_outside_the_region(api_as, books, session):
    bounced_a, bounced_b = books.message(session, "boss@a.cn"), books.message(session, "boss@b.cn")
    assert resend(api_as("auditor", "331000"), bounced_a).status_code == 403
    sibling = api_as("officer", "330100")
    assert resend(sibling, bounced_a).status_code == 404
    assert sibling.post("/api/v1/outbox/999999/resend").status_code == 404
    assert resend(api_as("officer", "331003"), bounced_a).status_code == 404  # a sibling district
    session.expire_all()
    assert bounced_a.status == OutboxStatus.FAILED
    assert resend(sibling, bounced_b).status_code == 200  # 杭州's own


def test_a_resent_mail_is_delivered_once_by_the_real_sender(api_as, books, session, sessions, smtp_server,
                                                            mail_settings):
    handler, _ = smtp_server
    bounced = books.message(session, "boss@a.cn")
    assert resend(api_as("admin", "330000"), bounced).status_code == 200
    clock = lambda: utcnow() + timedelta(seconds=1)  # noqa: E731
    report = sending.drain(sessions, mail_settings, clock=clock, today=clock().date())
    # the resent mail, and E's, whose retry after the 451 is due by now
    assert report.sent == 2 and sorted(rcpts for _, rcpts, _ in handler.messages) == [["boss@a.cn"], ["boss@e.cn"]]
    [(_, _, mail)] = [m for m in handler.messages if m[1] == ["boss@a.cn"]]
    assert mail["Message-ID"] == bounced.message_id
    assert sending.drain(sessions, mail_settings, clock=clock, today=clock().date()).sent == 0
    session.expire_all()
    assert bounced.status == OutboxStatus.SENT and len(handler.messages) == 2


def test_the_openapi_document_describes_both_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"status", "kind", "due_before"} <= {p["name"] for p in paths["/api/v1/reminders"]["get"]["parameters"]}
    summary = paths["/api/v1/outbox/{message_id}/resend"]["post"]["summary"]
    assert "发送失败" in summary and "409" in summary


# ------------------------------------------------------------------------------------------ pages


def test_the_page_lists_the_region_with_counts_and_a_resend_button(login_as, books, session):
    officer = login_as("officer", "331000")
    html = page(officer, "/reminders")
    assert 'href="/reminders" aria-current="page"' in html  # in the menu
    assert books.a.name in html and books.e.name in html and books.b.name not in html
    # 椒江's e-mails: li's copy and C's delivered, A's bounced, E's waiting after a 451
    for status, count in (("sent", 2), ("failed", 1), ("pending", 1), ("sending", 0)):
        assert f'id="count-{status}">{count}<' in html, status
    bounced = books.message(session, "boss@a.cn")
    assert f'action="/outbox/{bounced.id}/resend' in html and BOUNCE in html
    assert html.count("/resend") == 1  # only the failed e-mail has a button
    failed_only = page(officer, "/reminders?status=failed")
    assert books.a.name in failed_only and books.e.name not in failed_only
    assert "共 1 条提醒" in failed_only


def test_the_resend_form_needs_its_csrf_token(login_as, books, session):
    officer = login_as("officer", "331000")
    bounced = books.message(session, "boss@a.cn")
    url = f"/outbox/{bounced.id}/resend?status=failed"
    assert officer.post(url).status_code == 400
    session.expire_all()
    assert bounced.status == OutboxStatus.FAILED
    token = csrf_from(page(officer, "/reminders?status=failed"))
    done = officer.post(url, data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/reminders?page=1&status=failed")
    session.expire_all()
    assert bounced.status == OutboxStatus.PENDING
    after = page(officer, "/reminders?status=failed")
    assert "已重新排队发送至 boss@a.cn" in after and "共 0 条提醒" in after
    again = officer.post(url, data={"csrf_token": token})
    assert again.status_code == 302 and "只有发送失败的邮件可以重发" in page(officer, "/reminders")


def test_auditors_see_the_page_without_resend(login_as, books, session):
    auditor = login_as("auditor", "331000")
    html = page(auditor, "/reminders")
    assert books.a.name in html and "/resend" not in html
    bounced = books.message(session, "boss@a.cn")
    token = csrf_from(html)
    assert auditor.post(f"/outbox/{bounced.id}/resend", data={"csrf_token": token}).status_code == 403
    outsider = login_as("officer", "330100")
    assert outsider.post(f"/outbox/{bounced.id}/resend",
                         data={"csrf_token": csrf_from(page(outsider, "/reminders"))}).status_code == 404


def test_the_page_keeps_a_bad_filter_visible_and_ignores_it(login_as, books):
    html = page(login_as("officer", "331000"), "/reminders?due_before=not-a-date&kind=expiry")
    assert 'aria-invalid="true"' in html and "共 0 条提醒" not in html


# -------------------------------------------------------------------------------------- dashboard


def finished_scan(session, hours_ago):
    at = utcnow() - timedelta(hours=hours_ago)
    run = jobruns.claim(session, job_name=jobruns.SCAN, run_on=at.date(), at=at)
    jobruns.finish(session, run, at=at)
    session.commit()


def test_the_dashboard_banner_follows_the_scan_ledger(login_as, session):
    officer = login_as("officer", "331000")
    assert "从未成功运行" in page(officer, "/")
    finished_scan(session, hours_ago=27)
    html = page(officer, "/")
    assert 'class="banner-bad"' in html and "每日扫描最近一次成功是" in html and "（scan）" not in html and "已超过 26 小时" in html
    finished_scan(session, hours_ago=2)
    html = page(officer, "/")
    assert 'class="banner-bad"' not in html and '<th scope="row">每日扫描</th>' in html and "<code>scan</code>" not in html
    assert "查看提醒及发送情况" in html
