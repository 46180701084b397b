"""registry/domain imports nothing framework-shaped."""

import ast
from pathlib import Path

FORBIDDEN = {"flask", "flask_login", "flask_wtf", "sqlalchemy", "marshmallow", "apscheduler", "alembic",
             "psycopg", "werkzeug", "openpyxl", "python_calamine", "registry.schema", "registry.platform.db"}
DOMAIN = Path(__file__).resolve().parents[2] / "registry" / "domain"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return names


def test_domain_imports_no_framework():
    files = list(DOMAIN.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        for module in imported_modules(path):
            assert module.split(".")[0] not in FORBIDDEN and module not in FORBIDDEN, f"{path.name} imports {module}"


def test_purity_check_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy.orm import Session\nimport flask\n")
    assert {"sqlalchemy.orm", "flask"} <= imported_modules(bad)
