"""Reading a 公告名单 of names: the roster reader (hostile-file defences, cleaning) with the list's own columns.

A list has a 企业名称 column (名称, 单位名称, 企业全称…), usually 序号, and often 省份 or 地区; other
columns are ignored. The header is the first of the top rows naming the name column (a title line
such as "2024年度专精特新中小企业名单" may sit above it). Row numbers are the spreadsheet's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.import_limits import ImportLimits
from registry.domain.names import name_key
from registry.domain.text import clean_text
from registry.roster.imports.columns import normalize_header
from registry.roster.imports.problems import FileProblem, Problem
from registry.roster.imports.reading import read_table

#: a list of names is reviewed row by row on one page: it stays within a provincial announcement's size
MAX_ROWS = 5000
NAME_LENGTH = 200  #: the registry's enterprise name column

HEADERS = {
    "seq": ("序号", "编号", "no", "no."),
    "region": ("省份", "省(区、市)", "省(区,市)", "省区市", "省市", "省", "地区", "所在地区", "所属地区", "所在地",
               "地市", "市", "市州", "区县", "县(市、区)", "县市区", "行政区划"),
    "name": ("企业名称", "名称", "单位名称", "企业全称", "公司名称", "企业", "申报单位", "申报企业", "企业(单位)名称"),
}
LABELS = {"seq": "序号", "region": "省份/地区", "name": "企业名称"}
_BY_HEADER = {normalize_header(alias): column for column, aliases in HEADERS.items() for alias in aliases}


@dataclass(frozen=True)
class ListedRow:
    """One row of the list: its spreadsheet row number and what it says."""

    row: int
    seq: str | None
    region_text: str | None
    name: str


class ListRejected(Exception):
    """The list cannot be reviewed as it is: every problem with its row and column."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.describe() for p in problems[:5]))
        self.problems = problems


def _column_of(cell: Any) -> str | None:
    return _BY_HEADER.get(normalize_header(cell)) if cell is not None else None


def _recognise(cells: list[Any]) -> int:
    """Score a row as the header: the name column counts twice (a list may have no other)."""
    found = {_column_of(c) for c in cells} - {None}
    return len(found) + (1 if "name" in found else 0)


def limits_for_lists(limits: ImportLimits | None) -> ImportLimits:
    """Return the upload limits with the data rows capped at MAX_ROWS."""
    limits = limits or ImportLimits()
    return ImportLimits(**{**limits.__dict__, "rows": min(limits.rows, MAX_ROWS)})


def read_names(filename: str, content: bytes, limits: ImportLimits | None = None) -> list[ListedRow]:
    """Read a list of names. :raises ListRejected: the file or any row is unusable (all problems listed)."""
    try:
        sheet = read_table(filename, content, limits_for_lists(limits), _recognise)
    except FileProblem as exc:
        raise ListRejected([Problem(None, None, None, exc.message)]) from None
    columns: dict[str, int] = {}
    labels = sheet.labels
    for index, cell in enumerate(sheet.headers):
        column = _column_of(cell)
        if column is not None and column not in columns:
            columns[column] = index
    if "name" not in columns:
        found = "、".join(label for label in labels if label) or "无"
        raise ListRejected([Problem(sheet.header_row, None, "name",
                                    f"找不到「企业名称」列（表头应含 企业名称、名称 或 单位名称；本文件表头为：{found}）"
                                    " / no name column")])
    problems: list[Problem] = []
    rows: list[ListedRow] = []
    at = columns["name"]
    header = labels[at] if at < len(labels) else LABELS["name"]

    def cell(cells: list[Any], column: str) -> str | None:
        index = columns.get(column)
        if index is None or index >= len(cells) or cells[index] is None:
            return None
        value = cells[index]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = clean_text(str(value))
        return text or None

    first_of: dict[str, int] = {}
    for number, cleaned in sheet.rows:
        cells = sheet.original(number, cleaned)  # the name as published (（）, full-width letters kept)
        name = cell(cells, "name")
        if name is None:
            if any(v is not None for v in cells):
                problems.append(Problem(number, at, "name", "企业名称为空 / name is empty", header))
            continue
        if len(name) > NAME_LENGTH:
            problems.append(Problem(number, at, "name", f"企业名称超过 {NAME_LENGTH} 个字符（实为 {len(name)} 个）"
                                                        " / name too long", header))
            continue
        key = name_key(name)
        if key in first_of:
            problems.append(Problem(number, at, "name", f"与第{first_of[key]}行的企业名称相同（名单中重复）"
                                                        f" / duplicate of row {first_of[key]}", header))
            continue
        first_of[key] = number
        rows.append(ListedRow(number, cell(cells, "seq"), cell(cells, "region"), name))
    if not rows and not problems:
        problems.append(Problem(None, None, None, "名单中没有企业 / the list has no rows"))
    if problems:
        raise ListRejected(problems)
    return rows
