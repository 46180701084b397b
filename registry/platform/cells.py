"""Make a value safe for a spreadsheet cell: no formula injection, no characters Excel rejects; stream CSV text."""

from __future__ import annotations

import io
import re
from typing import Any

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
    dates and None pass unchanged.
    """
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS.sub("", value)[:MAX_CELL_CHARS]
    if text.lstrip(" ").startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text.strip()):
        return ("'" + text)[:MAX_CELL_CHARS]
    return text


def drain(buffer: io.StringIO) -> bytes:
    """Return what a streaming CSV writer put in `buffer` as UTF-8, and empty it for the next chunk."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")
