"""docs/security.md (issue 16 §9): every item names a test, and every test it names exists.

A row of a table names at least one test (`tests/…py::test_name`); a named function must be defined in
the named file (a parametrized test counts once).
"""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOC = ROOT / "docs" / "security.md"
NAMED = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")


def rows(doc=DOC) -> list[str]:  # noqa: ANN001
    """The table rows of the requirement sections (header and rule lines left out)."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found, section = [], ""
    for line in lines:
        if line.startswith("## "):
            section = line
        elif line.startswith("| ") and "deployment" not in section and not line.startswith(("| requirement", "|---")):
            found.append(line)
    return found


def test_every_item_names_a_test():
    items = rows()
    assert len(items) >= 35
    for row in items:
        last = row.rstrip(" |").rsplit("|", 1)[-1]
        assert NAMED.search(last), f"no test named for: {row[:80]}"


def missing_tests(doc=DOC) -> list[str]:  # noqa: ANN001
    """The tests the document names that do not exist."""
    named = {(path, name) for row in rows(doc) for path, name in NAMED.findall(row)}
    missing = []
    for path, name in sorted(named):
        file = ROOT / path
        if not file.exists():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", file.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{name}")
    return missing


def test_every_named_test_exists():
    assert missing_tests() == []


def test_the_check_sees_a_missing_test_and_a_missing_file(tmp_path):
    fake = tmp_path / "security.md"
    fake.write_text("## 身份鉴别\n| requirement | feature | test |\n|---|---|---|\n"
                    "| x | y | tests/accounts/test_sessions.py::test_no_such_test |\n"
                    "| x | y | tests/accounts/test_sessions.py::test_a_token_cannot_create_a_token |\n"
                    "| x | y | tests/web/test_nowhere.py |\n", encoding="utf-8")
    assert missing_tests(fake) == ["tests/accounts/test_sessions.py::test_no_such_test", "tests/web/test_nowhere.py"]
