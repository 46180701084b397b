"""Make a value safe for a spreadsheet cell (no formula injection, no characters Excel rejects); stream CSV text;
write an .xlsx sheet with the fastest writer installed (rustpy-xlsxwriter, constant memory)."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import IO, Any

#: control characters that XML 1.0 (and so .xlsx) cannot hold; the same set as openpyxl's
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: what Excel and LibreOffice read as the start of a formula (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a plain signed number is not a formula, so "-12.50" stays as it is
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
MAX_CELL_CHARS = 32767  # Excel's limit for one cell


def safe_cell(value: Any) -> Any:
    """Return `value` fit for a cell: text stripped of illegal characters and defused of formulas.

    Text that would start a formula gets a leading apostrophe, which Excel shows as text; numbers,
    dates and None pass unchanged. Called for every cell of an export, so the common case — printable
    text not starting a formula — costs two C-level checks (issue 19).
    """
    if not isinstance(value, str):
        return value
    # isprintable() is False for every illegal character (and for a few legal ones: then the regex decides)
    text = value if value.__class__ is str and value.isprintable() else ILLEGAL_CHARACTERS.sub("", value)
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
    first = text[:1]
    if first == " ":
        first = text.lstrip(" ")[:1]
    if first in _FORMULA_FIRST and not PLAIN_NUMBER.match(text.strip()):
        return ("'" + text)[:MAX_CELL_CHARS]
    return text


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  #: each start is one character
#: a cell starting (after spaces) a formula, searched once in a row's texts each after a newline; with
#: ILLEGAL_CHARACTERS, what makes safe_cell change a text. A newline inside a cell may match needlessly
#: (the row then goes cell by cell, with the same result); a cell that safe_cell changes always matches.
#: Two searches, not one alternation: each starts with a literal or a class the regex engine scans for fast.
_FORMULA_CELL = re.compile(r"\n *[=+\-@\t\r]")


def needs_care(texts: Iterable[str | None]) -> bool:
    """Tell whether `safe_cell` might change any of `texts` (None and "" never change): one join and two
    C-speed searches for them all. False means every one of them is already fit for a cell; True may be
    said of texts that are (a newline inside one, a long one): check those one by one."""
    joined = "\n" + "\n".join(filter(None, texts))
    return len(joined) > MAX_CELL_CHARS or bool(_FORMULA_CELL.search(joined) or ILLEGAL_CHARACTERS.search(joined))


def safe_rows(rows: Iterable[Sequence[Any]], text: Sequence[int]) -> Iterator[Sequence[Any]]:
    """Yield each of `rows` with every cell as `safe_cell` makes it, without a Python call per cell.

    `text` gives the positions that may hold text (the others never hold a str: numbers, dates, None).
    A row's texts are joined and searched once (`needs_care`, inlined here); the rare row that needs care
    goes through `safe_cell` cell by cell, so every row comes out exactly as `[safe_cell(v) for v in row]`
    (issue 19: the exports' per-cell work was most of their time). A row needing no care is yielded as it is.
    """
    if not text:
        yield from rows
        return
    pick = itemgetter(*text) if len(text) > 1 else (lambda row: (row[text[0]],))
    join, formula, illegal, limit = "\n".join, _FORMULA_CELL.search, ILLEGAL_CHARACTERS.search, MAX_CELL_CHARS
    for row in rows:
        texts = "\n" + join(filter(None, pick(row)))  # None and "" need no care (and cannot be joined)
        if len(texts) > limit or formula(texts) or illegal(texts):
            yield [safe_cell(v) for v in row]
        else:
            yield row


def csv_stream(headers: Sequence[str], data: Iterator[Sequence[Any]], batch: int = 500,
               counted: list[int] | None = None) -> Iterator[bytes]:
    """`headers`, then the rows, as UTF-8 CSV (with a BOM, CRLF) in chunks of `batch` rows — writerows: the csv
    module formats each value, None as empty, a date as 2024-06-15, an amount as 123.45; `counted` gets the number
    of data rows. Streams: memory holds one chunk."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    while chunk := list(itertools.islice(data, batch)):
        writer.writerows(chunk)
        count += len(chunk)
        yield drain(buffer)
    if count == 0:
        yield drain(buffer)
    if counted is not None:
        counted.append(count)


def drain(buffer: io.StringIO) -> bytes:
    """Return what a streaming CSV writer put in `buffer` as UTF-8, and empty it for the next chunk."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def write_sheet(out: IO[bytes], *, sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                widths: Sequence[float], freeze_col: int = 0, date_format: str = "yyyy-mm-dd") -> int:
    """Write one worksheet — `headers`, then `rows` (already `safe_cell`ed) — as .xlsx to `out`; return the rows.

    The writer is rust_xlsxwriter (the rustpy-xlsxwriter wheel) in its constant-memory mode: rows
    are pulled from the iterator one at a time and flushed to a temporary file as they come, so a
    large export holds one row in memory, not the sheet (issue 19: about a tenth of openpyxl's time
    for the same cells). Text is written as inline strings (never a formula); dates take
    `date_format`; the header row stays frozen and the first `freeze_col` columns too.
    """
    from rustpy_xlsxwriter import write_worksheet  # a compiled wheel: only the export paths need it

    keys = tuple(headers)
    if not keys or len(set(keys)) != len(keys):
        raise ValueError("a sheet needs distinct headers: the writer keys each row's cells by its header")
    data = iter(rows)
    first = next(data, None)
    count = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal count
        if first is None:  # the writer takes the header row from the records' keys: an empty export
            yield dict.fromkeys(keys)  # gets a row of empty cells (not written) to carry it
            return
        for row in itertools.chain((first,), data):
            count += 1
            yield dict(zip(keys, row, strict=True))

    write_worksheet(records(), out, sheet_name=sheet, freeze_row=1, freeze_col=freeze_col or None,
                    column_widths=list(widths), datetime_format=date_format)
    return count
