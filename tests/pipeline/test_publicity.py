"""Publicity, objections and finalising on SQLite and PostgreSQL, up to the granted titles."""

import pytest
import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.domain.lifecycle import Status
from registry.pipeline.models import ApplicationStatus, BatchStatus, ObjectionStatus
from registry.pipeline.services import (
    file_objection,
    finalise_batch,
    plan_finalise,
    plan_resolution,
    public_view,
    resolve_objection,
    resubmit,
    start_publicity,
)
from registry.titles.models import Ban, Certification
from tests.conftest import NOW, d
from tests.pipeline.conftest import applied, climb, giant_batch, giant_candidate, opinion


@pytest.fixture
def board(session, admin, rules, officers):
    """A 小巨人 batch: two 台州 applications fully recommended, one stuck at the city, one returned."""
    batch = giant_batch(session, rules, officers)
    winners = [applied(session, rules, officers, batch, giant_candidate(session, admin, rules)) for _ in range(2)]
    for application in winners:
        climb(session, rules, officers, application)
    stuck = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    opinion(session, rules, officers, stuck, "district")
    returned = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    opinion(session, rules, officers, returned, "district", "return", "材料不全")
    return batch, winners, stuck, returned


def publicise(session, officers, batch, starts="2026-06-05", ends="2026-06-12"):
    return start_publicity(session, actor=officers.province, batch_id=batch.id, starts_on=d(starts), ends_on=d(ends),
                           published_where="浙江省经济和信息化厅网站", at=NOW)


def object_to(session, officers, batch, application, name="王建国", identity="real_name", on="2026-06-08",
              contact="13800000000", **kw):
    return file_objection(session, actor=officers.province, batch_id=batch.id, application_id=application.id,
                          submitter_name=name, submitter_identity=identity, contact=contact,
                          grounds=kw.pop("grounds", "研发费用数据与审计报告不符"), evidence=kw.pop("evidence", "审计报告复印件"),
                          received_on=d(on), at=NOW, today=kw.pop("today", d(on)), **kw)


def finalise(session, rules, officers, batch, today="2026-06-13", published="2026-06-13", **kw):
    return finalise_batch(session, actor=officers.province, rules=rules, batch_id=batch.id,
                          published_on=d(published), today=d(today), at=NOW, **kw)


def test_publicity_opens_the_window_and_closes_the_chain(session, rules, officers, board):
    batch, winners, stuck, _ = board
    with pytest.raises(RuleViolation) as err:
        publicise(session, officers, batch, starts="2026-06-12", ends="2026-06-05")
    assert "ends_on" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        start_publicity(session, actor=officers.province, batch_id=batch.id, starts_on=d("2026-06-05"),
                        ends_on=d("2026-06-12"), published_where=" ", at=NOW)
    assert "published_where" in err.value.errors
    with pytest.raises(NotFound):  # only the organising office (or above) publishes
        start_publicity(session, actor=officers.city, batch_id=batch.id, starts_on=d("2026-06-05"),
                        ends_on=d("2026-06-12"), published_where="网站", at=NOW)
    publicise(session, officers, batch)
    assert (batch.status, batch.publicity_starts_on, batch.publicity_ends_on) == (
        BatchStatus.PUBLICITY, d("2026-06-05"), d("2026-06-12"))
    with pytest.raises(Conflict):
        publicise(session, officers, batch)
    with pytest.raises(Conflict):  # no more opinions once the list is out
        opinion(session, rules, officers, stuck, "city")


def test_nothing_recommended_nothing_to_publicise(session, rules, officers):
    batch = giant_batch(session, rules, officers)
    with pytest.raises(Conflict):
        publicise(session, officers, batch)


@pytest.mark.parametrize(("name", "identity", "contact"), [
    ("", "real_name", "13800000000"), ("   ", "real_name", "13800000000"), ("匿名", "real_name", "13800000000"),
    ("Anonymous", "real_name", "13800000000"), ("知情人", "real_name", "13800000000"),
    ("匿名群众", "real_name", "13800000000"), ("知情人士", "seal", "13800000000"), ("一名员工", "real_name", "13800000000"),
    ("王某某", "real_name", "13800000000"), ("王", "real_name", "13800000000"), ("123", "real_name", "13800000000"),
    ("王建国", "real_name", ""), ("王建国", "real_name", "wang@example.com"), ("王建国", "anonymous", "13800000000")])
def test_anonymous_objections_are_recorded_as_such_and_not_accepted(session, rules, officers, board, name, identity,
                                                                      contact):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    objection = object_to(session, officers, batch, winners[0], name=name, identity=identity, contact=contact)
    assert objection.submitter_identity.value == "anonymous" and objection.status == ObjectionStatus.NOT_ACCEPTED
    assert objection.resolution_note.startswith("匿名异议，不予受理：") and objection.resolved_on == d("2026-06-08")
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "objection",
                                                        AuditEvent.entity_id == objection.id)).one()
    assert event.action == "objection.not_accepted" and event.note
    with pytest.raises(Conflict):  # nothing to resolve
        resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="upheld", note="x",
                          on=d("2026-06-13"), at=NOW)
    done = finalise(session, rules, officers, batch)  # it does not hold up the batch
    assert done.status == BatchStatus.FINALISED
    assert {a.status for a in winners} == {ApplicationStatus.GRANTED}


def test_a_reachable_real_name_objection_is_accepted(session, officers, board):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    for name, identity, contact in (("王建国", "real_name", "0576-88888888"),
                                    ("李娜", "real_name", "浙江省台州市椒江区中山路88号"),
                                    ("台州精工机械有限公司", "seal", "13800000000")):
        objection = object_to(session, officers, batch, winners[0], name=name, identity=identity, contact=contact)
        assert objection.status == ObjectionStatus.OPEN and objection.submitter_identity.value == identity


def test_objection_refusals(session, officers, board):
    batch, winners, stuck, _ = board
    with pytest.raises(Conflict):  # before publicity
        object_to(session, officers, batch, winners[0])
    publicise(session, officers, batch)
    for kwargs, field in (({"identity": "someone"}, "submitter_identity"), ({"on": "2026-06-13"}, "received_on"),
                          ({"on": "2026-06-04"}, "received_on"), ({"grounds": " "}, "grounds")):
        with pytest.raises(RuleViolation) as err:
            object_to(session, officers, batch, winners[0], **kwargs)
        assert field in err.value.errors
    with pytest.raises(RuleViolation) as err:
        object_to(session, officers, batch, stuck)
    assert "application_id" in err.value.errors
    with pytest.raises(NotFound):  # a 杭州 officer cannot reach a 台州 application
        file_objection(session, actor=officers.hangzhou, batch_id=batch.id, application_id=winners[0].id,
                       submitter_name="李娜", submitter_identity="seal", contact="13800000000", grounds="y", evidence="",
                       received_on=d("2026-06-08"), at=NOW, today=d("2026-06-08"))


def test_an_open_objection_blocks_finalising_until_rejected_with_a_note(session, rules, officers, board):
    batch, winners, stuck, returned = board
    publicise(session, officers, batch)
    objection = object_to(session, officers, batch, winners[0], name="台州精密机械有限公司", identity="seal")
    assert objection.status == ObjectionStatus.OPEN and objection.confidential
    with pytest.raises(Conflict) as err:  # the window is still open on its last day
        finalise(session, rules, officers, batch, today="2026-06-12")
    assert "2026-06-12" in err.value.message
    with pytest.raises(Conflict) as err:
        finalise(session, rules, officers, batch)
    assert err.value.details["objections"] == [objection.id]
    with pytest.raises(RuleViolation) as err:
        resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="rejected", note="",
                          on=d("2026-06-13"), at=NOW)
    assert "note" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="maybe",
                          note="x", on=d("2026-06-13"), at=NOW)
    assert "outcome" in err.value.errors
    resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="rejected",
                      note="经核查，研发费用与审计报告一致，异议不成立", on=d("2026-06-13"), at=NOW)
    assert objection.status == ObjectionStatus.REJECTED and objection.resolved_on == d("2026-06-13")
    with pytest.raises(Conflict):
        resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="upheld",
                          note="x", on=d("2026-06-13"), at=NOW)
    with pytest.raises(RuleViolation) as err:
        finalise(session, rules, officers, batch, published="2026-06-12")
    assert "published_on" in err.value.errors
    with pytest.raises(RuleViolation) as err:  # issue 14: a list is not published after today
        finalise(session, rules, officers, batch, today="2026-06-13", published="2026-06-14")
    assert "名单公布日期（2026-06-14）晚于今天（2026-06-13）" in err.value.errors["published_on"][0]

    finalise(session, rules, officers, batch, document_no="工信部企业函〔2026〕88号", authority="工业和信息化部")
    assert (batch.status, batch.published_on) == (BatchStatus.FINALISED, d("2026-06-13"))
    for application in winners:
        assert application.status == ApplicationStatus.GRANTED
        cert = session.get(Certification, application.certification_id)
        assert (cert.tier, cert.status, cert.recognized_on) == ("little_giant", Status.ACTIVE, d("2026-06-13"))
        assert (cert.valid_from, cert.valid_until) == (d("2026-06-13"), d("2029-06-13"))  # 3 years, Civil Code
        assert cert.review_window_opens_on == d("2029-03-15")  # 90 days before the term ends
        assert (cert.batch, cert.document_no, cert.policy_code) == ("2026年第一批", "工信部企业函〔2026〕88号",
                                                                     "national-2022")
    assert (stuck.status, returned.status) == (ApplicationStatus.NOT_GRANTED, ApplicationStatus.NOT_GRANTED)
    assert "逐级推荐" in stuck.outcome_note and "退回" in returned.outcome_note
    assert stuck.certification_id is None
    actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type.in_(
        ["batch", "objection"])).order_by(AuditEvent.id)).all()
    assert actions == ["batch.created", "batch.publicity", "objection.filed", "objection.rejected", "batch.finalised"]
    with pytest.raises(Conflict):
        finalise(session, rules, officers, batch)
    assert audit.verify(session).ok


def test_an_upheld_objection_keeps_the_title_from_being_granted(session, rules, officers, board):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    objection = object_to(session, officers, batch, winners[1])
    resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="upheld",
                      note="经核查，该企业2025年研发费用虚报，异议成立", on=d("2026-06-13"), at=NOW)
    finalise(session, rules, officers, batch)
    assert winners[0].status == ApplicationStatus.GRANTED
    assert winners[1].status == ApplicationStatus.NOT_GRANTED and "异议成立" in winners[1].outcome_note
    with pytest.raises(Conflict):  # the batch is closed
        resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="rejected",
                          note="x", on=d("2026-06-14"), at=NOW)


def test_a_rejected_application_stays_rejected(session, admin, rules, officers):
    batch = giant_batch(session, rules, officers)
    winner = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    climb(session, rules, officers, winner)
    loser = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
    opinion(session, rules, officers, loser, "district", "reject", "不符合产业要求")
    publicise(session, officers, batch)
    finalise(session, rules, officers, batch)
    assert loser.status == ApplicationStatus.REJECTED and "否决" in loser.outcome_note


def test_the_submitter_stays_confidential(session, officers, board):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    secret = object_to(session, officers, batch, winners[0], name="张三")
    open_ = object_to(session, officers, batch, winners[1], name="李四", confidential=False)
    assert "submitter_name" not in public_view(secret) and public_view(open_)["submitter_name"] == "李四"
    logged = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "objection")
                             .order_by(AuditEvent.id)).all()
    assert logged[0].changes["submitter"] == [None, "（保密）"] and "张三" not in str(logged[0].changes)
    assert logged[1].changes["submitter"] == [None, "李四"]


def test_the_finalise_plan_names_who_is_granted_and_who_not_and_finalising_follows_it(session, rules, officers,
                                                                                         board):
    batch, winners, stuck, returned = board
    publicise(session, officers, batch)

    def plan(today="2026-06-13"):
        return plan_finalise(session, actor=officers.province, rules=rules, batch_id=batch.id,
                             published_on=d("2026-06-13"), today=d(today))

    with pytest.raises(Conflict):  # the same refusal as finalising: the window is open on its last day
        plan("2026-06-12")
    session.add(Ban(uscc=winners[1].enterprise.uscc, reason_code="fraud", reason="弄虚作假",
                    starts_on=d("2026-06-10"), ends_on=d("2029-06-10"), created_at=NOW))
    session.flush()
    events = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    outcome = plan()
    assert [a.id for a in outcome.granted] == [winners[0].id]
    notes = {s.application.id: s.note for s in outcome.not_granted}
    assert set(notes) == {winners[1].id, stuck.id, returned.id}
    assert "2029-06-10" in notes[winners[1].id]  # banned after the recommendation
    assert "逐级推荐" in notes[stuck.id] and "退回补正后未重新提交" in notes[returned.id]
    assert (outcome.tier.code, outcome.published_on) == ("little_giant", d("2026-06-13"))
    assert batch.status == BatchStatus.PUBLICITY and winners[0].certification_id is None  # nothing written
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events

    finalise(session, rules, officers, batch)
    assert winners[0].status == ApplicationStatus.GRANTED
    assert (winners[1].status, winners[1].outcome_note) == (ApplicationStatus.NOT_GRANTED, notes[winners[1].id])
    assert {a.id for a in batch.applications if a.status == ApplicationStatus.GRANTED} == {winners[0].id}
    settled = dict(session.execute(sa.select(AuditEvent.entity_id, AuditEvent.action).where(
        AuditEvent.entity_type == "application", AuditEvent.action.in_(
            ["application.granted", "application.not_granted"]))).all())
    assert settled == {winners[0].id: "application.granted", winners[1].id: "application.not_granted",
                       stuck.id: "application.not_granted", returned.id: "application.not_granted"}


def test_resolving_is_planned_with_the_objections_left_open(session, officers, board):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    first, second = object_to(session, officers, batch, winners[0]), object_to(session, officers, batch, winners[1])
    planned = plan_resolution(session, actor=officers.province, objection_id=first.id, outcome="upheld", note="属实")
    assert (planned.outcome, planned.still_open) == (ObjectionStatus.UPHELD, (second.id,))
    assert first.status == ObjectionStatus.OPEN
    with pytest.raises(RuleViolation):
        plan_resolution(session, actor=officers.province, objection_id=first.id, outcome="upheld", note=" ")
    with pytest.raises(NotFound):
        plan_resolution(session, actor=officers.hangzhou, objection_id=first.id, outcome="upheld", note="x")


def test_a_returned_application_cannot_be_resubmitted_once_the_list_is_publicised(session, rules, officers, board):
    batch, _, _, returned = board
    publicise(session, officers, batch)
    with pytest.raises(Conflict):
        resubmit(session, actor=officers.district, rules=rules, application_id=returned.id, on=d("2026-06-06"), at=NOW)


def test_an_objection_is_not_received_after_today(session, rules, officers, board):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    with pytest.raises(RuleViolation) as err:  # issue 14: the window is a plan, the receipt a fact
        object_to(session, officers, batch, winners[0], on="2026-06-09", today=d("2026-06-08"))
    assert "异议收到日期（2026-06-09）晚于今天（2026-06-08）" in err.value.errors["received_on"][0]
    assert object_to(session, officers, batch, winners[0], on="2026-06-08", today=d("2026-06-08")).id
