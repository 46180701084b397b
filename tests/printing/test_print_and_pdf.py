"""Print and PDF (issue 18 point 7): an enterprise record, a 公示名单 and a 认定名单 as pages for paper and
as PDFs in Chinese, with 文号 and date; region-scoped and audited like every download."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from registry.audit.models import AuditEvent
from registry.platform.clock import today_in
from tests.factories import grant, make_enterprise
from tests.web.pipeline_data import LEVELS, publicity_scene

pytestmark = pytest.mark.usefixtures("app")


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def holder(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="331002", name="台州打印测试精工有限公司",
                          contact_phone="13912345678", contact_name="李四")
    grant(session, admin, rules, ent, "innovative_sme", date(2025, 3, 1), document_no="浙经信企业〔2025〕12号")
    session.commit()
    return ent


def test_the_enterprise_record_prints_with_its_titles_and_without_personal_data(holder, login_as):
    officer = login_as("officer", "331000")

    page = officer.get(f"/enterprises/{holder.id}/print")
    html = page.get_data(as_text=True)

    assert page.status_code == 200 and "企业档案" in html and holder.name in html and holder.uscc in html
    assert "创新型中小企业" in html and "浙经信企业〔2025〕12号" in html and "2025年3月1日" in html
    assert "13912345678" not in html and "李四" not in html  # personal information is not printed
    assert f'href="/enterprises/{holder.id}/record.pdf"' in html
    assert "<script" not in html and "<style" not in html  # the page obeys the CSP (stylesheet from /assets)


def test_the_enterprise_record_downloads_as_a_pdf_in_chinese_and_is_audited(holder, login_as, session):
    officer = login_as("officer", "331000")

    response = officer.get(f"/enterprises/{holder.id}/record.pdf")
    data = response.get_data()

    assert response.status_code == 200 and response.mimetype == "application/pdf" and data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(data)
    assert "企业档案" in text and holder.name in text and "浙经信企业〔2025〕12号" in text
    assert "13912345678" not in text
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.enterprise_record")
                            .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.entity_id == holder.id and event.actor_name == "officer-331000"


def test_another_citys_officer_cannot_print_the_record(holder, login_as):
    stranger = login_as("officer", "330100")  # 杭州
    assert stranger.get(f"/enterprises/{holder.id}/print").status_code == 404
    assert stranger.get(f"/enterprises/{holder.id}/record.pdf").status_code == 404


@pytest.fixture
def in_publicity(api_as, session, admin, rules):
    today = today_in("Asia/Shanghai")
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    return publicity_scene(clients, session, admin, rules, today)


def test_the_publicity_list_prints_and_downloads_and_the_results_wait_for_finalisation(in_publicity, login_as,
                                                                                       session):
    from registry.enterprises.models import Enterprise

    officer = login_as("auditor", "330000")  # the province's inspector reads and prints (the scene made its officer)
    batch = in_publicity["batch"]
    name = session.get(Enterprise, in_publicity["enterprise"]).name

    page = officer.get(f"/batches/{batch}/publicity/print").get_data(as_text=True)
    assert "公示名单" in page and name in page and "公示期" in page and "共 1 家" in page
    assert "椒江区" in page  # the 所属地区 column, by name

    pdf = officer.get(f"/batches/{batch}/publicity.pdf")
    assert pdf.status_code == 200 and "公示名单" in pdf_text(pdf.get_data()) and name in pdf_text(pdf.get_data())

    early = officer.get(f"/batches/{batch}/results/print")
    assert early.status_code == 409 and "尚未办结" in early.get_data(as_text=True)
    assert officer.get(f"/batches/{batch}/nonsense/print").status_code == 404
