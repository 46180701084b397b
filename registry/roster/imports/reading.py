"""Reading an uploaded roster: .xlsx with python-calamine, .csv in UTF-8 or GB18030.

Nothing is parsed before registry/roster/imports/guard.py has bounded the file (size, archive, sheet
extent, shared strings; a CSV must be text), and rows are then read one at a time, so memory
follows the limits, never what a file declares. .xls and .ods are refused there.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from config.import_limits import ImportLimits
from registry.roster.imports.columns import recognised_count
from registry.roster.imports.guard import HEADER_ROWS, check_upload, decode_csv, refuse
from registry.roster.imports.problems import FileProblem

HEADER_SEARCH = 10  # non-empty rows looked at for the header row
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Sheet:
    """A table read from a file: the header row and the non-blank data rows, numbered as in the file."""

    header_row: int
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]
    preamble: list[tuple[int, list[Any]]] = field(default_factory=list)  #: title lines above the header
    #: the file's own form of the rows cleaning changed (blank cells None), by row number; the
    #: other rows read as they are, so one list per row is kept, not two
    originals: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """Return the header texts as the file writes them (for messages and the error workbook)."""
        return [str(v).strip() if v not in (None, "") else "" for v in self.original(self.header_row, self.headers)]

    def original(self, number: int, cells: list[Any]) -> list[Any]:
        """Return row `number` as the file writes it, as wide as its cleaned `cells` (blank cells None)."""
        return self.originals.get(number, cells)


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
    """clean() of each distinct text of a column, worked out once: batches, tiers, regions, firms repeat.

    Repeated texts also come out as one object each, so a 100,000-row file holds "创新型中小企业"
    once, not 100,000 times.
    """

    def __missing__(self, key: str) -> Any:
        value = self[key] = clean(key)
        return value


class _Unique:
    """The stand-in for _Cleaned in a column whose texts hardly repeat (names, codes): no cache to grow."""

    def __getitem__(self, key: str) -> Any:
        return clean(key)


#: rows after which a column whose texts are mostly distinct stops caching them
CACHE_TRIAL = 2000

#: cell types clean() returns unchanged (exact types: a str subclass or a time still goes through clean)
_AS_IS = frozenset({int, float, bool, type(None), datetime, date})


def read_table(filename: str, content: bytes, limits: ImportLimits | None = None,
               recognise: Callable[[list[Any]], int] = recognised_count) -> Sheet:
    """Read the first sheet of an .xlsx or a CSV file, within `limits`. :raises FileProblem:

    `recognise` counts the known headers of a row (the roster's columns unless another list's).
    """
    limits = limits or ImportLimits()
    kind = check_upload(filename, content, limits)  # before any parser sees the bytes
    return _table(_spreadsheet(content) if kind == "xlsx" else _csv(content, limits), limits, recognise)


def _spreadsheet(content: bytes) -> Iterator[list[Any]]:
    """Yield the first sheet's rows from row 1 (its extent was bounded by the guard); A1 stays at [0]."""
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not book.sheet_names:
            raise FileProblem("工作簿中没有工作表 / the workbook has no sheet")
        sheet = book.get_sheet_by_index(0)
        book.close()  # the shared strings table: the sheet has its own copies
        del book
        if sheet.start is None:
            return
        left = sheet.start[1]  # iter_rows starts at row 1 but at the first used column
        pad = [""] * left
        for row in sheet.iter_rows():
            yield pad + row if left else row
    except (CalamineError, ValueError, OSError) as exc:
        raise FileProblem(f"无法读取电子表格（{exc.__class__.__name__}），请确认是有效的 .xlsx 文件"
                          f" / not a readable spreadsheet") from None


def _csv(content: bytes, limits: ImportLimits) -> Iterator[list[Any]]:
    """Yield CSV rows one at a time, refusing as soon as the file outgrows the sheet limits."""
    text = decode_csv(content)
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # old Mac line ends
    first_line = text.split("\n", 1)[0]
    dialect = csv.excel_tab if "\t" in first_line and "," not in first_line else csv.excel
    number, cells, most_rows = 0, 0, limits.rows + HEADER_ROWS
    try:
        for row in csv.reader(_lines(text), dialect):
            number += 1
            while row and not row[-1]:
                row.pop()  # the empty cells Excel writes up to the widest row
            if len(row) > limits.columns:
                raise refuse(f"CSV 第{number}行的列数", f"{len(row):,} 列", f"{limits.columns:,} 列", "too many columns")
            cells += len(row)
            if cells > limits.cells:
                raise refuse("CSV 的单元格数", f"超过 {limits.cells:,}", limits.cells, "too many cells")
            if number > most_rows:
                raise refuse("CSV 的行数", f"超过 {most_rows:,} 行", f"{most_rows:,} 行（数据行 {limits.rows:,} 行另加表头）",
                             "too many rows", "，请拆分文件")
            yield row
    except csv.Error as exc:
        if "field larger" in str(exc):
            raise FileProblem(f"CSV 第{number + 1}行有超长的单元格（超过 {csv.field_size_limit():,} 个字符）"
                              " / field too long") from None
        raise FileProblem(f"CSV 格式错误（第{number + 1}行）：{exc} / malformed CSV") from None


def _lines(text: str) -> Iterator[str]:
    """Yield the lines of `text` with their line ends (a StringIO would hold four bytes a character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


def _table(grid: Iterable[list[Any]], limits: ImportLimits,
           recognise: Callable[[list[Any]], int] = recognised_count) -> Sheet:
    """Clean the rows as they are read; keep a row's file form only where cleaning changed it."""
    rows: list[tuple[int, list[Any]]] = []
    originals: dict[int, list[Any]] = {}
    caches: list[Any] = []
    as_is = _AS_IS
    for number, raw in enumerate(grid, start=1):
        if len(raw) > len(caches):
            caches.extend(_Cleaned() for _ in range(len(raw) - len(caches)))
        cells = [cache[v] if v.__class__ is str else v if v.__class__ in as_is else clean(v)
                 for v, cache in zip(raw, caches, strict=False)]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            rows.append((number, cells))
            file_form = [None if v == "" else v for v in raw[:len(cells)]]
            if file_form != cells:
                originals[number] = file_form
        if number == CACHE_TRIAL:
            caches = [_Unique() if len(cache) > CACHE_TRIAL // 2 else cache for cache in caches]
    if not rows:
        raise FileProblem("文件中没有数据 / the file has no rows")
    at = _header_index(rows, recognise)
    data = rows[at + 1:]
    if len(data) > limits.rows:
        raise refuse("数据行数", f"{len(data):,} 行", f"{limits.rows:,} 行", "too many rows", "，请拆分文件")
    header_row, headers = rows[at]
    return Sheet(header_row, headers, data, rows[:at], originals)


def _header_index(rows: list[tuple[int, list[Any]]], recognise: Callable[[list[Any]], int]) -> int:
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH]):
        if recognise(cells) >= 2:
            return i
    return 0
