"""Applications up the chain on SQLite and PostgreSQL: order, levels, region, quotas and every refusal."""

import pytest
import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.domain.actors import Role
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.enterprises.models import AnnualReport
from registry.pipeline.models import ApplicationStatus, BatchStatus, Decision, Opinion
from registry.pipeline.services import (
    apply,
    create_batch,
    plan_opinion,
    plan_resubmission,
    quota_usage,
    record_opinion,
    resubmit,
)
from registry.titles.models import Ban
from tests.conftest import NOW, d, officer_of
from tests.factories import make_enterprise, report
from tests.pipeline.conftest import TODAY, applied, climb, giant_batch, giant_candidate, opinion


@pytest.fixture
def batch(session, rules, officers):
    return giant_batch(session, rules, officers)


def test_apply_keeps_the_report_and_starts_at_the_bottom(session, admin, rules, officers, batch):
    firm = giant_candidate(session, admin, rules)
    application = applied(session, rules, officers, batch, firm)
    assert (application.status, application.current_level, application.round) == (
        ApplicationStatus.IN_REVIEW, "district", 1)
    assert application.region_code == "331002" and application.applied_on == TODAY
    assert application.evaluation["stage"] == "title" and application.evaluation["year"] == 2025
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "application")) == \
        "application.created"
    with pytest.raises(Conflict) as err:
        applied(session, rules, officers, batch, firm)
    assert err.value.details["existing_id"] == application.id


def test_a_city_registered_enterprise_starts_at_the_city(session, admin, rules, officers, batch):
    firm = giant_candidate(session, admin, rules, region="331000")
    assert applied(session, rules, officers, batch, firm).current_level == "city"


def test_apply_refusals(session, admin, rules, officers, batch):
    hangzhou_firm = giant_candidate(session, admin, rules, region="330106")
    with pytest.raises(NotFound):  # a 台州 office cannot file for a 杭州 enterprise
        apply(session, actor=officers.city, rules=rules, batch_id=batch.id, enterprise_id=hangzhou_firm.id,
              today=TODAY, at=NOW)
    city_batch = create_batch(session, actor=officers.city, rules=rules, tier="little_giant", year=2026,
                              name="台州市预审批", quotas={}, deadlines={}, today=TODAY, at=NOW)
    with pytest.raises(RuleViolation) as err:
        apply(session, actor=officers.province, rules=rules, batch_id=city_batch.id, enterprise_id=hangzhou_firm.id,
              today=TODAY, at=NOW)
    assert "enterprise_id" in err.value.errors
    with pytest.raises(NotFound):
        apply(session, actor=officers.hangzhou, rules=rules, batch_id=city_batch.id, enterprise_id=hangzhou_firm.id,
              today=TODAY, at=NOW)


def test_levels_act_in_order_and_only_at_their_own_level(session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    with pytest.raises(Conflict) as err:  # the city waits for the district
        opinion(session, rules, officers, application, "city")
    assert err.value.details["current_level"] == "district"
    with pytest.raises(RuleViolation) as err:  # a city office cannot give the district's opinion
        record_opinion(session, actor=officers.city, rules=rules, application_id=application.id, level="district",
                       decision="recommend", note=None, on=TODAY, at=NOW)
    assert "市级" in err.value.errors["level"][0]
    with pytest.raises(RuleViolation) as err:
        record_opinion(session, actor=officers.district, rules=rules, application_id=application.id,
                       level="village", decision="recommend", note=None, on=TODAY, at=NOW)
    assert "level" in err.value.errors
    opinion(session, rules, officers, application, "district")
    assert application.current_level == "city"
    with pytest.raises(Conflict):  # the district has had its say in this round
        opinion(session, rules, officers, application, "district")
    climb(session, rules, officers, application, ("city", "province", "ministry"))
    assert (application.status, application.current_level) == (ApplicationStatus.RECOMMENDED, None)
    opinions = session.scalars(sa.select(Opinion).where(Opinion.application_id == application.id)
                               .order_by(Opinion.id)).all()
    assert [(o.level, o.decision, o.region_code) for o in opinions] == [
        ("district", Decision.RECOMMEND, "331002"), ("city", Decision.RECOMMEND, "331000"),
        ("province", Decision.RECOMMEND, "330000"), ("ministry", Decision.RECOMMEND, "000000")]
    assert opinions[1].officer == officers.city.label and opinions[1].decided_on == TODAY
    logged = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "application", AuditEvent.entity_id == application.id)).all()
    assert logged.count("application.recommend") == 4


def test_hangzhou_officer_cannot_act_on_taizhou_applications(session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    opinion(session, rules, officers, application, "district")
    with pytest.raises(NotFound):
        record_opinion(session, actor=officers.hangzhou, rules=rules, application_id=application.id,
                       level="city", decision="recommend", note=None, on=TODAY, at=NOW)
    assert application.current_level == "city"


def test_third_taizhou_recommendation_is_refused_naming_the_quota(session, admin, rules, officers, batch):
    applications = [applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
                    for _ in range(3)]
    for application in applications:
        opinion(session, rules, officers, application, "district")
    opinion(session, rules, officers, applications[0], "city")
    opinion(session, rules, officers, applications[1], "city")
    with pytest.raises(Conflict) as err:
        opinion(session, rules, officers, applications[2], "city")
    message = err.value.message
    assert "台州市（331000）" in message and "推荐名额为 2 个" in message
    assert f"#{applications[0].id}" in message and f"#{applications[1].id}" in message
    assert err.value.details["held_by"] == [applications[0].id, applications[1].id]
    assert err.value.details["quota"] == 2 and err.value.details["region_code"] == "331000"
    assert applications[2].current_level == "city"
    assert session.scalar(sa.select(sa.func.count()).select_from(Opinion).where(
        Opinion.application_id == applications[2].id)) == 1
    # another city keeps its own counter (no quota given for 杭州)
    other = applied(session, rules, officers, batch, giant_candidate(session, admin, rules, region="330106"))
    record_opinion(session, actor=officer_of("330106"), rules=rules, application_id=other.id, level="district",
                   decision="recommend", note=None, on=TODAY, at=NOW)
    record_opinion(session, actor=officers.hangzhou, rules=rules, application_id=other.id, level="city",
                   decision="recommend", note=None, on=TODAY, at=NOW)
    board = quota_usage(session, actor=officers.province, batch_id=batch.id)
    assert board == [{"region_code": "331000", "region_name": "台州市", "level": "city", "quota": 2, "used": 2,
                      "held_by": [applications[0].id, applications[1].id]}]
    assert quota_usage(session, actor=officers.hangzhou, batch_id=batch.id) == []


def test_a_resubmitted_return_frees_its_slot(session, admin, rules, officers, batch):
    first, second, third = [applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
                            for _ in range(3)]
    for application in (first, second, third):
        opinion(session, rules, officers, application, "district")
    climb(session, rules, officers, first, ("city",))
    climb(session, rules, officers, second, ("city",))
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, first, "province", "return")
    assert "note" in err.value.errors
    opinion(session, rules, officers, first, "province", "return", "请补充2025年审计报告")
    assert (first.status, first.current_level) == (ApplicationStatus.RETURNED, None)
    with pytest.raises(Conflict):  # its city recommendation still stands until it is resubmitted
        opinion(session, rules, officers, third, "city")
    resubmit(session, actor=officers.district, rules=rules, application_id=first.id, on=TODAY, at=NOW)
    assert (first.status, first.current_level, first.round) == (ApplicationStatus.IN_REVIEW, "district", 2)
    opinion(session, rules, officers, third, "city")
    opinion(session, rules, officers, first, "district")
    with pytest.raises(Conflict):  # now the returned one finds the quota taken
        opinion(session, rules, officers, first, "city")
    with pytest.raises(Conflict):
        resubmit(session, actor=officers.district, rules=rules, application_id=second.id, on=TODAY, at=NOW)


def test_reject_needs_a_note_and_ends_the_application(session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, application, "district", "reject")
    assert "note" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, application, "district", "maybe")
    assert "decision" in err.value.errors
    opinion(session, rules, officers, application, "district", "reject", "主导产品不属于重点领域")
    assert application.status == ApplicationStatus.REJECTED
    with pytest.raises(Conflict):
        opinion(session, rules, officers, application, "district")


def test_no_recommendation_without_the_prerequisite(session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch,
                          giant_candidate(session, admin, rules, specialized=False))
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, application, "district")
    assert "专精特新" in err.value.errors["tier"][0]
    opinion(session, rules, officers, application, "district", "return", "请先取得专精特新称号")


def test_no_recommendation_while_a_ban_is_active(session, admin, rules, officers, batch):
    firm = giant_candidate(session, admin, rules)
    application = applied(session, rules, officers, batch, firm)
    session.add(Ban(uscc=firm.uscc, reason_code="fraud", reason="弄虚作假", starts_on=d("2026-01-01"),
                    ends_on=d("2029-01-01"), created_at=NOW))
    session.flush()
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, application, "district")
    assert "2029-01-01" in err.value.errors["uscc"][0]


def test_no_recommendation_without_the_audit_verification_code(session, admin, rules, officers, batch):
    firm = giant_candidate(session, admin, rules)
    application = applied(session, rules, officers, batch, firm)
    latest = session.scalar(sa.select(AnnualReport).where(AnnualReport.enterprise_id == firm.id,
                                                          AnnualReport.year == 2025))
    latest.audit_report_code = None
    session.flush()
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, application, "district")
    assert "2025年" in err.value.errors["audit_report_code"][0]
    latest.audit_report_code = "ZJ2025-0009"
    session.flush()
    opinion(session, rules, officers, application, "district")


def test_the_audit_code_rule_follows_the_policy(session, admin, rules, officers):
    batch = create_batch(session, actor=officers.province, rules=rules, tier="innovative_sme", year=2026,
                         name="2026年创新型第一批", quotas={}, deadlines={}, today=TODAY, at=NOW)
    firm = make_enterprise(session, admin, region_code="331002", size_class="small")
    report(session, admin, firm, 2025, revenue=10_000_000, audit_report_code=None)
    application = applied(session, rules, officers, batch, firm)
    opinion(session, rules, officers, application, "district")  # 创新型 needs no verification code
    assert application.current_level == "city"


def test_no_recommendation_after_the_level_deadline(session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, application, "district", on=d("2026-06-21"))
    assert "2026-06-20" in err.value.errors["level"][0]
    opinion(session, rules, officers, application, "district", on=d("2026-06-20"))
    opinion(session, rules, officers, application, "city", "return", "逾期材料不全", on=d("2026-07-05"))


def test_batch_creation_checks_quotas_deadlines_and_names(session, rules, officers):
    def make(**kw):
        args = dict(actor=officers.province, rules=rules, tier="little_giant", year=2026, name="批",
                    quotas={}, deadlines={}, today=TODAY, at=NOW)
        return create_batch(session, **{**args, **kw})

    for quotas in ({"331000": -1}, {"331000": True}, {"999900": 1}, {"320100": 1}):
        with pytest.raises(RuleViolation) as err:
            make(quotas=quotas)
        assert "quotas" in err.value.errors
    for deadlines in ({"village": "2026-07-01"}, {"city": "soon"},
                      {"district": "2026-07-01", "city": "2026-06-01"}):
        with pytest.raises(RuleViolation) as err:
            make(deadlines=deadlines)
        assert "deadlines" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        make(name=" ")
    assert "name" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        make(region_code="320000")
    assert "region_code" in err.value.errors
    batch = make(quotas={"331000": 2, "330000": 10}, deadlines={"city": d("2026-06-30")})
    assert batch.status == BatchStatus.OPEN and batch.deadlines == {"city": "2026-06-30"}
    assert batch.region_code == "330000" and batch.policy_code == "national-2022"
    with pytest.raises(Conflict):
        make()
    logged = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "batch")).one()
    assert logged.action == "batch.created" and logged.changes["quotas"] == [None, {"331000": 2, "330000": 10}]


def test_auditors_read_but_do_not_act(session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    auditor = officer_of("331002", Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        record_opinion(session, actor=auditor, rules=rules, application_id=application.id, level="district",
                       decision="recommend", note=None, on=TODAY, at=NOW)
    with pytest.raises(PermissionDenied):
        apply(session, actor=auditor, rules=rules, batch_id=batch.id,
              enterprise_id=giant_candidate(session, admin, rules).id, today=TODAY, at=NOW)
    assert quota_usage(session, actor=officer_of("330000", Role.AUDITOR), batch_id=batch.id)[0]["quota"] == 2


def test_a_returned_application_is_resubmitted_by_an_officer_of_its_region_and_climbs_again(
        session, admin, rules, officers, batch):
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    climb(session, rules, officers, application, ("district", "city"))
    opinion(session, rules, officers, application, "province", "return", "请补充2025年审计报告验证码")
    assert (application.status, application.current_level) == (ApplicationStatus.RETURNED, None)
    with pytest.raises(NotFound):  # a 杭州 office cannot reach a 台州 application
        resubmit(session, actor=officers.hangzhou, rules=rules, application_id=application.id, on=TODAY, at=NOW)
    with pytest.raises(PermissionDenied):
        resubmit(session, actor=officer_of("331002", Role.AUDITOR), rules=rules, application_id=application.id,
                 on=TODAY, at=NOW)
    plan = plan_resubmission(session, actor=officers.district, rules=rules, application_id=application.id)
    assert (plan.round, plan.chain) == (2, ("district", "city", "province", "ministry"))
    assert [s.region_code for s in plan.freed] == ["331000"]  # the city's recommendation held 台州's quota
    assert (application.round, application.status) == (1, ApplicationStatus.RETURNED)  # planning wrote nothing
    assert quota_usage(session, actor=officers.province, batch_id=batch.id)[0]["used"] == 1

    resubmit(session, actor=officers.district, rules=rules, application_id=application.id, on=TODAY, at=NOW,
             note="已补充审计报告验证码")
    assert (application.status, application.current_level, application.round) == (
        ApplicationStatus.IN_REVIEW, "district", 2)
    assert quota_usage(session, actor=officers.province, batch_id=batch.id)[0]["used"] == 0
    climb(session, rules, officers, application)
    assert application.status == ApplicationStatus.RECOMMENDED
    opinions = session.scalars(sa.select(Opinion).where(Opinion.application_id == application.id)
                               .order_by(Opinion.id)).all()
    assert [(o.round, o.level, o.decision.value) for o in opinions] == [
        (1, "district", "recommend"), (1, "city", "recommend"), (1, "province", "return"),
        (2, "district", "recommend"), (2, "city", "recommend"), (2, "province", "recommend"),
        (2, "ministry", "recommend")]
    events = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "application", AuditEvent.entity_id == application.id).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [
        "application.created", "application.recommend", "application.recommend", "application.return",
        "application.resubmitted", *["application.recommend"] * 4]
    again = events[4]
    assert (again.actor_name, again.note) == (officers.district.name, "已补充审计报告验证码")
    assert again.changes["round"] == [1, 2] and again.changes["current_level"] == [None, "district"]
    assert again.changes["freed_quotas"] == [None, ["331000"]]
    with pytest.raises(Conflict):  # only a returned application is resubmitted
        resubmit(session, actor=officers.district, rules=rules, application_id=application.id, on=TODAY, at=NOW)
    assert audit.verify(session).ok


def test_planning_an_opinion_runs_the_same_checks_and_writes_nothing(session, admin, rules, officers, batch):
    applications = [applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
                    for _ in range(3)]
    for application in applications:
        opinion(session, rules, officers, application, "district")
    opinion(session, rules, officers, applications[0], "city")
    counts = (session.scalar(sa.select(sa.func.count()).select_from(Opinion)),
              session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))

    def plan(application, level="city", decision="recommend", note=None):
        return plan_opinion(session, actor=officers.at(level), rules=rules, application_id=application.id,
                            level=level, decision=decision, note=note, on=TODAY)

    second = plan(applications[1])
    assert second.after == {"status": ApplicationStatus.IN_REVIEW, "current_level": "province"}
    [slot] = second.quotas
    assert (slot.region_code, slot.region_name, slot.quota, [a.id for a in slot.held_by]) == (
        "331000", "台州市", 2, [applications[0].id])
    returned = plan(applications[0], "province", "return", "材料不全")
    assert returned.after["status"] == ApplicationStatus.RETURNED
    assert [s.region_code for s in returned.held] == ["331000"]
    with pytest.raises(RuleViolation):  # the same refusal record_opinion gives
        plan(applications[0], "province", "reject")
    assert counts == (session.scalar(sa.select(sa.func.count()).select_from(Opinion)),
                      session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))
    opinion(session, rules, officers, applications[1], "city")
    with pytest.raises(Conflict) as err:  # the quota is full for the plan as for the change
        plan(applications[2])
    assert err.value.details["held_by"] == [applications[0].id, applications[1].id]


def test_a_champion_applicant_under_4yi_must_already_be_a_little_giant(session, admin, rules, officers):
    batch = create_batch(session, actor=officers.province, rules=rules, tier="single_champion", year=2026,
                         name="2026年单项冠军第一批", quotas={}, deadlines={}, today=TODAY, at=NOW)
    small = applied(session, rules, officers, batch, giant_candidate(session, admin, rules, region="331000"))
    large = make_enterprise(session, admin, region_code="331000", size_class="medium")
    report(session, admin, large, 2025, revenue=500_000_000, main_business_revenue=400_000_000,
           audit_report_code="ZJ2025-0100")
    big = applied(session, rules, officers, batch, large)
    assert small.current_level == "city"  # 单项冠军 climbs city → province → ministry
    with pytest.raises(RuleViolation) as err:
        opinion(session, rules, officers, small, "city")
    assert "4亿元" in err.value.errors["tier"][0]
    opinion(session, rules, officers, big, "city")  # 5亿元: no 小巨人 title needed
    assert big.current_level == "province"
