"""Issue 15 §2 / Acceptance: a field is declared once (registry/enterprises/fields.py,
registry/titles/fields.py) and the page form, the API schema (and its OpenAPI document), the import
column, the export header and the audit label are built from the declaration.

The first test makes one edit — a field's label and maximum length — and shows every surface follow;
the second shows that, as shipped, no surface says anything of its own.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from marshmallow import validate
from werkzeug.datastructures import MultiDict
from wtforms.validators import Length

from registry.audit.queries import field_name
from registry.enterprises.fields import ANNUAL_REPORT, CHANGE_REPORT, ENTERPRISE
from registry.roster.export import HEADERS, headers
from registry.roster.imports import values
from registry.roster.imports.columns import BY_FIELD, build_columns, export_columns
from registry.titles.fields import CERTIFICATION, CERTIFICATION_EVENT
from registry.web.api import schemas
from registry.web.api.docs import build_spec
from registry.web.pages import forms

NEW_LABEL, NEW_MAX = "企业联络邮箱", 40
LONG_EMAIL = "a" * 35 + "@mould.cn"  # 44 characters: fits 254, not 40


def form_errors(app, form_class, data):
    """The form as posted with `data`, its contact_email field validated."""
    with app.test_request_context(method="POST", data=data):
        form = form_class(meta={"csrf": False})
        form.contact_email.validate(form)
        return form


def test_one_edit_to_a_field_moves_the_form_the_api_the_import_the_export_and_the_audit(app, monkeypatch):
    before = ENTERPRISE["contact_email"]
    assert (before.label, before.max_length) == ("联系邮箱", 254)
    monkeypatch.setitem(ENTERPRISE.fields, "contact_email", replace(before, label=NEW_LABEL, max_length=NEW_MAX))

    # the page form
    form = form_errors(app, forms.enterprise_form(), MultiDict({"contact_email": LONG_EMAIL}))
    assert form.contact_email.label.text == NEW_LABEL
    assert form.contact_email.errors == ["字段长度不能超过 40 个字符。"]
    assert form_errors(app, forms.enterprise_form(), MultiDict({"contact_email": "x@mould.cn"})).contact_email.errors == []

    # the API schemas (POST and PATCH) and the OpenAPI document
    rebuilt_in, rebuilt_patch = schemas.enterprise_in(), schemas.enterprise_patch()
    assert "contact_email" in rebuilt_in().validate({"uscc": "1", "name": "某", "region_code": "331002",
                                                     "contact_email": LONG_EMAIL})
    assert "contact_email" in rebuilt_patch().validate({"version": 1, "contact_email": LONG_EMAIL})
    assert "contact_email" not in rebuilt_patch().validate({"version": 1, "contact_email": "x@mould.cn"})
    create = app.view_functions["api.create_enterprise"]
    monkeypatch.setitem(create._apidoc, "body", rebuilt_in)
    document = build_spec(app)["components"]["schemas"]["EnterpriseIn"]["properties"]["contact_email"]
    assert (document["title"], document["maxLength"]) == (NEW_LABEL, NEW_MAX)

    # the import: the column answers to the new header (and to the declared aliases) and holds the new bound
    column = next(c for c in build_columns() if c.field == "contact_email")
    assert column.aliases[:2] == (NEW_LABEL, "联系人邮箱") and column.max_len == NEW_MAX
    with pytest.raises(values.CellError, match="上限 40 字"):
        values.email(LONG_EMAIL, column.max_len)

    # the export writes the new header
    written = headers(export_columns(build_columns()))
    assert NEW_LABEL in written and "联系邮箱" not in written

    # the audit view names the field by its new label
    assert field_name("enterprise", "contact_email") == NEW_LABEL


def test_money_fields_carry_their_unit_into_every_header(monkeypatch):
    monkeypatch.setitem(ANNUAL_REPORT.fields, "revenue", replace(ANNUAL_REPORT["revenue"], label="营业总收入"))
    assert "营业总收入（元）" in headers(export_columns(build_columns()))
    assert field_name("annual_report", "revenue") == "营业总收入（元）"
    assert schemas.annual_report_in()().fields["revenue"].metadata["title"] == "营业总收入（元）"


FORMS = [(forms.EnterpriseForm, ENTERPRISE), (forms.AnnualReportForm, ANNUAL_REPORT),
         (forms.ChangeReportForm, CHANGE_REPORT), (forms.GrantForm, CERTIFICATION),
         (forms.EventForm, CERTIFICATION_EVENT), (forms.RevokeForm, CERTIFICATION_EVENT)]
SCHEMAS = [(schemas.EnterpriseIn, ENTERPRISE), (schemas.EnterprisePatch, ENTERPRISE),
           (schemas.AnnualReportIn, ANNUAL_REPORT), (schemas.ChangeReportIn, CHANGE_REPORT),
           (schemas.CertificationIn, CERTIFICATION), (schemas.EventIn, CERTIFICATION_EVENT)]


@pytest.mark.parametrize("form_class, catalogue", FORMS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_page_form_says_what_its_catalogue_says(app, form_class, catalogue):
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        for field in catalogue:
            if field.name not in form:
                continue
            shown = form[field.name]
            if not (form_class is forms.RevokeForm and field.name == "document_no"):  # 撤销依据文号
                assert shown.label.text == field.form_label
            lengths = [v.max for v in shown.validators if isinstance(v, Length) and v.max not in (None, -1)]
            if field.max_length and field.kind not in ("tier", "pick"):  # a list to pick from needs no bound
                assert lengths == [field.max_length], field.name


@pytest.mark.parametrize("schema_class, catalogue", SCHEMAS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_api_schema_says_what_its_catalogue_says(schema_class, catalogue):
    built = schema_class()
    for field in catalogue:
        declared = built.fields[field.name]
        assert declared.metadata["title"] == field.title
        lengths = [v.max for v in declared.validators if isinstance(v, validate.Length) and v.max is not None]
        if field.max_length:
            assert min(lengths) == field.max_length, field.name
        ranges = [v for v in declared.validators if isinstance(v, validate.Range)]
        if field.kind in ("count", "year"):
            assert (ranges[0].min, ranges[0].max) == (field.min_value, field.max_value), field.name


def test_the_import_the_export_and_the_audit_say_what_the_catalogues_say():
    for catalogue in (ENTERPRISE, ANNUAL_REPORT, CERTIFICATION):
        for field in catalogue:
            if field.name in BY_FIELD:
                column = BY_FIELD[field.name]
                assert column.aliases[0] == field.label and column.header == field.title
                assert column.max_len in (None, field.max_length)
                assert field.name == "submitted_on" or field.title in HEADERS
            assert field_name(catalogue.entity, field.name) == field.title


def test_the_surfaces_that_used_to_disagree_now_agree():
    """USCC length, the year range, the note length and two labels differed between forms and API (issue 15)."""
    uscc, year, note = ENTERPRISE["uscc"], ANNUAL_REPORT["year"], CERTIFICATION_EVENT["note"]
    assert (uscc.max_length, year.min_value, year.max_value, note.max_length) == (40, 1990, 2100, 4000)
    with_form = {"contact_email": forms.EnterpriseForm.contact_email.args[0],
                 "region_code": forms.EnterpriseForm.region_code.args[0]}
    assert with_form == {"contact_email": field_name("enterprise", "contact_email"),
                         "region_code": field_name("enterprise", "region_code")} == {
        "contact_email": "联系邮箱", "region_code": "所在地区"}
