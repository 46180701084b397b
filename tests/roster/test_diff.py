"""The dry run: what would change, shown against the registry, with nothing written."""

from datetime import date

from tests.conftest import d
from tests.factories import grant, make_enterprise, make_uscc
from tests.roster.conftest import registry_counts
from tests.roster.files import HEADERS, xlsx

BATCH = "2024年第一批"
HEADERS_PHONE = [*HEADERS, "联系电话"]


def test_the_dry_run_shows_new_changed_unchanged_missing_and_name_matches(session, admin, rules, do_import):
    def registered(serial, name, phone):
        ent = make_enterprise(session, admin, uscc=make_uscc("331002", serial), name=name, contact_phone=phone)
        grant(session, admin, rules, ent, "innovative_sme", d("2024-06-15"), batch=BATCH)
        return ent

    same = registered(710_001, "台州不变有限公司", "0576-1")
    moved = registered(710_002, "台州改号有限公司", "0576-2")
    missing = registered(710_003, "台州漏报有限公司", "0576-3")
    namesake = make_enterprise(session, admin, uscc=make_uscc("331002", 710_004), name="台州同名有限公司")
    fresh = make_uscc("331002", 710_005)
    rows = [[1, same.name, same.uscc, "331002", "创新型中小企业", date(2024, 6, 15), BATCH, None, "0576-1"],
            [2, moved.name, moved.uscc, "331002", "创新型中小企业", date(2024, 6, 15), BATCH, None, "0576-9"],
            [3, namesake.name, fresh, "331002", "创新型中小企业", date(2024, 6, 15), BATCH, None, None]]
    before = registry_counts(session)
    run = do_import(xlsx(rows, HEADERS_PHONE), mode="dry_run")
    assert run.status == "validated" and run.errors == []
    assert registry_counts(session) == before  # a dry run writes nothing
    diff = run.diff
    assert diff["new_enterprises"] == [{"row": 4, "uscc": fresh, "name": "台州同名有限公司"}]
    assert diff["changed"] == [{"row": 3, "uscc": moved.uscc, "name": moved.name, "enterprise_id": moved.id,
                                "entity": "enterprise", "field": "contact_phone", "old": "****62", "new": "****69"}]  # kept masked
    assert [(t["row"], t["uscc"], t["tier"]) for t in diff["new_titles"]] == [(4, fresh, "innovative_sme")]
    assert diff["unchanged_rows"] == [2]
    assert diff["missing"] == [{"enterprise_id": missing.id, "uscc": missing.uscc, "name": missing.name,
                                "tier": "innovative_sme", "batch": BATCH}]
    assert diff["name_matches"] == [{"row": 4, "uscc": fresh, "name": namesake.name, "existing_id": namesake.id,
                                     "existing_uscc": namesake.uscc}]
    assert [w["row"] for w in diff["warnings"]] == [4] and "不同" in diff["warnings"][0]["message"]
    assert run.counts["missing"] == 1 and run.counts["new_enterprises"] == 1


def test_a_name_match_is_imported_as_a_new_enterprise_never_merged(session, admin, do_import):
    namesake = make_enterprise(session, admin, uscc=make_uscc("331002", 710_011), name="台州重名有限公司")
    fresh = make_uscc("331002", 710_012)
    run = do_import(xlsx([[1, namesake.name, fresh, "331002", None, None, None, None]]))
    assert run.status == "applied" and run.counts["name_matches"] == 1
    assert run.counts["new_enterprises"] == 1 and session.get(type(namesake), namesake.id).uscc == namesake.uscc


def test_a_dry_run_with_errors_has_no_diff_but_keeps_the_workbook(do_import):
    run = do_import(xlsx([[1, "甲", "91331002MA0000001X", "331002", None, None, None, None]]), mode="dry_run")
    assert run.status == "failed" and run.diff["warnings"] == [] and "new_enterprises" not in run.diff
    assert run.error_workbook.startswith(b"PK")
