"""The roster's columns: their Chinese headers, accepted aliases, kinds and units.

The columns are built from the field catalogues (registry/enterprises/fields.py,
registry/titles/fields.py): a column's headers are its field's label and aliases, the export writes
the label with its unit (营业收入（元）), so an exported file re-imports as it is, and the text
bounds are the catalogue's. Headers are matched after NFKC, without spaces and case-insensitively; a
trailing unit in brackets is read off the header (营业收入（万元） → amounts in 万元). Informational columns
(地区名称, 状态, 有效期至 …) are written by the export and ignored by the import without a warning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from registry.enterprises import fields as enterprise_fields
from registry.platform.catalogue import Field
from registry.roster.imports.problems import Problem
from registry.titles import fields as title_fields

ENTERPRISE, TITLE, REPORT, NONE = "enterprise", "title", "report", "none"


@dataclass(frozen=True)
class Column:
    """One field of the roster: what it is called, where it belongs and how it is read."""

    field: str
    aliases: tuple[str, ...]  #: the first is the field's label (what messages call the column)
    kind: str  # text, uscc, region, tier, date, money, count, percent, year, size, email, code, info
    entity: str
    max_len: int | None = None
    header: str = ""  #: what the export writes: the label with its unit (营业收入（元）)
    max_value: Any = None  #: counts and percentages: the largest plausible value
    min_value: Any = None  #: years: the earliest plausible one
    choices: tuple[tuple[str, str], ...] = ()  #: a choice column's (code, Chinese name)s


#: how the import reads a catalogue kind (registry/platform/catalogue.py) where the name differs
_READ_AS = {"industry": "code", "choice": "size", "long_text": "text"}


def column(field: Field, entity: str) -> Column:
    """Return the import column of a catalogue field: its label (then its aliases) as headers, its bounds."""
    kind = _READ_AS.get(field.kind, field.kind)
    if field.kind == "choice" and field.name != "size_class":
        kind = "choice"  # read by its choices (code or Chinese name); 企业规模 keeps its own reader
    return Column(field.name, (field.label, *field.aliases, field.name), kind, entity,
                  field.max_length if kind in ("text", "email") else None, field.title,
                  field.max_value, field.min_value, field.choices)


def _info(name: str, header: str, *aliases: str) -> Column:
    """A column the export writes for the reader and the import ignores (地区名称, 状态, 有效期至 …)."""
    return Column(name, (header, *aliases, name), "info", NONE, header=header)


def build_columns() -> tuple[Column, ...]:
    """Return the roster's columns, in the export's order, built from the field catalogues."""
    e, t, r = enterprise_fields.ENTERPRISE, title_fields.CERTIFICATION, enterprise_fields.ANNUAL_REPORT
    return (
        _info("no", "序号", "编号"),
        column(e["name"], ENTERPRISE), column(e["uscc"], ENTERPRISE), column(e["region_code"], ENTERPRISE),
        _info("region_name", "地区名称"),
        *(column(t[n], TITLE) for n in ("tier", "recognized_on", "batch", "document_no", "authority")),
        _info("status", "状态"), _info("valid_until", "有效期至"),
        *(column(e[n], ENTERPRISE) for n in ("industry_code", "size_class", "founded_on", "contact_name",
                                             "contact_email", "contact_phone")),
        *(column(r[n], REPORT) for n in ("year", "revenue", "main_business_revenue", "rd_expense", "employees",
                                         "rd_staff", "debt_ratio", "invention_patents", "audit_report_code",
                                         "audit_firm", "main_product", "main_product_revenue", "submitted_on")),
        # issue 17 (docs/holders.md): a zone's kind, type and managing body; a product title's product
        *(column(e[n], ENTERPRISE) for n in ("holder_kind", "zone_type", "managing_body")),
        *(column(t[n], TITLE) for n in ("product_name", "product_sales", "product_share")),
    )


COLUMNS: tuple[Column, ...] = build_columns()
BY_FIELD = {c.field: c for c in COLUMNS}
ENTERPRISE_FIELDS = tuple(c.field for c in COLUMNS if c.entity == ENTERPRISE)
TITLE_FIELDS = tuple(c.field for c in COLUMNS if c.entity == TITLE)
REPORT_FIELDS = tuple(c.field for c in COLUMNS if c.entity == REPORT and c.field != "year")


def export_columns(columns: tuple[Column, ...] = COLUMNS) -> tuple[Column, ...]:
    """What the export writes, in order (informational columns included; not the filing day)."""
    return tuple(c for c in columns if c.field != "submitted_on")


EXPORT_COLUMNS = export_columns()

UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}
_UNIT_SUFFIX = re.compile(r"^(.+?)[(\[]([^()\[\]]*)[)\]]$")


def normalize_header(text: object) -> str:
    """Fold a header for matching: NFKC, no whitespace, lower-case."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(folded.split()).lower()


_ALIASES = {normalize_header(a): c for c in COLUMNS for a in c.aliases}


@dataclass(frozen=True)
class Mapped:
    """A header of the file matched to a column, with the unit its amounts are in."""

    index: int
    header: str
    column: Column
    unit: Decimal = Decimal(1)


def match_header(text: object) -> tuple[Column | None, Decimal | None]:
    """Return the column a header names and its unit factor (None when the unit is unknown)."""
    key = normalize_header(text)
    if key in _ALIASES:
        return _ALIASES[key], Decimal(1)
    found = _UNIT_SUFFIX.match(key)
    if not found or found.group(1) not in _ALIASES:
        return None, Decimal(1)
    column, unit = _ALIASES[found.group(1)], found.group(2)
    if column.kind != "money":
        return column, Decimal(1)  # 资产负债率(%), 从业人员(人), 成立日期(yyyy-mm-dd): a label only
    return column, UNITS.get(unit)


def recognised_count(cells: list[object]) -> int:
    """Count the cells of a row that name a known column (to find the header row)."""
    return sum(1 for c in cells if c is not None and match_header(c)[0] is not None)


def map_headers(headers: list[object], header_row: int,
                labels: list[str] | None = None) -> tuple[list[Mapped], list[Problem], list[Problem]]:
    """Match a header row to columns; return the mapping, errors and warnings (unknown columns).

    `labels` are the headers as the file writes them, used in messages (default: `headers`).
    """
    mapped: dict[str, Mapped] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for index, raw in enumerate(headers):
        if raw is None or str(raw).strip() == "":
            continue
        text = labels[index] if labels and index < len(labels) and labels[index] else str(raw).strip()
        column, unit = match_header(raw)
        if column is None:
            warnings.append(Problem(header_row, index, None, "未识别的列，已忽略 / unknown column ignored", text))
        elif column.field in mapped:
            first = mapped[column.field]
            errors.append(Problem(header_row, index, column.field, f"与「{first.header}」列重复（同为"
                                  f"{column.aliases[0]}），请删去一列 / duplicate column", text))
        elif unit is None:
            errors.append(Problem(header_row, index, column.field,
                                  f"无法识别的金额单位（可用：{'、'.join(UNITS)}） / unknown unit", text))
        else:
            mapped[column.field] = Mapped(index, text, column, unit)
    if "uscc" not in mapped:
        errors.append(Problem(header_row, None, "uscc", "缺少「统一社会信用代码」列 / the USCC column is missing"))
    return sorted(mapped.values(), key=lambda m: m.index), errors, warnings
