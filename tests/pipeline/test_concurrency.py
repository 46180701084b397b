"""Two officers recommending at once cannot both take a batch's last quota slot (committed database)."""

import sqlalchemy as sa

from registry.domain.errors import Conflict
from registry.domain.policy import load_policies
from registry.pipeline.models import Decision, Opinion
from registry.pipeline.services import record_opinion
from registry.policies.rules import load_rules
from tests.conftest import NOW, ROOT, officer_of
from tests.pipeline.conftest import TODAY, applied, giant_batch, giant_candidate, opinion
from tests.racing import committed, race


def test_the_last_slot_goes_to_exactly_one_of_two_simultaneous_recommendations(committed_factory, admin, officers):
    policies = load_policies(ROOT / "config" / "policies")
    with committed_factory() as session:
        rules = load_rules(session, policies)
        batch = giant_batch(session, rules, officers, quotas={"331000": 1})
        ids = []
        for _ in range(2):
            application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules))
            opinion(session, rules, officers, application, "district")
            ids.append(application.id)
        session.commit()

    def recommend(application_id: int) -> str:
        return committed(committed_factory, lambda session: record_opinion(
            session, actor=officers.city, rules=rules, application_id=application_id, level="city",
            decision="recommend", note=None, on=TODAY, at=NOW), "recommended",
            Conflict, lambda exc: "quota" if exc.details.get("quota") == 1 else repr(exc))

    assert sorted(race(recommend, ids)) == ["quota", "recommended"]
    with committed_factory() as session:
        city = session.scalar(sa.select(sa.func.count()).select_from(Opinion).where(
            Opinion.level == "city", Opinion.decision == Decision.RECOMMEND))
    assert city == 1


def test_two_simultaneous_reruns_of_a_pool_leave_one_set_of_verdicts(committed_factory, admin):
    from registry.pipeline.models import PoolMember, PoolVerdict
    from registry.pipeline.services import rerun_pool, run_pool

    policies = load_policies(ROOT / "config" / "policies")
    city = officer_of("331000")
    with committed_factory() as session:
        rules = load_rules(session, policies)
        for _ in range(3):
            giant_candidate(session, admin, rules)
        pool = run_pool(session, actor=city, rules=rules, tier="little_giant", year=2026, on=TODAY, at=NOW)
        session.commit()
        pool_id = pool.id

    def rerun(_: int) -> str:
        return committed(committed_factory, lambda session: rerun_pool(
            session, actor=city, rules=rules, pool_id=pool_id, at=NOW), "done")

    assert race(rerun, range(2)) == ["done", "done"]  # the second waits for the first, then replaces its verdicts
    with committed_factory() as session:
        verdicts = session.scalar(sa.select(sa.func.count()).where(PoolVerdict.pool_id == pool_id))
        members = session.scalar(sa.select(sa.func.count()).where(PoolMember.pool_id == pool_id))
    assert (verdicts, members) == (3, 3)


def test_the_last_place_of_a_channel_goes_to_exactly_one_of_two_simultaneous_applications(committed_factory, admin,
                                                                                           officers):
    """2021 notice: "中央企业每家推荐数量不超过 3 家" — the third place, asked for twice at once."""
    from registry.domain.errors import RuleViolation
    from registry.pipeline.models import Application
    from registry.pipeline.services import apply
    from tests.conftest import d
    from tests.factories import make_enterprise
    from tests.pipeline.test_yearly_lists import central, champion_batch

    policies = load_policies(ROOT / "config" / "policies")
    with committed_factory() as session:
        rules = load_rules(session, policies)
        batch = champion_batch(session, rules, officers)
        firms = [make_enterprise(session, admin, region_code="110101") for _ in range(4)]
        for firm in firms[:2]:
            central(session, rules, officers, batch, firm)
        session.commit()
        batch_id, racers = batch.id, [f.id for f in firms[2:]]

    def ask(enterprise_id: int) -> str:
        return committed(committed_factory, lambda session: apply(
            session, actor=admin, rules=rules, batch_id=batch_id, enterprise_id=enterprise_id, today=d("2022-06-02"),
            at=NOW, channel="central_enterprise", channel_unit="中国某某集团有限公司"), "applied",
            RuleViolation, lambda exc: "full" if "上限 3 家" in str(exc.errors) else repr(exc))

    assert sorted(race(ask, racers)) == ["applied", "full"]
    with committed_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Application).where(
            Application.batch_id == batch_id, Application.channel_unit == "中国某某集团有限公司")) == 3
