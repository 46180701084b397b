"""The database itself refuses a second live title of one tier and date (migration 0005), and the web
layer turns that refusal — and every other lost race — into a 409 with a Chinese message."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from registry.domain.errors import Conflict, RuleViolation, StaleVersion
from registry.domain.lifecycle import Status
from registry.platform.migrate import upgrade
from registry.titles.models import Certification
from registry.titles.services import granted_fields, tier_in_force
from registry.web.errors import as_conflict, constraint_of
from tests.conftest import NOW, backends, d, fresh_database
from tests.factories import grant, make_enterprise


def raw_title(session, rules, enterprise, tier: str, on, status: Status = Status.ACTIVE) -> None:
    """Insert a title past the service (as a write path that forgot the lock would)."""
    fields = granted_fields(tier_in_force(rules, tier, on), on, NOW)
    session.add(Certification(enterprise=enterprise, region_code=enterprise.region_code, **{**fields, "status": status}))
    session.flush()


def test_a_second_live_title_of_one_tier_and_date_is_refused_by_the_database(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="331002")
    grant(session, admin, rules, ent, "innovative_sme", d("2025-03-01"))
    with pytest.raises(sa.exc.IntegrityError) as caught, session.begin_nested():
        raw_title(session, rules, ent, "innovative_sme", d("2025-03-01"))
    assert constraint_of(caught.value) == "uq_certifications_live_title"
    refusal = as_conflict(caught.value)
    assert isinstance(refusal, Conflict) and refusal.message.startswith("该企业已持有同一认定日期的该称号")
    assert refusal.details == {"field": "tier"}


def test_an_ended_title_does_not_block_the_same_grant_nor_another_date(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="331002")
    raw_title(session, rules, ent, "innovative_sme", d("2025-03-01"), status=Status.WITHDRAWN)
    raw_title(session, rules, ent, "innovative_sme", d("2025-03-01"))  # granted again after a mistaken one
    raw_title(session, rules, ent, "innovative_sme", d("2023-08-01"))  # an older, lapsed term of history
    assert len(ent.certifications) == 3


def test_a_duplicate_uscc_maps_to_a_message_that_names_no_record(session, admin):
    ent = make_enterprise(session, admin, region_code="330106")
    with pytest.raises(sa.exc.IntegrityError) as caught, session.begin_nested():
        session.execute(sa.text("INSERT INTO enterprises (uscc, name, region_code, version, created_at, updated_at)"
                                " VALUES (:u, 'x', '331002', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                        {"u": ent.uscc})
    refusal = as_conflict(caught.value)
    assert refusal.message.startswith("该统一社会信用代码已登记") and refusal.details == {"field": "uscc"}
    assert ent.uscc not in refusal.message and "330106" not in refusal.message


def test_a_stale_update_is_a_stale_version_conflict():
    assert isinstance(as_conflict(StaleDataError("UPDATE statement on table 'enterprises' expected to update 1 "
                                                 "row(s); 0 were matched.")), StaleVersion)


@pytest.mark.parametrize("kind", backends())
def test_the_upgrade_stops_and_names_duplicates_written_before_it(kind, tmp_path):
    url, pg = fresh_database(kind, tmp_path)
    try:
        upgrade(url, "0009")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO regions (code, name, level, parent_code) VALUES"
                                 " ('330000', '浙江省', 'province', NULL)"))
            conn.execute(sa.text("INSERT INTO enterprises (id, uscc, name, region_code, version, created_at,"
                                 " updated_at) VALUES (7, '91330000MA00000000', 'x', '330000', 1,"
                                 " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for _ in range(2):
                conn.execute(sa.text(
                    "INSERT INTO certifications (enterprise_id, region_code, tier, programme, policy_code, status,"
                    " recognized_on, valid_from, review_eligible, prerequisite_lost, version, created_at, updated_at)"
                    " VALUES (7, '330000', 'innovative_sme', 'national', 'p', 'active', '2025-03-01', '2025-03-01',"
                    " true, false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        engine.dispose()
        with pytest.raises(RuntimeError, match="enterprise 7 innovative_sme 2025-03-01: 2 titles"):
            upgrade(url)
    finally:
        if pg is not None:
            pg.drop()


def test_a_check_the_schemas_did_not_foresee_is_a_422_not_a_duplicate(session):
    with pytest.raises(sa.exc.IntegrityError) as caught, session.begin_nested():
        session.execute(sa.text("INSERT INTO regions (code, name, level) VALUES ('990000', 'x', 'planet')"))
    refusal = as_conflict(caught.value)
    assert isinstance(refusal, RuleViolation) and refusal.errors["_schema"][0].startswith("输入不符合数据规则")
