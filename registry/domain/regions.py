"""The GB/T 2260 region tree as prefixes: 330000 ⊃ 331000 ⊃ 331002.

A province's codes share its first two digits, a prefecture's its first four. Scoping a user to
a node therefore means "codes starting with the node's prefix", which an index answers fast.
"""

from __future__ import annotations

import re

CODE = re.compile(r"^\d{6}$")


def region_prefix(code: str) -> str:
    """Return the prefix every code under `code` starts with (330000 → 33, 331000 → 3310)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def code_range(code: str) -> tuple[str, str]:
    """Return the first and last code under `code` (330000 → 330000…339999, 331002 → itself).

    For six-digit codes `low <= c <= high` says the same as "c starts with the prefix", and unlike
    LIKE with a bound pattern it is a range an index can seek (bench/RESULTS.md shows the plans).
    """
    prefix = region_prefix(code)
    return prefix.ljust(6, "0"), prefix.ljust(6, "9")


def contains(ancestor: str, code: str) -> bool:
    """Tell whether `code` lies under (or is) `ancestor`."""
    return code.startswith(region_prefix(ancestor))


def level(code: str) -> str:
    """Return province, city or district for a code."""
    return {2: "province", 4: "city"}.get(len(region_prefix(code)), "district")
