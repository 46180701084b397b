"""Issue 17 §4: an annual-update override for one city moves that city's due date, reminders and scan only.

台州 (331000) moved the 2026 annual update from 30 April to 26 June (the window some cities used).
An enterprise of 椒江区 (331002) is due on 26 June; one of 杭州 上城区 (330102) keeps 30 April.
The Python rule, the scan's SQL, the ledger, the lost-eligibility check (a report counts only when
submitted on or before the due date), the dashboard's overdue list and the to-do list all follow it;
removing the override restores the policy's date. Both backends (the session fixture's).
"""

import pytest
import sqlalchemy as sa

from registry.dashboard.overview import overdue_annual_updates
from registry.domain.actors import Role
from registry.policies.overrides import add_override, remove_override
from registry.policies.rules import load_rules
from registry.reminders import duedates as dd
from registry.reminders import kinds
from registry.reminders import services as reminders
from registry.reminders.models import Reminder
from registry.todo.services import todo_list
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan
from tests.jobs.test_wanted import python_view, sql_view

TAIZHOU, HANGZHOU = "331000", "330102"
DOC = "台经信〔2026〕12号"


@pytest.fixture
def pair(session, admin, rules):
    """An enterprise of 椒江区 (台州) and one of 上城区 (杭州), each holding a title that owes the 2026 update."""
    tz = make_enterprise(session, admin, region_code="331002", name="台州椒江测试企业有限公司")
    hz = make_enterprise(session, admin, region_code=HANGZHOU, name="杭州上城测试企业有限公司")
    certs = {e.id: grant(session, admin, rules, e, "innovative_sme", d("2025-03-01")) for e in (tz, hz)}
    session.flush()
    return tz, hz, certs


@pytest.fixture
def override(session, admin, rules, pair):
    """台州's 2026 override to 26 June, recorded by the service."""
    return add_override(session, actor=admin, rules=rules, region_code=TAIZHOU, year=2026, due_on=d("2026-06-26"),
                        document_no=DOC, note="全市年度信息更新窗口延长", at=NOW)


def fresh(session, policies):
    return load_rules(session, policies)


def annual_dates(session, rules):
    """Enterprise id → the 2026 annual update's date, from the Python rule."""
    items = kinds.ANNUAL_UPDATE.due(session, dd.TierCache(rules), d("2026-01-01"), d("2026-12-31"))
    return {i.enterprise_id: i.reference_on for i in items}


def test_the_override_moves_the_citys_due_date_only_and_removing_it_restores(session, admin, policies, pair, override):
    tz, hz, _ = pair
    rules = fresh(session, policies)
    assert annual_dates(session, rules) == {tz.id: d("2026-06-26"), hz.id: d("2026-04-30")}
    assert dd.annual_due_dates(rules, 2026, "331002")[(4, 30)] == dd.DueDate(d("2026-06-26"))
    assert dd.annual_due_dates(rules, 2026, "331002")[(3, 31)].on == d("2026-03-31")  # another date keeps its own
    assert dd.annual_due_dates(rules, 2026, HANGZHOU)[(4, 30)].on == d("2026-04-30")
    assert dd.annual_due_dates(rules, 2027, "331002")[(4, 30)].on == d("2027-04-30")  # one year only
    remove_override(session, actor=admin, override_id=override.id, at=NOW)
    assert annual_dates(session, fresh(session, policies)) == {tz.id: d("2026-04-30"), hz.id: d("2026-04-30")}


def test_a_city_override_wins_over_its_provinces(session, admin, policies, pair, override):
    tz, hz, _ = pair
    add_override(session, actor=admin, rules=fresh(session, policies), region_code="330000", year=2026,
                 due_on=d("2026-05-29"), document_no="浙经信〔2026〕3号", at=NOW)
    assert annual_dates(session, fresh(session, policies)) == {tz.id: d("2026-06-26"), hz.id: d("2026-05-29")}


def test_reminders_follow_the_city_date(session, policies, pair, override):
    tz, hz, _ = pair
    rules = fresh(session, policies)
    items = [i for i in reminders.collect(session, rules, d("2026-05-27")).values() if i.kind == "annual_update"]
    by_enterprise = {i.enterprise_id: (i.reference_on, i.milestones) for i in items}
    assert by_enterprise[tz.id] == (d("2026-06-26"), (30, 7, 1))  # 30 days ahead of 26 June: due to be reminded
    assert by_enterprise[hz.id] == (d("2026-04-30"), (dd.OVERDUE,))  # 杭州's passed: the overdue reminder
    todo = next(i for i in items if i.enterprise_id == tz.id).todo
    assert "2026年6月26日" in todo


@pytest.mark.parametrize("day", ["2026-04-01", "2026-04-30", "2026-05-01", "2026-05-27", "2026-06-19",
                                 "2026-06-26", "2026-06-27", "2027-01-05", "2027-05-03"])
def test_the_scans_sql_agrees_with_the_python_rule_under_an_override(session, admin, policies, pair, override, day):
    rules = fresh(session, policies)
    add_override(session, actor=admin, rules=rules, region_code="330000", year=2026, due_on=d("2026-05-15"),
                 document_no="浙经信〔2026〕3号", at=NOW)  # a province with a city of its own inside
    rules = fresh(session, policies)
    python, sql = python_view(session, rules, d(day)), sql_view(session, rules, d(day))
    assert sql == python


def test_the_scan_arms_the_city_date_in_the_ledger_and_only_there(session, policies, pair, override):
    tz, hz, _ = pair
    rules = fresh(session, policies)
    scan(session, rules, d("2026-05-27"))
    rows = session.execute(sa.select(Reminder.subject_id, Reminder.reference_on, Reminder.milestone).where(
        Reminder.kind == "annual_update")).all()
    assert {(r.reference_on, r.milestone) for r in rows if r.subject_id == tz.id} == {
        (d("2026-06-26"), 30), (d("2026-06-26"), 7), (d("2026-06-26"), 1)}
    assert {(r.reference_on, r.milestone) for r in rows if r.subject_id == hz.id} == {(d("2026-04-30"), dd.OVERDUE)}


def test_a_report_filed_on_20_june_is_on_time_in_taizhou_and_late_in_hangzhou(session, admin, policies, pair, override):
    tz, hz, certs = pair
    for ent in (tz, hz):
        report(session, admin, ent, 2025, revenue=10_000_000, submitted_on=d("2026-06-20"))
    rules = fresh(session, policies)
    result = scan(session, rules, d("2026-06-27"))
    assert certs[tz.id].review_eligible
    assert not certs[hz.id].review_eligible
    assert certs[hz.id].review_ineligible_cause == "annual_update_missed"
    assert [f for f in result.flags if "杭州" in f] and not [f for f in result.flags if "台州" in f]


def test_without_the_override_the_same_filing_is_late_in_taizhou_too(session, admin, policies, pair, override):
    tz, _, certs = pair
    remove_override(session, actor=admin, override_id=override.id, at=NOW)
    report(session, admin, tz, 2025, revenue=10_000_000, submitted_on=d("2026-06-20"))
    scan(session, fresh(session, policies), d("2026-06-27"))
    assert not certs[tz.id].review_eligible


def test_the_dashboard_and_the_todo_list_use_the_city_date(session, policies, pair, override):
    tz, hz, _ = pair
    rules = fresh(session, policies)

    def overdue(day):
        rows, _ = overdue_annual_updates(session, rules, d(day))
        return {o.certification.enterprise_id: o.reason for o in rows}

    assert set(overdue("2026-05-27")) == {hz.id}
    assert overdue("2026-05-27")[hz.id] == "缺少 2025 年度信息（截止 2026-04-30）"
    assert overdue("2026-06-27")[tz.id] == "缺少 2025 年度信息（截止 2026-06-26）"

    actor = officer_of("330000", Role.ADMIN)
    items = todo_list(session, actor, rules, d("2026-05-27"))
    groups = {i.args.get("enterprise_id"): i.group for i in items if "年度信息更新" in i.what}
    assert groups == {hz.id: "overdue", tz.id: "soon"}
