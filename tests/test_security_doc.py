"""docs/security.md (issue 16 §9): every item names a test, and every test it names exists.

A row of a table names at least one test (`tests/…py::test_name`) or is marked "in progress: TOTP/SM3"
with the planned test file. A named function must be defined in the named file (a parametrized test
counts once); a planned file may be missing until its work lands, and once it exists it must hold tests.
"""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOC = ROOT / "docs" / "security.md"
NAMED = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")
PLANNED = re.compile(r"in progress: TOTP/SM3 — planned (tests/[\w/]+\.py)")


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


def test_every_item_names_a_test_or_its_planned_file():
    items = rows()
    assert len(items) >= 35
    for row in items:
        last = row.rstrip(" |").rsplit("|", 1)[-1]
        assert NAMED.search(last) or PLANNED.search(last), f"no test named for: {row[:80]}"


def missing_tests(doc=DOC) -> list[str]:  # noqa: ANN001
    """The tests the document names that do not exist."""
    named = {(path, name) for row in rows(doc) for path, name in NAMED.findall(row)}
    planned = {path for row in rows(doc) for path in PLANNED.findall(row)}
    missing = []
    for path, name in sorted(named):
        file = ROOT / path
        if path in planned and not name:
            assert not file.exists() or "def test_" in file.read_text(encoding="utf-8"), path
            continue
        if not file.exists():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", file.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{name}")
    return missing


def test_every_named_test_exists():
    assert {p for row in rows() for p in PLANNED.findall(row)} >= {"tests/web/test_totp.py",
                                                                   "tests/audit/test_sm3_chain.py"}
    assert missing_tests() == []


def test_the_check_sees_a_missing_test_and_a_missing_file(tmp_path):
    fake = tmp_path / "security.md"
    fake.write_text("## 身份鉴别\n| requirement | feature | test |\n|---|---|---|\n"
                    "| x | y | tests/web/test_sessions.py::test_no_such_test |\n"
                    "| x | y | tests/web/test_sessions.py::test_a_token_cannot_create_a_token |\n"
                    "| x | y | tests/web/test_nowhere.py |\n", encoding="utf-8")
    assert missing_tests(fake) == ["tests/web/test_nowhere.py", "tests/web/test_sessions.py::test_no_such_test"]
