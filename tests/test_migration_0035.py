"""Migration 0035 (issue 19): on PostgreSQL it creates `registry_bigrams(text)` and the GIN index on the name's
pairs, and its downgrade drops both (so upgrading again starts clean); on SQLite it does nothing."""

import sqlalchemy as sa

from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade


def _objects(url: str) -> tuple[bool, bool]:
    """(the function exists, the index exists)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found = conn.execute(sa.text("SELECT to_regprocedure('registry_bigrams(text)') IS NOT NULL,"
                                         " to_regclass('ix_enterprises_name_bigrams') IS NOT NULL")).one()
        else:
            index = conn.execute(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'ix_enterprises_name_bigrams'"))
            found = (False, bool(index.scalar_one()))
    engine.dispose()
    return tuple(found)


def test_upgrade_creates_the_function_and_index_downgrade_drops_both(empty_url):
    postgres = empty_url.startswith("postgresql")
    upgrade(empty_url, "0034")
    assert _objects(empty_url) == (False, False)
    upgrade(empty_url, "0035")
    assert _objects(empty_url) == ((True, True) if postgres else (False, False))
    if postgres:
        engine = make_engine(empty_url)
        with engine.connect() as conn:
            pairs = conn.execute(sa.text("SELECT registry_bigrams('杭州AbAB')")).scalar_one()
            volatility = conn.execute(sa.text(
                "SELECT provolatile::text || proparallel::text FROM pg_proc WHERE proname = 'registry_bigrams'")).scalar_one()
        engine.dispose()
        assert sorted(pairs) == sorted(["杭州", "州a", "ab", "ba"])
        assert volatility == "is"  # IMMUTABLE (an index expression must be), PARALLEL SAFE
    downgrade(empty_url, "0034")
    assert _objects(empty_url) == (False, False)
    upgrade(empty_url)
    assert _objects(empty_url) == ((True, True) if postgres else (False, False))
