"""Look-backs counted from the accident's date (issue 14 §4), on SQLite and PostgreSQL: a revocation
records when the accident happened (`incident_on`); "近两年内未发生重大…事故" counts back from it — at,
just inside and just outside the two years — never from the revocation; where the date was not
recorded the criterion is 待人工核实, never silently passed. The date itself is guarded on every path."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.criteria import Verdict
from registry.domain.errors import RuleViolation
from registry.domain.lifecycle import Event
from registry.pipeline.facts import facts_for, judge
from registry.titles.models import CertificationEvent
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.domain.test_policy_sources import in_seed
from tests.factories import grant, make_enterprise

ON = d("2026-06-01")  # the evaluation day: the two years are 2024-06-02 … 2026-06-01
SICHUAN = "510104"  # 成都市锦江区


def revoked(session, admin, rules, *, revoked_on="2026-03-01", incident_on=None, region=SICHUAN,
            tier="sc_specialized_sme", recognized="2023-01-10"):
    ent = make_enterprise(session, admin, region_code=region)
    cert = grant(session, admin, rules, ent, tier, d(recognized))
    apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=NOW.date(),
                event=EventInput(Event.REVOKE, d(revoked_on), "major_accident", "川经信〔2026〕1号",
                                 incident_on=d(incident_on) if incident_on else None))
    return ent, cert


def safety(session, rules, ent):
    tier = rules.policies.tier("sc_specialized_sme", ON)
    _, snapshot = judge(session, rules, tier, ent, year=2025, on=ON, stage="title")
    return next(r for r in snapshot["results"] if r["id"] == "safety")


@pytest.mark.parametrize(("incident_on", "verdict"), [
    ("2024-05-31", Verdict.PASS),  # outside the two years
    ("2024-06-01", Verdict.PASS),  # exactly two years before: the day before the two years begin
    ("2024-06-02", Verdict.FAIL),  # the first day of the two years
    ("2026-06-01", Verdict.FAIL),  # the evaluation day itself
])
def test_sichuan_two_years_count_back_from_the_accident_not_the_revocation(session, admin, rules, incident_on,
                                                                          verdict):
    assert in_seed("000", "近兩年內未發生重大安全、穩定、質量、環境污染事故")
    # revoked on 2026-06-01, inside the two years: only the accident's date decides
    ent, _ = revoked(session, admin, rules, revoked_on="2026-06-01", incident_on=incident_on)
    result = safety(session, rules, ent)
    assert result["verdict"] == verdict.value, result


def test_an_accident_without_its_date_revoked_inside_the_look_back_is_to_be_verified(session, admin, rules):
    ent, _ = revoked(session, admin, rules, revoked_on="2024-06-02")  # revoked the first day of the two years
    result = safety(session, rules, ent)
    assert result["verdict"] == Verdict.UNKNOWN.value and result["verdict_name"] == "待人工核实"
    assert "未登记事故发生日期" in result["detail"] and "2024-06-02 至 2026-06-01" in result["detail"]


def test_an_accident_without_its_date_revoked_before_the_look_back_is_outside_it(session, admin, rules):
    # the accident preceded its revocation (2024-06-01), so it lies before the two years whatever its day
    ent, _ = revoked(session, admin, rules, revoked_on="2024-06-01")
    assert safety(session, rules, ent)["verdict"] == Verdict.PASS.value


def test_the_three_year_flag_counts_from_the_accident_too(session, admin, rules):
    ent, _ = revoked(session, admin, rules, revoked_on="2026-05-01", incident_on="2023-06-02")
    facts = facts_for(session, [ent], year=2025, on=ON)[ent.id]
    assert facts.flags["no_major_accident_2y"] is True  # 2023-06-02 is before 2024-06-02
    assert facts.flags["no_major_accident_3y"] is False  # and inside 2023-06-02 … 2026-06-01
    other, _ = revoked(session, admin, rules, revoked_on="2026-05-01")
    undated = facts_for(session, [other], year=2025, on=ON)[other.id]
    assert undated.flags["no_major_accident_3y"] is None and "未登记事故发生日期" in undated.flag_notes[
        "no_major_accident_3y"]


def test_the_accident_date_is_stored_shown_and_audited(session, admin, rules):
    _, cert = revoked(session, admin, rules, revoked_on="2026-03-01", incident_on="2026-01-15")
    event = session.scalars(sa.select(CertificationEvent).where(CertificationEvent.certification_id == cert.id,
                                                                CertificationEvent.action == "revoke")).one()
    assert event.incident_on == d("2026-01-15")
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certification.revoke",
                                                        AuditEvent.entity_id == cert.id)).one()
    assert trail.changes["incident_on"] == [None, "2026-01-15"]


@pytest.mark.parametrize(("action", "effective", "incident", "message"), [
    ("revoke", "2026-03-01", "2026-03-02", "晚于撤销生效日期"),
    ("revoke", NOW.date().isoformat(), (NOW.date() + timedelta(days=1)).isoformat(), "晚于今天"),
    ("withdraw", "2026-03-01", "2026-02-01", "只有「撤销」可填写"),
])
def test_a_bad_accident_date_is_refused_and_changes_nothing(session, admin, rules, action, effective, incident,
                                                             message):
    ent = make_enterprise(session, admin, region_code=SICHUAN)
    cert = grant(session, admin, rules, ent, "sc_specialized_sme", d("2023-01-10"))
    events = len(cert.events)
    with pytest.raises(RuleViolation) as err:
        apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=NOW.date(),
                    event=EventInput(Event(action), d(effective), "major_accident" if action == "revoke" else None,
                                     "X〔2026〕1号", incident_on=d(incident)))
    assert message in " ".join(err.value.errors["incident_on"])
    assert len(cert.events) == events and cert.status.value == "active"


def test_the_accident_date_on_the_same_day_as_the_revocation_is_accepted(session, admin, rules):
    _, cert = revoked(session, admin, rules, revoked_on="2026-03-01", incident_on="2026-03-01")
    assert cert.status.value == "revoked"
