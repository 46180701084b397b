"""import-roster and export-roster against a real SQLite database file."""

import sqlalchemy as sa

from config import Settings
from registry import create_app
from registry.platform.db import make_engine
from tests.conftest import ROOT
from tests.roster.files import read_xlsx, roster_rows, xlsx


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def enterprises(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM enterprises")).scalar_one()
    engine.dispose()
    return count


def test_import_and_export_from_the_command_line(tmp_path):
    settings = Settings(env="testing", database_url=f"sqlite:///{tmp_path / 'cli.db'}", secret_key="t",
                        policy_dir=ROOT / "config" / "policies")
    app = create_app(settings)
    assert invoke(app, "init-db").exit_code == 0
    rows = roster_rows(5, serial=730_000)
    bad = [list(r) for r in rows]
    bad[3][4] = "金牌企业"
    bad_file = tmp_path / "名单.xlsx"
    bad_file.write_bytes(xlsx(bad))

    failed = invoke(app, "import-roster", bad_file, "--today", "2026-06-01")
    assert failed.exit_code == 1
    assert "第5行 E列（称号）" in failed.output and "未导入任何数据" in failed.output
    workbook = read_xlsx((tmp_path / "名单.errors.xlsx").read_bytes())
    assert workbook[4][-1].startswith("第5行 E列（称号）：未知的称号")
    assert enterprises(settings.database_url) == 0

    good_file = tmp_path / "good.xlsx"
    good_file.write_bytes(xlsx(rows))
    dry = invoke(app, "import-roster", good_file, "--dry-run", "--programme", "national", "--today", "2026-06-01")
    assert dry.exit_code == 0 and "新增企业：5" in dry.output and "试运行" in dry.output
    assert enterprises(settings.database_url) == 0
    applied = invoke(app, "import-roster", good_file, "--today", "2026-06-01")
    assert applied.exit_code == 0 and "已导入" in applied.output
    assert enterprises(settings.database_url) == 5

    for name in ("roster.xlsx", "roster.csv"):
        exported = invoke(app, "export-roster", tmp_path / name, "--region", "331000", "--tier", "创新型中小企业",
                          "--status", "active", "--expiring-within", "400", "--today", "2026-06-01")
        assert exported.exit_code == 0 and "已导出 5 行" in exported.output, exported.output
    assert len(read_xlsx((tmp_path / "roster.xlsx").read_bytes())) == 6
    assert (tmp_path / "roster.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    again = invoke(app, "import-roster", tmp_path / "roster.csv", "--today", "2026-06-01")
    assert again.exit_code == 0 and "未变化的行：5" in again.output

    assert "unknown programme" in invoke(app, "import-roster", good_file, "--programme", "nope").output
    assert invoke(app, "export-roster", tmp_path / "x.xlsx", "--tier", "金牌").exit_code == 1
