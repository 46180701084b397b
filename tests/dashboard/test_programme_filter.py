"""The dashboard filters by programme (issue 17 §5): the figures, expiries, overdue and flagged lists
of one programme; an unknown programme is named and the whole is shown."""

import pytest

from registry.dashboard.overview import expiries_by_month, flagged_titles, overdue_annual_updates, titles_by_city
from tests.conftest import d
from tests.factories import grant, make_enterprise
from tests.web.pages import page


@pytest.fixture
def two_programmes(session, admin, rules):
    national = make_enterprise(session, admin, region_code="331002", name="国家梯度企业")
    grant(session, admin, rules, national, "innovative_sme", d("2026-06-01"))
    eagle = make_enterprise(session, admin, region_code="331002", name="雏鹰培育企业")
    grant(session, admin, rules, eagle, "zj_eagle_pool", d("2026-06-01"))  # 28号: in the pool to 31 Dec 2026
    session.commit()
    return national, eagle


def test_the_figures_of_one_programme(session, two_programmes):
    assert {t for _, t, _, _ in titles_by_city(session)} == {"innovative_sme", "zj_eagle_pool"}
    assert {t for _, t, _, _ in titles_by_city(session, "zhejiang_eagle")} == {"zj_eagle_pool"}
    assert {t for _, t, _, _ in titles_by_city(session, "national")} == {"innovative_sme"}
    assert titles_by_city(session, "green_factory") == []
    expiring = dict(expiries_by_month(session, d("2026-12-01"), programme="zhejiang_eagle"))
    assert expiring[d("2026-12-01")] == 1  # the yearly pool ends on 31 December
    assert sum(n for _, n in expiries_by_month(session, d("2026-12-01"), programme="national")) == 0
    assert flagged_titles(session, programme="zhejiang_eagle") == ([], 0)


def test_the_dashboard_page_filters_by_programme(login_as, two_programmes):
    officer = login_as("officer", "331000")
    everything = page(officer, "/")
    assert "共 2 个" in everything and '<option value="zhejiang_eagle">' in everything
    eagle = page(officer, "/?programme=zhejiang_eagle")
    assert "共 1 个" in eagle and '<option value="zhejiang_eagle" selected>' in eagle
    assert "programme=zhejiang_eagle" in eagle  # the figures open the roster of the same programme
    assert "共 1 个" in page(officer, "/?programme=national")
    unknown = page(officer, "/?programme=%3Cscript%3E")
    assert "没有名为“&lt;script&gt;”的称号项目，已显示全部项目" in unknown and "共 2 个" in unknown
    assert "<script>" not in unknown


def test_a_pool_member_without_its_development_report_is_overdue_from_1_april(session, admin, rules):
    """234号 四（四）: "隐形冠军培育企业,应在每年 3 月底前向所在行业协会提交发展情况报告" — on 31 March
    nothing is overdue yet; on 1 April the member that filed nothing is, within its programme only."""
    member = make_enterprise(session, admin, region_code="331002", name="培育库未报企业")
    grant(session, admin, rules, member, "zj_hidden_champion_pool", d("2026-06-01"))
    session.commit()

    def listed(today, programme=None):
        rows, _ = overdue_annual_updates(session, rules, today, programme=programme)
        return {o.certification.enterprise.name: o.reason for o in rows}

    assert "培育库未报企业" not in listed(d("2027-03-31"))
    assert listed(d("2027-04-01"))["培育库未报企业"] == "缺少 2026 年度信息（截止 2027-03-31）"
    assert "培育库未报企业" in listed(d("2027-04-01"), "zhejiang_hidden_champion")
    assert "培育库未报企业" not in listed(d("2027-04-01"), "national")
