"""Pool verdicts on SQLite and PostgreSQL: every evaluated enterprise keeps why it is in or out, paged and
filtered; a re-run replaces them in the caller's transaction; the enterprise's latest verdict per pool."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import NotFound, PermissionDenied, RuleViolation
from registry.enterprises.models import AnnualReport
from registry.pipeline import pools as pool_module
from registry.pipeline.models import PoolMember, PoolVerdict
from registry.pipeline.services import (
    add_candidate,
    enterprise_verdicts,
    pool_verdicts,
    remove_candidate,
    rerun_pool,
    run_pool,
)
from registry.titles.models import Ban
from tests.conftest import NOW, d, officer_of
from tests.pipeline.conftest import TODAY, giant_candidate
from tests.pipeline.test_pools import taizhou_pool, weak_figures

CITY = officer_of("331000")


def correct(session, enterprise, main_business_revenue):
    """Correct the 2025 main-business revenue (as the annual-report correction would, without its audit)."""
    filed = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == enterprise.id,
                                                          AnnualReport.year == 2025)).one()
    filed.main_business_revenue = Decimal(main_business_revenue)
    session.flush()


def standing(session, pool, which="", actor=CITY, **kw):
    rows, total = pool_verdicts(session, actor=actor, pool_id=pool.id, standing=which, **kw)
    return [e.id for _v, _m, e in rows], total


def test_every_evaluated_enterprise_keeps_its_verdict_and_the_reason_it_was_left_out(session, admin, rules):
    good = giant_candidate(session, admin, rules)
    weak = giant_candidate(session, admin, rules, figures=weak_figures())
    banned = giant_candidate(session, admin, rules)
    session.add(Ban(uscc=banned.uscc, reason_code="fraud", reason="弄虚作假", starts_on=d("2025-01-01"),
                    ends_on=d("2028-01-01"), created_at=NOW))
    session.flush()
    pool = taizhou_pool(session, rules)

    assert pool.evaluated == 3
    assert standing(session, pool) == ([good.id, weak.id, banned.id], 3)  # the candidate first
    assert standing(session, pool, "in") == ([good.id], 1)
    assert standing(session, pool, "out") == ([weak.id, banned.id], 2)
    rows = {e.id: (v, m) for v, m, e in pool_verdicts(session, actor=CITY, pool_id=pool.id)[0]}
    verdict, member = rows[weak.id]
    assert member is None and not verdict.admitted and verdict.by_run and verdict.verdict.value == "fail"
    first = verdict.reasons["criteria"][0]  # the deciding criterion: the failing one comes first
    assert first["verdict"] == "fail" and first["name"] and first["source"]
    compared = {v["label"]: Decimal(v["value"]) for v in first["values"]}
    assert compared["2025年主营业务收入占营业收入比重"] == Decimal("48999999") / Decimal("70000000")  # just under 70 %
    assert all(i["verdict"] != "pass" for i in verdict.reasons["criteria"])
    banned_verdict, _ = rows[banned.id]
    assert not banned_verdict.admitted and any("2028-01-01" in b for b in banned_verdict.reasons["blocking"])
    good_verdict, good_member = rows[good.id]
    assert good_verdict.admitted and good_member.included and good_verdict.reasons["blocking"] == []
    run = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "pool.run")).one()
    assert run.changes["candidates"] == [None, 1] and run.changes["left_out"] == [None, 2]


def test_verdicts_are_paged_filtered_and_scoped_to_the_region(session, admin, rules):
    firms = [giant_candidate(session, admin, rules, figures=weak_figures()) for _ in range(3)]
    other = giant_candidate(session, admin, rules, region="331003", figures=weak_figures())  # 黄岩区
    pool = taizhou_pool(session, rules)
    ids = sorted([f.id for f in firms] + [other.id])
    assert standing(session, pool, "out", per_page=2, page=1) == (ids[:2], 4)
    assert standing(session, pool, "out", per_page=2, page=2) == (ids[2:], 4)
    assert standing(session, pool, "out", per_page=2, page=3) == ([], 4)  # past the end: nothing, honest total
    assert standing(session, pool, "in") == ([], 0)
    district = officer_of("331002")
    assert standing(session, pool, "out", actor=district) == (sorted(f.id for f in firms), 3)
    with pytest.raises(NotFound):
        pool_verdicts(session, actor=officer_of("330100"), pool_id=pool.id)  # 杭州: not its pool
    with pytest.raises(RuleViolation) as err:
        pool_verdicts(session, actor=CITY, pool_id=pool.id, standing="gone")
    assert list(err.value.errors) == ["standing"]


def test_a_member_removed_by_hand_counts_as_left_out_with_the_officers_reason(session, admin, rules):
    good = giant_candidate(session, admin, rules)
    pool = taizhou_pool(session, rules)
    remove_candidate(session, actor=CITY, pool_id=pool.id, enterprise_id=good.id, reason="企业申请暂缓入库", at=NOW)
    [(verdict, member, _e)], total = pool_verdicts(session, actor=CITY, pool_id=pool.id, standing="out")
    assert total == 1 and verdict.admitted and member.reason == "企业申请暂缓入库"


def test_rerun_replaces_the_verdicts_and_keeps_what_officers_did_by_hand(session, admin, rules):
    good = giant_candidate(session, admin, rules)
    weak = giant_candidate(session, admin, rules, figures=weak_figures())
    kept_out = giant_candidate(session, admin, rules)
    pool = taizhou_pool(session, rules)
    remove_candidate(session, actor=CITY, pool_id=pool.id, enterprise_id=kept_out.id, reason="暂缓", at=NOW)
    correct(session, weak, "49000000")  # corrected: exactly 70 %
    correct(session, good, "1000000")  # now far under
    for _ in range(2):  # twice: the same answer, no duplicate verdicts
        rerun_pool(session, actor=CITY, rules=rules, pool_id=pool.id, at=NOW)
        assert session.scalar(sa.select(sa.func.count()).where(PoolVerdict.pool_id == pool.id)) == 3
        assert standing(session, pool, "in") == ([weak.id], 1)
        assert standing(session, pool, "out") == ([good.id, kept_out.id], 2)
    dropped = session.scalars(sa.select(PoolMember).where(PoolMember.pool_id == pool.id,
                                                          PoolMember.enterprise_id == good.id)).one()
    assert not dropped.included and dropped.reason == pool_module.REMOVED_ON_RERUN
    kept = session.scalars(sa.select(PoolMember).where(PoolMember.enterprise_id == kept_out.id)).one()
    assert not kept.included and kept.reason == "暂缓"  # the officer's decision stands
    reruns = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "pool.rerun")
                             .order_by(AuditEvent.id)).all()
    assert [(e.changes["added"], e.changes["dropped"]) for e in reruns] == [([None, 1], [None, 1]),
                                                                           ([None, 0], [None, 0])]


def test_a_failed_rerun_leaves_the_previous_verdicts(session, admin, rules, monkeypatch):
    for _ in range(3):
        giant_candidate(session, admin, rules, figures=weak_figures())
    pool = taizhou_pool(session, rules)
    before = session.execute(sa.select(PoolVerdict.id, PoolVerdict.enterprise_id)
                             .where(PoolVerdict.pool_id == pool.id).order_by(PoolVerdict.id)).all()
    monkeypatch.setattr(pool_module, "VERDICT_CHUNK", 1)
    real_insert, calls = sa.insert, []

    def failing_insert(table):
        calls.append(table)
        if len(calls) == 2:  # after the delete and the first chunk
            raise RuntimeError("database gone")
        return real_insert(table)

    monkeypatch.setattr(pool_module.sa, "insert", failing_insert)
    savepoint = session.begin_nested()
    with pytest.raises(RuntimeError):
        rerun_pool(session, actor=CITY, rules=rules, pool_id=pool.id, at=NOW)
    savepoint.rollback()
    monkeypatch.undo()
    after = session.execute(sa.select(PoolVerdict.id, PoolVerdict.enterprise_id)
                            .where(PoolVerdict.pool_id == pool.id).order_by(PoolVerdict.id)).all()
    assert after == before and len(after) == 3


def test_only_the_office_that_ran_the_pool_reruns_it(session, admin, rules):
    giant_candidate(session, admin, rules)
    pool = taizhou_pool(session, rules)
    for actor in (officer_of("330000"), officer_of("331002")):  # the province above, a district below
        with pytest.raises(PermissionDenied):
            rerun_pool(session, actor=actor, rules=rules, pool_id=pool.id, at=NOW)
    with pytest.raises(NotFound):
        rerun_pool(session, actor=officer_of("510000"), rules=rules, pool_id=pool.id, at=NOW)  # 四川


def test_a_hand_added_enterprise_outside_the_roster_gets_a_verdict_not_by_the_run(session, admin, rules):
    giant_candidate(session, admin, rules)
    outsider = giant_candidate(session, admin, rules, specialized=False)  # no 专精特新: not on the roster
    pool = taizhou_pool(session, rules)
    assert pool.evaluated == 1
    add_candidate(session, actor=CITY, rules=rules, pool_id=pool.id, enterprise_id=outsider.id, reason="重点培育",
                  at=NOW)
    verdict = session.scalars(sa.select(PoolVerdict).where(PoolVerdict.enterprise_id == outsider.id)).one()
    assert not verdict.by_run and not verdict.admitted and verdict.reasons["blocking"]  # no prerequisite
    assert outsider.id in standing(session, pool, "in")[0]
    rerun_pool(session, actor=CITY, rules=rules, pool_id=pool.id, at=NOW)  # still there after a re-run
    again = session.scalars(sa.select(PoolVerdict).where(PoolVerdict.enterprise_id == outsider.id)).one()
    assert not again.by_run and outsider.id in standing(session, pool, "in")[0]


def test_an_enterprise_shows_its_latest_verdict_in_each_pool(session, admin, rules):
    weak = giant_candidate(session, admin, rules, figures=weak_figures())
    older = run_pool(session, actor=CITY, rules=rules, tier="little_giant", year=2025, on=TODAY, at=NOW)
    newer = taizhou_pool(session, rules)
    correct(session, weak, "49000000")
    rerun_pool(session, actor=CITY, rules=rules, pool_id=newer.id, at=NOW)
    shown = enterprise_verdicts(session, actor=CITY, enterprise_id=weak.id)
    assert [p.id for p, _v, _m in shown] == [newer.id, older.id]
    assert shown[0][1].admitted and shown[0][2].included  # the re-run's verdict, not the first one
    with pytest.raises(NotFound):
        enterprise_verdicts(session, actor=officer_of("330100"), enterprise_id=weak.id)
