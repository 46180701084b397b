"""Reading an uploaded roster: .xlsx (and .xls/.ods) with python-calamine, .csv in UTF-8 or GB18030.

Cells come back as text (NFKC-normalised, trimmed, a leading ' before = + - @ dropped, so an
exported file reads back as it was), numbers, dates or None. Blank rows are skipped wherever they
are; the header is the first non-empty row — unless a title line sits above it, in which case the
first row naming at least two known columns is taken. Row numbers are the spreadsheet's own.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from registry.imports.columns import recognised_count
from registry.imports.problems import FileProblem

MAX_ROWS = 200_000
HEADER_SEARCH = 10  # non-empty rows looked at for the header row
SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Sheet:
    """A table read from a file: the header row and the non-blank data rows, numbered as in the file."""

    header_row: int
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]
    preamble: list[tuple[int, list[Any]]] = field(default_factory=list)  #: title lines above the header
    grid: list[list[Any]] = field(default_factory=list)  #: the file's rows as read, uncleaned (row n at n - 1)

    @property
    def labels(self) -> list[str]:
        """Return the header texts as the file writes them (for messages and the error workbook)."""
        return [str(v).strip() if v not in (None, "") else "" for v in self.original(self.header_row, self.headers)]

    def original(self, number: int, cells: list[Any]) -> list[Any]:
        """Return row `number` as the file writes it, as wide as its cleaned `cells` (blank cells None).

        Worked out on demand (only the header and an error workbook need it), not kept per row.
        """
        if not 0 < number <= len(self.grid):
            return cells
        return [None if v == "" else v for v in self.grid[number - 1][:len(cells)]]


def clean(value: Any) -> Any:
    """Normalise one cell: text NFKC and trimmed (None when empty); numbers and dates as they are."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value)
        if not text.isprintable():  # printable text has no control characters: skip the regex
            text = _CONTROL.sub("", text)
        text = text.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
            text = text[1:]  # the export's formula-injection guard, undone
        return text or None
    if isinstance(value, time | timedelta):
        return str(value)
    return value


class _Cleaned(dict[str, Any]):
    """clean() of each distinct text of a file, worked out once: batches, tiers, regions, firms repeat."""

    def __missing__(self, key: str) -> Any:
        value = self[key] = clean(key)
        return value


#: cell types clean() returns unchanged (exact types: a str subclass or a time still goes through clean)
_AS_IS = frozenset({int, float, bool, type(None), datetime, date})


def read_table(filename: str, content: bytes) -> Sheet:
    """Read the first sheet of a spreadsheet or a CSV file. :raises FileProblem:"""
    if not content:
        raise FileProblem("文件为空 / the file is empty")
    grid = _spreadsheet(content) if _is_spreadsheet(filename, content) else _csv(content)
    return _table(grid)


def _is_spreadsheet(filename: str, content: bytes) -> bool:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in SPREADSHEETS:
        return True
    if suffix == ".csv":
        return False
    return content[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # zip (xlsx, ods) or OLE (xls)


def _spreadsheet(content: bytes) -> list[list[Any]]:
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not book.sheet_names:
            raise FileProblem("工作簿中没有工作表 / the workbook has no sheet")
        # skip_empty_area=False keeps A1 at [0][0], so row numbers and column letters are true
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        raise FileProblem(f"无法读取电子表格（{exc.__class__.__name__}），请确认是有效的 .xlsx 文件"
                          f" / not a readable spreadsheet") from None


def decode_csv(content: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (which Excel on Chinese Windows writes)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise FileProblem("CSV 文件编码无法识别（应为 UTF-8 或 GB18030） / CSV is neither UTF-8 nor GB18030") from None


def _csv(content: bytes) -> list[list[Any]]:
    text = decode_csv(content)
    first_line = text.split("\n", 1)[0]
    dialect = csv.excel_tab if "\t" in first_line and "," not in first_line else csv.excel
    try:
        return list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise FileProblem(f"CSV 格式错误：{exc} / malformed CSV") from None


def _table(grid: list[list[Any]]) -> Sheet:
    rows, cleaned, as_is = [], _Cleaned(), _AS_IS
    for number, raw in enumerate(grid, start=1):
        cells = [cleaned[v] if v.__class__ is str else v if v.__class__ in as_is else clean(v) for v in raw]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            rows.append((number, cells))
    if not rows:
        raise FileProblem("文件中没有数据 / the file has no rows")
    at = _header_index(rows)
    data = rows[at + 1:]
    if len(data) > MAX_ROWS:
        raise FileProblem(f"数据行过多（{len(data)} 行，上限 {MAX_ROWS} 行），请拆分文件 / too many rows")
    header_row, headers = rows[at]
    return Sheet(header_row, headers, data, rows[:at], grid)


def _header_index(rows: list[tuple[int, list[Any]]]) -> int:
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH]):
        if recognised_count(cells) >= 2:
            return i
    return 0
