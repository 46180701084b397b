"""Only the office that published the list resolves its objections (level and region), on both backends;
its 待办 lists them, nobody else's does."""

import pytest

from registry.domain.errors import NotFound, PermissionDenied
from registry.pipeline.models import ObjectionStatus
from registry.pipeline.services import plan_resolution, resolve_objection
from registry.todo.services import todo_list
from tests.conftest import NOW, d, officer_of
from tests.pipeline.test_publicity import board, object_to, publicise  # noqa: F401  (board is a fixture)


@pytest.fixture
def objection(session, officers, board):  # noqa: F811
    batch, winners, _, _ = board
    publicise(session, officers, batch)
    return object_to(session, officers, batch, winners[0])


def resolve(session, actor, objection):
    return resolve_objection(session, actor=actor, objection_id=objection.id, outcome="rejected",
                             note="经核实，数据一致", on=d("2026-06-13"), at=NOW)


def test_the_city_and_district_below_the_publishing_province_may_not_resolve(session, officers, objection):
    assert objection.batch.region_code == "330000"  # the province published the 小巨人 list
    for actor in (officers.city, officers.district):
        with pytest.raises(PermissionDenied) as err:
            plan_resolution(session, actor=actor, objection_id=objection.id, outcome="rejected", note="x")
        assert "浙江省" in err.value.message and "发布公示名单的单位" in err.value.message
        with pytest.raises(PermissionDenied):
            resolve(session, actor, objection)
    assert objection.status == ObjectionStatus.OPEN


def test_another_province_does_not_even_see_it(session, objection):
    with pytest.raises(NotFound):
        resolve(session, officer_of("510000"), objection)


def test_the_ministry_above_may_not_resolve_a_provincial_list(session, officers, objection):
    with pytest.raises(PermissionDenied):
        resolve(session, officers.ministry, objection)


def test_the_publishing_province_resolves_it(session, officers, objection):
    done = resolve(session, officers.province, objection)
    assert done.status == ObjectionStatus.REJECTED and done.resolved_by == officers.province.label


def test_only_the_publishing_office_has_it_to_do(session, rules, officers, objection):
    def listed(actor):
        return [i for i in todo_list(session, actor, rules, d("2026-06-13")) if i.group == "objection"]

    assert len(listed(officers.province)) == 1
    assert listed(officers.city) == [] and listed(officers.district) == []
