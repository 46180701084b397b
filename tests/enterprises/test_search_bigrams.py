"""A two-character search word on PostgreSQL is served by the bigram index of migration 0035 (issue 19): the
index condition `registry_bigrams(name) @> registry_bigrams(word)` sits beside the ILIKE, which stays the exact
test — the results are the same with and without it, whatever the case, width, digits or punctuation; SQLite's
statement is unchanged (it scans)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.domain.text import search_terms
from registry.enterprises import queries
from registry.enterprises.queries import RosterFilter, roster_select
from tests.conftest import d
from tests.factories import make_enterprise, make_uscc

TODAY = d("2026-06-01")

NAMES = (
    "杭州精密机械有限公司", "Ab精密CD机械有限公司", "aB 精 密 Cd", "ＡＢ科技（杭州）有限公司", "12号电子厂",
    "百分之100%_达标\\有限公司", "ÄBc Straße智能", "西湖 区智能装备", "精", "台州ABC精工有限公司", "科技科技科技",
)


@pytest.fixture
def seeded(session, admin):
    made = [make_enterprise(session, admin, uscc=make_uscc("331002", 900_000 + i), name=name)
            for i, name in enumerate(NAMES)]
    session.flush()
    return made


def words() -> list[str]:
    """Every two-character piece of the names as typed, in other cases and widths; pieces spanning a space
    (州 精, 区智 across 西湖 区智能); one- and three-character words; words found nowhere."""
    pieces = {name[i:i + 2] for name in NAMES for i in range(len(name) - 1)}
    typed = {form for piece in pieces for form in (piece, piece.upper(), piece.lower(), piece.swapcase())}
    typed |= {"ａｂ", "ＡＢ", "１２", "湖区", "州精", "区智", "精", "a", "%", "_", "\\", "%_", "0%", "精密机", "不在", "zz", "ss"}
    return sorted({word for word in typed if search_terms(word) == [word]})


def bitmaps_only(session) -> None:
    """PostgreSQL: the GIN index path (a bitmap scan), not a scan of the table or of the name's b-tree that
    tests every row with the ILIKE: the comparison below would not exercise the index condition."""
    session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    session.execute(sa.text("SET LOCAL enable_indexscan = off"))


def ids(session, q: str) -> set[int]:
    stmt = roster_select(RosterFilter(q=q), TODAY).with_only_columns(sa.literal_column("enterprises.id"))
    return set(session.scalars(stmt))


def test_results_are_the_same_with_and_without_the_index_condition(session, seeded, monkeypatch):
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        bitmaps_only(session)
    checked, hits = 0, 0
    for word in words():
        with_pairs = ids(session, word)
        monkeypatch.setattr(queries, "BIGRAM_LENGTHS", frozenset())
        plain = ids(session, word)
        monkeypatch.undo()
        assert with_pairs == plain, word
        checked, hits = checked + 1, hits + bool(plain)
    assert checked > 80 and hits > 70  # the comparison is not vacuous (87 words, 80 of them found)
    mine = {e.id for e in seeded}
    assert ids(session, "精密") & mine == {seeded[0].id, seeded[1].id}  # not 精 密 (a space between)
    assert ids(session, "AB") & mine == {seeded[1].id, seeded[2].id, seeded[3].id, seeded[9].id}  # ＡＢ too


def test_the_index_serves_a_two_character_word_on_postgresql(session, seeded):
    stmt = roster_select(RosterFilter(q="精密"), TODAY)
    sql = str(stmt.compile(session.get_bind()))
    if session.get_bind().dialect.name != "postgresql":
        assert "registry_bigrams" not in sql  # SQLite: the ILIKE alone, as before
        return
    assert "registry_bigrams" in sql
    assert "registry_bigrams" not in str(roster_select(RosterFilter(q="精密机"), TODAY).compile(session.get_bind()))
    bitmaps_only(session)
    literal = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = "\n".join(session.execute(sa.text("EXPLAIN " + literal.replace("%", "%%").replace(":", "\\:"))).scalars())
    assert "ix_enterprises_name_bigrams" in plan


def test_registry_bigrams_are_the_distinct_lower_cased_pairs(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: the function of migration 0035")
    pairs = session.execute(sa.text("SELECT registry_bigrams(:a), registry_bigrams(:b), registry_bigrams(:c)"),
                            {"a": "AbAB 精", "b": "精", "c": ""}).one()
    assert sorted(pairs[0]) == sorted(["ab", "ba", "b ", " 精"]) and pairs[1] == [] and pairs[2] == []


def test_a_word_that_may_be_part_of_a_uscc_gets_no_pair_condition(session):
    """Letters and digits may also be part of a USCC, which no index serves for two characters (no trigram): the
    word is checked row by row anyway, and a pair condition beside it only cost `registry_bigrams(name)` for every
    row. Twenty such words (`aa ba ca …`) let PostgreSQL read the whole USCC trigram index into a bitmap and
    recheck the pairs on each row: 44 s at 300,000 enterprises (2026-12-06, load 8)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no pair condition")

    def sql(q: str) -> str:
        return str(roster_select(RosterFilter(q=q), TODAY).compile(session.get_bind()))
    assert "registry_bigrams" not in sql("ab") and "registry_bigrams" not in sql("a1 b2 c3")
    assert "registry_bigrams" not in sql("ＡＢ")  # full width: folded to AB first
    pairs = "@> registry_bigrams("
    assert sql("精密").count(pairs) == 1 and sql("ä精").count(pairs) == 1
    assert sql("a精").count(pairs) == 2  # a精 and ａ精: no USCC holds 精
