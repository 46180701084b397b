"""A mistaken change report corrected or withdrawn: prefilled, previewed, with a reason, audited (the original
stays in the trail); the deadline follows the date; review eligibility lost for it follows; region scope."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.enterprises.models import ChangeReport
from registry.enterprises.services import correct_change_report, record_change_report, withdraw_change_report
from tests.conftest import NOW
from tests.factories import grant, make_enterprise
from tests.web.pages import page, post, submit

d = date.fromisoformat
TODAY = d("2026-12-06")  #: the day the services are told it is (passed explicitly, never read)


@pytest.fixture
def ent(session, admin):
    made = make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司")
    session.commit()
    return made


@pytest.fixture
def titled(session, admin, rules, ent):
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2025-01-10"))
    session.commit()
    return cert


def change(session, admin, rules, ent, occurred: str, reported: str | None, kind: str = "rename") -> ChangeReport:
    made, _ = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind=kind,
                                   occurred_on=d(occurred), reported_on=d(reported) if reported else None,
                                   details="登记时的说明", at=NOW, today=TODAY)
    session.commit()
    return made


def trail(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_wrong_occurrence_date_corrected_moves_the_deadline_and_keeps_the_original(session, admin, rules, ent,
                                                                                    titled):
    report = change(session, admin, rules, ent, "2026-07-01", None)
    assert report.deadline_on == d("2026-10-08")
    corrected, changes, _ = correct_change_report(session, actor=admin, rules=rules, change_report_id=report.id,
                                                  data={"occurred_on": d("2026-09-01")}, reason="发生日期录入错误",
                                                  at=NOW, today=TODAY)
    assert corrected.deadline_on > d("2026-10-08")
    [event] = trail(session, "change_report.corrected")
    assert event.changes["occurred_on"] == ["2026-07-01", "2026-09-01"] and event.note == "发生日期录入错误"
    assert event.changes["deadline_on"][0] == "2026-10-08"


def test_a_late_report_corrected_to_on_time_gives_review_eligibility_back(session, admin, rules, ent, titled):
    report = change(session, admin, rules, ent, "2026-01-05", "2026-06-01")
    session.refresh(titled)
    assert not titled.review_eligible
    _, _, warnings = correct_change_report(session, actor=admin, rules=rules, change_report_id=report.id,
                                           data={"reported_on": d("2026-02-01")}, reason="报告日期录入错误", at=NOW,
                                           today=TODAY)
    session.refresh(titled)
    assert titled.review_eligible and titled.review_ineligible_cause is None and "复核资格已恢复" in warnings[0]
    [restored] = trail(session, "certification.review_eligibility_restored")
    assert restored.entity_id == titled.id and "报告日期录入错误" in restored.note
    correct_change_report(session, actor=admin, rules=rules, change_report_id=report.id,
                          data={"reported_on": d("2026-06-01")}, reason="原日期其实无误", at=NOW, today=TODAY)
    session.refresh(titled)
    assert not titled.review_eligible  # late again: lost again


def test_withdrawal_deletes_the_record_keeps_it_in_the_trail_and_restores_only_when_nothing_else_is_late(
        session, admin, rules, ent, titled):
    mistaken = change(session, admin, rules, ent, "2026-01-05", "2026-06-01")
    other_late = change(session, admin, rules, ent, "2026-02-02", "2026-07-01", kind="merger")
    assert withdraw_change_report(session, actor=admin, change_report_id=mistaken.id, reason="重复登记", at=NOW, today=TODAY) == []
    session.refresh(titled)
    assert not titled.review_eligible  # the other late report still costs it
    [event] = trail(session, "change_report.withdrawn")
    assert event.changes["occurred_on"] == ["2026-01-05", None] and event.changes["kind"] == ["rename", None]
    assert event.note == "重复登记" and session.get(ChangeReport, mistaken.id) is None
    lines = withdraw_change_report(session, actor=admin, change_report_id=other_late.id, reason="误登记", at=NOW, today=TODAY)
    session.refresh(titled)
    assert titled.review_eligible and lines
    with pytest.raises(NotFound):
        withdraw_change_report(session, actor=admin, change_report_id=other_late.id, reason="再次", at=NOW, today=TODAY)


def test_refusals_name_the_field_and_change_nothing(session, admin, rules, ent, titled):
    report = change(session, admin, rules, ent, "2026-07-01", None)
    change(session, admin, rules, ent, "2026-08-01", None, kind="merger")
    cases = [({"occurred_on": d("2027-01-01")}, "因", "occurred_on"),
             ({"reported_on": d("2026-06-01")}, "因", "reported_on"),
             ({"details": "x"}, "  ", "reason"), ({"details": "x"}, "因" * 501, "reason")]
    for data, reason, field in cases:
        with pytest.raises(RuleViolation) as refused:
            correct_change_report(session, actor=admin, rules=rules, change_report_id=report.id, data=data,
                                  reason=reason, at=NOW, today=TODAY)
        assert field in refused.value.errors
    with pytest.raises(Conflict):
        correct_change_report(session, actor=admin, rules=rules, change_report_id=report.id,
                              data={"kind": "merger", "occurred_on": d("2026-08-01")}, reason="因", at=NOW, today=TODAY)
    session.rollback()
    assert trail(session, "change_report.corrected") == []


def test_the_page_prefills_previews_and_corrects(login_as, session, admin, rules, ent, titled):
    report = change(session, admin, rules, ent, "2026-07-01", None)
    officer = login_as("officer", "331000")
    url = f"/change-reports/{report.id}/correct"
    assert f'/change-reports/{report.id}/correct' in page(officer, f"/enterprises/{ent.id}")
    form = page(officer, url)
    assert 'value="2026-07-01"' in form and "登记时的说明" in form and "更正原因" in form
    missing = post(officer, url, {"kind": "rename", "occurred_on": "2026-07-01", "reported_on": "2026-09-01",
                                  "details": "登记时的说明"})
    assert missing.status_code == 422 and "此项必填" in missing.get_data(as_text=True)
    confirm, done = submit(officer, url, {"kind": "rename", "occurred_on": "2026-07-01", "reported_on": "2026-09-01",
                                          "details": "登记时的说明", "reason": "补记报告日期"})
    assert "报告日期：（空） → 2026-09-01" in confirm and done.status_code == 302
    session.expire_all()
    assert session.get(ChangeReport, report.id).reported_on == d("2026-09-01")
    assert trail(session, "change_report.corrected")[0].note == "补记报告日期"


def test_the_page_withdraws_after_a_preview(login_as, session, admin, rules, ent, titled):
    report = change(session, admin, rules, ent, "2026-07-01", None)
    officer = login_as("officer", "331000")
    url = f"/change-reports/{report.id}/withdraw"
    confirm, done = submit(officer, url, {"reason": "企业并未更名，系误登记"})
    assert "原内容保留在审计日志中" in confirm and "更名" in confirm and done.status_code == 302
    assert session.get(ChangeReport, report.id) is None
    assert trail(session, "change_report.withdrawn")[0].note == "企业并未更名，系误登记"


def test_another_city_and_readers_cannot_correct_or_withdraw(login_as, session, admin, rules, ent):
    report = change(session, admin, rules, ent, "2026-07-01", None)
    hangzhou = login_as("officer", "330100")
    for action in ("correct", "withdraw"):
        page(hangzhou, f"/change-reports/{report.id}/{action}", status=404)
        response = post(hangzhou, f"/change-reports/{report.id}/{action}", {"reason": "越权", "confirmed": "1"},
                        token_from="/enterprises")
        assert response.status_code == 404
    auditor = login_as("auditor", "331000")
    page(auditor, f"/change-reports/{report.id}/withdraw", status=403)
    assert session.get(ChangeReport, report.id) is not None
    page(login_as("officer", "331000"), "/change-reports/99999999/correct", status=404)
