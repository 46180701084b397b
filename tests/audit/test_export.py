"""Export of a filtered trail: .xlsx read back with python-calamine, CSV with a BOM; formulas defused."""

import csv
import io
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from registry.audit import trail as audit
from registry.audit.export import HEADERS, csv_chunks, write_csv, write_xlsx
from registry.audit.queries import AuditFilter
from registry.domain.actors import Actor, Role
from registry.enterprises.services import update_enterprise
from registry.platform.cells import safe_cell
from tests.conftest import NOW, officer_of
from tests.factories import make_enterprise

OFFICER = Actor(kind="user", name="tz_officer", role=Role.OFFICER, region_code="331000", ip="10.1.2.3",
                request_id="req-1")


@pytest.fixture
def edited(session, admin):
    """An enterprise in 椒江 whose contact e-mail and name an officer changed (one with a formula)."""
    ent = make_enterprise(session, admin, name="台州甲有限公司", contact_email="old@example.com")
    update_enterprise(session, actor=OFFICER, enterprise_id=ent.id, version=ent.version, at=NOW,
                      data={"contact_email": "new@example.com", "contact_name": '=HYPERLINK("http://evil","点我")'},
                      why=audit.Why(reason_code="correction", document_no="台经信函〔2026〕8号", note="@备注"))
    make_enterprise(session, admin, region_code="330106")  # another city: outside the officer's trail
    return ent


def read_xlsx(data):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("审计记录").to_python()


def test_xlsx_one_row_per_changed_field(session, edited):
    out = io.BytesIO()
    count = write_xlsx(session, officer_of("331000"), AuditFilter(action="enterprise.updated"), out)
    rows = read_xlsx(out.getvalue())
    assert tuple(rows[0]) == HEADERS and count == len(rows) - 1 == 2
    record = [dict(zip(HEADERS, r, strict=True)) for r in rows[1:]]
    by_field = {r["字段"]: r for r in record}
    email = by_field["联系邮箱"]
    assert (email["原值"], email["新值"], email["操作人"], email["操作"], email["IP"], email["请求号"]) == (
        "o***@example.com", "n***@example.com", "tz_officer（用户）", "修改企业信息", "10.1.2.3", "req-1")
    assert (email["时间(北京时间)"], email["企业"], email["地区"], email["对象"], email["文号"]) == (
        "2026-06-01 10:00:00", "台州甲有限公司", "椒江区", "企业", "台经信函〔2026〕8号")
    assert email["对象编号"] == edited.id
    formula = '=HYPERLINK("http://evil","点我")'  # masked as personal data (issue 16 §6), and still no formula
    assert by_field["联系人"]["新值"] == "'=" + "*" * (len(formula) - 1) and email["备注"] == "'@备注"
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:  # no formula cell anywhere
        assert all("<f>" not in archive.read(n).decode() for n in archive.namelist() if n.endswith(".xml"))


def test_scope_applies_to_the_export(session, edited):
    out = io.BytesIO()
    write_xlsx(session, officer_of("331000"), AuditFilter(), out)
    regions = {r[6] for r in read_xlsx(out.getvalue())[1:]}
    assert regions == {"椒江区"}


def test_csv_has_a_bom_and_the_same_rows(session, edited):
    out = io.BytesIO()
    write_csv(session, officer_of("331000"), AuditFilter(action="enterprise."), out)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADERS
    created = [r for r in rows[1:] if r[2] == "登记企业"]
    assert {r[7] for r in created} >= {"统一社会信用代码", "企业名称", "所在地区", "联系邮箱"}
    formula = '=HYPERLINK("http://evil","点我")'  # the contact name: masked, escaped all the same
    assert any(r[9] == "'=" + "*" * (len(formula) - 1) for r in rows)


def test_csv_streams_in_chunks(session, admin):
    for _ in range(3):
        make_enterprise(session, admin)
    chunks = list(csv_chunks(session, admin, AuditFilter(), batch=5))
    assert len(chunks) > 2 and chunks[0].startswith("\ufeff".encode())


def test_an_event_without_changes_still_gets_a_row(session, admin):
    audit.record(session, actor=admin, action="test.empty", entity_type="test", entity_id=None, changes={}, at=NOW)
    rows = read_xlsx(_xlsx(session, admin, AuditFilter(action="test.")))
    assert len(rows) == 2 and rows[1][2] == "test.empty" and rows[1][7] == ""


def _xlsx(session, actor, f):
    out = io.BytesIO()
    write_xlsx(session, actor, f, out)
    return out.getvalue()


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("  =1", "'  =1"), ("-12.50", "-12.50"), ("+86", "+86"), ("正常文本", "正常文本"), ("a\x00b\x1fc", "abc"),
    (None, None), (42, 42), ("x" * 40000, "x" * 32767),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
