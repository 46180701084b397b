"""code_range: the index-friendly range says exactly what the prefix says, for every shipped code."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from registry.domain.regions import code_range, region_prefix

CODES = [row["code"] for row in csv.DictReader(
    (Path(__file__).resolve().parents[2] / "registry" / "regions" / "data" / "regions.csv").open(encoding="utf-8"))]


@pytest.mark.parametrize(("node", "expected"), [
    ("330000", ("330000", "339999")),
    ("331000", ("331000", "331099")),
    ("331002", ("331002", "331002")),
    ("110100", ("110100", "110199")),
])
def test_range_of_a_node(node: str, expected: tuple[str, str]) -> None:
    assert code_range(node) == expected


@pytest.mark.parametrize("node", ["330000", "331000", "510100", "510104", "440300", "110000"])
def test_range_matches_prefix_for_every_code(node: str) -> None:
    low, high = code_range(node)
    by_range = {c for c in CODES if low <= c <= high}
    by_prefix = {c for c in CODES if c.startswith(region_prefix(node))}
    assert by_range == by_prefix
    assert node in by_range
