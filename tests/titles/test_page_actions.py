"""Every officer action through the pages, end to end: form → consequence → confirm → changed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.cli.base import today_in
from registry.domain.lifecycle import Status
from registry.domain.periods import add_years
from registry.enterprises.models import AnnualReport, ChangeReport, Enterprise
from registry.enterprises.services import update_enterprise
from registry.proposals.models import Proposal
from registry.titles.models import Ban, Certification
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report
from tests.web.fixtures import csrf_from
from tests.web.pages import edit_enterprise, page, post, submit, submit_as_browser


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def officer(login_as):
    return login_as("officer", "331000")


@pytest.fixture
def ent(session, admin):
    made = make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司")
    session.commit()
    return made


def second_officer_confirms(login_as, session) -> None:
    """Four-eyes (issue 16 §4): a revocation with a ban takes effect when another officer of the region confirms."""
    second = login_as("admin", "331002")
    listing = page(second, "/proposals")
    [pid] = session.scalars(sa.select(Proposal.id).where(Proposal.status == "pending")).all()
    assert second.post(f"/proposals/{pid}/confirm", data={"csrf_token": csrf_from(listing)}).status_code == 302


def titles_of(session, enterprise):
    session.expire_all()
    rows = session.scalars(sa.select(Certification).where(Certification.enterprise_id == enterprise.id))
    return {c.tier: c for c in rows}


def test_grant_shows_validity_and_review_window_then_grants(officer, ent, session, today):
    on = today - timedelta(days=10)
    confirm, done = submit(officer, f"/enterprises/{ent.id}/grant",
                           {"tier": "innovative_sme", "recognized_on": on, "document_no": "浙经信〔2026〕8号",
                            "batch": "2026年第2批", "authority": "浙江省经济和信息化厅"})
    until = add_years(on, 3)
    assert f"有效期自 {on} 起至 {until} 止" in confirm and f"复核窗口自 {until - timedelta(days=90)} 起开放" in confirm
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/enterprises/{ent.id}")
    cert = titles_of(session, ent)["innovative_sme"]
    assert (cert.status, cert.valid_until, cert.document_no) == (Status.ACTIVE, until, "浙经信〔2026〕8号")
    assert "已授予「创新型中小企业」称号" in page(officer, done.headers["Location"])


def test_first_step_changes_nothing_and_a_refused_grant_names_the_field(officer, ent, session, today):
    url = f"/enterprises/{ent.id}/grant"
    first = post(officer, url, {"tier": "innovative_sme", "recognized_on": today})
    assert first.status_code == 200 and "请确认" in first.get_data(as_text=True)
    assert titles_of(session, ent) == {}
    refused = post(officer, url, {"tier": "little_giant", "recognized_on": today})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "缺少前置称号" in html and 'aria-invalid="true"' in html
    missing = post(officer, url, {"tier": "", "recognized_on": ""})
    assert missing.status_code == 422 and "此项必填" in missing.get_data(as_text=True)


def test_submit_then_pass_review_adds_the_next_term(officer, ent, session, admin, rules, today):
    cert = grant(session, admin, rules, ent, "innovative_sme", add_years(today, -3) + timedelta(days=40))
    session.commit()
    _, done = submit(officer, f"/certifications/{cert.id}/submit_review", {"effective_on": today})
    assert done.status_code == 302 and titles_of(session, ent)["innovative_sme"].status == Status.UNDER_REVIEW
    old_until = cert.valid_until
    confirm, done = submit(officer, f"/certifications/{cert.id}/pass_review",
                           {"effective_on": today, "document_no": "复核〔2026〕3号"})
    start, until = old_until + timedelta(days=1), add_years(old_until, 3)
    assert f"新有效期自 {start} 起至 {until} 止" in confirm
    renewed = titles_of(session, ent)["innovative_sme"]
    assert done.status_code == 302 and renewed.status == Status.ACTIVE and renewed.valid_until == until
    assert [t.seq for t in renewed.terms] == [1, 2]
    assert "第 2 期" in page(officer, f"/enterprises/{ent.id}")


def test_fail_review_ends_the_title_as_the_policy_says(officer, ent, session, admin, rules, today):
    cert = grant(session, admin, rules, ent, "innovative_sme", add_years(today, -3) + timedelta(days=40))
    session.commit()
    submit(officer, f"/certifications/{cert.id}/submit_review", {"effective_on": today})  # issue 14: under review first
    confirm, done = submit(officer, f"/certifications/{cert.id}/fail_review", {"effective_on": today})
    assert "复核不通过，称号将于" in confirm and "到期终止" in confirm
    assert done.status_code == 302 and titles_of(session, ent)["innovative_sme"].status == Status.EXPIRED


def test_revoke_with_an_all_tiers_reason_ends_every_title_and_bans(officer, ent, session, admin, rules, today,
                                                                    login_as):
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    specialized = grant(session, admin, rules, ent, "specialized_sme", today - timedelta(days=300))
    session.commit()
    url = f"/certifications/{specialized.id}/revoke"
    form = page(officer, url)
    assert "撤销将同时取消该企业全部称号" in form and "撤销该称号（专精特新中小企业）" in form  # every reason, inline
    no_document = post(officer, url, {"version": specialized.version, "effective_on": today, "reason_code": "fraud"})
    assert no_document.status_code == 422 and "撤销须填写依据文号" in no_document.get_data(as_text=True)
    confirm, done = submit(officer, url, {"effective_on": today, "reason_code": "fraud", "document_no": "撤1号"})
    ban_end = add_years(today, 3)
    assert "撤销将同时取消该企业全部称号（专精特新中小企业及创新型中小企业）" in confirm
    assert f"禁止三年内（至 {ban_end}）再次申报" in confirm
    assert done.status_code == 302
    assert {t.status for t in titles_of(session, ent).values()} == {Status.ACTIVE}  # proposed, not yet revoked
    second_officer_confirms(login_as, session)
    assert {t.status for t in titles_of(session, ent).values()} == {Status.REVOKED}
    assert session.scalar(sa.select(Ban.ends_on).where(Ban.uscc == ent.uscc)) == ban_end
    assert "禁止申报中" in page(officer, f"/enterprises/{ent.id}")
    refused = post(officer, f"/enterprises/{ent.id}/grant", {"tier": "innovative_sme", "recognized_on": today})
    assert refused.status_code == 422 and f"至 {ban_end} 止" in refused.get_data(as_text=True)


def test_a_this_tier_reason_says_so_and_leaves_other_titles(officer, ent, session, admin, rules, today, login_as):
    base = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    specialized = grant(session, admin, rules, ent, "specialized_sme", today - timedelta(days=300))
    session.commit()
    confirm, _ = submit(officer, f"/certifications/{base.id}/revoke",
                        {"effective_on": today, "reason_code": "major_accident", "document_no": "X〔2026〕1号"})
    assert "撤销该称号（创新型中小企业）" in confirm and "禁止三年内" in confirm
    assert "专精特新中小企业将被标记为「前置条件丧失」" in confirm
    second_officer_confirms(login_as, session)
    titles = titles_of(session, ent)
    assert titles["innovative_sme"].status == Status.REVOKED and titles["specialized_sme"].status == Status.ACTIVE
    assert titles["specialized_sme"].prerequisite_lost and specialized.id == titles["specialized_sme"].id


def test_an_event_not_allowed_from_the_status_is_refused(officer, ent, session, admin, rules, today):
    cert = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    session.commit()
    submit(officer, f"/certifications/{cert.id}/withdraw", {"effective_on": today})
    assert page(officer, f"/certifications/{cert.id}/pass_review", status=409)
    page(officer, f"/certifications/{cert.id}/expire_everything", status=404)


def test_a_stale_title_version_is_refused_and_nothing_changes(officer, ent, session, admin, rules, today):
    cert = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    session.commit()
    response = post(officer, f"/certifications/{cert.id}/withdraw",
                    {"version": cert.version + 5, "effective_on": today, "confirmed": 1})
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    assert titles_of(session, ent)["innovative_sme"].status == Status.ACTIVE


def test_annual_report_is_recorded_then_corrected(officer, ent, session, admin, rules, today):
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    session.commit()
    url = f"/enterprises/{ent.id}/annual-reports/new"
    figures = {"year": today.year - 1, "submitted_on": today, "revenue": "52000000.00", "employees": 120,
               "rd_expense": "2100000", "audit_report_code": "ZJ2026000123"}
    confirm, done = submit(officer, url, figures)
    assert f"登记 {today.year - 1} 年度数据" in confirm and done.status_code == 302
    row = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).one()
    assert (row.revenue, row.employees, row.audit_report_code) == (52_000_000, 120, "ZJ2026000123")
    confirm, _ = submit(officer, url, {**figures, "employees": 125})
    assert f"更正已登记的 {today.year - 1} 年度数据" in confirm
    session.expire_all()
    assert session.get(AnnualReport, row.id).employees == 125


def test_change_report_deadline_uses_the_holiday_calendar(officer, ent, session, admin, rules, today):
    grant(session, admin, rules, ent, "innovative_sme", d("2025-01-10"))
    session.commit()
    confirm, done = submit(officer, f"/enterprises/{ent.id}/change-reports/new",
                           {"kind": "rename", "occurred_on": "2026-07-01", "reported_on": "2026-10-09"})
    assert "报告截止日期：2026-10-08" in confirm and "逾期报告" in confirm and "暂定" not in confirm
    assert done.status_code == 302
    row = session.scalars(sa.select(ChangeReport).where(ChangeReport.enterprise_id == ent.id)).one()
    assert (row.deadline_on, row.deadline_provisional) == (d("2026-10-08"), False)
    assert not titles_of(session, ent)["innovative_sme"].review_eligible  # reported late


def test_a_deadline_in_a_year_without_holiday_data_is_marked_provisional(officer, ent, session, today):
    occurred = min(today, d("2026-12-15"))  # issue 14: a change is never dated after today
    confirm, done = submit(officer, f"/enterprises/{ent.id}/change-reports/new",
                           {"kind": "merger", "occurred_on": occurred})
    assert "该截止日期为暂定：缺少 2027 年节假日数据" in confirm and "尚未报告" in confirm
    assert done.status_code == 302
    assert "暂定" in page(officer, f"/enterprises/{ent.id}")
    bad = post(officer, f"/enterprises/{ent.id}/change-reports/new",
               {"kind": "merger", "occurred_on": occurred, "reported_on": occurred - timedelta(days=5)})
    assert bad.status_code == 422 and "报告日期不能早于发生日期" in bad.get_data(as_text=True)


def edit_data(enterprise, **changes):
    base = {"version": enterprise.version, "name": enterprise.name, "uscc": enterprise.uscc,
            "region_code": enterprise.region_code, "size_class": "small"}
    return {f"edit-{k}": v for k, v in {**base, **changes}.items()}


def test_edit_saves_with_the_current_version(officer, ent, session):
    bad = post(officer, f"/enterprises/{ent.id}", edit_data(ent, contact_email="not-an-address"))
    assert bad.status_code == 422 and "邮箱地址格式不正确" in bad.get_data(as_text=True)
    preview, response = edit_enterprise(officer, ent.id,
                                        edit_data(ent, name="台州精密模具股份有限公司", contact_email="wang@mould.cn"))
    assert "台州精密模具股份有限公司" in preview and response.status_code == 302
    session.expire_all()
    saved = session.get(Enterprise, ent.id)
    assert (saved.name, saved.contact_email, saved.version) == ("台州精密模具股份有限公司", "wang@mould.cn", 2)


def test_edit_with_a_stale_version_shows_the_conflict_and_changes_nothing(officer, ent, session, admin):
    stale = edit_data(ent, name="覆盖别人的修改")
    update_enterprise(session, actor=admin, enterprise_id=ent.id, data={"name": "同事改的名称"}, version=ent.version,
                      at=NOW)
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = post(officer, f"/enterprises/{ent.id}", stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "已被他人修改" in html and 'value="同事改的名称"' in html
    session.expire_all()
    assert session.get(Enterprise, ent.id).name == "同事改的名称"
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_edit_with_a_bad_uscc_names_the_field(officer, ent):
    response = post(officer, f"/enterprises/{ent.id}", edit_data(ent, uscc="91331002MA0000000X"))
    assert response.status_code == 422 and "校验位错误" in response.get_data(as_text=True)


def test_downgrade_grants_the_champion_product(officer, ent, session, admin, rules, today):
    report(session, admin, ent, today.year - 1, revenue=900_000_000)
    ladder = (("innovative_sme", 900), ("specialized_sme", 800), ("little_giant", 700), ("single_champion", 600))
    for tier, days in ladder:
        champion = grant(session, admin, rules, ent, tier, today - timedelta(days=days))
    session.commit()
    confirm, done = submit(officer, f"/certifications/{champion.id}/downgrade", {"effective_on": today})
    assert "同时授予「" in confirm and done.status_code == 302
    titles = titles_of(session, ent)
    assert titles["single_champion"].status == Status.SUPERSEDED and titles["champion_product"].status == Status.ACTIVE


def test_going_back_from_the_confirmation_keeps_the_values_and_changes_nothing(officer, ent, session, today):
    url = f"/enterprises/{ent.id}/grant"
    back = post(officer, url, {"tier": "innovative_sme", "recognized_on": today, "batch": "第9批",
                               "confirmed": 1, "back": 1})
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and "下一步：查看办理后果" in html and 'value="第9批"' in html
    assert titles_of(session, ent) == {}


def test_pages_offer_only_what_the_guards_allow(officer, ent, session, admin, rules, today):
    """Issue 14: 复核通过 is not offered without a review under way, nor 提交复核 outside the window."""
    early = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=200))  # window far ahead
    session.commit()
    html = page(officer, f"/enterprises/{ent.id}")
    base = f"/certifications/{early.id}/"
    assert base + "withdraw" in html and base + "revoke" in html
    assert base + "submit_review" not in html and base + "pass_review" not in html and base + "fail_review" not in html
    refused = post(officer, base + "submit_review", {"version": early.version, "effective_on": today, "confirmed": 1})
    text = refused.get_data(as_text=True)
    opens = early.valid_until - timedelta(days=90)
    assert refused.status_code == 422 and f"复核窗口为 {opens} 至" in text

    other = make_enterprise(session, admin, region_code="331002")
    due = grant(session, admin, rules, other, "innovative_sme", add_years(today, -3) + timedelta(days=40))
    session.commit()
    base = f"/certifications/{due.id}/"
    html = page(officer, f"/enterprises/{other.id}")
    assert base + "submit_review" in html and base + "pass_review" not in html
    submit(officer, base + "submit_review", {"effective_on": today})
    html = page(officer, f"/enterprises/{other.id}")
    assert base + "pass_review" in html and base + "fail_review" in html and base + "submit_review" not in html
    submit(officer, base + "pass_review", {"effective_on": today})
    html = page(officer, f"/enterprises/{other.id}")
    assert base + "pass_review" not in html and base + "submit_review" not in html  # once per term
    assert "不能执行「复核通过」" in page(officer, base + "pass_review", status=409)
    assert len(titles_of(session, other)["innovative_sme"].terms) == 2


def test_correction_form_shows_the_filed_figures_and_changing_one_keeps_the_others(officer, ent, session, admin,
                                                                                    rules, today):
    """Issue 18: correcting one figure of a filed annual report keeps the others."""
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    year = today.year - 2  # not the form's default year: the 更正 link names it
    report(session, admin, ent, year, revenue=1_262_020_500, main_business_revenue=1_000_000_000, rd_expense=50_000_000,
           employees=300, rd_staff=40, debt_ratio="45.5", invention_patents=7, audit_report_code="ZJ2025000001",
           audit_firm="台州某会计师事务所")
    session.commit()
    enterprise_page = page(officer, f"/enterprises/{ent.id}")
    url = f"/enterprises/{ent.id}/annual-reports/new?year={year}"
    assert f'href="{url}"' in enterprise_page.replace("&amp;", "&")
    form = page(officer, url)
    assert f"更正 {year} 年度信息" in form and 'value="1262020500.00"' in form and 'value="台州某会计师事务所"' in form
    confirm, done = submit_as_browser(officer, url, {"revenue": "1262020600.00"})  # the rest as prefilled
    assert "营业收入（元）：1,262,020,500.00 → 1,262,020,600.00" in confirm and "其余 11 项保持已登记的数值不变" in confirm  # 12 fields, 2 of them the main product (issue 14)
    assert done.status_code == 302
    session.expire_all()
    row = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).one()
    assert (row.revenue, row.main_business_revenue, row.rd_expense, row.employees, row.rd_staff, row.debt_ratio,
            row.invention_patents, row.audit_report_code, row.audit_firm, row.submitted_on) == (
        1_262_020_600, 1_000_000_000, 50_000_000, 300, 40, Decimal("45.5"), 7, "ZJ2025000001", "台州某会计师事务所",
        date(year + 1, 3, 1))
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "annual_report.corrected")).one()
    assert set(event.changes) == {"revenue"}


def test_a_correction_typed_into_an_empty_form_keeps_what_was_not_re_entered(officer, ent, session, admin, rules,
                                                                               today):
    """Without the prefill (an old bookmark, a script), blank fields mean "not entered", never "erase"."""
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    year = today.year - 2  # filed 1 March of the next year: before today on any day
    report(session, admin, ent, year, revenue=52_000_000, employees=120, audit_report_code="ZJ2026000123")
    session.commit()
    url = f"/enterprises/{ent.id}/annual-reports/new"
    html = page(officer, url)
    response = officer.post(url, data={"csrf_token": csrf_from(html), "year": year, "submitted_on": today,
                                       "employees": 125, "confirmed": "1"})
    assert response.status_code == 302
    session.expire_all()
    row = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).one()
    assert (row.revenue, row.employees, row.audit_report_code) == (52_000_000, 125, "ZJ2026000123")


def test_clearing_a_prefilled_figure_on_purpose_clears_it(officer, ent, session, admin, rules, today):
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    year = today.year - 2  # filed 1 March of the next year: before today on any day
    report(session, admin, ent, year, revenue=52_000_000, employees=120, audit_report_code="ZJ2026000123")
    session.commit()
    confirm, done = submit_as_browser(officer, f"/enterprises/{ent.id}/annual-reports/new?year={year}", {"employees": ""})
    assert "从业人员（人）：120 → （空）" in confirm and done.status_code == 302
    session.expire_all()
    row = session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).one()
    assert (row.revenue, row.employees, row.audit_report_code) == (52_000_000, None, "ZJ2026000123")


def test_the_preview_refuses_what_the_action_would_refuse(officer, ent, session, admin, rules, today):
    """The confirmation page is computed by the action itself (tried in a savepoint and undone): implausible figures
    are refused at the first step, not after 确认办理, and trying them writes nothing."""
    grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    session.commit()
    url = f"/enterprises/{ent.id}/annual-reports/new"
    first = post(officer, url, {"year": today.year - 1, "submitted_on": today, "revenue": "1000000.00",
                                "main_business_revenue": "2000000.00", "employees": 10})
    text = first.get_data(as_text=True)
    assert first.status_code == 422 and "请确认" not in text and "主营业务收入" in text
    session.expire_all()
    assert session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).first() is None
    assert session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "annual_report.recorded")).first() is None
    # A plausible preview is offered, and still writes nothing until it is confirmed.
    ok = post(officer, url, {"year": today.year - 1, "submitted_on": today, "revenue": "2000000.00",
                             "main_business_revenue": "1000000.00", "employees": 10})
    assert ok.status_code == 200 and "请确认" in ok.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).first() is None
