"""The import's bulk lookups (registry/roster/bulk.py `where_in`: a semi-join on unnest(:array) on PostgreSQL, IN
lists elsewhere) select exactly the rows a Python filter keeps, on both backends: no values, duplicates, 100,000
values, odd characters (quotes, wildcards, backslash, full-width, emoji), and values longer than the column —
never cut to the column's length and matched on what is left."""

from __future__ import annotations

import sqlalchemy as sa

from registry.enterprises.models import Enterprise
from registry.roster.bulk import where_in
from registry.roster.imports.existing import name_matches
from tests.factories import make_enterprise, make_uscc

ODD = ["O'Brien 科技", "百分之100%_达标\\有限公司", '双引号"有限公司', "ＡＢ（杭州）科技", "表情😀有限公司", "臺灣精密", "a" * 200]


def lookup(session, column, values) -> set:
    conn = session.connection()
    return {row for condition in where_in(conn, column, values)
            for row in conn.execute(sa.select(column).where(condition)).scalars()}


def test_the_lookups_find_exactly_the_values_asked_for(session, admin):
    made = [make_enterprise(session, admin, uscc=make_uscc("331002", 800_000 + i), name=name) for i, name in enumerate(ODD)]
    session.flush()
    names, usccs = {e.name for e in made}, {e.uscc for e in made}
    assert lookup(session, Enterprise.name, []) == set()
    assert lookup(session, Enterprise.name, [*ODD, *ODD, "不在名录"]) == names  # duplicates, a miss
    assert lookup(session, Enterprise.name, ["%", "_", "\\", "'", "O'Brien%", "a" * 199]) == set()  # no wildcards
    many = [make_uscc("331002", n) for n in range(750_000, 850_000)]  # 100,000 codes, seven of them registered
    assert lookup(session, Enterprise.uscc, many) & usccs == usccs
    assert lookup(session, Enterprise.uscc, [c.lower() for c in usccs]) <= {c for c in usccs if c.lower() == c}


def test_a_value_longer_than_the_column_matches_nothing(session, admin):
    """A name of 201 characters is not the registered name of its first 200 (nor a 19-character code the USCC
    of its first 18): PostgreSQL cuts a value cast to varchar(n) silently, so the array must not be cast so."""
    long_name, ent = "精" * 200, None
    ent = make_enterprise(session, admin, uscc=make_uscc("331002", 810_000), name=long_name)
    session.flush()
    assert lookup(session, Enterprise.name, [long_name + "X"]) == set()
    assert lookup(session, Enterprise.uscc, [ent.uscc + "0"]) == set()
    assert lookup(session, Enterprise.name, [long_name, long_name + "X"]) == {long_name}
    assert name_matches(session, admin, {long_name + "X"}) == {}  # was a KeyError on PostgreSQL: the cut name
