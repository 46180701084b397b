"""The fast roster export (issue 19: plain rows, codes named in SQL, one safety check per row) writes the very
bytes the per-cell export wrote before it, on both backends: the earlier implementation is kept here as the
reference and both run on the same seeded registry — formula-like, space-led, tab-led and control-character
text in every kind of text column, missing values, every status, size, holder kind and zone type, unnamed
codes — masked and unmasked, filtered and not, streamed and written."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from registry.domain.actors import Action, require
from registry.domain.lifecycle import STATUS_NAMES
from registry.enterprises.models import HOLDER_KIND_NAMES, SIZE_NAMES, ZONE_TYPE_NAMES, AnnualReport, Enterprise
from registry.enterprises.queries import SORTS, RosterFilter, certification_conditions, in_region, roster_select
from registry.platform.cells import PLAIN_NUMBER, drain, safe_cell
from registry.regions.models import Region
from registry.regions.scoping import scope_session
from registry.roster import export
from registry.roster.imports.columns import EXPORT_COLUMNS
from registry.titles.models import Certification
from tests.conftest import d, officer_of
from tests.factories import grant, make_enterprise, make_uscc, report
from tests.roster.conftest import TODAY

# --- the export as it was before issue 19's fast path (registry/roster/export.py at 8991617), verbatim in effect


def _old_select(actor, f, today, unmasked):
    conditions = certification_conditions(f, today)
    wanted = roster_select(f, today).with_only_columns(Enterprise.id).order_by(None)
    stmt = sa.select(*(export.COLUMNS if unmasked else export.MASKED)).select_from(Enterprise).outerjoin(
        Region, Region.code == Enterprise.region_code)
    join = stmt.join if conditions else stmt.outerjoin
    stmt = join(Certification, Certification.enterprise_id == Enterprise.id)
    latest = (sa.select(AnnualReport.enterprise_id, sa.func.max(AnnualReport.year).label("year"))
              .group_by(AnnualReport.enterprise_id).subquery("latest"))
    stmt = (stmt.outerjoin(latest, latest.c.enterprise_id == Enterprise.id)
            .outerjoin(AnnualReport, sa.and_(AnnualReport.enterprise_id == Enterprise.id,
                                             AnnualReport.year == latest.c.year)))
    order = SORTS.get(f.sort, SORTS["name"])
    return (stmt.where(Enterprise.id.in_(wanted), in_region(Enterprise.region_code, actor.region_code), *conditions)
            .order_by(*order, Enterprise.id, Certification.recognized_on, Certification.id))


def _old_shown(field, value, names):
    if value is None:
        return None
    if field == "tier":
        return names.get(value, value)
    if field == "status":
        return STATUS_NAMES.get(value, value)
    if field == "size_class":
        return SIZE_NAMES.get(value, value)
    if field == "holder_kind":
        return HOLDER_KIND_NAMES.get(value, value)
    if field == "zone_type":
        return ZONE_TYPE_NAMES.get(value, value)
    return value


def _old_cell(field, names):
    if field in ("tier", "status", "size_class", "holder_kind", "zone_type"):
        return lambda value: safe_cell(_old_shown(field, value, names))
    return safe_cell


def old_rows(session, *, actor, names, f, today, unmasked=False) -> Iterator[list[Any]]:
    require(actor, Action.READ)
    if unmasked:
        require(actor, Action.UNMASK_PI)
    shown = [_old_cell(c.field, names) for c in EXPORT_COLUMNS if c.field != "no"]
    result = session.execute(_old_select(actor, f, today, unmasked).execution_options(yield_per=1000))
    for number, row in enumerate(result, start=1):
        cells = [show(value) for show, value in zip(shown, row, strict=True)]
        cells.insert(0, number)
        yield cells


def old_csv(session, **kwargs) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(export.HEADERS)
    for row in old_rows(session, **kwargs):
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
    return drain(buffer)


# --- a registry with every kind of awkward value

AWKWARD = ['=HYPERLINK("http://evil.example","点我")', "  +86 576 8800", "-12.50", "-1+2", "@SUM(A1)",
           "\tTab 开头", "\r回车开头", "中间\x01有\x1f控制字符", "行一\n=行二", "  ", "", "普通文字", " 空格开头",
           "+", "-", "x" * 40_000]


def fit(model, values: dict[str, Any]) -> dict[str, Any]:
    """`values` cut to their columns' lengths (PostgreSQL holds a VARCHAR to it)."""
    table = model.__table__
    return {k: v[:table.c[k].type.length] if isinstance(v, str) and getattr(table.c[k].type, "length", None) else v
            for k, v in values.items()}


def seed(session, admin, rules) -> None:
    """Enterprises and titles whose text columns hold AWKWARD values (written raw: no service cleans them)."""
    enterprises = []
    for i in range(len(AWKWARD)):
        e = make_enterprise(session, admin, uscc=make_uscc("331002", 730_000 + i), name=f"台州样本{i}有限公司",
                            contact_phone=f"1380000{i:04d}", contact_name=f"联系人{i}",
                            size_class=("medium", "small", "micro", None)[i % 4], founded_on=d("2010-03-08"))
        enterprises.append(e)
        if i % 3:
            grant(session, admin, rules, e, "innovative_sme", d("2024-06-15"), batch=f"第{i}批",
                  document_no=f"浙经信〔2024〕{i}号")
        if i % 4 == 1:  # an earlier year too: the export shows the latest report only
            report(session, admin, e, 2024, revenue=Decimal("1.00"), employees=999, main_product="旧产品")
        if i % 2:
            report(session, admin, e, 2025, revenue=Decimal("123456789.12") + i, employees=i,
                   debt_ratio=Decimal("41.50"), audit_firm="台州会计师事务所", main_product="精密轴承")
    session.flush()
    raw = session.connection()  # below the services and their audit guard: values no service would store
    # every text column of the export gets an awkward value somewhere (and the codes some unnamed ones)
    texts = {"name", "managing_body", "industry_code", "contact_name_masked", "contact_email_masked",
             "contact_phone_masked"}
    for i, e in enumerate(enterprises):
        text = AWKWARD[i]
        values = {c: text for c in texts if (i + len(c)) % 3}
        values["name"] = f"{text}{i}" if text.strip() else f"{i}{text}"  # names stay distinct (a unique key)
        values.pop("managing_body", None)
        if i % 5 == 0:  # a zone: its managing body, no size or industry (the holder_shape check)
            values.update(holder_kind="zone", zone_type=("park", "area")[i % 2], managing_body=text,
                          size_class=None, industry_code=None)
        raw.execute(sa.update(Enterprise).where(Enterprise.id == e.id).values(**fit(Enterprise, values)))
        raw.execute(sa.update(Certification).where(Certification.enterprise_id == e.id).values(**fit(
            Certification, {"batch": text, "authority": text[::-1], "document_no": text or None,
                            "status": list(STATUS_NAMES)[i % len(STATUS_NAMES)]})))
        raw.execute(sa.update(AnnualReport).where(AnnualReport.enterprise_id == e.id).values(**fit(
            AnnualReport, {"audit_report_code": text, "audit_firm": text, "main_product": text})))
    raw.execute(sa.update(Enterprise).where(Enterprise.id == enterprises[1].id).values(
        contact_name_masked=None, contact_email_masked=None, contact_phone_masked=None, industry_code=None))
    session.expire_all()


FILTERS = [RosterFilter(sort="uscc"), RosterFilter(sort="name"), RosterFilter(tier="innovative_sme", sort="region"),
           RosterFilter(q="样本1", sort="-id"), RosterFilter(status="revoked"), RosterFilter(region="330100")]


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("unmasked", [False, True])
def test_the_fast_export_writes_the_bytes_the_per_cell_export_wrote(session, admin, rules, f, unmasked):
    seed(session, admin, rules)
    names = {**rules.tier_names(), "specialized_sme": "=专精特新"}  # a name that itself needs care
    names.pop("innovative_sme", None)  # and a tier shown by its code
    for actor in (admin, officer_of("331000"), officer_of("330100")):
        kwargs = {"actor": actor, "names": names, "f": f, "today": TODAY}
        before = old_csv(session, unmasked=unmasked, **kwargs)
        out = io.BytesIO()
        count = export.write_csv(session, out=out, unmasked=unmasked, **kwargs)
        assert out.getvalue() == before
        assert [list(r) for r in export.rows(session, unmasked=unmasked, **kwargs)] == list(
            old_rows(session, unmasked=unmasked, **kwargs))  # the .xlsx's cells too
        assert count == len(list(old_rows(session, unmasked=unmasked, **kwargs)))
        if not unmasked:
            assert b"".join(export.csv_chunks(session, batch=7, **kwargs)) == before


def test_the_awkward_values_reach_the_file_made_safe(session, admin, rules):
    """The reference is not vacuous: the seeded values are there, defused as safe_cell defuses them."""
    seed(session, admin, rules)
    out = io.BytesIO()
    count = export.write_csv(session, actor=admin, names=rules.tier_names(), f=RosterFilter(sort="uscc"),
                             today=TODAY, out=out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert count == len(rows) - 1 >= len(AWKWARD)
    cells = {c for r in rows[1:] for c in r}
    assert "'" + AWKWARD[0] in cells and "中间有控制字符" in cells and "-12.50" in cells and "'@SUM(A1)" in cells
    formulas = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not PLAIN_NUMBER.match(c)]
    assert formulas == []
    assert max(len(c) for c in cells) == 32767


def test_the_fast_export_keeps_the_sessions_region_scope(session, admin, rules):
    """Plain rows from the session's connection still carry the region criteria a scoped session adds."""
    seed(session, admin, rules)
    make_enterprise(session, admin, uscc=make_uscc("330106", 731_000), region_code="330106", name="杭州某公司")
    kwargs = {"actor": admin, "names": rules.tier_names(), "f": RosterFilter(sort="uscc"), "today": TODAY}
    everything = old_csv(session, **kwargs)
    scope_session(session, "331000")
    try:
        out = io.BytesIO()
        export.write_csv(session, out=out, **kwargs)
        assert out.getvalue() == old_csv(session, **kwargs) != everything
        assert "杭州某公司".encode() not in out.getvalue()
    finally:
        scope_session(session, None)


def test_lines_written_by_the_database_keep_the_bytes_on_every_path(session, admin, rules):
    """The masked CSV is assembled by the database (COPY on PostgreSQL, one text a row on SQLite: cells.py
    sqlite_csv_lines) and checked a batch at a time; every way a row can leave that path gives the same bytes:
    names the csv module quotes (a quote, a comma) in clean batches and beside a text equal to their quoted form,
    amounts with cents, amounts and counts stored as values SQLite would print otherwise than Python (a REAL that
    is no 2-decimal number, a huge integer, a count stored as REAL), a negative amount, a NUL and a separator
    inside a text, an enterprise without a title. Batches of 1, 7 and 1,000 rows."""
    enterprises = []
    for i in range(24):
        e = make_enterprise(session, admin, uscc=make_uscc("331002", 732_000 + i), name=f"台州整洁{i}有限公司",
                            contact_phone=f"1390000{i:04d}", contact_name=f"联系人{i}", founded_on=d("2011-04-09"))
        enterprises.append(e)
        if i != 22:  # one without a title: listed with empty title columns when no title is asked for
            grant(session, admin, rules, e, "innovative_sme", d("2024-06-15"),
                  batch=f"第{i}批", document_no=f"浙经信〔2024〕{i}号")
        report(session, admin, e, 2025, revenue=Decimal("1234.56") + i, rd_expense=Decimal(i * 1000),
               employees=i, debt_ratio=Decimal("12.34"), main_product="精密轴承")
    session.flush()
    names = {**rules.tier_names(), "innovative_sme": '创新型"中小",企业'}
    raw = session.connection()  # values no service would store
    odd = {12: {"revenue": 0.125}, 13: {"revenue": 12345678901234.5}, 14: {"main_business_revenue": 10 ** 16 - 1},
           15: {"employees": 2.5}, 16: {"rd_expense": -5}, 17: {"audit_firm": '"创新型""中小"",企业"'},
           18: {"main_product": "前\x00后"}, 19: {"main_product": "前\x1f后"}, 20: {"revenue": -0.001},
           21: {"main_product": "轴承,齿轮"}, 22: {"revenue": 0.125}}
    if raw.dialect.name == "postgresql":  # its text holds no NUL
        odd[18] = {"main_product": "前后"}
    for i, values in odd.items():
        raw.execute(sa.update(AnnualReport).where(AnnualReport.enterprise_id == enterprises[i].id).values(**values))
    session.expire_all()
    for f, shown in itertools.product((RosterFilter(sort="uscc"), RosterFilter(tier="innovative_sme", sort="-id"),
                                        RosterFilter(q="整洁1", sort="name")), (names, rules.tier_names())):
        kwargs = {"actor": admin, "names": shown, "f": f, "today": TODAY}
        before = old_csv(session, **kwargs)
        assert b'"' in before and before.count(b"\r\n") > 2
        out = io.BytesIO()
        export.write_csv(session, out=out, **kwargs)
        assert out.getvalue() == before
        for batch in (1, 7):
            assert b"".join(export.csv_chunks(session, batch=batch, **kwargs)) == before


# --- a property test: generated hostile rows, the database-written CSV against the per-cell reference

#: characters hostile text is made of: formula starts, CSV specials, the fast path's own separators (\x1f, \x01),
#: NUL and other controls, zero-width and combining marks, line/paragraph separators, emoji and astral hanzi
HOSTILE = ("=+-@\t\r\n,\"' \x00\x01\x1f\x0b\x7f" "\u200b\u200d\ufeff\u0301\u2028\u3000" "😀𠀀👨‍👩‍👧" "台州精密ab1.")
_TEXT_COLUMNS = {Enterprise: ("industry_code", "contact_name_masked", "contact_email_masked",
                              "contact_phone_masked"),
                 Certification: ("batch", "document_no", "authority"),
                 AnnualReport: ("audit_report_code", "audit_firm", "main_product")}
_NUMBER_COLUMNS = {AnnualReport: ("revenue", "main_business_revenue", "rd_expense", "main_product_revenue",
                                  "debt_ratio", "employees", "rd_staff", "invention_patents")}


def _hostile_text(postgresql: bool):
    text = st.text(st.sampled_from(HOSTILE), max_size=12)
    long = st.builds(lambda c, n: c * n, st.sampled_from(["x", "台", "😀", ",", '"', "="]),
                     st.sampled_from([32_766, 32_767, 32_768, 40_000]))
    values = st.one_of(st.none(), text, text.map(lambda t: "=" + t), long)
    return values.map(lambda t: t.replace("\x00", "") if postgresql and t else t)


def _number(column, postgresql: bool):
    typ = column.type
    if isinstance(typ, sa.Numeric):
        bound = 10 ** (typ.precision - typ.scale) - 1
        exact = st.decimals(-bound, bound, places=typ.scale, allow_nan=False, allow_infinity=False)
        if postgresql:
            return st.one_of(st.none(), exact)
        return st.one_of(st.none(), exact.map(float), exact.map(str), st.integers(-10 ** 17, 10 ** 17),
                         st.floats(allow_nan=False, allow_infinity=False, width=64),
                         st.sampled_from([0.125, -0.0, 0.0, 1e-9, 999999999999.995, 1e12, -1e12, 1e15 + 0.5]))
    if postgresql:
        return st.one_of(st.none(), st.integers(-2 ** 31, 2 ** 31 - 1))
    return st.one_of(st.none(), st.integers(-2 ** 63, 2 ** 63 - 1), st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=40, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_hostile_rows_give_the_reference_bytes(session, admin, rules, data):
    """Any text (formula starts, CSV specials, the fast path's separators, NUL and controls, zero-width and combining
    characters, astral characters, cells around Excel's 32,767 limit) and any stored number (many digits, negative,
    REAL or integer where a NUMERIC is, NULL) in the masked export's columns: the database-written CSV (COPY on
    PostgreSQL, SQLite's lines) is byte for byte the per-cell reference, streamed in any batch size."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    savepoint = session.begin_nested()
    try:
        raw = session.connection()
        rows = []
        for i in range(4):
            e = make_enterprise(session, admin, uscc=make_uscc("331002", 733_000 + i), name=f"台州性质{i}有限公司",
                                contact_phone=f"1370000{i:04d}", founded_on=d("2012-05-06"))
            if i != 3:
                grant(session, admin, rules, e, "innovative_sme", d("2024-06-15"), batch="第1批")
            report(session, admin, e, 2025, revenue=Decimal("1.00"), employees=1)
            rows.append(e.id)
        session.flush()
        for i, enterprise_id in enumerate(rows):
            name = data.draw(_hostile_text(postgresql).filter(lambda t: t is not None), label="name")
            values = {Enterprise: {"name": f"{name}{i}"},
                      Certification: {"status": data.draw(st.sampled_from(list(STATUS_NAMES)), label="status")},
                      AnnualReport: {}}
            for model, columns in _TEXT_COLUMNS.items():
                for c in columns:
                    if data.draw(st.booleans()):
                        values[model][c] = data.draw(_hostile_text(postgresql), label=c)
            for model, columns in _NUMBER_COLUMNS.items():
                for c in columns:
                    if data.draw(st.booleans()):
                        values[model][c] = data.draw(_number(model.__table__.c[c], postgresql), label=c)
            for model, key in ((Enterprise, "id"), (Certification, "enterprise_id"), (AnnualReport, "enterprise_id")):
                if not values[model]:
                    continue
                table = model.__table__
                sets = ", ".join(f"{c} = :{c}" for c in values[model])
                raw.execute(sa.text(f"UPDATE {table.name} SET {sets} WHERE {key} = :key"),  # noqa: S608
                            {**fit(model, values[model]), "key": enterprise_id})
        session.expire_all()
        tier_name = data.draw(_hostile_text(postgresql).filter(bool), label="tier name")
        names = {**rules.tier_names(), "innovative_sme": tier_name}
        for f in (RosterFilter(sort="uscc"), RosterFilter(tier="innovative_sme", sort="-id")):
            kwargs = {"actor": admin, "names": names, "f": f, "today": TODAY}
            before = old_csv(session, **kwargs)
            out = io.BytesIO()
            export.write_csv(session, out=out, **kwargs)
            assert out.getvalue() == before
            batch = data.draw(st.integers(1, 5), label="batch")
            assert b"".join(export.csv_chunks(session, batch=batch, **kwargs)) == before
    finally:
        savepoint.rollback()
