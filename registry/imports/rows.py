"""One data row read into typed values, with a Problem for every cell that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.domain import uscc
from registry.domain.errors import RuleViolation
from registry.imports import values as v
from registry.imports.columns import BY_FIELD, REPORT_FIELDS, TITLE_FIELDS, Mapped
from registry.imports.lookups import Regions, Tiers
from registry.imports.problems import Problem

_READERS = {"count": v.count, "percent": v.percent, "size": v.size_class, "code": v.industry_code}
FUTURE_CHECKED = {"recognized_on": "认定日期", "founded_on": "成立日期", "submitted_on": "填报日期"}


@dataclass
class Row:
    """A data row: its spreadsheet number, its cells as read and the values that could be read."""

    number: int
    cells: list[Any]
    values: dict[str, Any] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)  #: fields whose cell could not be read

    def has(self, *fields: str) -> bool:
        """Tell whether any of `fields` was given (readable or not)."""
        return any(f in self.values or f in self.bad for f in fields)


class RowReader:
    """Reads rows by the file's header mapping, resolving regions and tiers."""

    def __init__(self, mapping: list[Mapped], regions: Regions, tiers: Tiers, today: date) -> None:
        self.mapping = [m for m in mapping if m.column.kind != "info"]
        self.by_field = {m.column.field: m for m in mapping}
        self.regions, self.tiers, self.today = regions, tiers, today

    def problem(self, row: int, field_name: str | None, message: str) -> Problem:
        """Build a problem located at `field_name`'s column (named by its header if the file lacks it)."""
        spot = self.by_field.get(field_name or "uscc")
        if spot is not None:
            return Problem(row, spot.index, field_name, message, spot.header)
        header = BY_FIELD[field_name].aliases[0] if field_name in BY_FIELD else None
        return Problem(row, None, field_name, message, header)

    def read(self, number: int, cells: list[Any]) -> tuple[Row, list[Problem]]:
        """Read one row; return it with the problems of its cells and of the row as a whole."""
        row, problems = Row(number, cells), []
        for m in self.mapping:
            raw = cells[m.index] if m.index < len(cells) else None
            if raw is None:
                continue
            try:
                row.values[m.column.field] = self._value(m, raw)
            except (v.CellError, RuleViolation) as exc:
                message = exc.args[0] if isinstance(exc, v.CellError) else next(iter(exc.errors.values()))[0]
                if m.column.kind == "uscc" and isinstance(raw, int | float):
                    message += "（该单元格为数字格式，18位代码会丢失精度，请将此列设为文本后重新填写）"
                problems.append(Problem(number, m.index, m.column.field, message, m.header))
                row.bad.add(m.column.field)
        problems += self._row_checks(row)
        return row, problems

    def _value(self, m: Mapped, raw: Any) -> Any:
        kind, column = m.column.kind, m.column
        if kind == "uscc":
            return uscc.validate(v.text(raw))
        if kind == "region":
            return self.regions.resolve(raw)
        if kind == "tier":
            return self.tiers.resolve(raw)
        if kind == "date":
            day = v.to_date(raw)
            if column.field in FUTURE_CHECKED and day > self.today:
                raise v.CellError(f"{FUTURE_CHECKED[column.field]} {day} 晚于今天（{self.today}） / in the future")
            return day
        if kind == "money":
            return v.money(raw, m.unit)
        if kind == "year":
            return v.year(raw, self.today)
        if kind in ("email", "text"):
            return (v.email if kind == "email" else v.text)(raw, column.max_len)
        return _READERS[kind](raw)

    def _row_checks(self, row: Row) -> list[Problem]:
        problems = []
        if not row.has("uscc"):
            problems.append(self.problem(row.number, "uscc", "统一社会信用代码不能为空 / the USCC is required"))
        title_details = [f for f in TITLE_FIELDS if f != "tier" and row.has(f)]
        if title_details and not row.has("tier"):
            problems.append(self.problem(row.number, "tier", "填写了认定信息但缺少称号 / the tier is missing"))
        if row.has("tier") and not row.has("recognized_on"):
            problems.append(self.problem(row.number, "recognized_on",
                                         "缺少认定日期 / the recognition date is missing"))
        if any(row.has(f) for f in REPORT_FIELDS) and not row.has("year"):
            problems.append(self.problem(row.number, "year", "填写了年度数据但缺少年度 / the year is missing"))
        return problems
