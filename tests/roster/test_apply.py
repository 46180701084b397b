"""Applying a good file: what is written, its audit basis, re-import changes nothing, bulk ≡ services."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, NotFound, RuleViolation, StaleVersion
from registry.domain.lifecycle import Status
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.services import record_annual_report, register_enterprise
from registry.roster import bulk
from registry.titles.models import Certification, CertificationEvent, CertificationTerm
from registry.titles.services import grant_certification
from tests.conftest import NOW, d, officer_of
from tests.factories import make_enterprise, make_uscc, report
from tests.roster.conftest import registry_counts
from tests.roster.files import csv_bytes, roster_rows, xlsx

FULL = ["企业名称", "统一社会信用代码", "地区代码", "称号", "认定日期", "批次", "文号", "认定机关", "行业代码", "企业规模",
        "成立日期", "联系人", "联系邮箱", "联系电话", "年度", "营业收入（万元）", "研发费用", "从业人员", "资产负债率",
        "审计报告验证码"]


def full_row(code, **overrides):
    row = {"企业名称": "台州精工机械有限公司", "统一社会信用代码": code, "地区代码": "331002",
           "称号": "创新型中小企业", "认定日期": date(2024, 6, 15), "批次": "2024年第一批", "文号": "浙经信企业〔2024〕88号",
           "认定机关": "浙江省经济和信息化厅", "行业代码": "C3311", "企业规模": "小型", "成立日期": "2010年3月8日",
           "联系人": "王伟", "联系邮箱": "wang@example.com", "联系电话": "0576-88001234", "年度": 2025,
           "营业收入（万元）": "12,345.67", "研发费用": "4,500,000", "从业人员": "230人", "资产负债率": "41.5%",
           "审计报告验证码": "ZJ2025000123", **overrides}
    return [row[h] for h in FULL]


def test_a_good_file_writes_enterprises_titles_and_figures(session, do_import, rules):
    code = make_uscc("331002", 700_001)
    run = do_import(xlsx([full_row(code)], FULL))
    assert run.status == "applied", run.errors
    ent = session.scalars(sa.select(Enterprise).where(Enterprise.uscc == code)).one()
    assert (ent.name, ent.region_code, ent.industry_code, ent.size_class, ent.founded_on, ent.contact_phone) == (
        "台州精工机械有限公司", "331002", "C3311", "small", date(2010, 3, 8), "0576-88001234")
    cert = ent.certifications[0]
    assert (cert.tier, cert.status, cert.valid_until, cert.batch, cert.authority) == (
        "innovative_sme", Status.ACTIVE, date(2027, 6, 15), "2024年第一批", "浙江省经济和信息化厅")
    assert [t.seq for t in cert.terms] == [1] and cert.events[0].note == "导入 名单.xlsx 第2行"
    figures = ent.annual_reports[0]
    assert (figures.year, figures.revenue, figures.rd_expense, figures.employees, figures.debt_ratio) == (
        2025, Decimal("123456700.00"), Decimal("4500000.00"), 230, Decimal("41.50"))
    assert figures.submitted_on == date(2026, 6, 1)
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.enterprise_id == ent.id)
                            .order_by(AuditEvent.id)).all()
    assert [e.action for e in trail] == ["enterprise.created", "annual_report.recorded", "certification.granted"]
    assert {(e.note, e.document_no) for e in trail} == {("导入 名单.xlsx 第2行", "浙经信企业〔2024〕88号")}
    assert audit.verify(session).ok


def test_applying_the_same_file_again_changes_nothing(session, do_import):
    code = make_uscc("331002", 700_011)
    content = xlsx([full_row(code),
                    full_row(code, 称号="专精特新中小企业", 认定日期=date(2025, 7, 1), 批次="2025年第一批"),
                    full_row(make_uscc("331002", 700_012), 企业名称="台州第二家有限公司", 年度=2024)], FULL)
    first = do_import(content)
    assert first.status == "applied", first.errors
    assert first.counts["new_titles"] == 3 and first.counts["new_reports"] == 2
    before = registry_counts(session)
    second = do_import(content)
    assert second.status == "applied"
    assert second.counts["unchanged_rows"] == 3 and second.counts["new_titles"] == 0
    after = registry_counts(session)
    assert after == {**before, "audit_events": before["audit_events"] + 1}  # only the import's own event
    last = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert last.action == "import.applied"


def test_one_file_may_climb_the_ladder(session, do_import):
    code = make_uscc("331002", 700_021)
    rows = [[1, "台州攀登有限公司", code, "331002", "专精特新中小企业", date(2025, 7, 1), "2025年第一批", None],
            [2, "台州攀登有限公司", code, "331002", "创新型中小企业", date(2024, 6, 15), "2024年第一批", None]]
    run = do_import(xlsx(rows))
    assert run.status == "applied", run.errors
    tiers = session.scalars(sa.select(Certification.tier).join(Enterprise).where(Enterprise.uscc == code)
                            .order_by(Certification.recognized_on)).all()
    assert tiers == ["innovative_sme", "specialized_sme"]


def test_changes_to_registered_enterprises_go_through_the_services(session, admin, do_import):
    ent = make_enterprise(session, admin, uscc=make_uscc("331002", 700_031), name="台州老字号有限公司",
                          contact_phone="0576-1")
    report(session, admin, ent, 2025, revenue=Decimal("1000000"), employees=10)
    rows = [[ent.name, ent.uscc, "0576-2", 2025, "100", 12]]
    run = do_import(xlsx(rows, ["企业名称", "统一社会信用代码", "联系电话", "年度", "营业收入（万元）", "从业人员"]),
                    filename="更新.xlsx")
    assert run.status == "applied" and run.counts["changed"] == 2, run.diff
    session.refresh(ent)
    assert ent.contact_phone == "0576-2" and ent.annual_reports[0].employees == 12
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.enterprise_id == ent.id,
                                                        AuditEvent.note == "导入 更新.xlsx 第2行")).all()
    assert {e.action: e.changes for e in trail} == {
        "enterprise.updated": {"contact_phone": ["****61", "****62"]},  # the trail keeps contacts masked
        "annual_report.corrected": {"employees": [10, 12]}}


def test_csv_in_any_encoding_imports_alike(session, do_import):
    for n, encoding in enumerate(["utf-8", "utf-8-sig", "gb18030"]):
        rows = roster_rows(2, serial=701_000 + 10 * n)
        run = do_import(csv_bytes(rows, encoding=encoding), filename=f"名单-{encoding}.csv")
        assert run.status == "applied" and run.counts["new_enterprises"] == 2, run.errors
        names = session.scalars(sa.select(Enterprise.name).where(Enterprise.uscc.in_([r[2] for r in rows]))).all()
        assert sorted(names) == sorted(r[1] for r in rows)


def test_a_name_registered_with_full_width_brackets_is_not_changed(session, admin, do_import):
    ent = make_enterprise(session, admin, uscc=make_uscc("331002", 700_041), name="台州（椒江）精工有限公司")
    run = do_import(xlsx([[ent.name, ent.uscc]], ["企业名称", "统一社会信用代码"]))
    assert run.counts["unchanged_rows"] == 1 and run.counts["changed"] == 0
    assert session.get(Enterprise, ent.id).name == "台州（椒江）精工有限公司"


def _rows_of(session, model, where, skip=("id", "enterprise_id", "certification_id", "created_at", "updated_at")):
    rows = session.execute(sa.select(model.__table__).where(where)).mappings().all()
    return [{k: v for k, v in r.items() if k not in skip} for r in rows]


def test_the_bulk_services_write_what_the_single_services_write(session, admin, rules):
    why = audit.Why(document_no="文号1", note="导入 x.xlsx 第2行")
    data = {"name": "同一家", "region_code": "331002", "size_class": "small", "founded_on": d("2010-01-01"),
            "contact_email": "a@example.com"}
    one, _ = register_enterprise(session, actor=admin, data={**data, "uscc": make_uscc("331002", 700_051),
                                                              "note": why.note}, at=NOW)
    record_annual_report(session, actor=admin, enterprise_id=one.id, year=2025, at=NOW, why=why,
                         data={"revenue": Decimal("5.00"), "employees": 3, "submitted_on": d("2026-03-01")})
    grant_certification(session, actor=admin, rules=rules, enterprise_id=one.id, tier="innovative_sme",
                        recognized_on=d("2024-06-15"), at=NOW, batch="B", document_no="文号1", why=why)
    [two] = bulk.register_enterprises(session, actor=admin, at=NOW,
                                      items=[({**data, "uscc": make_uscc("331002", 700_052)}, audit.Why(note=why.note))])
    bulk.record_annual_reports(session, actor=admin, at=NOW, items=[bulk.NewReport(
        two, 2025, {"revenue": Decimal("5.00"), "employees": 3, "submitted_on": d("2026-03-01")}, why)])
    bulk.grant_certifications(session, actor=admin, rules=rules, at=NOW, items=[bulk.NewTitle(
        two, "innovative_sme", d("2024-06-15"), {"batch": "B", "document_no": "文号1"}, why)])
    for model, key in ((Certification, Certification.enterprise_id), (AnnualReport, AnnualReport.enterprise_id)):
        assert _rows_of(session, model, key == one.id) == _rows_of(session, model, key == two)
    cert_ids = {e: session.scalar(sa.select(Certification.id).where(Certification.enterprise_id == e)) for e in (one.id, two)}
    for model in (CertificationTerm, CertificationEvent):
        assert (_rows_of(session, model, model.certification_id == cert_ids[one.id])
                == _rows_of(session, model, model.certification_id == cert_ids[two]))
    trails = [session.execute(sa.select(AuditEvent.action, AuditEvent.changes, AuditEvent.note, AuditEvent.document_no)
                              .where(AuditEvent.enterprise_id == e).order_by(AuditEvent.id)).all() for e in (one.id, two)]
    strip = [(a, {k: v for k, v in c.items() if k != "uscc"}, n, doc) for a, c, n, doc in trails[0]]
    assert strip == [(a, {k: v for k, v in c.items() if k != "uscc"}, n, doc) for a, c, n, doc in trails[1]]
    assert audit.verify(session).ok


def test_record_many_stores_and_hashes_each_event_as_record_would(session, admin):
    entries = [
        audit.Entry("enterprise.changed", "enterprise", 1, {
            "founded_on": [None, d("2010-03-08")], "revenue": [Decimal("1.50"), Decimal("2")], 7: ("a", Status.ACTIVE),
            "nested": {"k": [1.5, float("inf")]}, "name": ["旧", "新"]}, region_code="330000",
            why=audit.Why("reason", "文号1", "导入 x.xlsx 第2行")),
        audit.Entry("enterprise.created", "enterprise", 2, {}, enterprise_id=None)]
    assert audit.record_many(session, actor=admin, entries=entries, at=NOW) == 2
    stored = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()[::-1]
    assert [e.changes for e in stored] == [audit.plain(dict(e.changes)) for e in entries]
    recomputed = [audit.event_hash({f: getattr(e, f) for f in audit.HASHED_FIELDS}) for e in stored]
    assert [e.hash for e in stored] == recomputed
    assert stored[1].prev_hash == stored[0].hash and audit.verify(session).ok


@pytest.mark.parametrize("alg", ["sha256", "sm3"])
def test_record_many_spliced_encoding_is_the_canonical_one(session, admin, alg):
    """record_many hashes an encoding spliced from parts and stores the changes' own text: both must be
    what `canonical` and the JSON column give for the whole event, for either hash function, with
    entries given plain or not, contacts masked, and each action (the cached opening) in turn."""
    session.info[audit.CHAIN_KEY] = audit.ChainConfig(alg)
    why = audit.Why("r", "文号\"引号\"", "导入 名单.xlsx 第2行\n换行")
    entries = [
        audit.Entry("enterprise.created", "enterprise", 9, {"contact_phone": [None, "13800001234"],
                                                           "name": [None, "甲"]}, 9, "331002", why, plain=True),
        audit.Entry("annual_report.recorded", "annual_report", 3, {"year": [None, 2025], "revenue": [None, "1.50"]},
                    9, "331002", why, plain=True),
        audit.Entry("enterprise.created", "enterprise", 10, {"founded_on": [None, d("2010-03-08")],
                                                            "size_class": [None, "small"]}, 10, None),
        audit.Entry("certification.granted", "certification", 4, {}, 10, "331002")]
    try:
        assert audit.record_many(session, actor=admin, entries=entries, at=NOW) == 4
    finally:
        session.info.pop(audit.CHAIN_KEY)
    stored = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(4)).all()[::-1]
    assert [e.hash_alg for e in stored] == [alg] * 4
    assert [e.changes for e in stored] == [
        {"contact_phone": [None, "138****1234"], "name": [None, "甲"]}, {"year": [None, 2025], "revenue": [None, "1.50"]},
        {"founded_on": [None, "2010-03-08"], "size_class": [None, "small"]}, {}]
    assert [e.hash for e in stored] == [audit.event_hash({f: getattr(e, f) for f in audit.HASHED_FIELDS}, alg)
                                        for e in stored]
    assert audit.verify(session).ok


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_rests_during_an_import_and_is_left_as_it_was(do_import, enabled):
    import gc

    seen: list[bool] = []
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        run = do_import(xlsx([full_row(make_uscc("331002", 700_071))], FULL),
                        progress=lambda done, total: seen.append(gc.isenabled()))
        assert run.status == "applied" and seen == [False] and gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_english_headers_codes_region_names_and_numbers_import_alike(session, do_import):
    code = make_uscc("331002", 700_061)
    rows = [["Taizhou Precision Ltd", code, 331002.0, "innovative_sme", "2024/6/15"]]
    run = do_import(xlsx(rows, ["name", "uscc", "region_code", "tier", "recognized_on"]))
    assert run.status == "applied", run.errors
    other = make_uscc("331002", 700_062)
    run = do_import(xlsx([["台州二号有限公司", other, "浙江省台州市椒江区", "创新型中小企业", "2024年6月15日"]],
                         ["企业名称", "USCC", "所在地区", "称号/层级", "认定日期"]))
    assert run.status == "applied", run.errors
    regions = session.scalars(sa.select(Enterprise.region_code).where(Enterprise.uscc.in_([code, other]))).all()
    assert regions == ["331002", "331002"]


def test_warnings_do_not_stop_an_import(session, do_import):
    hangzhou_code = make_uscc("330106", 700_071)  # registered in 西湖区, declared in 椒江区: moved?
    content = xlsx([["2024年第一批创新型中小企业名单"],
                    ["企业名称", "统一社会信用代码", "所在地区", "备注"],
                    ["迁来有限公司", hangzhou_code, "331002", "自杭州迁入"]], headers=None)
    run = do_import(content)
    assert run.status == "applied"
    assert [(w["row"], w["column"]) for w in run.diff["warnings"]] == [
        (2, "D列（备注）"), (2, None), (3, "C列（所在地区）")]
    assert "登记机关代码 330106" in run.diff["warnings"][2]["message"]


def test_the_bulk_services_refuse_what_the_single_services_refuse(session, admin, rules):
    ent = make_enterprise(session, admin, uscc=make_uscc("331002", 700_081))
    report(session, admin, ent, 2025, revenue=Decimal("1"))
    taizhou = officer_of("331000")
    with pytest.raises(Conflict):
        bulk.register_enterprises(session, actor=admin, at=NOW, items=[({"uscc": ent.uscc, "name": "x",
                                                                          "region_code": "331002"}, audit.Why())])
    with pytest.raises(RuleViolation):
        bulk.register_enterprises(session, actor=taizhou, at=NOW, items=[(
            {"uscc": make_uscc("330106", 700_082), "name": "x", "region_code": "330106"}, audit.Why())])
    with pytest.raises(Conflict):
        bulk.record_annual_reports(session, actor=admin, at=NOW, items=[bulk.NewReport(ent.id, 2025, {})])
    hangzhou = make_enterprise(session, admin, uscc=make_uscc("330106", 700_083), region_code="330106")
    with pytest.raises(NotFound):
        bulk.grant_certifications(session, actor=taizhou, rules=rules, at=NOW, items=[bulk.NewTitle(
            hangzhou.id, "innovative_sme", d("2024-06-15"))])
    report(session, admin, hangzhou, 2025, revenue=Decimal("100"), employees=10, rd_staff=5)
    with pytest.raises(NotFound):  # outside the officer's region, as record_annual_report refuses it
        bulk.correct_annual_reports(session, actor=taizhou, at=NOW, items=[bulk.NewReport(hangzhou.id, 2025, {})])
    with pytest.raises(Conflict):  # a year not recorded is not corrected
        bulk.correct_annual_reports(session, actor=admin, at=NOW, items=[bulk.NewReport(ent.id, 2024, {})])
    with pytest.raises(RuleViolation) as refused:  # the merged figures are checked: 20 R&D staff of 10 employed
        bulk.correct_annual_reports(session, actor=admin, at=NOW, items=[bulk.NewReport(hangzhou.id, 2025,
                                                                                        {"rd_staff": 20})])
    with pytest.raises(RuleViolation) as single:
        record_annual_report(session, actor=admin, enterprise_id=hangzhou.id, year=2025, data={"rd_staff": 20},
                             at=NOW)
    assert refused.value.errors == single.value.errors


def test_bulk_corrections_write_and_audit_what_record_annual_report_would(session, admin):
    ents = [make_enterprise(session, admin, uscc=make_uscc("331002", 700_091 + n)) for n in range(2)]
    for ent in ents:
        report(session, admin, ent, 2025, revenue=Decimal("1000"), employees=10, debt_ratio=Decimal("40"))
    why = audit.Why(document_no="文号", note="导入 x.xlsx 第3行")
    record_annual_report(session, actor=admin, enterprise_id=ents[0].id, year=2025, at=NOW, why=why,
                         data={"revenue": Decimal("1000"), "employees": 12, "debt_ratio": Decimal("41.5")})
    assert bulk.correct_annual_reports(session, actor=admin, at=NOW, items=[
        bulk.NewReport(ents[1].id, 2025, {"revenue": Decimal("1000"), "employees": 12, "debt_ratio": Decimal("41.5")},
                       why),
        bulk.NewReport(ents[1].id, 2025, {"employees": 12}, why)]) == 1  # the second changes nothing
    session.expire_all()
    assert (_rows_of(session, AnnualReport, AnnualReport.enterprise_id == ents[0].id)
            == _rows_of(session, AnnualReport, AnnualReport.enterprise_id == ents[1].id))
    trails = [session.execute(sa.select(AuditEvent.action, AuditEvent.changes, AuditEvent.note, AuditEvent.document_no)
                              .where(AuditEvent.enterprise_id == e.id, AuditEvent.action == "annual_report.corrected"))
              .all() for e in ents]
    assert trails[0] == trails[1] and len(trails[0]) == 1
    assert trails[0][0].changes == {"revenue": ["1000.00", "1000"], "employees": [10, 12], "debt_ratio": ["40.00", "41.5"]}
    assert audit.verify(session).ok


def test_bulk_enterprise_updates_refuse_what_update_enterprise_refuses(session, admin, rules):
    from registry.enterprises.services import update_enterprise

    titled = make_enterprise(session, admin, uscc=make_uscc("331002", 700_101))
    grant_certification(session, actor=admin, rules=rules, enterprise_id=titled.id, tier="innovative_sme",
                        recognized_on=d("2024-06-15"), at=NOW)
    hangzhou = make_enterprise(session, admin, uscc=make_uscc("330106", 700_102), region_code="330106")
    taizhou = officer_of("331000")
    refusals = [  # (actor, enterprise, data): each refused alike by the service and the bulk writer
        (admin, titled, {"holder_kind": "zone", "zone_type": "park", "managing_body": "管委会"}),
        (admin, titled, {"region_code": "999999"}),
        (taizhou, titled, {"region_code": "330106"}),
        (taizhou, hangzhou, {"name": "越权"}),
        (admin, titled, {"holder_kind": "zone"}),
    ]
    for actor, ent, data in refusals:
        with pytest.raises((RuleViolation, NotFound)) as single:
            update_enterprise(session, actor=actor, enterprise_id=ent.id, data=data, version=ent.version, at=NOW)
        with pytest.raises(single.type) as refused:
            bulk.update_enterprises(session, actor=actor, at=NOW, items=[bulk.EnterpriseUpdate(ent.id, data)])
        assert getattr(refused.value, "errors", None) == getattr(single.value, "errors", None), data
    planned = titled.version
    update_enterprise(session, actor=admin, enterprise_id=titled.id, data={"name": "改"}, version=planned, at=NOW)
    with pytest.raises(StaleVersion):  # planned against the version before, changed since
        bulk.update_enterprises(session, actor=admin, at=NOW, items=[bulk.EnterpriseUpdate(titled.id, {"name": "再改"},
                                                                                            version=planned)])
