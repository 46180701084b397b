"""Periodic reports of a title (issue 17 point 3): the Chongqing 领军企业 file declares the 一企一策 plan,
the quarterly summary and the yearly evaluation (渝府办发〔2021〕80号 四（三）（四）); an officer records
each filing, audited and guarded, and the next due period moves on."""

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.lifecycle import Event
from registry.titles.models import ReportFiling
from registry.titles.reports import due_reports, record_filing
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise


@pytest.fixture
def leader(session, admin, rules):
    firm = make_enterprise(session, admin, region_code="500103")
    return grant(session, admin, rules, firm, "cq_leading", d("2027-03-01"))


def _due(session, rules, cert):
    return {r.report.code: (r.period, r.due_on) for r in due_reports(session, rules) if r.certification.id == cert.id}


def _file(session, rules, actor, cert, code, period, filed, today="2027-12-01"):
    return record_filing(session, actor=actor, rules=rules, certification_id=cert.id, report_code=code,
                         period=period, filed_on=d(filed), at=NOW, today=d(today))


def test_each_declared_report_is_due_from_the_listing_and_moves_on_once_filed(session, admin, rules, leader):
    assert _due(session, rules, leader) == {"one_plan": ("once", d("2027-05-30")),
                                            "quarterly_progress": ("2027Q1", d("2027-04-15")),
                                            "yearly_evaluation": ("2027", d("2027-12-31"))}
    filing = _file(session, rules, admin, leader, "quarterly_progress", "2027q1", "2027-04-15")
    assert (filing.period, filing.filed_on) == ("2027Q1", d("2027-04-15"))
    _file(session, rules, admin, leader, "one_plan", "", "2027-05-01")
    due = _due(session, rules, leader)
    assert due["quarterly_progress"] == ("2027Q2", d("2027-07-15")) and "one_plan" not in due
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report_filing.recorded",
                                                        AuditEvent.entity_id == filing.id)).one()
    assert event.changes["period"] == [None, "2027Q1"] and event.enterprise_id == leader.enterprise_id


def test_the_same_period_twice_is_a_conflict_and_changes_nothing(session, admin, rules, leader):
    _file(session, rules, admin, leader, "yearly_evaluation", "2027", "2027-11-30")
    with pytest.raises(Conflict, match="已登记报送"):
        _file(session, rules, admin, leader, "yearly_evaluation", " 2027 ", "2027-12-01")
    assert session.scalar(sa.select(sa.func.count()).select_from(ReportFiling)) == 1


@pytest.mark.parametrize(("code", "period", "filed", "today", "field", "words"), [
    ("quarterly_progress", "2027Q2", "2027-03-31", "2027-03-31", "period", "尚未开始"),  # the day before Q2
    ("yearly_evaluation", "2028", "2027-12-31", "2027-12-31", "period", "尚未开始"),      # a year end
    ("quarterly_progress", "2027Q1", "2027-04-02", "2027-04-01", "filed_on", "报送日期"),  # filed tomorrow
    ("quarterly_progress", "2027Q1", "2027-02-28", "2027-04-01", "filed_on", "认定日期"),  # before listing
    ("quarterly_progress", "2026Q4", "2027-04-01", "2027-04-01", "period", "认定年份"),
    ("quarterly_progress", "2027-1", "2027-04-01", "2027-04-01", "period", "2027Q1"),
    ("no_such", "2027", "2027-04-01", "2027-04-01", "report_code", "没有报告"),
])
def test_bad_input_is_refused_naming_the_field(session, admin, rules, leader, code, period, filed, today, field,
                                               words):
    with pytest.raises(RuleViolation, match=words) as caught:
        _file(session, rules, admin, leader, code, period, filed, today)
    assert list(caught.value.errors) == [field]
    assert session.scalar(sa.select(sa.func.count()).select_from(ReportFiling)) == 0


def test_the_first_day_of_a_quarter_may_file_it(session, admin, rules, leader):
    assert _file(session, rules, admin, leader, "quarterly_progress", "2027Q2", "2027-04-01", "2027-04-01")


def test_an_ended_title_takes_no_filing_and_owes_nothing(session, admin, rules, leader):
    apply_event(session, actor=admin, rules=rules, certification_id=leader.id, at=NOW, today=d("2027-06-01"),
                event=EventInput(Event.WITHDRAW, d("2027-06-01"), note="企业主动放弃"))
    with pytest.raises(Conflict, match="已终止"):
        _file(session, rules, admin, leader, "quarterly_progress", "2027Q1", "2027-06-01", "2027-06-01")
    assert _due(session, rules, leader) == {}


def test_an_officer_of_another_region_cannot_file(session, rules, leader):
    with pytest.raises(NotFound):
        _file(session, rules, officer_of("330100"), leader, "quarterly_progress", "2027Q1", "2027-04-15")


def test_a_title_without_declared_reports_owes_none(session, admin, rules):
    firm = make_enterprise(session, admin, region_code="500103")
    cert = grant(session, admin, rules, firm, "innovative_sme", d("2027-03-01"))
    assert _due(session, rules, cert) == {}
    with pytest.raises(RuleViolation, match="没有报告") as caught:
        _file(session, rules, admin, cert, "quarterly_progress", "2027Q1", "2027-04-15")
    assert list(caught.value.errors) == ["report_code"]


def test_the_trail_names_a_filing_and_its_fields_in_chinese():
    from registry.audit.queries import ENTITY_NAMES, action_name, field_name

    assert action_name("report_filing.recorded") == "登记定期报告报送"
    assert ENTITY_NAMES["report_filing"] == "定期报告报送"
    assert [field_name("report_filing", f) for f in ("report_code", "period", "filed_on", "certification_id")] == [
        "报告", "报告期", "报送日期", "称号编号"]
