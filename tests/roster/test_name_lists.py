"""Published lists of names only: read, matched (normalised names, candidates, none), confirmed all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, RuleViolation
from registry.enterprises.models import Enterprise
from registry.roster.models import NameList
from registry.roster.namelists import matching
from registry.roster.namelists.reading import ListRejected
from registry.roster.namelists.services import confirm_name_list, upload_name_list
from registry.titles.models import Certification
from tests.conftest import NOW, officer_of
from tests.factories import grant, make_enterprise, make_uscc
from tests.roster import hostile
from tests.roster.conftest import registry_counts
from tests.roster.namelist_files import name_list

TODAY = date(2026, 6, 1)
TITLE = {"tier": "specialized_sme", "recognized_on": date(2026, 5, 20), "document_no": "浙经信企业〔2026〕12号",
         "batch": "2026年第一批", "authority": "浙江省经济和信息化厅"}


@pytest.fixture(autouse=True, params=["in memory", "by SQL"])
def names_source(request, monkeypatch):
    """Every test twice: the names of the region searched in memory, and row by row in SQL (a large region)."""
    if request.param == "by SQL":
        monkeypatch.setattr(matching, "IN_MEMORY", 0)
    return request.param


@pytest.fixture
def upload(session, admin, rules):
    def run(content: bytes, *, actor=None, title=None, filename="名单.xlsx"):
        return upload_name_list(session, actor=actor or admin, rules=rules, filename=filename, content=content,
                                title=title or TITLE, at=NOW, today=TODAY)
    return run


@pytest.fixture
def confirm(session, admin, rules):
    def run(name_list_row, decisions, *, actor=None):
        return confirm_name_list(session, actor=actor or admin, rules=rules, list_id=name_list_row.id,
                                 decisions=decisions, at=NOW, today=TODAY)
    return run


def innovative(session, admin, rules, **fields):
    """An enterprise holding 创新型中小企业 (the prerequisite of 专精特新)."""
    enterprise = make_enterprise(session, admin, **fields)
    grant(session, admin, rules, enterprise, "innovative_sme", date(2025, 3, 1))
    return enterprise


def by_row(listed):
    return {r["row"]: r for r in listed.rows}


@pytest.mark.parametrize(("registered", "published"), [
    ("台州精工（椒江）机械有限公司", "台州精工(椒江)机械有限公司"),
    ("台州精工机械有限公司", "台州精工机械有限责任公司"),
    ("台州精工机械有限责任公司", "台州精工机械有限公司"),
    ("台州精工机械有限公司", "台州 精工机械 有限公司"),
    ("台州ABC精工123有限公司", "台州ＡＢＣ精工１２３有限公司"),
    ("台州ＡＢＣ精工１２３有限公司", "台州abc精工123有限公司"),
    ("台州 精工机械有限公司", "台州精工机械有限公司"),
])
def test_normalised_names_match(session, admin, rules, upload, registered, published):
    enterprise = make_enterprise(session, admin, name=registered)
    make_enterprise(session, admin, name="温岭泵业有限公司")
    listed = upload(name_list([[1, "浙江省", published]]))
    row = listed.rows[0]
    assert (row["kind"], row["match_id"], row["row"]) == ("match", enterprise.id, 3)
    assert listed.status == "reviewing"


def test_a_list_is_only_read_and_matched_until_confirmed(session, admin, rules, upload):
    make_enterprise(session, admin, name="台州精工机械有限公司")
    before = registry_counts(session)
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"], [2, "浙江", "完全不存在的企业有限公司"]]))
    after = registry_counts(session)
    assert {k: after[k] - before[k] for k in after} == {"enterprises": 0, "certifications": 0,
                                                        "annual_reports": 0, "audit_events": 1}
    assert [r["kind"] for r in listed.rows] == ["match", "none"]
    assert listed.rows[1]["region_code"] == "330000"  # 浙江 read as 浙江省


def test_same_normalised_name_twice_gives_candidates_never_a_match(session, admin, rules, upload):
    one = make_enterprise(session, admin, name="台州精工机械有限公司")
    two = make_enterprise(session, admin, name="台州精工机械有限责任公司", region_code="331003")
    row = upload(name_list([[1, "台州市", "台州精工机械有限公司"]])).rows[0]
    assert row["kind"] == "candidates" and row["match_id"] is None
    assert [c["id"] for c in row["candidates"]] == [one.id, two.id]
    assert "2 家企业名称相同" in row["notes"][0]


def test_similar_names_are_candidates_narrowed_by_region(session, admin, rules, upload):
    near = make_enterprise(session, admin, name="台州精工机械制造有限公司", region_code="331002")
    far = make_enterprise(session, admin, name="台州精工机械制造有限公司（黄岩）", region_code="331003")
    rows = by_row(upload(name_list([[1, "椒江区", "台州精工机械有限公司"], [2, "", "台州精工机械有限公司（路桥）"]])))
    assert rows[3]["kind"] == "candidates"
    assert [c["id"] for c in rows[3]["candidates"]] == [near.id]  # 椒江区 leaves 黄岩区 out
    assert rows[3]["region_code"] == "331002"
    assert {c["id"] for c in rows[4]["candidates"]} == {near.id, far.id}  # no region: both


def test_an_exact_name_in_another_listed_region_is_a_candidate(session, admin, rules, upload):
    there = make_enterprise(session, admin, name="台州精工机械有限公司", region_code="331003")
    row = upload(name_list([[1, "椒江区", "台州精工机械有限公司"]])).rows[0]
    assert row["kind"] == "candidates" and row["candidates"][0]["id"] == there.id
    assert "不符" in row["notes"][0]


def test_the_officer_sees_only_own_region(session, admin, rules, upload):
    make_enterprise(session, admin, name="杭州精工机械有限公司", region_code="330106")
    listed = upload(name_list([[1, "杭州市", "杭州精工机械有限公司"]]), actor=officer_of("331000"))
    assert listed.rows[0]["kind"] == "none"


def test_confirm_grants_through_the_title_service_and_audits_each_row(session, admin, rules, upload, confirm):
    first = innovative(session, admin, rules, name="台州精工机械有限公司")
    second = innovative(session, admin, rules, name="台州精密模具有限公司")
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限责任公司"], [2, "浙江省", "台州精密模具有限公司"],
                               [3, "浙江省", "不在名录的企业有限公司"]]))
    done = confirm(listed, {3: {"choice": "enterprise", "enterprise_id": first.id},
                            4: {"choice": "enterprise", "enterprise_id": second.id}, 5: {"choice": "skip"}})
    assert done.status == "applied" and done.outcome["granted"] == 2 and done.outcome["skipped"] == 1
    certs = session.scalars(sa.select(Certification).where(Certification.tier == "specialized_sme")).all()
    assert {(c.enterprise_id, c.recognized_on, c.document_no, c.batch) for c in certs} == {
        (first.id, TITLE["recognized_on"], TITLE["document_no"], "2026年第一批"),
        (second.id, TITLE["recognized_on"], TITLE["document_no"], "2026年第一批")}
    notes = session.scalars(sa.select(AuditEvent.note).where(AuditEvent.action == "certification.granted",
                                                             AuditEvent.entity_id.in_([c.id for c in certs]))).all()
    assert sorted(notes) == ["公告名单 名单.xlsx 第3行", "公告名单 名单.xlsx 第4行"]
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "name_list.applied")) == 1


def test_one_refused_row_writes_nothing(session, admin, rules, upload, confirm):
    ready = innovative(session, admin, rules, name="台州精工机械有限公司")
    lacking = make_enterprise(session, admin, name="台州精密模具有限公司")  # no 创新型: the prerequisite is missing
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"], [2, "浙江省", "台州精密模具有限公司"]]))
    before = registry_counts(session)
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "enterprise", "enterprise_id": ready.id},
                         4: {"choice": "enterprise", "enterprise_id": lacking.id}})
    assert [p.row for p in refused.value.problems] == [4]
    assert "台州精密模具有限公司" in refused.value.problems[0].message
    assert registry_counts(session) == before
    assert session.get(NameList, listed.id).status == "reviewing"


def test_every_row_must_be_decided(session, admin, rules, upload, confirm):
    make_enterprise(session, admin, name="台州精工机械有限公司")
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"], [2, "浙江省", "别的企业有限公司"]]))
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "skip"}, 9: {"choice": "skip"}})
    assert sorted((p.row, p.field) for p in refused.value.problems) == [(4, "choice"), (9, "row")]


def test_a_choice_outside_the_offered_enterprises_is_refused(session, admin, rules, upload, confirm):
    other = innovative(session, admin, rules, name="温岭泵业有限公司")
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"]]))
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "enterprise", "enterprise_id": other.id}})
    assert "不在该行的匹配结果中" in refused.value.problems[0].message


def test_a_list_imported_twice_is_already_held_the_second_time(session, admin, rules, upload, confirm):
    enterprise = innovative(session, admin, rules, name="台州精工机械有限公司")
    content = name_list([[1, "浙江省", "台州精工机械有限公司"]])
    confirm(upload(content), {3: {"choice": "enterprise", "enterprise_id": enterprise.id}})
    again = upload(content)
    assert again.rows[0]["kind"] == "match"
    before = registry_counts(session)
    with pytest.raises(ListRejected) as refused:
        confirm(again, {3: {"choice": "enterprise", "enterprise_id": enterprise.id}})
    assert "已持有专精特新中小企业" in refused.value.problems[0].message
    assert registry_counts(session) == before


def test_a_confirmed_list_cannot_be_confirmed_again(session, admin, rules, upload, confirm):
    enterprise = innovative(session, admin, rules, name="台州精工机械有限公司")
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"]]))
    confirm(listed, {3: {"choice": "enterprise", "enterprise_id": enterprise.id}})
    with pytest.raises(Conflict):
        confirm(listed, {3: {"choice": "enterprise", "enterprise_id": enterprise.id}})


def test_a_banned_or_ended_title_refuses_the_row(session, admin, rules, upload, confirm):
    from registry.domain.lifecycle import Event
    from registry.titles.services import EventInput, apply_event

    enterprise = make_enterprise(session, admin, name="台州精工机械有限公司")
    base = grant(session, admin, rules, enterprise, "innovative_sme", date(2025, 3, 1))
    apply_event(session, actor=admin, rules=rules, certification_id=base.id,
                event=EventInput(Event.WITHDRAW, date(2025, 9, 1), version=base.version), at=NOW, today=TODAY)
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"]]))
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "enterprise", "enterprise_id": enterprise.id}})
    assert "创新型中小企业" in refused.value.problems[0].message  # the prerequisite ended


def test_the_same_enterprise_on_two_rows_is_refused(session, admin, rules, upload, confirm):
    one = innovative(session, admin, rules, name="台州精工机械有限公司")
    make_enterprise(session, admin, name="台州精工机械有限责任公司", region_code="331003")
    listed = upload(name_list([[1, "椒江区", "台州精工机械有限公司"], [2, "黄岩区", "台州精工机械制造有限公司"]]))
    assert one.id not in [c["id"] for c in by_row(listed)[4]["candidates"]]  # 黄岩区 narrows it away
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "enterprise", "enterprise_id": one.id},
                         4: {"choice": "uscc", "uscc": one.uscc}})
    assert "与第3行是同一家企业" in refused.value.problems[0].message


def test_an_unmatched_row_completed_with_a_registered_uscc(session, admin, rules, upload, confirm):
    enterprise = innovative(session, admin, rules, name="台州精工机械有限公司")
    listed = upload(name_list([[1, "浙江省", "精工机械（台州）公司"]]))
    done = confirm(listed, {3: {"choice": "uscc", "uscc": enterprise.uscc.lower()}})
    assert done.outcome["rows"][0]["enterprise_id"] == enterprise.id


def test_an_unregistered_uscc_creates_a_minimal_enterprise_in_its_registration_region(session, admin, rules, upload,
                                                                                          confirm):
    code = make_uscc("331002", 880001)
    listed = upload(name_list([[1, "台州市", "台州新创科技有限公司"]]), title={**TITLE, "tier": "innovative_sme"})
    done = confirm(listed, {3: {"choice": "uscc", "uscc": code}})
    created = session.scalar(sa.select(Enterprise).where(Enterprise.uscc == code))
    assert (created.name, created.region_code) == ("台州新创科技有限公司", "331002")
    assert done.outcome["created"] == 1 and [c.tier for c in created.certifications] == ["innovative_sme"]
    assert session.scalar(sa.select(AuditEvent.note).where(AuditEvent.action == "enterprise.created",
                                                           AuditEvent.entity_id == created.id)) == "公告名单 名单.xlsx 第3行"


@pytest.mark.parametrize(("region", "uscc_region", "actor_region", "says"), [
    ("杭州市", "331002", "330000", "不在名单所列地区"),
    ("", "330106", "331000", "不在您的管辖范围内"),
    ("", "999999", "000000", "不是已知的行政区划"),
])
def test_an_unregistered_uscc_outside_the_listed_or_own_region_is_refused(session, rules, upload, confirm, region,
                                                                             uscc_region, actor_region, says):
    actor = officer_of(actor_region)
    listed = upload(name_list([[1, region, "某某科技有限公司"]]), actor=actor, title={**TITLE, "tier": "innovative_sme"})
    before = registry_counts(session)
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "uscc", "uscc": make_uscc(uscc_region, 880002)}}, actor=actor)
    assert says in refused.value.problems[0].message
    assert registry_counts(session) == before


def test_a_bad_uscc_names_the_row(session, admin, rules, upload, confirm):
    listed = upload(name_list([[1, "", "某某科技有限公司"]]))
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "uscc", "uscc": "91331002MA0000000X"}})
    assert refused.value.problems[0].row == 3 and "统一社会信用代码" in refused.value.problems[0].message


@pytest.mark.parametrize(("rows", "says"), [
    ([[1, "浙江省", ""], [2, "浙江省", "台州精工有限公司"]], "企业名称为空"),
    ([[1, "浙江省", "台州精工有限公司"], [2, "浙江省", "台州精工有限责任公司"]], "与第3行的企业名称相同"),
    ([[1, "浙江省", "名" * 201]], "超过 200 个字符"),
])
def test_bad_rows_are_named_and_nothing_is_stored(session, upload, rows, says):
    before = session.scalar(sa.select(sa.func.count()).select_from(NameList))
    with pytest.raises(ListRejected) as refused:
        upload(name_list(rows))
    assert says in refused.value.problems[0].message and refused.value.problems[0].column.startswith("C列")
    assert session.scalar(sa.select(sa.func.count()).select_from(NameList)) == before


def test_a_file_without_a_name_column_is_refused(upload):
    with pytest.raises(ListRejected) as refused:
        upload(name_list([[1, "浙江省", "甲公司"]], headers=["序号", "省份", "单位"]))
    assert "找不到「企业名称」列" in refused.value.problems[0].message


@pytest.mark.parametrize(("make", "says"), [
    (hostile.zip_bomb_entry, "解压后的大小超出上限"), (hostile.far_cell, "超出上限"), (hostile.huge_dimension, "超出上限"),
    (hostile.binary_csv, "不是文本格式的 CSV"), (hostile.nested_archive, "嵌套"), (hostile.not_a_zip, "无法读取"),
])
def test_hostile_files_are_refused_by_the_roster_defences(session, upload, make, says):
    filename, content = make()
    before = session.scalar(sa.select(sa.func.count()).select_from(NameList))
    with pytest.raises(ListRejected) as refused:
        upload(content, filename=filename)
    assert says in refused.value.problems[0].message
    assert session.scalar(sa.select(sa.func.count()).select_from(NameList)) == before


def test_csv_in_gb18030_with_a_province_column(session, admin, upload):
    enterprise = make_enterprise(session, admin, name="台州精工机械有限公司")
    content = name_list([[1, "浙江", "台州精工机械有限公司"]], kind="csv", headers=["序号", "省份", "企业名称"])
    listed = upload(content.decode("utf-8-sig").encode("gb18030"), filename="名单.csv")
    assert listed.rows[0]["match_id"] == enterprise.id and listed.rows[0]["seq"] == "1"


@pytest.mark.parametrize(("title", "field"), [
    ({**TITLE, "tier": "no_such_tier"}, "tier"),
    ({**TITLE, "recognized_on": date(2026, 6, 2)}, "recognized_on"),
    ({**TITLE, "recognized_on": None}, "recognized_on"),
])
def test_the_title_is_checked_before_the_file(upload, title, field):
    with pytest.raises(RuleViolation) as refused:
        upload(name_list([[1, "浙江省", "甲有限公司"]]), title=title)
    assert field in refused.value.errors


def test_a_ban_refuses_the_row(session, admin, rules, upload, confirm):
    from registry.titles.models import Ban

    enterprise = innovative(session, admin, rules, name="台州精工机械有限公司")
    session.add(Ban(uscc=enterprise.uscc, reason_code="fraud", reason="弄虚作假", starts_on=date(2025, 1, 1),
                    ends_on=date(2028, 1, 1)))
    session.flush()
    listed = upload(name_list([[1, "浙江省", "台州精工机械有限公司"]]))
    before = registry_counts(session)
    with pytest.raises(ListRejected) as refused:
        confirm(listed, {3: {"choice": "enterprise", "enterprise_id": enterprise.id}})
    assert refused.value.problems[0].row == 3 and "禁止" in refused.value.problems[0].message
    assert registry_counts(session) == before


def test_a_list_of_another_region_is_not_found(session, upload, confirm):
    from registry.domain.errors import NotFound

    listed = upload(name_list([[1, "", "甲有限公司"]]), actor=officer_of("331000"))
    with pytest.raises(NotFound):
        confirm(listed, {3: {"choice": "skip"}}, actor=officer_of("330100"))
