"""Export a candidate pool (培育库) to .xlsx: one row per criterion of each member, with the values used;
a second sheet, 未入库, one row per reason of each evaluated enterprise not in the pool.

openpyxl write-only; every text cell passes safe_cell (formula injection, illegal characters).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from registry.enterprises.models import Enterprise
from registry.pipeline.models import Pool, PoolMember, PoolVerdict
from registry.platform.cells import safe_cell

HEADERS = ["序号", "企业名称", "统一社会信用代码", "地区代码", "总体结论", "在库", "手工调整理由", "条件", "结论",
           "所用数值", "说明", "依据"]
WIDTHS = [6, 36, 22, 10, 14, 6, 28, 36, 12, 48, 36, 40]


def _criteria(results: list[dict[str, Any]], depth: int = 0) -> Iterator[dict[str, Any]]:
    """Walk the report's criteria depth first, indenting nested ones."""
    for result in results:
        yield {**result, "name": "　" * depth + result.get("name", "")}
        yield from _criteria(result.get("children") or [], depth + 1)


def _values(result: dict[str, Any]) -> str:
    return "；".join(f"{v.get('label', '')}：{v.get('display', '')}" for v in result.get("values") or [])


def member_rows(members: list[PoolMember]) -> Iterator[list[Any]]:
    """Yield the sheet's data rows: the member's columns on each of its criteria."""
    for number, member in enumerate(members, start=1):
        report = member.evaluation or {}
        head = [number, member.enterprise.name, member.enterprise.uscc, member.region_code,
                report.get("verdict_name", member.verdict.value), "是" if member.included else "否", member.reason]
        problems = [{"name": "不能授予的情形", "verdict_name": "不符合", "detail": p, "source": ""}
                    for p in report.get("blocking") or []]
        for result in [*_criteria(report.get("results") or []), *problems] or [{}]:
            yield [safe_cell(v) for v in (*head, result.get("name"), result.get("verdict_name"), _values(result),
                                          result.get("detail"), result.get("source"))]


LEFT_OUT_HEADERS = ["序号", "企业名称", "统一社会信用代码", "地区代码", "总体结论", "未入库原因", "条件", "结论",
                    "所用数值", "说明", "依据"]
LeftOut = tuple[PoolVerdict, PoolMember | None, Enterprise]


def left_out_rows(rows: Iterable[LeftOut]) -> Iterator[list[Any]]:
    """Yield the 未入库 sheet's rows: each reason (a blocking problem, a criterion not passed, an officer's removal)."""
    names = {"pass": "符合", "fail": "不符合", "unknown": "待人工核实"}
    for number, (verdict, member, enterprise) in enumerate(rows, start=1):
        head = [number, enterprise.name, enterprise.uscc, verdict.region_code, names.get(verdict.verdict.value, "")]
        reasons = verdict.reasons or {}
        lines: list[list[Any]] = [["不能授予", "", "不符合", "", problem, ""] for problem in reasons.get("blocking") or []]
        lines += [["未通过的条件", r.get("name"), r.get("verdict_name"), _values(r), r.get("detail"), r.get("source")]
                  for r in reasons.get("criteria") or []]
        if member is not None and member.reason:
            lines.insert(0, ["工作人员移出", "", "", "", member.reason, ""])
        for line in lines or [["", "", "", "", "", ""]]:
            yield [safe_cell(v) for v in (*head, *line)]


def write_pool_xlsx(pool: Pool, members: list[PoolMember], tier_name: str, out: IO[bytes],
                    left_out: Iterable[LeftOut] = ()) -> int:
    """Write the pool's members and their criteria reports, then those left out with the reasons, to `out`;
    return the number of data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("培育库")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C3"
    sheet.append([safe_cell(f"{pool.year}年{tier_name}培育库（{pool.figures_year}年度数据，"
                            f"基准日 {pool.reference_on}，地区 {pool.region_code}，政策 {pool.policy_code}）")])
    sheet.append(HEADERS)
    count = 0
    for row in member_rows(members):
        sheet.append(row)
        count += 1
    outside = book.create_sheet("未入库")
    for index, width in enumerate([6, 36, 22, 10, 14, 14, 36, 12, 48, 36, 40], start=1):
        outside.column_dimensions[get_column_letter(index)].width = width
    outside.append(LEFT_OUT_HEADERS)
    for row in left_out_rows(left_out):
        outside.append(row)
        count += 1
    book.save(out)
    return count
