"""The .xlsx sheet writer (rustpy-xlsxwriter, constant memory) writes the cells openpyxl wrote before.

Each case writes the same rows both ways and reads both files back with openpyxl and calamine:
values, cell types, date formats, the frozen panes and the column widths must agree.
"""

import csv
import io
import tracemalloc
import zipfile
from datetime import date
from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from registry.platform.cells import _risky, safe_cell, safe_rows, write_sheet

HEADERS = ["序号", "企业名称", "认定日期", "营业收入（元）", "从业人数", "联系电话", "备注"]
WIDTHS = [6, 36, 14, 14, 10, 14, 30]
ROWS = [
    [1, "台州精工机械有限公司", date(2024, 6, 15), Decimal("123456789.12"), 88, "138****1234", None],
    [2, safe_cell('=HYPERLINK("http://evil","点我")'), date(1999, 12, 31), Decimal("0.00"), 0, None, "a\x01b"],
    [3, "温州\u3000全角空格", None, None, None, "'+86 576 8800", "x" * 40000],
]


def _openpyxl(headers, rows, widths, freeze):
    """The writer the exports used before issue 19."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = freeze
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fast(headers, rows, widths, freeze_col):
    out = io.BytesIO()
    count = write_sheet(out, sheet="名单", headers=headers, rows=iter(rows), widths=widths, freeze_col=freeze_col)
    return out.getvalue(), count


def _cells(content):
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return [[(c.value, c.data_type, c.is_date and c.number_format) for c in row] for row in sheet.iter_rows()]


def test_the_fast_writer_writes_the_cells_openpyxl_wrote():
    rows = [[safe_cell(v) for v in row] for row in ROWS]
    fast, count = _fast(HEADERS, rows, WIDTHS, freeze_col=2)
    slow = _openpyxl(HEADERS, rows, WIDTHS, "C2")
    assert count == 3
    assert _cells(fast) == _cells(slow)
    calamine = [CalamineWorkbook.from_filelike(io.BytesIO(c)).get_sheet_by_index(0).to_python() for c in (fast, slow)]
    assert calamine[0] == calamine[1]
    sheet = load_workbook(io.BytesIO(fast)).worksheets[0]
    assert sheet.title == "名单" and sheet.freeze_panes == "C2"
    assert [round(sheet.column_dimensions[get_column_letter(i + 1)].width) for i in range(len(WIDTHS))] == [
        round(w + 0.71) for w in WIDTHS]  # Excel's width includes the cell padding
    assert sheet.cell(row=3, column=2).value == '\'=HYPERLINK("http://evil","点我")'
    with zipfile.ZipFile(io.BytesIO(fast)) as archive:  # text is text: no formula cell anywhere
        assert all("<f>" not in archive.read(n).decode() for n in archive.namelist() if n.endswith(".xml"))


def test_an_empty_export_still_has_its_header_row():
    fast, count = _fast(HEADERS, [], WIDTHS, freeze_col=0)
    assert count == 0
    assert _cells(fast) == _cells(_openpyxl(HEADERS, [], WIDTHS, "A2"))
    assert load_workbook(io.BytesIO(fast)).worksheets[0].freeze_panes == "A2"


@pytest.mark.parametrize("headers", [[], ["甲", "乙", "甲"]])
def test_headers_must_be_distinct(headers):
    with pytest.raises(ValueError, match="distinct headers"):
        _fast(headers, [], [], 0)


def test_rows_stream_through_the_writer_in_constant_memory():
    """The rows come from a generator and are never held together: the Python heap stays flat."""
    def rows(n):
        for i in range(n):
            yield [i, f"企业{i:06d}", date(2024, 1, 1), Decimal(i), i, "138****1234", "备注" * 5]

    def peak(n):
        tracemalloc.start()
        try:
            _, count = _fast(HEADERS, rows(n), WIDTHS, 0)
            return tracemalloc.get_traced_memory()[1], count
        finally:
            tracemalloc.stop()

    small, big = peak(2_000), peak(40_000)
    assert (small[1], big[1]) == (2_000, 40_000)
    assert big[0] < 3 * small[0] + 2_000_000, (small, big)  # 20× the rows, not 20× the Python heap


class Tier(StrEnum):
    FORMULA = "=1+1"
    PLAIN = "创新型中小企业"


@pytest.mark.parametrize(("value", "expected"), [
    ("\x01=1", "'=1"),  # an illegal character removed first: what remains would start a formula
    ("\r=1", "'\r=1"), (" ", " "), ("", ""), ("a\tb\nc", "a\tb\nc"),  # legal control characters stay
    ("中\u3000文", "中\u3000文"), ("\u3000=1", "\u3000=1"),  # not printable for Python, legal for Excel
    (Tier.FORMULA, "'=1+1"), (Tier.PLAIN, "创新型中小企业"),
])
def test_safe_cell_fast_path_keeps_the_rules(value, expected):
    result = safe_cell(value)
    assert result == expected and type(result) is str


_AWKWARD = st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", " ", "\x00", "\x01", "\x0b", "\x1f",
                                             "\x7f", "\u2028", "1", ".", "a", "名"]), max_size=8)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), _AWKWARD, st.integers(), st.decimals(allow_nan=False)), min_size=1, max_size=6),
       st.data())
def test_safe_rows_gives_each_cell_as_safe_cell_gives_it(row, data):
    """The one-search-per-row check (issue 19) never lets through a cell that safe_cell would change."""
    text = [i for i, v in enumerate(row) if not isinstance(v, int | Decimal)] if data.draw(st.booleans()) else [
        i for i, v in enumerate(row) if v is None or isinstance(v, str)]
    (out,) = list(safe_rows([tuple(row)], text))
    assert list(out) == [safe_cell(v) for v in row]


def test_safe_rows_sends_an_overlong_row_cell_by_cell():
    row = ("x" * 20_000, "y" * 20_000, 5)
    (out,) = list(safe_rows([row], [0, 1]))
    assert list(out) == list(row)
    (out,) = list(safe_rows([("z" * 40_000,)], [0]))
    assert out == ["z" * 32_767]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), _AWKWARD, st.integers(min_value=-99, max_value=99)), min_size=1, max_size=6),
       st.integers(min_value=0, max_value=3))
def test_the_copy_check_flags_every_line_safe_cell_would_change(row, before):
    """The byte check of COPY's lines (issue 19) never passes a line with a cell that safe_cell would change.
    PostgreSQL's CSV quotes as the csv module does, so its lines stand in; a batch is lines one after another."""
    cells_ = ["" if v is None else str(v).replace("\x00", "") for v in row]  # a PostgreSQL text holds no NUL
    def csv_text(rows: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode()

    if any(safe_cell(v) != v for v in cells_):
        assert _risky(csv_text([cells_]))  # the row alone, as COPY sends it
        assert _risky(csv_text([["普通", "1"]] * before + [cells_]))  # in a batch
