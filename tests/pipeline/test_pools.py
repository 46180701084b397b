"""Candidate pools on SQLite and PostgreSQL: the pre-check over a roster, manual changes, region scope."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.actors import Role
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.enterprises.models import AnnualReport
from registry.pipeline.models import PoolMember
from registry.pipeline.services import add_candidate, get_pool, pool_members, remove_candidate, run_pool
from registry.titles.models import Ban
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise, report
from tests.pipeline.conftest import GOOD, TODAY, giant_candidate


def weak_figures():
    figures = {year: dict(values) for year, values in GOOD.items()}
    figures[2025]["main_business_revenue"] = Decimal("48999999")  # just under 70 % of 7000万
    return figures


def taizhou_pool(session, rules, year=2026):
    return run_pool(session, actor=officer_of("331000"), rules=rules, tier="little_giant", year=year, on=TODAY, at=NOW)


def test_precheck_lists_candidates_with_numbers_from_the_annual_report(session, admin, rules):
    good = giant_candidate(session, admin, rules)
    weak = giant_candidate(session, admin, rules, figures=weak_figures())
    giant_candidate(session, admin, rules, specialized=False)  # no 专精特新: not on this roster
    holder = giant_candidate(session, admin, rules)
    grant(session, admin, rules, holder, "little_giant", d("2025-03-01"))  # already a 小巨人
    giant_candidate(session, admin, rules, region="330106")  # 杭州: outside the 台州 office
    pool = taizhou_pool(session, rules)

    assert (pool.tier, pool.year, pool.figures_year, pool.region_code) == ("little_giant", 2026, 2025, "331000")
    assert pool.evaluated == 2  # good and weak: the 专精特新 holders of 台州 without the title
    members = pool_members(session, actor=officer_of("331000"), pool_id=pool.id)
    assert [m.enterprise_id for m in members] == [good.id]  # weak was judged and left out
    assert weak.id not in {m.enterprise_id for m in members}
    member = members[0]
    assert member.verdict.value == "unknown" and member.included and not member.added_manually
    results = {r["id"]: r for r in member.evaluation["results"]}
    # the 小巨人 pre-check is 63号 附件3, not the 重点小巨人 conditions of 112号 (issue 14)
    assert results["specialisation"]["verdict"] == "pass" and results["standard"]["verdict"] == "unknown"
    assert "rd_each_year" not in results and "innovation" not in results
    filed = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == good.id)).all()
    by_year = {r.year: r for r in filed}
    values = {v["label"]: v["value"] for v in results["specialisation"]["values"]}
    assert Decimal(values["2025年营业收入"]) == by_year[2025].revenue
    assert Decimal(values["2025年主营业务收入占营业收入比重"]) == (
        by_year[2025].main_business_revenue / by_year[2025].revenue)
    assert member.evaluation["blocking"] == [] and member.evaluation["stage"] == "pool"
    run = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "pool",
                                                      AuditEvent.entity_id == pool.id)).one()
    assert run.action == "pool.run" and run.changes["candidates"] == [None, 1]


def test_a_banned_enterprise_is_not_a_candidate_and_its_report_says_why(session, admin, rules):
    banned = giant_candidate(session, admin, rules)
    session.add(Ban(uscc=banned.uscc, reason_code="fraud", reason="弄虚作假", starts_on=d("2025-01-01"),
                    ends_on=d("2028-01-01"), created_at=NOW))
    session.flush()
    pool = taizhou_pool(session, rules)
    assert pool.evaluated == 1 and pool_members(session, actor=officer_of("331000"), pool_id=pool.id) == []
    member = add_candidate(session, actor=officer_of("331000"), rules=rules, pool_id=pool.id,
                           enterprise_id=banned.id, reason="禁止申报期将满，提前培育", at=NOW)
    assert any("2028-01-01" in problem for problem in member.evaluation["blocking"])


def test_officers_add_and_remove_candidates_with_a_reason(session, admin, rules):
    good = giant_candidate(session, admin, rules)
    weak = giant_candidate(session, admin, rules, figures=weak_figures())
    city = officer_of("331000")
    pool = taizhou_pool(session, rules)
    with pytest.raises(RuleViolation) as err:
        remove_candidate(session, actor=city, pool_id=pool.id, enterprise_id=good.id, reason="  ", at=NOW)
    assert "reason" in err.value.errors
    removed = remove_candidate(session, actor=city, pool_id=pool.id, enterprise_id=good.id,
                               reason="企业申请暂缓入库", at=NOW)
    assert not removed.included and removed.reason == "企业申请暂缓入库" and removed.changed_by == city.label
    with pytest.raises(Conflict):
        remove_candidate(session, actor=city, pool_id=pool.id, enterprise_id=good.id, reason="again", at=NOW)
    added = add_candidate(session, actor=city, rules=rules, pool_id=pool.id, enterprise_id=weak.id,
                          reason="主营业务收入占比差额极小，2026年已达标", at=NOW)
    assert added.included and added.added_manually and added.verdict.value == "fail"
    with pytest.raises(Conflict):
        add_candidate(session, actor=city, rules=rules, pool_id=pool.id, enterprise_id=weak.id, reason="x", at=NOW)
    readded = add_candidate(session, actor=city, rules=rules, pool_id=pool.id, enterprise_id=good.id,
                            reason="企业确认申报", at=NOW)
    assert readded.id == removed.id and readded.included
    assert {m.enterprise_id for m in pool_members(session, actor=city, pool_id=pool.id, included=True)} == {
        good.id, weak.id}
    actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "pool_member")
                              .order_by(AuditEvent.id)).all()
    assert actions == ["pool.member_removed", "pool.member_added", "pool.member_added"]
    with pytest.raises(NotFound):
        remove_candidate(session, actor=city, pool_id=pool.id, enterprise_id=999_999, reason="x", at=NOW)


def test_pools_and_members_respect_the_region(session, admin, rules):
    giant_candidate(session, admin, rules, region="331002")
    giant_candidate(session, admin, rules, region="330106")
    province = run_pool(session, actor=officer_of("330000"), rules=rules, tier="little_giant", year=2026,
                        on=TODAY, at=NOW)
    assert len(pool_members(session, actor=officer_of("330000"), pool_id=province.id)) == 2
    assert len(pool_members(session, actor=officer_of("331000"), pool_id=province.id)) == 1
    taizhou = taizhou_pool(session, rules)
    with pytest.raises(NotFound):
        get_pool(session, officer_of("330100"), taizhou.id)
    hangzhou_firm = session.scalar(sa.select(PoolMember.enterprise_id).where(
        PoolMember.pool_id == province.id, PoolMember.region_code == "330106"))
    with pytest.raises(NotFound):  # a 台州 officer cannot reach a 杭州 enterprise
        add_candidate(session, actor=officer_of("331000"), rules=rules, pool_id=taizhou.id,
                      enterprise_id=hangzhou_firm, reason="x", at=NOW)


def test_pool_entry_skips_title_only_criteria(session, admin, rules):
    firm = make_enterprise(session, admin, region_code="331002", size_class="small", founded_on=d("2010-01-01"))
    for year in (2023, 2024, 2025):
        report(session, admin, firm, year, revenue=Decimal("90000000"), main_business_revenue=Decimal("80000000"),
               rd_expense=Decimal("3000000"))
    pool = run_pool(session, actor=officer_of("331000"), rules=rules, tier="zj_hidden_champion", year=2026,
                    on=TODAY, at=NOW)
    member = pool_members(session, actor=officer_of("331000"), pool_id=pool.id)[0]
    ids = [r["id"] for r in member.evaluation["results"]]
    assert "indicators" not in ids and {"registered", "revenue", "sme"} <= set(ids)


def test_bad_pool_input(session, admin, rules):
    with pytest.raises(RuleViolation) as err:
        run_pool(session, actor=officer_of("331000"), rules=rules, tier="no_such_tier", year=2026, on=TODAY, at=NOW)
    assert "tier" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        run_pool(session, actor=officer_of("331000"), rules=rules, tier="little_giant", year=1900, on=TODAY, at=NOW)
    assert "year" in err.value.errors
    with pytest.raises(PermissionDenied):
        run_pool(session, actor=officer_of("331000", Role.AUDITOR), rules=rules, tier="little_giant", year=2026,
                 on=TODAY, at=NOW)
