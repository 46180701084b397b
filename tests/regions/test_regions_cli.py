"""`init-db` loads the nationwide tree and its version; `regions migrate-codes` on a real SQLite file."""

import sqlalchemy as sa

from registry.platform.db import make_engine
from tests.cli.test_commands import make_app, run
from tests.factories import make_uscc


def test_init_db_loads_the_version_and_migrate_codes_moves_with_audit(tmp_path):
    app, settings = make_app(tmp_path)
    assert run(app, "init-db").exit_code == 0
    shown = run(app, "regions", "version")
    assert shown.exit_code == 0 and "2024" in shown.output and "县级 2846" in shown.output

    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO regions (code, name, parent_code, level)"
                             " VALUES ('320199', '旧测试区', '320100', 'district')"))
        conn.execute(sa.text("INSERT INTO region_code_changes (old_code, new_code, kind, effective_year, source)"
                             " VALUES ('320199', '320102', 'merge', 2022, '测试批复（合成数据）')"))
        conn.execute(sa.text("INSERT INTO enterprises (uscc, name, region_code, version, created_at, updated_at)"
                             " VALUES (:uscc, '旧区某公司', '320199', 1, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"),
                     {"uscc": make_uscc("320199", 820_001)})

    def state():
        with engine.connect() as conn:
            return (conn.execute(sa.text("SELECT region_code FROM enterprises")).scalar_one(),
                    conn.execute(sa.text("SELECT COUNT(*) FROM audit_events"
                                         " WHERE action = 'enterprise.region_recoded'")).scalar_one())

    dry = run(app, "regions", "migrate-codes", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "将迁移 企业" in dry.output and "320199 → 320102 玄武区" in dry.output and "试运行" in dry.output
    assert state() == ("320199", 0)

    done = run(app, "regions", "migrate-codes")
    assert done.exit_code == 0 and "已迁移 1 家企业" in done.output
    assert state() == ("320102", 1)
    assert run(app, "audit", "verify").exit_code == 0
    again = run(app, "regions", "migrate-codes")
    assert "已迁移 0 家企业" in again.output and state() == ("320102", 1)
    engine.dispose()
