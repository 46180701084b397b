"""One data row read into typed values, with a Problem for every cell that cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from registry.domain import guards, uscc
from registry.domain.errors import RuleViolation
from registry.roster.imports import values as v
from registry.roster.imports.columns import BY_FIELD, REPORT_FIELDS, TITLE_FIELDS, Mapped
from registry.roster.imports.lookups import Regions, Tiers
from registry.roster.imports.problems import Problem

_READERS = {"size": v.size_class, "code": v.industry_code}
#: the dates that cannot lie ahead, named by their columns' labels
FUTURE_CHECKED = {name: BY_FIELD[name].aliases[0] for name in ("recognized_on", "founded_on", "submitted_on")}
_REPEATING = frozenset({"region", "tier", "size", "code", "year", "choice"})
_TITLE_DETAILS = frozenset(TITLE_FIELDS) - {"tier"}
_REPORT = frozenset(REPORT_FIELDS)


@dataclass(slots=True)
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
        self._columns = [(m.index, m.column.field, self._reader(m), m) for m in self.mapping]
        self._width = max((m.index + 1 for m in self.mapping), default=0)

    def problem(self, row: int, field_name: str | None, message: str) -> Problem:
        """Build a problem located at `field_name`'s column (named by its header if the file lacks it)."""
        spot = self.by_field.get(field_name or "uscc")
        if spot is not None:
            return Problem(row, spot.index, field_name, message, spot.header)
        header = BY_FIELD[field_name].aliases[0] if field_name in BY_FIELD else None
        return Problem(row, None, field_name, message, header)

    def read(self, number: int, cells: list[Any]) -> tuple[Row, list[Problem]]:
        """Read one row; return it with the problems of its cells and of the row as a whole."""
        values: dict[str, Any] = {}
        row, problems = Row(number, cells, values, set()), []
        if len(cells) < self._width:  # trailing blank cells were trimmed: pad, so every column has one
            cells = cells + [None] * (self._width - len(cells))
        for index, name, read, m in self._columns:
            if (raw := cells[index]) is None:
                continue
            try:
                values[name] = read(raw)
            except (v.CellError, RuleViolation) as exc:
                message = exc.args[0] if isinstance(exc, v.CellError) else next(iter(exc.errors.values()))[0]
                if m.column.kind == "uscc" and isinstance(raw, int | float):
                    message += "（该单元格为数字格式，18位代码会丢失精度，请将此列设为文本后重新填写）"
                problems.append(Problem(number, m.index, m.column.field, message, m.header))
                row.bad.add(m.column.field)
        problems += self._row_checks(row)
        return row, problems

    def _reader(self, m: Mapped) -> Callable[[Any], Any]:
        """Return the function reading a cell of `m`'s column, chosen once per file rather than per cell.

        Columns whose few values repeat down the file (regions, tiers, sizes, industries, years)
        remember what each distinct cell read as; a cell that cannot be read is worked out (and
        refused) each time.
        """
        kind, column = m.column.kind, m.column
        if kind == "uscc":
            read: Callable[[Any], Any] = lambda raw: uscc.validate(v.text(raw))  # noqa: E731
        elif kind == "region":
            read = self.regions.resolve
        elif kind == "tier":
            read = self.tiers.resolve
        elif kind == "date":
            read = partial(self._date, FUTURE_CHECKED.get(column.field))
        elif kind == "money":
            read = partial(v.money, header_unit=m.unit)
        elif kind == "year":
            read = partial(v.year, today=self.today, earliest=column.min_value)
        elif kind == "count":
            read = partial(v.count, most=column.max_value)
        elif kind == "percent":
            read = partial(v.percent, most=column.max_value)
        elif kind in ("email", "text"):
            read = partial(v.email if kind == "email" else v.text, max_len=column.max_len)
        elif kind == "choice":
            read = partial(v.choice, choices=column.choices, label=column.aliases[0])
        else:
            read = _READERS[kind]
        return _remembering(read) if kind in _REPEATING else read

    def _date(self, label: str | None, raw: Any) -> date:
        day = v.to_date(raw)
        if label is not None:
            guards.check_not_future("date", label, day, self.today)  # the one rule every path asks
        return day

    def _row_checks(self, row: Row) -> list[Problem]:
        problems: list[Problem] = []
        given = row.values.keys() | row.bad if row.bad else row.values.keys()
        if "uscc" not in given:
            problems.append(self.problem(row.number, "uscc", "统一社会信用代码不能为空 / the USCC is required"))
        if "tier" not in given and not given.isdisjoint(_TITLE_DETAILS):
            problems.append(self.problem(row.number, "tier", "填写了认定信息但缺少称号 / the tier is missing"))
        if "tier" in given and "recognized_on" not in given:
            problems.append(self.problem(row.number, "recognized_on",
                                         "缺少认定日期 / the recognition date is missing"))
        if "year" not in given and not given.isdisjoint(_REPORT):
            problems.append(self.problem(row.number, "year", "填写了年度数据但缺少年度 / the year is missing"))
        if "year" in row.values and not row.values.keys().isdisjoint(_REPORT):
            figures = {k: row.values[k] for k in _REPORT if k in row.values}
            try:  # the same plausibility rules as a report entered by hand (errors only; warnings are not row problems)
                guards.check_annual_figures(row.values["year"], figures, self.today)
            except RuleViolation as exc:
                problems += [self.problem(row.number, f, m) for f, ms in exc.errors.items() for m in ms
                             if f not in row.bad]
        return problems


def _remembering(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap `read` so each distinct cell (by type and value: 1, 1.0 and True differ) is read once."""
    known: dict[tuple[type, Any], Any] = {}

    def remembered(raw: Any) -> Any:
        key = (raw.__class__, raw)
        try:
            return known[key]
        except KeyError:
            value = known[key] = read(raw)
            return value

    return remembered
