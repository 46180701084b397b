"""insert_rows: the driver's bulk path (COPY / executemany) stores exactly what SQLAlchemy's INSERT stores."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.domain.lifecycle import Status
from registry.enterprises.models import Enterprise
from registry.platform.bulkwrite import insert_rows
from registry.roster.models import ImportRun
from registry.titles.models import Certification
from tests.conftest import NOW
from tests.factories import make_enterprise


def _stored(session, table: sa.Table, ids: list[int]) -> list[tuple]:
    """The rows as the database holds them (driver values, no type processing), without their ids."""
    columns = [c.name for c in table.columns if c.name != "id"]
    marks = ", ".join(str(i) for i in ids)
    sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE id IN ({marks}) ORDER BY id"
    return [tuple(r) for r in session.connection().exec_driver_sql(sql)]


def _title(enterprise_id: int, region: str, **extra) -> dict:
    return {"enterprise_id": enterprise_id, "region_code": region, "tier": "innovative_sme",
            "programme": "national", "policy_code": "national-2022", "status": Status.ACTIVE,
            "recognized_on": date(2024, 6, 15), "batch": "2024年第一批", "document_no": None, "authority": "厅",
            "valid_from": date(2024, 6, 15), "valid_until": date(2027, 6, 14), "review_window_opens_on": None,
            "review_eligible": True, "prerequisite_lost": False, "created_at": NOW, "updated_at": NOW, **extra}


def test_rows_are_stored_as_an_insert_stores_them_and_constant_defaults_filled(session, admin):
    ent = make_enterprise(session, admin)
    table = Certification.__table__
    first = session.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) + 1
    by_sqlalchemy = [_title(ent.id, ent.region_code, id=first), _title(ent.id, ent.region_code, id=first + 1,
                                                                        recognized_on=date(2025, 1, 2))]
    session.execute(table.insert(), by_sqlalchemy)
    expected = _stored(session, table, [first, first + 1])
    # the same live titles may not be stored twice (uq_certifications_live_title): compare after removing them
    session.connection().exec_driver_sql(f"DELETE FROM certifications WHERE id IN ({first}, {first + 1})")
    by_driver = [{**row, "id": row["id"] + 2} for row in by_sqlalchemy]  # version left out: its default 1
    insert_rows(session, table, by_driver)
    assert _stored(session, table, [first + 2, first + 3]) == expected
    stored = session.scalars(sa.select(Certification).where(Certification.id == first + 3)).one()
    assert (stored.version, stored.status, stored.recognized_on) == (1, Status.ACTIVE, date(2025, 1, 2))


def test_json_and_timestamps_stored_alike(session, admin):
    table = ImportRun.__table__
    row = {"filename": "名单.xlsx", "mode": "dry_run", "status": "validated", "region_code": "330000",
           "counts": {"rows": 2, "名称": "浙江"}, "errors": [], "diff": {"totals": {"new": 1}}, "created_at": NOW}
    first = session.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) + 1
    session.execute(table.insert(), [{**row, "id": first}])
    insert_rows(session, table, [{**row, "id": first + 1}])  # total_rows, processed_rows: default 0
    assert _stored(session, table, [first + 1]) == _stored(session, table, [first])


def test_a_default_worked_out_per_row_must_be_given(session):
    with pytest.raises(ValueError, match="created_at"):
        insert_rows(session, ImportRun.__table__, [{"filename": "x.csv", "mode": "apply", "status": "applied",
                                                    "region_code": "330000", "counts": {}, "errors": [], "diff": {}}])


def test_nothing_to_insert(session):
    insert_rows(session, ImportRun.__table__, [])


def test_a_unique_key_taken_meanwhile_raises_an_integrity_error_as_an_insert_would(session, admin):
    ent = make_enterprise(session, admin)
    row = {"uscc": ent.uscc, "name": "重复", "region_code": ent.region_code, "version": 1, "created_at": NOW,
           "updated_at": NOW}
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        insert_rows(session, Enterprise.__table__, [row])
