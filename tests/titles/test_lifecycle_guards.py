"""Issue 14 through the services on SQLite and PostgreSQL: the guards asked by every path, late and
incomplete filings, a change report marked filed later."""

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, IllegalTransition, RuleViolation
from registry.domain.lifecycle import Event, Status
from registry.domain.policy import PolicySet
from registry.enterprises.services import mark_change_reported, record_annual_report, record_change_report
from registry.policies.rules import Rules
from registry.titles.services import EventInput, apply_event, grant_certification
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan


def event(session, admin, rules, cert, action, on, today=None, **kw):
    return apply_event(session, actor=admin, rules=rules, certification_id=cert.id,
                       event=EventInput(Event(action), d(on), **kw), at=NOW, today=d(today or on))


def errors_of(call):
    with pytest.raises(RuleViolation) as err:
        call()
    return {k: " ".join(v) for k, v in err.value.errors.items()}


# ------------------------------------------------------------------ facts never after today

def test_a_grant_is_never_dated_after_today(session, admin, rules):
    ent = make_enterprise(session, admin)
    found = errors_of(lambda: grant_certification(session, actor=admin, rules=rules, enterprise_id=ent.id,
                                                  tier="innovative_sme", recognized_on=d("2026-06-02"), at=NOW))
    assert "认定日期（2026-06-02）晚于今天（2026-06-01）" in found["recognized_on"]
    cert = grant_certification(session, actor=admin, rules=rules, enterprise_id=ent.id, tier="innovative_sme",
                               recognized_on=d("2026-06-01"), at=NOW)  # today itself is fine
    assert cert.recognized_on == d("2026-06-01")


def test_reports_and_changes_are_never_dated_after_today(session, admin, rules):
    ent = make_enterprise(session, admin)
    found = errors_of(lambda: record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW,
                                                   data={"submitted_on": d("2026-06-02")}))
    assert "晚于今天" in found["submitted_on"]
    found = errors_of(lambda: record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2027, at=NOW,
                                                   data={"submitted_on": d("2026-05-02")}))
    assert "晚于今年" in found["year"]
    found = errors_of(lambda: record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id,
                                                   kind="rename", occurred_on=d("2026-06-02"), reported_on=None,
                                                   details="", at=NOW))
    assert "变化发生日期（2026-06-02）晚于今天" in found["occurred_on"]
    found = errors_of(lambda: record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id,
                                                   kind="rename", occurred_on=d("2026-05-02"),
                                                   reported_on=d("2026-06-02"), details="", at=NOW))
    assert "报告日期（2026-06-02）晚于今天" in found["reported_on"]


def test_implausible_figures_are_refused_and_a_correction_is_checked_with_the_stored_ones(session, admin):
    ent = make_enterprise(session, admin)
    record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW,
                         data={"submitted_on": d("2026-03-01"), "employees": 100, "rd_staff": 100})
    found = errors_of(lambda: record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW,
                                                   data={"employees": 99}))
    assert "研发人员数（100）多于从业人员数（99）" in found["rd_staff"]
    warnings: list[str] = []
    record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW, warnings=warnings,
                         data={"revenue": 100, "rd_expense": 101})
    assert warnings and "研发费用" in warnings[0]


# ------------------------------------------------------------------ reviews

def test_pass_twice_is_refused_and_adds_no_term(session, admin, rules):
    cert = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-06-15"))
    with pytest.raises(IllegalTransition):  # not offered, not accepted without a review under way
        event(session, admin, rules, cert, "pass_review", "2026-04-01")
    event(session, admin, rules, cert, "submit_review", "2026-04-01")
    event(session, admin, rules, cert, "pass_review", "2026-05-20", document_no="复核〔2026〕1号")
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(IllegalTransition):
        event(session, admin, rules, cert, "pass_review", "2026-05-21")
    with pytest.raises(RuleViolation) as err:  # and no second review in the same term: the new window is years away
        event(session, admin, rules, cert, "submit_review", "2026-05-21")
    assert "复核窗口为 2029-03-17 至 2029-06-15" in err.value.message or "2029-03-17" in str(err.value.errors)
    assert len(cert.terms) == 2 and cert.valid_until == d("2029-06-15")
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize(("on", "ok"), [("2026-03-16", False), ("2026-03-17", True), ("2026-06-15", True),
                                        ("2026-06-16", False)])
def test_review_window_boundaries_through_the_service(session, admin, rules, on, ok):
    cert = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-06-15"))
    if ok:
        assert event(session, admin, rules, cert, "submit_review", on).status == Status.UNDER_REVIEW
    else:
        with pytest.raises(RuleViolation) as err:
            event(session, admin, rules, cert, "submit_review", on)
        assert "复核窗口为 2026-03-17 至 2026-06-15" in err.value.errors["action"][0]
        assert cert.status == Status.ACTIVE


def test_a_review_within_the_moved_last_day_is_accepted_and_the_scan_waits_for_it(session, admin, rules):
    # valid until Saturday 2026-10-03 (National Day holiday): the window's last day is 2026-10-08
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2025, revenue=10_000_000)  # filed on time: only the review is at stake
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-10-03"))
    assert cert.valid_until == d("2026-10-03")
    scan(session, rules, d("2026-10-08"))
    assert cert.status == Status.ACTIVE  # may still be submitted today
    event(session, admin, rules, cert, "submit_review", "2026-10-08")
    event(session, admin, rules, cert, "pass_review", "2026-11-01")
    assert [t.valid_from for t in cert.terms] == [d("2023-10-03"), d("2026-10-04")]

    lapsed = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-10-03"))
    scan(session, rules, d("2026-10-09"))
    assert lapsed.status == Status.EXPIRED and lapsed.ended_on == d("2026-10-04")  # the validity did not move


def test_a_post_expiry_review_is_accepted_after_expiry_and_the_title_ends_only_after_its_window(
        session, admin, rules):
    zhejiang = rules.policies.tier("zj_hidden_champion", policy_code="zhejiang-hidden-champion-2016")
    after = replace(zhejiang, review_timing="after_expiry", review_after_expiry_days=60)
    policies = PolicySet([replace(p, tiers=tuple(after if t.code == after.code else t for t in p.tiers))
                          for p in rules.policies.policies])
    rules = Rules(policies=policies, calendar=rules.calendar)
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "zj_hidden_champion", d("2023-06-15"))
    with pytest.raises(RuleViolation):
        event(session, admin, rules, cert, "submit_review", "2026-06-15")  # still valid: evaluated after expiry
    scan(session, rules, d("2026-07-01"))
    assert cert.status == Status.ACTIVE
    event(session, admin, rules, cert, "submit_review", "2026-07-01")
    event(session, admin, rules, cert, "pass_review", "2026-08-01")
    assert cert.status == Status.ACTIVE and cert.valid_until == d("2029-06-15")
    other = grant(session, admin, rules, make_enterprise(session, admin), "zj_hidden_champion", d("2023-06-15"))
    scan(session, rules, d("2026-08-14"))  # 2026-06-15 + 60 days = 2026-08-14, a Friday: the last day
    assert other.status == Status.ACTIVE
    scan(session, rules, d("2026-08-15"))
    assert other.status == Status.EXPIRED and other.ended_on == d("2026-06-16")


# ------------------------------------------------------------------ late and incomplete filings

@pytest.mark.parametrize(("filed", "scanned", "eligible"), [
    ("2026-04-29", "2026-05-01", True), ("2026-04-30", "2026-05-01", True),  # due Thursday 2026-04-30
    ("2026-05-01", "2026-05-01", False), ("2026-05-01", "2026-05-12", False),  # late, also for a catch-up scan
])
def test_an_annual_report_counts_only_when_filed_by_its_due_date(session, admin, rules, filed, scanned, eligible):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2024-09-01"))
    report(session, admin, ent, 2025, revenue=10_000_000, submitted_on=d(filed), today=d(filed))
    scan(session, rules, d(scanned))
    assert cert.review_eligible is eligible
    if not eligible:
        assert cert.review_ineligible_cause == "annual_update_missed"


def ladder(session, admin, rules, ent):
    grant(session, admin, rules, ent, "innovative_sme", d("2023-01-10"))
    specialized = grant(session, admin, rules, ent, "specialized_sme", d("2023-03-01"))
    giant = grant(session, admin, rules, ent, "little_giant", d("2023-09-01"))
    return specialized, giant


@pytest.mark.parametrize("code", [None, "", "  ", "ZJ2025000001"])
def test_a_little_giant_report_without_the_audit_code_does_not_count(session, admin, rules, code):
    ent = make_enterprise(session, admin)
    specialized, giant = ladder(session, admin, rules, ent)
    report(session, admin, ent, 2025, revenue=10_000_000, audit_report_code=code)
    has_code = bool((code or "").strip())
    scan(session, rules, d("2026-05-01"))
    assert specialized.review_eligible  # its policy asks for no code
    assert giant.review_eligible is has_code


def test_a_little_giant_review_needs_the_audit_code(session, admin, rules):
    ent = make_enterprise(session, admin)
    _, giant = ladder(session, admin, rules, ent)
    report(session, admin, ent, 2025, revenue=10_000_000)
    with pytest.raises(RuleViolation) as err:
        event(session, admin, rules, giant, "submit_review", "2026-06-10")
    assert "验证码" in err.value.errors["action"][0] and "2026-06-03 至 2026-09-01" in err.value.errors["action"][0]
    record_annual_report(session, actor=admin, enterprise_id=ent.id, year=2025, at=NOW,
                         data={"audit_report_code": "ZJ2025000001"})
    assert event(session, admin, rules, giant, "submit_review", "2026-06-10").status == Status.UNDER_REVIEW


def test_a_review_refused_after_a_missed_update_says_why(session, admin, rules):
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2023-09-01"))
    scan(session, rules, d("2026-05-01"))
    with pytest.raises(RuleViolation) as err:
        event(session, admin, rules, cert, "submit_review", "2026-06-10")
    message = err.value.errors["action"][0]
    assert "丧失复核资格（未按期更新年度信息）" in message and "2026-06-03 至 2026-09-01" in message


@pytest.mark.parametrize(("reported", "eligible"), [("2026-10-07", True), ("2026-10-08", True),
                                                    ("2026-10-09", False)])
def test_a_change_report_marked_filed_later_has_the_consequence_of_its_real_date(session, admin, rules,
                                                                                  reported, eligible):
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2025, revenue=10_000_000)  # the annual update is on time
    cert = grant(session, admin, rules, ent, "innovative_sme", d("2025-01-10"))
    change, _ = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                                     occurred_on=d("2026-07-01"), reported_on=None, details="更名", at=NOW,
                                     today=d("2026-07-01"))
    assert change.deadline_on == d("2026-10-08")
    with pytest.raises(RuleViolation):
        mark_change_reported(session, actor=admin, rules=rules, change_report_id=change.id,
                             reported_on=d(reported) + timedelta(days=1), at=NOW, today=d(reported))
    _, warnings = mark_change_reported(session, actor=admin, rules=rules, change_report_id=change.id,
                                       reported_on=d(reported), at=NOW, today=d("2026-10-20"))
    assert change.reported_on == d(reported) and cert.review_eligible is eligible
    assert bool(warnings) is not eligible
    assert session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "change_report",
                                                              AuditEvent.entity_id == change.id)
                           .order_by(AuditEvent.id)).all() == [
        "change_report.recorded", "change_report.reported"]
    with pytest.raises(Conflict):
        mark_change_reported(session, actor=admin, rules=rules, change_report_id=change.id,
                             reported_on=d(reported), at=NOW, today=d("2026-10-20"))
    scan(session, rules, d("2026-10-21"))  # the scan agrees: nothing more to take
    assert cert.review_eligible is eligible
