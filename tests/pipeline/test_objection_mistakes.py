"""An objection registered by mistake is corrected (old → new, with a reason) or withdrawn (已撤回), only while
open and only by the publishing office; twice is a conflict; a withdrawn one holds up nothing. Both backends."""

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.pipeline.models import ApplicationStatus, ObjectionStatus
from registry.pipeline.services import (
    correct_objection,
    plan_objection_correction,
    resolve_objection,
    withdraw_objection,
)
from registry.todo.services import todo_list
from tests.conftest import NOW, d, officer_of
from tests.pipeline.test_publicity import board, finalise, object_to, publicise  # noqa: F401  (board is a fixture)

TODAY = d("2026-06-13")


@pytest.fixture
def objection(session, officers, board):  # noqa: F811
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    return object_to(session, officers, batch, winners[0])


def withdraw(session, actor, objection, reason="登记错了申请"):
    return withdraw_objection(session, actor=actor, objection_id=objection.id, reason=reason, on=TODAY, at=NOW)


def correct(session, actor, objection, reason="收到日期登记错误", **fields):
    return correct_objection(session, actor=actor, objection_id=objection.id, reason=reason, today=TODAY, at=NOW,
                             **fields)


def events(session, objection, action):
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "objection",
                                                       AuditEvent.entity_id == objection.id,
                                                       AuditEvent.action == action)).all()


def test_a_withdrawn_objection_keeps_its_record_and_trail_and_no_longer_blocks_finalising(
        session, rules, officers, board, objection):
    batch, winners, _, _ = board
    with pytest.raises(Conflict):
        finalise(session, rules, officers, batch)  # the open objection holds it up
    done = withdraw(session, officers.province, objection)
    assert done.status == ObjectionStatus.WITHDRAWN and "登记错了申请" in done.resolution_note
    assert done.grounds == "研发费用数据与审计报告不符"  # the record stays
    [event] = events(session, objection, "objection.withdrawn")
    assert event.changes["status"] == ["open", "withdrawn"] and event.note == "登记错了申请"
    assert events(session, objection, "objection.filed")
    assert not [i for i in todo_list(session, officers.province, rules, TODAY) if i.group == "objection"]
    finalise(session, rules, officers, batch)
    assert winners[0].status == ApplicationStatus.GRANTED  # a withdrawn objection upholds nothing


def test_withdrawing_twice_is_a_conflict_in_chinese_and_writes_one_event(session, officers, objection):
    withdraw(session, officers.province, objection)
    with pytest.raises(Conflict) as err:
        withdraw(session, officers.province, objection)
    assert "已撤回" in err.value.message and "不能再撤回" in err.value.message
    assert len(events(session, objection, "objection.withdrawn")) == 1


def test_a_resolved_objection_is_neither_withdrawn_nor_corrected(session, officers, objection):
    resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="upheld", note="属实",
                      on=TODAY, at=NOW)
    with pytest.raises(Conflict):
        withdraw(session, officers.province, objection)
    with pytest.raises(Conflict):
        correct(session, officers.province, objection, received_on=d("2026-06-07"))
    assert objection.status == ObjectionStatus.UPHELD


def test_on_a_finalised_batch_nothing_is_withdrawn(session, rules, officers, board, objection):
    batch = board[0]
    resolve_objection(session, actor=officers.province, objection_id=objection.id, outcome="rejected", note="不属实",
                      on=TODAY, at=NOW)
    finalise(session, rules, officers, batch)
    with pytest.raises(Conflict, match="已办结"):
        withdraw(session, officers.province, objection)


def test_only_the_publishing_office_withdraws_or_corrects(session, officers, objection):
    for actor in (officers.city, officers.district, officers.ministry):
        with pytest.raises(PermissionDenied, match="发布公示名单的单位"):
            withdraw(session, actor, objection)
        with pytest.raises(PermissionDenied):
            correct(session, actor, objection, received_on=d("2026-06-07"))
    with pytest.raises(NotFound):
        withdraw(session, officer_of("510000"), objection)
    assert objection.status == ObjectionStatus.OPEN and not events(session, objection, "objection.withdrawn")


def test_a_reason_is_required(session, officers, objection):
    for blank in ("", "   ", None):
        with pytest.raises(RuleViolation) as err:
            withdraw(session, officers.province, objection, reason=blank)
        assert "reason" in err.value.errors
        with pytest.raises(RuleViolation):
            correct(session, officers.province, objection, reason=blank, received_on=d("2026-06-07"))
    assert objection.status == ObjectionStatus.OPEN and objection.received_on == d("2026-06-08")


def test_a_correction_previews_old_to_new_and_changes_only_what_changed(session, officers, objection):
    plan = plan_objection_correction(session, actor=officers.province, objection_id=objection.id, reason="笔误",
                                     today=TODAY, received_on=d("2026-06-07"), grounds="研发费用数据与审计报告不符")
    assert plan.changes == (("received_on", "2026-06-08", "2026-06-07"),)
    assert objection.received_on == d("2026-06-08")  # a plan writes nothing
    done = correct(session, officers.province, objection, received_on=d("2026-06-07"),
                   grounds="高新技术企业证书已过期", submitter_name="王建华", contact="13900000000")
    assert (done.received_on, done.grounds, done.submitter_name, done.contact) == (
        d("2026-06-07"), "高新技术企业证书已过期", "王建华", "13900000000")
    assert done.status == ObjectionStatus.OPEN
    [event] = events(session, objection, "objection.corrected")
    assert event.note == "收到日期登记错误"
    assert event.changes["received_on"] == ["2026-06-08", "2026-06-07"]
    assert event.changes["submitter_name"] == ["（保密）", "（保密）"]  # a confidential identity stays out
    assert "王建" not in str(event.changes) and "139" not in str(event.changes)


def test_the_same_correction_twice_is_a_conflict(session, officers, objection):
    correct(session, officers.province, objection, received_on=d("2026-06-07"))
    with pytest.raises(Conflict, match="没有修改任何内容"):
        correct(session, officers.province, objection, received_on=d("2026-06-07"))
    assert len(events(session, objection, "objection.corrected")) == 1


@pytest.mark.parametrize(("fields", "field"), [
    ({"received_on": d("2026-06-04")}, "received_on"),   # before the window
    ({"received_on": d("2026-06-14")}, "received_on"),   # after today
    ({"grounds": "  "}, "grounds"),
    ({"submitter_identity": "forged"}, "submitter_identity"),
])
def test_a_bad_correction_names_the_field_and_changes_nothing(session, officers, objection, fields, field):
    with pytest.raises(RuleViolation) as err:
        correct(session, officers.province, objection, **fields)
    assert field in err.value.errors
    assert objection.received_on == d("2026-06-08") and objection.grounds == "研发费用数据与审计报告不符"


def test_a_correction_to_no_reachable_name_records_it_as_not_accepted(session, rules, officers, board, objection):
    done = correct(session, officers.province, objection, reason="原件实为匿名信", submitter_name="知情人士")
    assert done.status == ObjectionStatus.NOT_ACCEPTED and "匿名异议" in done.resolution_note
    finalise(session, rules, officers, board[0])  # it holds nothing up


def test_a_disclosed_submitter_is_corrected_by_name_but_the_contact_never_enters_the_trail(session, officers, board):
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    disclosed = object_to(session, officers, batch, winners[1], confidential=False)
    correct(session, officers.province, disclosed, reason="姓名笔误", submitter_name="王建华", contact="13900000000")
    [event] = events(session, disclosed, "objection.corrected")
    assert event.changes["submitter_name"] == ["王建国", "王建华"]
    assert event.changes["contact"] == ["（保密）", "（保密）"]
    assert "138" not in str(event.changes) and "139" not in str(event.changes)


def test_after_a_withdrawal_the_same_objection_may_be_registered_again(session, officers, board, objection):
    batch, winners, _, _ = board
    with pytest.raises(Conflict, match="已登记"):
        object_to(session, officers, batch, winners[0])  # a duplicate of the open one
    withdraw(session, officers.province, objection, reason="登记到了错误的申请，重新登记")
    again = object_to(session, officers, batch, winners[0])
    assert again.id != objection.id and again.status == ObjectionStatus.OPEN
