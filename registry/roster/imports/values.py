"""Reading one cell as the value its column needs: text, dates, amounts, counts, percentages.

Decisions (README "Import and export"):
- Dates: Excel date cells, 2024-06-15, 2024/6/15, 2024.6.15, 2024年6月15日, 20240615.
- Amounts are yuan. Thousands separators are accepted (1,234,567.89); a unit in the cell
  (万元, 万, 亿元, 元) or in the header (营业收入（万元）) converts to yuan; rounded to the fen.
  Negative amounts are refused. Written amounts go through registry/domain/amounts.py, the parser
  the page forms use too.
- 资产负债率 is a percentage: 45.5 and 45.5% both mean 45.5 %.
- Identifiers typed as numbers by Excel (phone, region code) are read back as their digits.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from registry.domain.amounts import FEN, MONEY_UNITS, AmountError, checked_money, read_number
from registry.domain.text import clean_text
from registry.enterprises.models import SizeClass

MAX_PERCENT = Decimal("99999.99")  # NUMERIC(7,2)
MAX_COUNT = 2**31 - 1
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MIDNIGHT = re.compile(r"[ T]0{1,2}:00(:00(\.0+)?)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INDUSTRY = re.compile(r"^[A-T]?\d{0,4}$")
SIZE_ALIASES = {"中型": SizeClass.MEDIUM, "中": SizeClass.MEDIUM, "中型企业": SizeClass.MEDIUM,
              "小型": SizeClass.SMALL, "小": SizeClass.SMALL, "小型企业": SizeClass.SMALL,
              "微型": SizeClass.MICRO, "微": SizeClass.MICRO, "微型企业": SizeClass.MICRO,
              **{s.value: s for s in SizeClass}}


class CellError(ValueError):
    """A cell that cannot be read as its column's kind; the message is shown to the officer."""


def text(value: Any, max_len: int | None = None) -> str:
    """Read a cell as text; a whole number typed by Excel comes back as its digits."""
    if value.__class__ is not str:  # most cells are: they skip the type checks
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        value = str(value)
    result = clean_text(value)  # the same cleaning as the API and the forms (registry/domain/text.py)
    if max_len is not None and len(result) > max_len:
        raise CellError(f"内容过长（{len(result)} 字，上限 {max_len} 字） / longer than {max_len} characters")
    return result


def to_date(value: Any) -> date:
    """Read a date: an Excel date cell or a written date in one of the accepted forms."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        raise CellError(f"应为日期，实为数字 {value:g}（请将单元格设为日期格式或写成 2024-06-15）"
                        " / a number where a date is expected")
    written = _MIDNIGHT.sub("", str(value).strip())
    found = _DATE.match(written) or _COMPACT_DATE.match(written)
    if not found:
        raise CellError(f"无法识别的日期「{value}」（可写作 2024-06-15、2024/6/15 或 2024年6月15日）"
                        " / not a date")
    try:
        return date(*(int(g) for g in found.groups()))
    except ValueError:
        raise CellError(f"日期「{value}」不存在 / no such day") from None


def _number(value: Any, units: tuple[tuple[str, Decimal], ...] = ()) -> tuple[Decimal, Decimal | None]:
    """Read a number and the unit written after it (None when none is written); written text goes
    through the one parser of the forms and the import (registry/domain/amounts.py)."""
    if value.__class__ is float:  # what spreadsheets hold: straight to the number
        amount, unit = Decimal(repr(value)), None
    elif isinstance(value, bool) or isinstance(value, datetime | date):
        raise CellError(f"应为数字，实为「{value}」 / not a number")
    elif isinstance(value, int | float):
        amount, unit = Decimal(repr(value)) if isinstance(value, float) else Decimal(value), None
    else:
        try:
            amount, unit = read_number(str(value), units)
        except AmountError as e:
            raise CellError(str(e)) from None
    if not amount.is_finite():
        raise CellError(f"应为数字，实为「{value}」 / not a number")
    if amount < 0:
        raise CellError(f"不能为负数（{value}） / must not be negative")
    return amount, unit


def money(value: Any, header_unit: Decimal = Decimal(1)) -> Decimal:
    """Read an amount in yuan (the cell's own unit wins over the header's), rounded to the fen."""
    amount, unit = _number(value, MONEY_UNITS)
    try:
        return checked_money(amount * (unit or header_unit), value)
    except AmountError as e:
        raise CellError(str(e)) from None


def count(value: Any, most: int | None = None) -> int:
    """Read a whole, non-negative number (people, patents) no larger than `most` (default: INTEGER's limit)."""
    most = MAX_COUNT if most is None else most
    if value.__class__ in (int, float) and 0 <= value <= most and value == int(value):
        return int(value)  # what the general path makes of a whole number, without the Decimal round trip
    amount, _ = _number(value, (("人", Decimal(1)), ("件", Decimal(1)), ("项", Decimal(1)), ("个", Decimal(1))))
    if amount != amount.to_integral_value():
        raise CellError(f"应为整数，实为「{value}」 / not a whole number")
    if amount > most:
        raise CellError(f"数值过大（{value}） / too large")
    return int(amount)


def percent(value: Any, most: Decimal | None = None) -> Decimal:
    """Read a percentage: 45.5 and 45.5% both mean 45.5 % (at most `most`, default NUMERIC(7,2)'s limit)."""
    amount, _ = _number(value, (("%", Decimal(1)),))
    if amount > MAX_PERCENT:  # before rounding: a long number overflows the quantize's precision
        raise CellError(f"百分比过大（{value}） / percentage too large")
    result = amount.quantize(FEN, ROUND_HALF_UP)
    if result > (MAX_PERCENT if most is None else most):
        raise CellError(f"百分比过大（{value}） / percentage too large")
    return result


def year(value: Any, today: date, earliest: int | None = None) -> int:
    """Read a year (2024, 2024年, 2024年度) no later than this year and no earlier than `earliest` (default 1949)."""
    written = text(value).removesuffix("年度").removesuffix("年")
    if not re.fullmatch(r"\d{4}", written):
        raise CellError(f"年度应为四位年份，实为「{value}」 / not a year")
    result = int(written)
    first = 1949 if earliest is None else earliest
    if not first <= result <= today.year:
        raise CellError(f"年度 {result} 不合理（应在 {first} 至 {today.year} 之间） / implausible year")
    return result


def size_class(value: Any) -> SizeClass:
    """Read an enterprise size: 中型/小型/微型 or medium/small/micro."""
    found = SIZE_ALIASES.get(text(value).lower())
    if found is None:
        raise CellError(f"企业规模应为 中型、小型 或 微型，实为「{value}」 / size must be medium, small or micro")
    return found


def choice(value: Any, choices: tuple[tuple[str, str], ...], label: str) -> str:
    """Read a choice by its code or its Chinese name (登记类型: 企业 / 园区（区域） / zone …)."""
    written = text(value)
    folded = written.lower().replace("(", "（").replace(")", "）")
    for code, name in choices:
        if folded in (code, name.lower(), name.split("（")[0].lower()):
            return code
    allowed = "、".join(name for _, name in choices)
    raise CellError(f"{label}应为 {allowed} 之一，实为「{value}」 / not one of the choices")


def email(value: Any, max_len: int | None = None) -> str:
    """Read an e-mail address (a light shape check)."""
    result = text(value, max_len)
    if not _EMAIL.match(result):
        raise CellError(f"邮箱地址格式不正确「{result}」 / not an e-mail address")
    return result


def industry_code(value: Any) -> str:
    """Read a GB/T 4754 industry code: a section letter and up to four digits (C3311)."""
    result = text(value).upper()
    if not result or not _INDUSTRY.match(result):
        raise CellError(f"行业代码应为 GB/T 4754 代码（如 C3311），实为「{value}」 / not an industry code")
    return result
