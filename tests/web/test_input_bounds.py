"""Hostile input on representative endpoints (issue 13 §5): never a 5xx, a Chinese message naming the field.

Classes: huge and exotic numbers (1e20, 2**63, -1, 'abc', NaN/Infinity), out-of-range years and dates,
text made of control/zero-width/bidi characters, over-long text, deep and huge JSON, out-of-range
path ids; the same through the page forms and query strings.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from registry.enterprises.models import AnnualReport, Enterprise
from registry.platform.bounds import MAX_PAGE
from registry.web.api import MAX_JSON_DEPTH
from tests.factories import make_enterprise, make_uscc
from tests.web.pages import edit_enterprise, page, post

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202e\u2066\x00\x07"


@pytest.fixture
def api(api_as):
    return api_as("officer", "331000")


@pytest.fixture
def ent(session, admin):
    made = make_enterprise(session, admin, region_code="331002", name="台州精密模具有限公司")
    session.commit()
    return made


def refused(response, field, status=422):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert field in body["errors"], body
    message = json.dumps(body["errors"][field], ensure_ascii=False)
    assert any("\u4e00" <= c <= "\u9fff" for c in message), message  # Chinese
    return message


@pytest.mark.parametrize("value", ["1e20", "-1", "abc", "0", str(2**63), "99999999999999999999", "1.5", ""])
@pytest.mark.parametrize("url", ["/api/v1/enterprises", "/api/v1/certifications", "/api/v1/audit", "/api/v1/imports",
                                 "/api/v1/reminders", "/api/v1/pools", "/api/v1/batches"])
def test_page_query_args_are_refused_not_500(api, url, value):
    refused(api.get(f"{url}?page={value}"), "page")
    refused(api.get(f"{url}?per_page={value}"), "per_page")


def test_the_largest_page_still_answers(api):
    assert api.get(f"/api/v1/enterprises?page={MAX_PAGE}&per_page=500").status_code == 200
    refused(api.get(f"/api/v1/enterprises?page={MAX_PAGE + 1}"), "page")


@pytest.mark.parametrize("year", ["10000", "-5", "1e20", str(2**63), "abc"])
def test_year_query_is_refused(api, year):
    refused(api.get(f"/api/v1/pools?year={year}"), "year")


@pytest.mark.parametrize("day", ["10000-01-01", "0001-01-01", "1899-12-31", "2101-01-01", "2024-02-30", "x"])
def test_dates_out_of_range_are_refused(api, ent, day):
    refused(api.get(f"/api/v1/enterprises?as_of={day}"), "as_of")
    refused(api.post(f"/api/v1/enterprises/{ent.id}/certifications",
                     json={"tier": "innovative_sme", "recognized_on": day}), "recognized_on")


@pytest.mark.parametrize("number", [2**63, 10**20, -1, 1e20, 10**7 + 1])
def test_huge_integers_in_a_body_are_refused(api, ent, number):
    message = refused(api.post(f"/api/v1/enterprises/{ent.id}/annual-reports",
                               json={"year": 2025, "submitted_on": "2026-03-01", "employees": number}), "employees")
    assert "之间" in message or "整数" in message


@pytest.mark.parametrize("year", [10000, 1989, 2**63])
def test_annual_report_year_is_bounded(api, ent, year):
    refused(api.post(f"/api/v1/enterprises/{ent.id}/annual-reports",
                     json={"year": year, "submitted_on": "2026-03-01"}), "year")


@pytest.mark.parametrize("amount", ["1e400", "99999999999999999999", "NaN", "Infinity", "-1", "9" * 40, "9" * 30 + "万"])
def test_amounts_beyond_the_column_are_refused(api, ent, amount):
    refused(api.post(f"/api/v1/enterprises/{ent.id}/annual-reports",
                     json={"year": 2025, "submitted_on": "2026-03-01", "revenue": amount}), "revenue")


@pytest.mark.parametrize("raw", ['{"year": NaN}', '{"year": Infinity}', '{"year": -Infinity}'])
def test_non_json_constants_are_refused_before_anything_reads_them(api, ent, raw):
    response = api.post(f"/api/v1/enterprises/{ent.id}/annual-reports", data=raw, content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]


def test_zero_width_names_are_refused_and_visible_ones_cleaned(api, session):
    base = {"uscc": make_uscc("331002"), "region_code": "331002"}
    message = refused(api.post("/api/v1/enterprises", json={**base, "name": INVISIBLE}), "name")
    assert "不能为空" in message
    made = api.post("/api/v1/enterprises", json={**base, "name": f" 台州\u200b精工\u202e有限公司{INVISIBLE} ",
                                                 "contact_name": "王\u200b工"})
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["name"], made.get_json()["contact_name"]) == ("台州精工有限公司", "王*")  # answered masked
    stored = session.get(Enterprise, made.get_json()["id"])
    assert (stored.name, stored.contact_name) == ("台州精工有限公司", "王工")


def test_text_too_long_is_refused(api, ent):
    message = refused(api.post(f"/api/v1/enterprises/{ent.id}/change-reports",
                               json={"kind": "rename", "occurred_on": "2026-05-01", "details": "字" * 4001}), "details")
    assert "4000" in message


def test_required_text_in_the_pipeline_is_refused_when_invisible(api):
    refused(api.post("/api/v1/batches", json={"tier": "innovative_sme", "year": 2026, "name": INVISIBLE}), "name")


def test_deep_json_is_refused_with_400(api, ent):
    deep = "[" * 100_000 + "]" * 100_000
    response = api.post(f"/api/v1/enterprises/{ent.id}/annual-reports", data=deep, content_type="application/json")
    assert response.status_code == 400 and "嵌套过深" in response.get_json()["error"]
    nested = {"year": 2025}
    for _ in range(MAX_JSON_DEPTH + 1):
        nested = {"a": nested}
    assert api.patch(f"/api/v1/enterprises/{ent.id}", json=nested).status_code == 400
    shallow = api.post(f"/api/v1/enterprises/{ent.id}/annual-reports", json={"year": 2025, "x": [[[1]]]})
    assert shallow.status_code == 422  # within the limit: marshmallow answers (unknown field, missing date)


def test_brackets_inside_strings_do_not_count(api, ent):
    body = {"kind": "rename", "occurred_on": "2026-05-01", "details": "[" * 1000 + "{" * 1000}
    response = api.post(f"/api/v1/enterprises/{ent.id}/change-reports", json=body)
    assert response.status_code == 201, response.get_json()


def test_huge_json_is_refused_with_413(api, ent):
    body = json.dumps({"year": 2025, "audit_firm": "x" * (1024 * 1024)})
    response = api.post(f"/api/v1/enterprises/{ent.id}/annual-reports", data=body, content_type="application/json")
    assert response.status_code == 413 and "过大" in response.get_json()["error"]


@pytest.mark.parametrize("ident", [2**31, 2**63, 10**30])
def test_path_ids_beyond_integer_are_404(api, ident):
    assert api.get(f"/api/v1/enterprises/{ident}").status_code == 404
    assert api.get(f"/api/v1/certifications/{ident}").status_code == 404


def test_a_version_beyond_integer_is_refused(api, ent):
    refused(api.patch(f"/api/v1/enterprises/{ent.id}", json={"name": "新名称", "version": 2**63}), "version")


# ------------------------------------------------------------------------------------------- pages

@pytest.fixture
def officer(login_as):
    return login_as("officer", "331000")


@pytest.mark.parametrize("value", ["1e20", "-1", "abc", str(2**63), "99999999999999999999"])
def test_page_numbers_on_pages_never_err(officer, value):
    for url in ("/enterprises", "/pools", "/batches", "/audit", "/reminders"):
        assert officer.get(f"{url}?page={value}").status_code == 200, url


@pytest.mark.parametrize("year", ["10000", "1e20", str(2**63), "-1"])
def test_year_filter_on_pipeline_pages_is_refused_with_its_name(officer, year):
    response = officer.get(f"/pools?year={year}")
    assert response.status_code == 422 and "年度应为" in response.get_data(as_text=True)


def test_roster_date_filter_out_of_range_is_a_form_error(officer):
    html = page(officer, "/enterprises?as_of=0001-01-01")
    assert "日期应在 1900-01-01 到 2100-12-31 之间" in html


def edit_data(enterprise, **changes):
    base = {"version": enterprise.version, "name": enterprise.name, "uscc": enterprise.uscc,
            "region_code": enterprise.region_code, "size_class": "small"}
    return {f"edit-{k}": v for k, v in {**base, **changes}.items()}


def test_edit_form_refuses_an_invisible_name_and_cleans_a_visible_one(officer, ent, session):
    bad = post(officer, f"/enterprises/{ent.id}", edit_data(ent, name=INVISIBLE))
    assert bad.status_code == 422 and "此项必填" in bad.get_data(as_text=True)
    huge_version = post(officer, f"/enterprises/{ent.id}", edit_data(ent, version=str(2**63)))
    assert huge_version.status_code == 422
    _, ok = edit_enterprise(officer, ent.id, edit_data(ent, name="台州\u200b精密\u202e模具股份有限公司"))
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(Enterprise, ent.id).name == "台州精密模具股份有限公司"


@pytest.mark.parametrize("field, value", [("employees", str(2**63)), ("employees", "1e20"), ("revenue", "1e400"),
                                          ("revenue", "NaN"), ("year", "10000"), ("submitted_on", "0001-01-01"),
                                          ("revenue", "9" * 40), ("revenue", "1" * 5000 + "万"),
                                          ("debt_ratio", "9" * 40), ("debt_ratio", "1" * 5000 + "%")])
def test_annual_report_form_refuses_hostile_numbers(officer, ent, session, field, value):
    figures = {"year": 2025, "submitted_on": "2026-03-01", field: value}
    response = post(officer, f"/enterprises/{ent.id}/annual-reports/new", figures)
    assert response.status_code == 422, response.status_code
    assert session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)).first() is None


# --------------------------------------------------------------------------------- the document

def _inputs(spec):
    """Yield (where, schema) for every query parameter and request-body property of the document."""
    components = spec["components"]["schemas"]

    def resolve(schema):
        return components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema

    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                yield f"{method} {path} ?{param['name']}", param["schema"]
            for content in op.get("requestBody", {}).get("content", {}).values():
                body = resolve(content["schema"])
                for name, prop in body.get("properties", {}).items():
                    yield f"{method} {path} {name}", resolve(prop)


def test_every_input_in_the_document_is_bounded(app):
    """An integer without a maximum or a text without maxLength in any input would fail here."""
    from registry.web.api.docs import build_spec

    unbounded = []
    for where, schema in _inputs(build_spec(app)):
        kind = schema.get("type")
        if kind == "integer" and ("maximum" not in schema or "minimum" not in schema):
            unbounded.append(where)
        elif kind == "string" and schema.get("format") not in ("binary", "date", "decimal") \
                and "enum" not in schema and "maxLength" not in schema and "pattern" not in schema:
            unbounded.append(where)
        elif kind == "string" and schema.get("format") == "date" and "x-maximum" not in schema:
            unbounded.append(where)
    assert not unbounded, unbounded


@pytest.mark.parametrize("officer_id", [987654, 2**31 - 1])
def test_an_unknown_officer_is_refused_not_a_foreign_key_500(api, ent, officer_id):
    """Found by schemathesis' stateful run: officer_id of no user ended in an IntegrityError."""
    base = {"uscc": make_uscc("331002"), "region_code": "331002", "name": "台州新企业有限公司"}
    refused(api.post("/api/v1/enterprises", json={**base, "officer_id": officer_id}), "officer_id")
    refused(api.patch(f"/api/v1/enterprises/{ent.id}", json={"officer_id": officer_id, "version": ent.version}),
            "officer_id")


def test_an_officer_outside_the_region_is_refused(api, ent, make_user):
    other = make_user("officer", "330100")  # 杭州
    refused(api.patch(f"/api/v1/enterprises/{ent.id}", json={"officer_id": other.id, "version": ent.version}),
            "officer_id")
    own = make_user("officer", "331002", username="officer-jiaojiang")
    assert api.patch(f"/api/v1/enterprises/{ent.id}", json={"officer_id": own.id, "version": ent.version}).status_code == 200
