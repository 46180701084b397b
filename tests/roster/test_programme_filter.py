"""The roster, its API and its export filter by programme (issue 17 §5)."""

import pytest

from tests.conftest import d
from tests.factories import grant, make_enterprise
from tests.web.pages import page


@pytest.fixture
def two_programmes(session, admin, rules):
    national = make_enterprise(session, admin, region_code="331002", name="国家梯度企业")
    grant(session, admin, rules, national, "innovative_sme", d("2026-06-01"))
    pool = make_enterprise(session, admin, region_code="331002", name="隐形冠军培育库企业")
    grant(session, admin, rules, pool, "zj_hidden_champion_pool", d("2026-06-01"))
    session.commit()
    return national, pool


def test_the_roster_page_filters_by_programme(login_as, two_programmes):
    officer = login_as("officer", "331000")
    html = page(officer, "/enterprises?programme=zhejiang_hidden_champion")
    assert "隐形冠军培育库企业" in html and "国家梯度企业" not in html
    assert '<option selected value="zhejiang_hidden_champion">' in html or \
        '<option value="zhejiang_hidden_champion" selected>' in html
    both = page(officer, "/enterprises")
    assert "隐形冠军培育库企业" in both and "国家梯度企业" in both
    bad = page(officer, "/enterprises?programme=nonsense")  # not a choice: named, and not applied
    assert "国家梯度企业" in bad and "隐形冠军培育库企业" in bad and 'aria-invalid="true"' in bad
    assert 'id="programme-err"' in bad


def test_the_api_and_the_export_filter_by_programme(api_as, two_programmes):
    national, pool = two_programmes
    client = api_as("officer", "331000")
    listed = client.get("/api/v1/enterprises?programme=zhejiang_hidden_champion").get_json()["items"]
    assert [e["id"] for e in listed] == [pool.id]
    titles = client.get("/api/v1/certifications?programme=national").get_json()["items"]
    assert {c["tier"] for c in titles} == {"innovative_sme"}
    assert client.get("/api/v1/enterprises?programme=" + "x" * 33).status_code == 422
    csv = client.get("/api/v1/exports/roster.csv?programme=zhejiang_hidden_champion")
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    assert "隐形冠军培育库企业" in text and "国家梯度企业" not in text
