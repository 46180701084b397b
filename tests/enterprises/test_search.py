"""Roster search (issue 18 §5): USCC substring, full-width input, every word matching, SQL wildcards literal,
one normaliser for the API `q`, the roster page and the export — on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from registry.domain.text import narrow, search_terms
from registry.enterprises.queries import RosterFilter, roster_select
from registry.roster.export import write_csv
from tests.conftest import d
from tests.factories import make_enterprise, make_uscc

TODAY = d("2026-06-01")


@pytest.fixture
def roster(session, admin):
    """Four enterprises whose names and USCCs the searches below tell apart."""
    made = {
        "abc": make_enterprise(session, admin, uscc=make_uscc("331002", 111_222), name="台州ABC精工有限公司",
                               contact_phone="13800138000"),
        "wide": make_enterprise(session, admin, uscc=make_uscc("331002", 333_444), name="台州ＸＹＺ科技有限公司"),
        "pct": make_enterprise(session, admin, uscc=make_uscc("331002", 555_666), name="百分之100%_达标有限公司"),
        "hz": make_enterprise(session, admin, uscc=make_uscc("330106", 777_888), region_code="330106",
                              name="杭州西湖精工有限公司", contact_email="Boss@Example.org"),
    }
    session.flush()
    return made


def found(session, q: str) -> set[str]:
    ids = set(session.scalars(roster_select(RosterFilter(q=q), TODAY).with_only_columns(sa.literal_column("enterprises.id"))))
    return {key for key, e in found.roster.items() if e.id in ids}


@pytest.fixture(autouse=True)
def _bind(roster):
    found.roster = roster


def test_the_normaliser_folds_full_width_and_splits_words():
    assert narrow("ＡＢＣ１２３\u3000ｘｙ") == "ABC123 xy"
    assert search_terms("  台州\u3000ＡＢＣ   精工 台州\u200b ") == ["台州", "ABC", "精工"]
    assert search_terms("（杭州）") == ["（杭州）"]  # full-width punctuation is part of a name
    assert search_terms("") == [] and search_terms(None) == [] and search_terms(" \u3000 ") == []


def test_uscc_is_found_by_any_part_not_only_its_start(session, roster):
    uscc = roster["abc"].uscc
    assert found(session, uscc[10:16]) == {"abc"}  # the middle
    assert found(session, uscc[-6:]) == {"abc"}
    assert found(session, uscc[-6:].lower()) == {"abc"}
    assert found(session, uscc) == {"abc"}


def test_full_width_digits_letters_and_spaces_are_folded(session, roster):
    uscc = roster["abc"].uscc
    wide_uscc = uscc[9:17].translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert found(session, wide_uscc) == {"abc"}
    assert found(session, "ＡＢＣ") == {"abc"}
    assert found(session, "abc") == {"abc"}  # names match regardless of case
    assert found(session, "台州\u3000ＡＢＣ") == {"abc"}  # the ideographic space separates words
    assert found(session, "XYZ") == {"wide"}  # a name typed in full width is found by half-width letters


def test_every_word_must_match_the_name_or_the_uscc(session, roster):
    assert found(session, "精工") == {"abc", "hz"}
    assert found(session, "台州 精工") == {"abc"}
    assert found(session, "精工 杭州") == {"hz"}
    assert found(session, f"精工 {roster['hz'].uscc[2:8]}") == {"hz"}  # one word on the name, one on the USCC
    assert found(session, "台州 西湖") == set()


def test_no_match_finds_nothing(session, roster):
    assert found(session, "不存在的企业") == set()
    assert found(session, "ZZZZZZZZ") == set()


def test_sql_wildcards_in_the_query_are_literal(session, roster):
    assert found(session, "%") == {"pct"}
    assert found(session, "_") == {"pct"}
    assert found(session, "100%_") == {"pct"}
    assert found(session, "台州%精工") == set()  # % is not "anything"
    assert found(session, "台_") == set()
    assert found(session, "\\") == set()


def test_phone_and_email_still_match_exactly_through_the_blind_index(session, roster):
    assert found(session, "13800138000") == {"abc"}
    assert found(session, "138 0013 8000") == {"abc"}  # a phone typed in groups is one phone, not three words
    assert found(session, "１３８００１３８０００") == {"abc"}
    assert found(session, "boss@example.org") == {"hz"}
    assert found(session, "13800") == set()  # no substring of a contact: the column is ciphertext


def test_the_api_the_roster_page_and_the_export_share_the_search(api_as, login_as, session, admin, rules, roster):
    session.commit()
    query = "台州\u3000ＡＢＣ"
    listed = api_as("officer", "330000").get("/api/v1/enterprises", query_string={"q": query}).get_json()
    assert [e["id"] for e in listed["items"]] == [roster["abc"].id]
    html = login_as("officer", "331000").get("/enterprises", query_string={"q": query}).get_data(as_text=True)
    assert "共 1 家企业" in html and "台州ABC精工有限公司" in html
    out = io.BytesIO()
    count = write_csv(session, actor=admin, names=rules.tier_names(), f=RosterFilter(q=query), today=TODAY, out=out)
    assert count == 1 and "台州ABC精工有限公司" in out.getvalue().decode("utf-8-sig")
