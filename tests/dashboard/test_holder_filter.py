"""The dashboard and the roster filter by holder kind (issue 17, docs/holders.md), on the pages and the API;
a zone registered through the API shows its managing body on its page; a product title its product."""

from tests.conftest import d
from tests.enterprises.test_zone_holders import body_uscc, make_zone
from tests.factories import grant, make_enterprise, report


def seed(session, admin, rules):
    zone = make_zone(session, admin, serial=71)
    grant(session, admin, rules, zone, "cooperation_zone", d("2025-01-15"))
    firm = make_enterprise(session, admin, name="台州轴承有限公司")
    report(session, admin, firm, 2023, revenue=900_000_000, main_product="高精度轴承")
    grant(session, admin, rules, firm, "champion_product", d("2024-03-01"), product_sales=500_000_000)
    plain = make_enterprise(session, admin, name="台州普通有限公司")
    grant(session, admin, rules, plain, "innovative_sme", d("2025-03-01"))
    session.commit()
    return zone, firm, plain


def pivot(html):
    """The dashboard's table of titles by tier × status × city."""
    return html[html.index('id="h-table"'):html.index('id="h-exp"')]


def test_the_dashboard_counts_the_titles_of_one_holder_kind(session, admin, rules, login_as):
    seed(session, admin, rules)
    client = login_as("officer", "331000")
    every = client.get("/").get_data(as_text=True)
    assert "中外中小企业合作区" in every and "制造业单项冠军产品" in every and "创新型中小企业" in every
    zones = client.get("/?holder=zone").get_data(as_text=True)
    assert "<strong>园区（区域）</strong>" in zones
    table = pivot(zones)
    assert "中外中小企业合作区" in table and "创新型中小企业" not in table and "holder=zone" in table
    table = pivot(client.get("/?holder=product").get_data(as_text=True))
    assert "制造业单项冠军产品" in table and "中外中小企业合作区" not in table
    assert client.get("/?holder=planet").status_code == 200  # an unknown kind is ignored, never a 5xx


def test_the_roster_page_and_the_api_filter_by_holder_kind(session, admin, rules, login_as, api_as):
    zone, firm, plain = seed(session, admin, rules)
    client = login_as("officer", "331000")
    page = client.get("/enterprises?holder=zone").get_data(as_text=True)
    assert zone.name in page and plain.name not in page and firm.name not in page
    page = client.get("/enterprises?holder=product").get_data(as_text=True)
    assert firm.name in page and plain.name not in page
    api = api_as("officer", "330000")
    names = {e["name"] for e in api.get("/api/v1/enterprises?holder=enterprise").get_json()["items"]}
    assert {firm.name, plain.name} <= names and zone.name not in names
    assert api.get("/api/v1/enterprises?holder=planet").status_code == 422


def test_a_zone_registered_through_the_api_and_its_page(session, admin, rules, api_as, login_as):
    api = api_as("officer", "330000")
    body = {"uscc": body_uscc("331000", 72), "name": "台州质量品牌提升示范区", "region_code": "331000",
            "holder_kind": "zone", "zone_type": "area", "managing_body": "台州市人民政府"}
    created = api.post("/api/v1/enterprises", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["holder_kind"] == "zone" and created.get_json()["managing_body"] == "台州市人民政府"
    refused = api.post("/api/v1/enterprises", json={**body, "uscc": body_uscc("331000", 73), "managing_body": ""})
    assert refused.status_code == 422 and "管理机构" in str(refused.get_json())
    page = login_as("officer", "331002").get(f"/enterprises/{created.get_json()['id']}")
    assert page.status_code == 404  # a district officer does not see the city's zone
    page = login_as("officer", "331000").get(f"/enterprises/{created.get_json()['id']}").get_data(as_text=True)
    assert "园区（区域）：行政区域" in page and "台州市人民政府" in page


def test_a_product_title_shows_its_product_on_the_page_and_in_the_api(session, admin, rules, login_as, api_as):
    _, firm, _ = seed(session, admin, rules)
    page = login_as("officer", "331000").get(f"/enterprises/{firm.id}").get_data(as_text=True)
    assert "制造业单项冠军产品：高精度轴承" in page and "产品销售收入" in page
    titles = api_as("officer", "330000").get(f"/api/v1/enterprises/{firm.id}").get_json()["certifications"]
    assert [(t["holder"], t["product_name"]) for t in titles] == [("product", "高精度轴承")]
