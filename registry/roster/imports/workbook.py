"""The error workbook: the file's rows where they were, plus a column 错误说明 saying what is wrong.

Rows keep their spreadsheet numbers, so "第5行" in a message is row 5 in both files. Problems
of the file as a whole (a missing column) go in the header row's 错误说明 cell; a second sheet
lists every error. Written with openpyxl's write-only mode; every cell passes safe_cell.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from registry.platform.cells import safe_cell
from registry.roster.imports.columns import BY_FIELD
from registry.roster.imports.problems import Problem
from registry.roster.imports.reading import Sheet

ERROR_HEADER = "错误说明"
_RED = PatternFill("solid", fgColor="FFF2CC")


def error_workbook(sheet: Sheet | None, errors: list[Problem]) -> bytes:
    """Return the .xlsx bytes of the error workbook for `sheet` (None when the file was unreadable)."""
    book = Workbook(write_only=True)
    data = book.create_sheet("导入数据")
    by_row: dict[int | None, list[str]] = defaultdict(list)
    for problem in errors:
        by_row[problem.row].append(problem.describe())
    if sheet is not None:
        width = max([len(sheet.headers)] + [len(cells) for _, cells in sheet.rows])
        _write_rows(data, sheet, width, by_row)
    listing = book.create_sheet("错误清单")
    listing.append(["行号", "列", "字段", "错误说明"])
    for problem in errors:
        listing.append([problem.row, safe_cell(problem.column), safe_cell(field_label(problem.field)),
                        safe_cell(problem.message)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def field_label(field: str | None) -> str | None:
    """Name a problem's field as the file's column does (its catalogue label), never by its code."""
    if not field:
        return None
    column = BY_FIELD.get(field)
    return column.aliases[0] if column is not None else "其他"


def _write_rows(ws: Any, sheet: Sheet, width: int, by_row: dict[int | None, list[str]]) -> None:
    lines = [*sheet.preamble, (sheet.header_row, sheet.headers), *sheet.rows]
    next_row = 1
    for number, cells in lines:
        while next_row < number:  # keep blank rows, so row numbers match the original
            ws.append([])
            next_row += 1
        original = sheet.original(number, cells)
        padded = [safe_cell(c) for c in original] + [None] * (width - len(original))
        if number == sheet.header_row:
            file_level = by_row.get(None, []) + by_row.get(number, [])
            note = f"{ERROR_HEADER}（{'；'.join(file_level)}）" if file_level else ERROR_HEADER
            ws.append([*padded, _cell(ws, note, bold=True)])
        elif by_row.get(number):
            ws.append([*padded, _cell(ws, "；".join(by_row[number]))])
        else:
            ws.append(padded)
        next_row += 1


def _cell(ws: Any, text: str, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=safe_cell(text))
    cell.fill = _RED
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        cell.font = Font(bold=True)
    return cell
