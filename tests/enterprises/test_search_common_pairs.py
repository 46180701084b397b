"""A two-character word whose pair is in most names (有限, 公司) is searched without the bigram pair test on
PostgreSQL: the planner expects most of the table to match, scans, and would compute registry_bigrams(name) for
every row (7–9 s at 300,000 names; bench/RESULTS.md, breakit). The common pairs come from PostgreSQL's own
statistics of the pair index (queries.CommonPairs), re-read at most every ten minutes; the results are the same
with and without the pair test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.enterprises import queries
from registry.enterprises.queries import CommonPairs, RosterFilter, roster_select
from tests.conftest import d
from tests.factories import make_enterprise, make_uscc

TODAY = d("2026-06-01")


def sql(session, q: str) -> str:
    stmt = roster_select(RosterFilter(q=q), TODAY)
    return str(stmt.compile(dialect=session.get_bind().dialect))


def ids(session, q: str) -> set[int]:
    return set(session.scalars(roster_select(RosterFilter(q=q), TODAY).with_only_columns(
        sa.literal_column("enterprises.id"))))


@pytest.fixture
def roster(session, admin):
    """200 names that all hold 有限 and 公司; 精密 in 5 of them, 科技 in 60 (30 %)."""
    for i in range(200):
        word = "精密" if i < 5 else "科技" if i < 65 else "机电"
        make_enterprise(session, admin, uscc=make_uscc("331002", 700_000 + i), name=f"台州{i}号{word}有限公司")
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("ANALYZE enterprises"))


def test_common_pairs_are_read_from_the_statistics_and_skip_the_pair_test(session, roster, monkeypatch):
    common = CommonPairs()
    common.refresh(session, now=0.0)
    monkeypatch.setattr(queries, "COMMON_PAIRS", common)
    if session.get_bind().dialect.name != "postgresql":
        assert common.pairs == frozenset()  # SQLite has no pair index and scans every word
        assert "registry_bigrams" not in sql(session, "有限")
        return
    assert {"有限", "公司", "科技"} <= common.pairs and "精密" not in common.pairs
    assert "registry_bigrams" not in sql(session, "有限") and "registry_bigrams" not in sql(session, "科技")
    assert "registry_bigrams" not in sql(session, "有限 科技")
    assert "registry_bigrams" in sql(session, "精密")  # a rare pair keeps the index
    assert "registry_bigrams" not in sql(session, "有限".upper())  # no case: the same pair
    with_pairs = {q: ids(session, q) for q in ("有限", "科技", "精密", "有限 精密")}
    monkeypatch.setattr(queries, "COMMON_PAIRS", CommonPairs())  # nothing common: the pair test everywhere
    assert "registry_bigrams" in sql(session, "有限")
    assert {q: ids(session, q) for q in with_pairs} == with_pairs
    assert [len(with_pairs[q]) for q in ("有限", "科技", "精密", "有限 精密")] == [200, 60, 5, 5]


def test_the_statistics_are_read_at_most_every_ten_minutes(session, roster):
    common, reads = CommonPairs(), []
    real = session.execute

    def counting(statement, *args, **kwargs):
        if statement is CommonPairs._READ:
            reads.append(statement)
        return real(statement, *args, **kwargs)

    session.execute = counting
    try:
        assert common.due(0.0)
        common.refresh(session, now=100.0)
        common.refresh(session, now=100.0 + CommonPairs.MAX_AGE - 1)
        assert not common.due(100.0 + CommonPairs.MAX_AGE - 1) and common.due(100.0 + CommonPairs.MAX_AGE)
        common.refresh(session, now=100.0 + CommonPairs.MAX_AGE)
    finally:
        del session.execute
    postgres = session.get_bind().dialect.name == "postgresql"
    assert len(reads) == (2 if postgres else 0)


def test_a_request_reads_them_once(login_as, roster, monkeypatch):
    common = CommonPairs()
    monkeypatch.setattr(queries, "COMMON_PAIRS", common)
    officer = login_as("officer", "331000")
    assert officer.get("/enterprises?q=有限").status_code == 200
    first = common._read_at
    assert first is not None
    assert officer.get("/enterprises?q=科技").status_code == 200
    assert common._read_at == first


def test_the_api_s_kept_statements_follow_the_common_pairs(session, monkeypatch):
    """The roster API keeps its statements per filter (enterprises/api.py `_listed`): the common pairs are part
    of that key, so a pair that became common is searched without its pair test from then on."""
    from registry.enterprises import api

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no pair test")
    dialect = session.get_bind().dialect
    flt = RosterFilter(q="有限")
    rare = api._listed(flt, TODAY, False, None, frozenset())
    monkeypatch.setattr(queries, "COMMON_PAIRS", CommonPairs())
    queries.COMMON_PAIRS.pairs = frozenset({"有限"})
    common = api._listed(flt, TODAY, False, None, queries.COMMON_PAIRS.pairs)
    assert all("registry_bigrams" in str(s.compile(dialect=dialect)) for s in rare)
    assert not any("registry_bigrams" in str(s.compile(dialect=dialect)) for s in common)
