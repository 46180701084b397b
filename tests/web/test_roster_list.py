"""GET /api/v1/enterprises reads the listed columns, not ORM objects, and builds each item without a schema dump
(issue 19): the items must stay what `dump_enterprise` makes of each enterprise — field for field, masked or
unmasked — and the region scoping must still hold on the page and on the count (both backends)."""

from __future__ import annotations

from datetime import date

from registry.enterprises.models import Enterprise
from registry.web.api.common import dump_enterprise
from tests.factories import make_enterprise, make_uscc


def _full_and_sparse(session, admin):
    """An enterprise with every listed field set, a zone, one with no optional field; and one in 宁波 (330200)."""
    made = [
        make_enterprise(session, admin, region_code="331002", name="台州全字段有限公司", industry_code="C39",
                        size_class="small", founded_on=date(2015, 3, 9), contact_name="张三",
                        contact_phone="13800001234", contact_email="zhang@example.org"),
        make_enterprise(session, admin, region_code="331002", holder_kind="zone", zone_type="park",
                        uscc=make_uscc("331002", 990_001), name="台州列表测试园区", managing_body="台州湾新区管理委员会",
                        contact_name="陈主任"),
        make_enterprise(session, admin, region_code="331002", name="台州空字段有限公司", contact_email=None),
        make_enterprise(session, admin, region_code="330203", name="宁波区外企业有限公司"),
    ]
    session.commit()
    return made


def _expected(session, ids, unmasked):
    session.expire_all()
    return [dump_enterprise(session.get(Enterprise, i), unmasked=unmasked) for i in ids]


def test_list_items_are_the_schema_dump_of_each_enterprise(api_as, session, admin):
    made = _full_and_sparse(session, admin)
    officer = api_as("officer", "331000")
    session.commit()
    inside = sorted((e for e in made if e.region_code.startswith("3310")), key=lambda e: (e.name, e.id))
    ids = [e.id for e in inside]
    for unmasked, query in ((False, ""), (True, "&unmask=1")):
        got = officer.get(f"/api/v1/enterprises?sort=name&per_page=50{query}")
        assert got.status_code == 200, got.get_data(as_text=True)
        body = got.get_json()
        assert body["total"] == 3 and [i["id"] for i in body["items"]] == ids  # 宁波's is outside the region
        assert body["items"] == _expected(session, ids, unmasked)
        phones = {i["contact_phone"] for i in body["items"]}
        assert ("13800001234" in phones) is unmasked and ("138****1234" in phones) is not unmasked


def test_the_count_and_the_page_keep_the_region_scoping(api_as, session, admin):
    _full_and_sparse(session, admin)
    officer = api_as("officer", "331000")
    session.commit()
    # asking for a region outside the caller's finds nothing, in the count as on the page
    body = officer.get("/api/v1/enterprises?region=330200").get_json()
    assert (body["total"], body["items"]) == (0, [])
    body = officer.get("/api/v1/enterprises?per_page=1&page=2").get_json()
    assert body["total"] == 3 and len(body["items"]) == 1 and body["items"][0]["region_code"] == "331002"


def test_row_dumper_gives_what_the_schema_dumps_for_every_kind_of_value():
    """The row dumper's shortcuts (plain values copied, dates and times formatted by the field's own function)
    give the schema's dump for None, plain values, enum members and subclasses alike (no database)."""
    from datetime import UTC, datetime
    from enum import StrEnum

    from marshmallow import Schema, fields

    from registry.web.api.common import row_dumper, schema

    class Kind(StrEnum):
        A = "a"

    class Flag(int):
        pass

    class Out(Schema):
        text = fields.String()
        number = fields.Integer()
        as_text = fields.Integer(as_string=True)
        day = fields.Date()
        at = fields.AwareDateTime()
        naive = fields.DateTime(format="%Y/%m/%d")
        flag = fields.Boolean()

    rows = [
        {"text": None, "number": None, "as_text": None, "day": None, "at": None, "naive": None, "flag": None},
        {"text": "名称", "number": 7, "as_text": 7, "day": date(2026, 12, 6),
         "at": datetime(2026, 12, 6, 2, 3, 4, 5, tzinfo=UTC), "naive": datetime(2026, 1, 2), "flag": True},
        {"text": Kind.A, "number": Flag(3), "as_text": True, "day": datetime(2026, 12, 6, 8),
         "at": datetime(2026, 12, 6, 2, 3, 4), "naive": datetime(2026, 1, 2, 3), "flag": 0},
    ]
    dump = row_dumper(Out)
    for row in rows:
        assert dump(row) == schema(Out).dump(row)
        assert [type(v) for v in dump(row).values()] == [type(v) for v in schema(Out).dump(row).values()]
