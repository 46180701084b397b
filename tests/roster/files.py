"""Building real roster files for the import tests: .xlsx with openpyxl, .csv in UTF-8 or GB18030."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook, load_workbook

from tests.factories import make_uscc

HEADERS = ["序号", "企业名称", "统一社会信用代码", "所在地区", "称号", "认定日期", "批次", "文号"]


def xlsx(rows: list[list[Any]], headers: list[str] | None = HEADERS) -> bytes:
    """Return an .xlsx file with a header row (unless None) and `rows`."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    if headers is not None:
        sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[Any]], headers: list[str] | None = HEADERS, *, encoding: str = "utf-8-sig") -> bytes:
    """Return a CSV file in `encoding` (utf-8-sig has a BOM, utf-8 none, gb18030 as Excel writes it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    if headers is not None:
        writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


def read_xlsx(content: bytes, sheet: int = 0) -> list[list[Any]]:
    """Return a workbook's sheet as lists of values (for checking what we wrote)."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.worksheets[sheet].iter_rows(values_only=True)]


def roster_rows(n: int, *, region: str = "331002", start: int = 1, tier: str = "创新型中小企业",
                on: date = date(2024, 6, 15), batch: str = "2024年第一批", serial: int = 500_000) -> list[list[Any]]:
    """Return `n` good announcement rows (序号, 名称, USCC, 地区, 称号, 认定日期, 批次, 文号)."""
    return [[i, f"台州测试{serial + i}有限公司", make_uscc(region, serial + i), region, tier, on, batch,
             "浙经信企业〔2024〕88号"] for i in range(start, start + n)]
