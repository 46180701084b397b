"""Reading an amount as people write it — the one parser of the import, the page forms and the API.

Accepted (README "Forms accept …", "Import and export"): plain numbers (1234567.89), thousands
separators (1,234,567.89), full-width digits and punctuation (１，２３４．５), spaces, a ¥/￥ sign, and a
unit after the number — 元, 千元, 万/万元, 亿/亿元 — which converts to 元 (1,234.5万 = 12,345,000.00 元,
1.2亿 = 120,000,000.00 元); rounded to the fen (half up). Refused, with a message saying why:
anything else after or inside the number (12万3, 1e9, 1_000, 12元5角), misplaced separators (12,34),
and negative amounts (no amount of the catalogue may be negative).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from registry.domain.text import clean_text, narrow

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 16  # NUMERIC(18,2)
#: the units an amount may carry, longest first, and their factor to 元
MONEY_UNITS = (("亿元", Decimal(100_000_000)), ("万元", Decimal(10_000)), ("千元", Decimal(1000)),
               ("亿", Decimal(100_000_000)), ("万", Decimal(10_000)), ("元", Decimal(1)))
_PLAIN = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_PUNCTUATION = str.maketrans({"，": ",", "．": ".", "。": ".", "－": "-", "−": "-", "＋": "+", "％": "%"})
HINT = "可写作 1234567.89、1,234,567.89、1,234.5万 或 1.2亿"


class AmountError(ValueError):
    """A written value that is not a number of the kind asked; the message is shown as it is."""


def read_number(value: str, units: tuple[tuple[str, Decimal], ...] = ()) -> tuple[Decimal, Decimal | None]:
    """Read a written number and the unit after it (None when none is written); the sign is kept.

    :raises AmountError: not a plain decimal number (with separators) followed by one of `units`.
    """
    written = narrow(clean_text(value)).translate(_PUNCTUATION)
    written = "".join(written.split()).lstrip("¥￥").removeprefix("+")
    unit = None
    for suffix, factor in units:
        if written.endswith(suffix):
            written, unit = written[: -len(suffix)], factor
            break
    if "," in written:
        if not _THOUSANDS.match(written):
            raise AmountError(f"数字「{value}」的千位分隔符位置不对 / misplaced thousands separator")
        written = written.replace(",", "")
    if not _PLAIN.match(written):
        raise AmountError(f"应为数字，实为「{value}」 / not a number")
    return Decimal(written), unit


def parse_money(value: str, default_unit: Decimal = Decimal(1)) -> Decimal:
    """Read an amount in 元 (a unit written after the number wins over `default_unit`), rounded to the fen.

    :raises AmountError: not an amount, negative, or too large for the database.
    """
    amount, unit = read_number(value, MONEY_UNITS)
    return checked_money(amount * (unit or default_unit), value)


def checked_money(amount: Decimal, shown: object) -> Decimal:
    """Round an amount in 元 to the fen; refuse a negative or too large one (`shown` is what was written)."""
    if amount < 0:
        raise AmountError(f"不能为负数（{shown}） / must not be negative")
    if not amount.is_finite() or amount >= MAX_AMOUNT:  # before rounding: 40 digits overflow the fen's precision
        raise AmountError(f"金额过大（{shown}） / amount too large")
    result = amount.quantize(FEN, ROUND_HALF_UP)
    if result >= MAX_AMOUNT:
        raise AmountError(f"金额过大（{shown}） / amount too large")
    return result
