"""Input bounds shared by the API schemas and the page forms (issue 13 §5).

Every integer, date, amount and text a user sends is bounded here, so nothing a client types can
overflow a column (PostgreSQL INTEGER/NUMERIC(18,2)), reach an absurd OFFSET, or store invisible
text. `InSchema` applies the bounds to every field of an input schema that does not declare
tighter ones; `PageForm` (registry/web/pages/forms.py) does the same for the page forms.

- Integers: 0 … 2**31-1 (INTEGER) unless the field says otherwise; pages 1 … MAX_PAGE.
- Dates: 1900-01-01 … 2100-12-31 (a plausibility rule such as "not after today" is the services').
- Amounts: below 10**16 yuan (NUMERIC(18,2)).
- Text: cleaned by registry.domain.text.clean_text (control, zero-width, bidi and other format
  characters removed, NFC), at most DEFAULT_TEXT characters unless declared, and a required
  text that is empty after cleaning is refused. Text longer than MULTILINE_FROM keeps its line breaks.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from registry.domain.text import clean_text

INT_MAX = 2**31 - 1  #: PostgreSQL INTEGER
MAX_PAGE = 100_000  #: page numbers beyond this are refused (OFFSET stays far below any limit)
MAX_PER_PAGE = 500
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2100, 12, 31)
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_AMOUNT = Decimal("9999999999999999.99")  #: NUMERIC(18,2)
DEFAULT_TEXT = 2000
MULTILINE_FROM = 500

MESSAGES = {
    "required": "此项必填 / required",
    "null": "不能为空 / may not be null",
    "invalid": "格式不正确 / invalid value",
    "validator_failed": "取值无效 / invalid value",
    "too_large": "数值过大 / number too large",
    "special": "应为有限数字（不接受 NaN 或无穷大） / NaN and infinity are not allowed",
    "invalid_utf8": "应为 UTF-8 文本 / not valid UTF-8",
    "format": "日期无法格式化 / cannot be formatted",
}
TYPE_MESSAGES: list[tuple[type[fields.Field], str]] = [
    (fields.Integer, "应为整数 / not a valid integer"),
    (fields.Decimal, "应为数字 / not a valid number"),
    (fields.Boolean, "应为是或否（true/false） / not a valid boolean"),
    (fields.Date, "应为日期（YYYY-MM-DD） / not a valid date"),
    (fields.DateTime, "应为日期时间（ISO 8601） / not a valid datetime"),
    (fields.Email, "邮箱地址格式不正确 / not a valid e-mail address"),
    (fields.String, "应为文本 / not a valid string"),
    (fields.Dict, "应为对象 / not a valid mapping"),
    (fields.List, "应为列表 / not a valid list"),
    (fields.Nested, "应为对象 / not a valid object"),
]


def length_message(low: int | None, high: int | None) -> str:
    """Chinese message of a length bound."""
    if low and high:
        return (f"不能为空 / must not be empty（最多 {high} 个字符 / at most {high} characters）" if low == 1
                else f"长度应在 {low} 到 {high} 个字符之间 / length must be between {low} and {high}")
    if high:
        return f"不能超过 {high} 个字符 / at most {high} characters"
    if low == 1:
        return "不能为空 / must not be empty"
    return f"不能少于 {low} 个字符 / at least {low} characters"


def range_message(low: Any, high: Any) -> str:
    """Chinese message of a value bound."""
    if low is not None and high is not None:
        return f"应在 {low} 到 {high} 之间 / must be between {low} and {high}"
    if high is not None:
        return f"不能大于 {high} / must be at most {high}"
    return f"不能小于 {low} / must be at least {low}"


def text_length(low: int | None, high: int) -> validate.Length:
    """A length bound with its Chinese message."""
    return validate.Length(low, high, error=length_message(low, high))


def value_range(low: Any, high: Any) -> validate.Range:
    """A value bound with its Chinese message."""
    return validate.Range(low, high, error=range_message(low, high))


def page_field() -> fields.Integer:
    """A page number."""
    return fields.Integer(load_default=1, validate=value_range(1, MAX_PAGE))


def per_page_field() -> fields.Integer:
    """A page size."""
    return fields.Integer(load_default=50, validate=value_range(1, MAX_PER_PAGE))


def year_field(**kw: Any) -> fields.Integer:
    """A calendar year within the sane range."""
    return fields.Integer(validate=value_range(MIN_YEAR, MAX_YEAR), **kw)


def _amount_fits(value: Any) -> None:
    if value is not None and abs(value) > MAX_AMOUNT:
        raise ValidationError(f"数值过大（上限 {MAX_AMOUNT}） / too large")


def _ranges(field: fields.Field) -> list[validate.Range]:
    return [v for v in field.validators if isinstance(v, validate.Range)]


def _lengths(field: fields.Field) -> list[validate.Length]:
    return [v for v in field.validators if isinstance(v, validate.Length)]


def _translate(field: fields.Field) -> None:
    """Chinese messages for the field's built-in errors and its length/range validators."""
    messages = dict(MESSAGES)
    for kind, message in TYPE_MESSAGES:
        if isinstance(field, kind):
            messages["invalid"] = message
            break
    field.error_messages = {**field.error_messages, **messages}
    for v in field.validators:
        if isinstance(v, validate.Length) and v.error is None:
            v.error = length_message(v.min, v.max)
        elif isinstance(v, validate.Range) and v.error is None:
            v.error = range_message(v.min, v.max)
        elif isinstance(v, validate.Email):
            v.error = "邮箱地址格式不正确 / not a valid e-mail address"


def _cleaning(field: fields.String) -> None:
    """Clean the text after it is read and before it is validated."""
    read = field._deserialize
    limit = max((v.max for v in _lengths(field) if v.max is not None), default=DEFAULT_TEXT)
    multiline = limit > MULTILINE_FROM

    def deserialize(value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = read(value, attr, data, **kwargs)
        return clean_text(result, multiline=multiline) if isinstance(result, str) else result

    field._deserialize = deserialize  # type: ignore[method-assign]


def bound_field(field: fields.Field) -> None:
    """Give `field` (an input field) the default bounds it lacks; clean its text."""
    if isinstance(field, fields.Integer):
        ranges = _ranges(field)
        if not ranges:
            field.validators.append(value_range(0, INT_MAX))
        elif all(r.max is None for r in ranges):
            field.validators.append(value_range(None, INT_MAX))
    elif isinstance(field, fields.Decimal):
        field.validators.append(_amount_fits)  # a function, not a Range: the API shows decimals as strings
    elif isinstance(field, fields.Date) and not _ranges(field):
        field.validators.append(value_range(EARLIEST_DAY, LATEST_DAY))
    elif isinstance(field, fields.String) and not field.metadata.get("raw"):
        lengths = _lengths(field)
        if not any(v.max is not None for v in lengths):
            field.validators.append(text_length(1 if field.required else None, DEFAULT_TEXT))
        elif field.required and not any(v.min for v in lengths):
            field.validators.append(text_length(1, None))
        _cleaning(field)
    elif isinstance(field, fields.Dict):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                bound_field(inner)
                _translate(inner)
    elif isinstance(field, fields.List) and field.inner is not None:
        bound_field(field.inner)
        _translate(field.inner)
    _translate(field)


class InSchema(Schema):
    """Base of every input schema: default bounds, clean text, Chinese messages (see the module doc)."""

    error_messages = {"unknown": "未知字段 / unknown field", "type": "应为 JSON 对象 / invalid input type"}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:  # noqa: D102
        bound_field(field_obj)
