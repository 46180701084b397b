"""Helpers for the name-list tests: a 公告名单 file of 序号, 省份/地区, 企业名称 (and a title line above)."""

from __future__ import annotations

from typing import Any

from tests.roster.files import csv_bytes, xlsx

LIST_HEADERS = ["序号", "地区", "企业名称"]


def name_list(rows: list[list[Any]], *, title: str | None = "2024年度专精特新中小企业名单", kind: str = "xlsx",
              headers: list[str] | None = None) -> bytes:
    """Return a list of names as published: a title line, the header, numbered rows."""
    lines = ([[title]] if title else []) + [headers or LIST_HEADERS] + rows
    return xlsx(lines, headers=None) if kind == "xlsx" else csv_bytes(lines, headers=None)
