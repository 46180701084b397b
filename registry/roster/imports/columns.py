"""The roster's columns: their Chinese headers, accepted aliases, kinds and units.

The first alias of each column is the header the export writes, so an exported file re-imports
as it is. Headers are matched after NFKC, without spaces and case-insensitively; a trailing unit
in brackets is read off the header (营业收入（万元） → amounts in 万元). Informational columns
(地区名称, 状态, 有效期至 …) are written by the export and ignored by the import without a warning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from registry.roster.imports.problems import Problem

ENTERPRISE, TITLE, REPORT, NONE = "enterprise", "title", "report", "none"


@dataclass(frozen=True)
class Column:
    """One field of the roster: what it is called, where it belongs and how it is read."""

    field: str
    aliases: tuple[str, ...]
    kind: str  # text, uscc, region, tier, date, money, count, percent, year, size, email, code, info
    entity: str
    max_len: int | None = None

    @property
    def header(self) -> str:
        """Return the header the export writes (money shows its unit: 营业收入（元）)."""
        unit = {"money": "（元）", "percent": "（%）"}.get(self.kind, "")
        return self.aliases[0] + unit


def _c(field: str, kind: str, entity: str, *aliases: str, max_len: int | None = None) -> Column:
    return Column(field, (*aliases, field), kind, entity, max_len)


COLUMNS: tuple[Column, ...] = (
    _c("no", "info", NONE, "序号", "编号"),
    _c("name", "text", ENTERPRISE, "企业名称", "名称", "企业全称", max_len=200),
    _c("uscc", "uscc", ENTERPRISE, "统一社会信用代码", "社会信用代码", "信用代码"),
    _c("region_code", "region", ENTERPRISE, "地区代码", "所在地区", "行政区划代码", "地区"),
    _c("region_name", "info", NONE, "地区名称"),
    _c("tier", "tier", TITLE, "称号", "层级", "称号/层级", "称号层级", "梯度层级"),
    _c("recognized_on", "date", TITLE, "认定日期", "认定时间"),
    _c("batch", "text", TITLE, "批次", max_len=64),
    _c("document_no", "text", TITLE, "文号", "公告文号", "认定文号", max_len=128),
    _c("authority", "text", TITLE, "认定机关", "认定单位", max_len=128),
    _c("status", "info", NONE, "状态"),
    _c("valid_until", "info", NONE, "有效期至"),
    _c("industry_code", "code", ENTERPRISE, "行业代码", "所属行业代码"),
    _c("size_class", "size", ENTERPRISE, "企业规模", "规模"),
    _c("founded_on", "date", ENTERPRISE, "成立日期", "成立时间"),
    _c("contact_name", "text", ENTERPRISE, "联系人", max_len=64),
    _c("contact_email", "email", ENTERPRISE, "联系邮箱", "电子邮箱", "邮箱", "email", max_len=254),
    _c("contact_phone", "text", ENTERPRISE, "联系电话", "电话", "phone", max_len=32),
    _c("year", "year", REPORT, "年度", "年份"),
    _c("revenue", "money", REPORT, "营业收入"),
    _c("main_business_revenue", "money", REPORT, "主营业务收入"),
    _c("rd_expense", "money", REPORT, "研发费用"),
    _c("employees", "count", REPORT, "从业人员", "从业人数", "员工人数"),
    _c("rd_staff", "count", REPORT, "研发人员", "研发人数"),
    _c("debt_ratio", "percent", REPORT, "资产负债率"),
    _c("invention_patents", "count", REPORT, "发明专利", "发明专利数"),
    _c("audit_report_code", "text", REPORT, "审计报告验证码", "验证码", max_len=64),
    _c("audit_firm", "text", REPORT, "会计师事务所", max_len=200),
    _c("main_product", "text", REPORT, "主导产品", "主导产品名称", "主要产品", max_len=200),
    _c("main_product_revenue", "money", REPORT, "主导产品销售收入", "主要产品销售收入", "主导产品销售额"),
    _c("submitted_on", "date", REPORT, "填报日期", "提交日期"),
)
BY_FIELD = {c.field: c for c in COLUMNS}
ENTERPRISE_FIELDS = tuple(c.field for c in COLUMNS if c.entity == ENTERPRISE)
TITLE_FIELDS = tuple(c.field for c in COLUMNS if c.entity == TITLE)
REPORT_FIELDS = tuple(c.field for c in COLUMNS if c.entity == REPORT and c.field != "year")
#: what the export writes, in order (informational columns included)
EXPORT_COLUMNS = tuple(c for c in COLUMNS if c.field != "submitted_on")

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
