"""POST/GET /api/v1/imports, the error workbook and /api/v1/exports/roster.{xlsx,csv} with real files."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from registry.audit.models import AuditEvent
from registry.enterprises.models import Enterprise
from registry.roster.export import HEADERS
from registry.roster.models import ImportRun
from registry.titles.models import Certification
from tests.conftest import d
from tests.factories import grant, make_enterprise, make_uscc
from tests.roster.files import csv_bytes, read_xlsx, roster_rows, xlsx

EVIL = '=HYPERLINK("http://evil.example","点我")'


def upload(client, content: bytes, filename: str = "名单.xlsx", **form: str):
    """POST a file to /api/v1/imports as multipart/form-data."""
    return client.post("/api/v1/imports", data={**form, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def officer(api_as):
    return api_as("officer", "331000")


def test_a_good_file_is_dry_run_then_applied(officer, session):
    rows = roster_rows(3, serial=810_000)
    usccs = [r[2] for r in rows]
    dry = upload(officer, xlsx(rows), mode="dry_run")
    body = dry.get_json()
    assert dry.status_code == 201, body
    assert body["status"] == "validated" and body["errors"] == [] and "errors_url" not in body
    assert body["counts"]["new_enterprises"] == 3 and body["counts"]["new_titles"] == 3
    assert [e["uscc"] for e in body["diff"]["new_enterprises"]] == usccs and body["warnings"] == []
    assert count(session, Enterprise, Enterprise.uscc.in_(usccs)) == 0  # a dry run writes nothing

    applied = upload(officer, xlsx(rows), mode="apply")
    assert applied.status_code == 201 and applied.get_json()["status"] == "applied"
    assert count(session, Enterprise, Enterprise.uscc.in_(usccs)) == 3
    assert count(session, Certification, Certification.tier == "innovative_sme",
                 Certification.enterprise_id.in_(sa.select(Enterprise.id).where(Enterprise.uscc.in_(usccs)))) == 3
    notes = session.scalars(sa.select(AuditEvent.note).where(AuditEvent.entity_type == "enterprise",
                                                             AuditEvent.action == "enterprise.created")).all()
    assert {"导入 名单.xlsx 第2行", "导入 名单.xlsx 第3行", "导入 名单.xlsx 第4行"} <= set(notes)  # file and row as basis

    shown = officer.get(f"/api/v1/imports/{applied.get_json()['id']}").get_json()
    assert shown["progress"] == {"processed_rows": 3, "total_rows": 3} and shown["filename"] == "名单.xlsx"
    listed = officer.get("/api/v1/imports?per_page=1").get_json()
    assert listed["total"] == 2 and [i["id"] for i in listed["items"]] == [shown["id"]]
    assert "diff" not in listed["items"][0] and listed["items"][0]["counts"]["rows"] == 3


def test_bad_rows_fail_naming_row_and_column_with_a_workbook_and_import_nothing(officer, session):
    rows = roster_rows(4, serial=811_000)
    rows[1][4] = "金牌企业"  # spreadsheet row 3, column E (称号)
    rows[3][2] = rows[3][2][:-1] + ("0" if rows[3][2][-1] != "0" else "1")  # row 5, column C: bad check digit
    before = count(session, Enterprise)
    response = upload(officer, csv_bytes(rows), filename="名单.csv", mode="apply")
    body = response.get_json()
    assert response.status_code == 201 and body["status"] == "failed"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "E列（称号）"), (5, "C列（统一社会信用代码）")]
    assert body["counts"]["error_rows"] == 2 and count(session, Enterprise) == before

    workbook = officer.get(body["errors_url"])
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" + quote("名单.错误清单.xlsx") in workbook.headers["Content-Disposition"]
    sheet = read_xlsx(workbook.data)
    assert sheet[0][-1] == "错误说明"
    assert sheet[2][-1].startswith("第3行 E列（称号）") and sheet[4][-1].startswith("第5行 C列（统一社会信用代码）")
    assert all(v is None for v in sheet[1][8:] + sheet[3][8:])  # good rows carry no note in column I


@pytest.mark.parametrize("form, files, field, says", [
    ({"mode": "dry_run"}, None, "file", "请选择"),
    ({"mode": "dry_run"}, b"", "file", "文件为空"),
    ({"mode": "later"}, b"x", "mode", "dry_run"),
    ({"mode": "dry_run", "programme": "nope"}, roster_rows(1, serial=812_000), "programme", "未知的项目"),
])
def test_bad_requests_get_422_naming_the_field_and_record_nothing(officer, session, form, files, field, says):
    before = count(session, ImportRun)
    data = dict(form)
    if files is not None:
        data["file"] = (io.BytesIO(xlsx(files) if isinstance(files, list) else files), "名单.xlsx")
    response = officer.post("/api/v1/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 422, response.get_json()
    assert says in response.get_json()["errors"][field][0]
    assert count(session, ImportRun) == before


def test_auditor_may_not_import(api_as, session):
    auditor = api_as("auditor", "330000")
    response = upload(auditor, xlsx(roster_rows(1, serial=813_000)), mode="dry_run")
    assert response.status_code == 403 and count(session, ImportRun) == 0


def test_cookie_authenticated_upload_needs_the_csrf_header(login_as, session):
    officer = login_as("officer", "331000")
    refused = upload(officer, xlsx(roster_rows(1, serial=813_500)), mode="dry_run")
    assert refused.status_code == 400 and count(session, ImportRun) == 0


def test_an_import_of_another_region_is_404(api_as):
    hangzhou = api_as("officer", "330100")
    run = upload(hangzhou, csv_bytes(roster_rows(2, region="330106", serial=814_000)), filename="杭州.csv",
                 mode="apply").get_json()
    bad = [list(r) for r in roster_rows(1, region="330106", serial=814_100)]
    bad[0][4] = "金牌企业"
    failed = upload(hangzhou, xlsx(bad), mode="apply").get_json()
    taizhou = api_as("officer", "331000")
    for url in (f"/api/v1/imports/{run['id']}", failed["errors_url"]):
        assert taizhou.get(url).status_code == 404, url
    assert taizhou.get("/api/v1/imports").get_json()["total"] == 0
    province = api_as("auditor", "330000")
    assert province.get(f"/api/v1/imports/{run['id']}").get_json()["status"] == "applied"
    assert province.get("/api/v1/imports").get_json()["total"] == 2
    assert province.get(f"/api/v1/imports/{run['id']}/errors.xlsx").status_code == 404  # applied: no workbook


def test_an_officer_cannot_import_into_another_region(officer, session):
    body = upload(officer, xlsx(roster_rows(1, region="330106", serial=815_000)), mode="apply").get_json()
    assert body["status"] == "failed" and body["errors"][0]["field"] == "region_code"
    assert count(session, Enterprise, Enterprise.region_code == "330106") == 0


@pytest.fixture
def roster(session, admin, rules):
    """台州: a formula-like name with a title, one more titled, one untitled; 杭州: one titled."""
    evil = make_enterprise(session, admin, uscc=make_uscc("331002", 816_001), name=EVIL, contact_phone="+86 576 1")
    grant(session, admin, rules, evil, "innovative_sme", d("2024-06-15"), batch="2024年第一批")
    plain = make_enterprise(session, admin, uscc=make_uscc("331003", 816_002), region_code="331003",
                            name="台州路桥精工有限公司")
    grant(session, admin, rules, plain, "innovative_sme", d("2024-08-01"))
    grant(session, admin, rules, plain, "specialized_sme", d("2025-03-01"))
    make_enterprise(session, admin, uscc=make_uscc("331002", 816_003), name="台州尚无称号有限公司")
    hz = make_enterprise(session, admin, uscc=make_uscc("330106", 816_004), region_code="330106", name="杭州某公司")
    grant(session, admin, rules, hz, "innovative_sme", d("2024-06-15"))
    session.commit()


def table(response, fmt: str) -> list[list]:
    if fmt == "xlsx":
        return read_xlsx(response.data)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("query", ["", "?tier=innovative_sme&status=active", "?region=331003", "?q=精工"])
def test_export_lists_what_the_api_lists_in_the_region(officer, roster, fmt, query):
    response = officer.get(f"/api/v1/exports/roster.{fmt}{query}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="roster-') and quote("企业名录") in disposition
    rows = table(response, fmt)
    assert rows[0] == HEADERS
    exported = {r[HEADERS.index("统一社会信用代码")] for r in rows[1:]}
    listed = officer.get(f"/api/v1/enterprises{query}{'&' if query else '?'}per_page=500").get_json()["items"]
    assert exported == {e["uscc"] for e in listed} and exported
    assert make_uscc("330106", 816_004) not in exported  # 杭州 lies outside 台州


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_formula_like_cells_are_neutralised(officer, roster, fmt):
    assert table(officer.get(f"/api/v1/exports/roster.{fmt}?q=HYPERLINK"), fmt)[1][HEADERS.index("联系电话")] == "****61"
    response = officer.get(f"/api/v1/exports/roster.{fmt}?q=HYPERLINK&unmask=1")  # the phone in full (audited)
    rows = table(response, fmt)
    assert rows[1][HEADERS.index("企业名称")] == "'" + EVIL
    assert rows[1][HEADERS.index("联系电话")] == "'+86 576 1"
    if fmt == "xlsx":
        cell = load_workbook(io.BytesIO(response.data)).worksheets[0].cell(row=2, column=HEADERS.index("企业名称") + 1)
        assert cell.data_type == "s"  # text, not a formula


def test_bad_export_filters_get_422(officer):
    response = officer.get("/api/v1/exports/roster.xlsx?status=nonsense&per_page=0")
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"status", "per_page"}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_exported_roster_reimports_as_a_no_op(officer, roster, session, fmt):
    exported = officer.get(f"/api/v1/exports/roster.{fmt}")
    before = {m.__tablename__: count(session, m) for m in (Enterprise, Certification)}
    dry = upload(officer, exported.data, filename=f"名录.{fmt}", mode="dry_run").get_json()
    assert dry["status"] == "validated", dry["errors"]
    totals = dry["diff"]["totals"]
    assert totals["unchanged_rows"] == dry["counts"]["rows"] == 4
    assert totals["new_enterprises"] == totals["changed"] == totals["new_titles"] == totals["new_reports"] == 0
    applied = upload(officer, exported.data, filename=f"名录.{fmt}", mode="apply").get_json()
    assert applied["status"] == "applied"
    assert {m.__tablename__: count(session, m) for m in (Enterprise, Certification)} == before
    assert table(officer.get(f"/api/v1/exports/roster.{fmt}"), fmt) == table(exported, fmt)
