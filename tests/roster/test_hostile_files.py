"""Hostile files (issue 13, point 3): refused before any parser reads them, in well under a second,
with a Chinese message naming the limit, the file's value and the allowed one; nothing written.

Without the guard, `far_cell` (2 KB) aborts the test process itself: calamine asks for 512 GiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from config.import_limits import MB, ImportLimitError, ImportLimits
from registry.roster.imports.guard import check_upload
from registry.roster.imports.problems import FileProblem
from registry.roster.imports.reading import read_table
from tests.roster import hostile as h
from tests.roster.conftest import registry_counts
from tests.roster.files import HEADERS, csv_bytes, roster_rows, xlsx

ROOT = Path(__file__).resolve().parents[2]

#: each hostile file and words its refusal must contain (the limit and the file's value)
HOSTILE = {
    "far_cell": (h.far_cell, ["行数", "1,048,576 行", "200,010 行"]),
    "wide_far_cell": (h.wide_far_cell, ["列数", "702 列", "100 列"]),
    "huge_dimension": (h.huge_dimension, ["dimension", "1,048,576 行"]),
    "shared_strings_declared": (h.shared_strings_declared, ["共享字符串", "2,000,000,000", "300,000"]),
    "lying_entry": (h.lying_entry, ["比声明的 1,024 字节更大"]),
    "many_entries": (h.many_entries, ["文件数", "20,005", "200"]),
    "nested_archive": (h.nested_archive, ["嵌套"]),
    "traversal": (h.traversal, ["异常的文件名"]),
    "overlapping_entries": (h.overlapping_entries, ["重叠"]),
    "not_a_zip": (h.not_a_zip, ["不是有效的 zip"]),
    "binary_csv": (h.binary_csv, ["不是文本格式", "PNG"]),
    "pdf_csv": (h.pdf_csv, ["不是文本格式", "PDF"]),
    "zip_csv": (h.zip_csv, ["不是文本格式", "zip"]),
    "csv_not_text": (h.csv_not_text, ["编码无法识别"]),
    "csv_with_nul": (h.csv_with_nul, ["NUL"]),
    "csv_long_line": (h.csv_long_line, ["第2行的长度", "10 MB", "1.0 MB"]),
}


def refused(filename: str, content: bytes, limits: ImportLimits | None = None) -> str:
    """Read the file; assert it is refused within a second of this thread's CPU (a bomb would burn it; a
    shared machine's wait for a core does not count); return the message."""
    started = time.thread_time()
    with pytest.raises(FileProblem) as caught:
        read_table(filename, content, limits)
    elapsed = time.thread_time() - started
    assert elapsed < 1.0, f"refusing {filename} took {elapsed:.2f}s"
    return caught.value.message


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_file_is_refused_in_under_a_second_naming_the_limit(name):
    build, words = HOSTILE[name]
    filename, content = build()
    message = refused(filename, content)
    assert all(word in message for word in words), message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message.split(" / ")[0])  # Chinese first


@pytest.mark.slow
@pytest.mark.parametrize("build, words", [
    (h.shared_strings_bomb, ["共享字符串"]),
    (h.zip_bomb_entry, ["解压后的大小"]),
])
def test_bombs_that_take_seconds_to_build_are_refused_in_under_a_second(build, words):
    filename, content = build()
    message = refused(filename, content)
    assert all(word in message for word in words), message


def test_a_refused_file_writes_nothing_to_the_register(session, do_import):
    before = registry_counts(session)
    for build, _ in HOSTILE.values():
        filename, content = build()
        run = do_import(content, filename=filename)
        assert run.status == "failed" and run.errors[0]["row"] is None and run.total_rows == 0, run.errors
    assert registry_counts(session) == before


# --- each limit, on otherwise ordinary files -------------------------------------------------------

ORDINARY = xlsx(roster_rows(3, serial=870_000))


@pytest.mark.parametrize("limits, content, filename, words", [
    (ImportLimits(upload_bytes=1024), ORDINARY, "名单.xlsx", ["文件大小"]),
    (ImportLimits(entries=5), ORDINARY, "名单.xlsx", ["文件数"]),
    (ImportLimits(entry_bytes=1024), ORDINARY, "名单.xlsx", ["解压后的大小"]),
    (ImportLimits(total_bytes=4096), ORDINARY, "名单.xlsx", ["总大小"]),
    (ImportLimits(rows=1), ORDINARY, "名单.xlsx", ["数据行数", "3 行", "1 行"]),
    (ImportLimits(columns=5), ORDINARY, "名单.xlsx", ["列数", "8 列（至 H 列）", "5 列（至 E 列）"]),
    (ImportLimits(cells=20), ORDINARY, "名单.xlsx", ["单元格"]),
    (ImportLimits(columns=5), csv_bytes(roster_rows(3, serial=870_000)), "名单.csv", ["CSV 第1行的列数", "8 列"]),
    (ImportLimits(cells=20), csv_bytes(roster_rows(3, serial=870_000)), "名单.csv", ["CSV 的单元格数"]),
    (ImportLimits(rows=1), csv_bytes(roster_rows(20, serial=870_000)), "名单.csv", ["CSV 的行数"]),
    (ImportLimits(line_bytes=100), csv_bytes(roster_rows(3, serial=870_000)), "名单.csv", ["长度", "100 字节"]),
])
def test_every_limit_refuses_with_its_name_and_both_values(limits, content, filename, words):
    message = refused(filename, content, limits)
    assert all(word in message for word in words), message


def test_the_compression_ratio_is_bounded_beyond_a_megabyte():
    spaces = h.workbook(h.HEADER + "<row r=\"2\">" + h.cell("A2", " " * (4 * MB)) + "</row>")
    message = refused("ratio.xlsx", spaces)
    assert "压缩比" in message and "100 倍" in message
    assert read_table("ratio.xlsx", spaces, ImportLimits(ratio=100_000)).headers == ["企业名称", "统一社会信用代码"]


def test_shared_strings_are_bounded_by_count_and_size():
    table = f'<sst xmlns="{h.MAIN}">' + "".join(f"<si><t>名称{n}</t></si>" for n in range(50)) + "</sst>"
    content = h.workbook('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=table)
    assert "共享字符串（不同文本）的数量" in refused("s.xlsx", content, ImportLimits(shared_strings=10))
    assert "共享字符串表解压后的大小" in refused("s.xlsx", content, ImportLimits(shared_strings_bytes=100))
    assert read_table("s.xlsx", content).headers == ["名称0"]


@pytest.mark.parametrize("sheet, words", [
    # a cell without r is placed by counters: 150 of them run past column CV
    ('<row r="1">' + "<c><v>1</v></c>" * 150 + "</row>", ["列数", "101 列"]),
    # r written with single quotes, with spaces, twice, or under a prefix: the exact scan decides
    ("<row r=\"1\"><c r='XFD1048576'><v>1</v></c></row>", ["行数"]),
    ('<row r="1"><c r="A1" r ="XFD1048576"><v>1</v></c></row>', ["行数"]),
    ('<row r="1"><c r = "A1"><v>1</v></c><c r="B1"/><c r="C1048576"><v>1</v></c></row>', ["行数"]),
    ('<row r="1"><x:c xmlns:x="urn:x" r="A1048576"><v>1</v></x:c></row>', ["行数"]),
    ('<row r="1"><c r="a900000"><v>1</v></c></row>', ["行数"]),
    ('<row r="1"><c r="A1"><v>1</v></c></row><row r="900000"><c><v>1</v></c></row>', ["行数"]),
])
def test_cells_written_unusually_are_placed_as_calamine_places_them(sheet, words):
    message = refused("odd.xlsx", h.workbook(sheet))
    assert all(word in message for word in words), message


def test_cells_without_references_are_read_where_they_belong():
    sheet = '<row><c t="inlineStr"><is><t>企业名称</t></is></c><c t="inlineStr"><is><t>统一社会信用代码</t></is></c></row>' \
            '<row><c t="inlineStr"><is><t>台州</t></is></c><c><v>5</v></c></row>'
    table = read_table("plain.xlsx", h.workbook(sheet))
    assert table.headers == ["企业名称", "统一社会信用代码"] and table.rows == [(2, ["台州", 5.0])]


def test_a_sheet_starting_at_c3_keeps_its_row_numbers_and_columns():
    sheet = '<row r="3">' + h.cell("C3", "企业名称") + h.cell("D3", "统一社会信用代码") + "</row>" \
            '<row r="5">' + h.cell("C5", "台州") + h.cell("D5", "91331002MA0500001G") + "</row>"
    table = read_table("c3.xlsx", h.workbook(sheet))
    assert table.header_row == 3 and table.headers == [None, None, "企业名称", "统一社会信用代码"]
    assert table.rows == [(5, [None, None, "台州", "91331002MA0500001G"])]


def test_a_dtd_is_refused():
    content = h.workbook(h.HEADER)
    with zipfile.ZipFile(__import__("io").BytesIO(content)) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    parts["xl/workbook.xml"] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + parts["xl/workbook.xml"][38:]
    out = __import__("io").BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert "DTD" in refused("dtd.xlsx", out.getvalue())


def test_old_and_encrypted_formats_are_refused_with_a_way_forward():
    assert "另存为 .xlsx" in refused("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert "另存为 .xlsx" in refused("名单.ods", ORDINARY)
    assert "加密" in refused("名单.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)


def test_long_lines_under_the_limit_are_checked_in_linear_time():
    line = b"a" * (ImportLimits().line_bytes - 10) + b"\n"
    started = time.thread_time()  # CPU, not the wall clock of a shared machine
    with pytest.raises(FileProblem, match="单元格"):  # csv's own field limit, after the guard passed it
        read_table("long.csv", "企业名称\n".encode() + line * 15)
    assert time.thread_time() - started < 1.0


def test_utf16_text_is_named_as_such():
    assert "UTF-16" in refused("名单.csv", "\ufeff企业名称,统一社会信用代码\n".encode("utf-16-le"))


def test_ordinary_files_pass_the_guard_as_they_are():
    for filename, content in [("名单.xlsx", ORDINARY), ("名单.csv", csv_bytes(roster_rows(3, serial=870_000))),
                              ("名单.csv", csv_bytes(roster_rows(3, serial=870_000), encoding="gb18030"))]:
        assert check_upload(filename, content, ImportLimits()) in ("xlsx", "csv")
        assert read_table(filename, content).headers == HEADERS


def test_limits_come_from_the_environment_in_mb_and_bad_values_are_named():
    limits = ImportLimits.from_env({"REGISTRY_IMPORT_MAX_UPLOAD_MB": "5", "REGISTRY_IMPORT_MAX_CELLS": "100",
                                    "REGISTRY_IMPORT_MAX_LINE_KB": "64"})
    assert limits.upload_bytes == 5 * MB and limits.cells == 100 and limits.line_bytes == 64 * 1024
    assert limits.rows == ImportLimits().rows
    with pytest.raises(ImportLimitError, match="REGISTRY_IMPORT_MAX_ROWS"):
        ImportLimits.from_env({"REGISTRY_IMPORT_MAX_ROWS": "-3"})


# --- memory -----------------------------------------------------------------------------------------

MEASURE = """
import gc, json, sys, time

def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would carry over the parent's across exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024

from registry.roster.imports.reading import read_table
content = open(sys.argv[1], "rb").read()
gc.collect()
before = peak_mb()
started = time.perf_counter()
try:
    outcome = len(read_table(sys.argv[2], content).rows)
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"grew_mb": peak_mb() - before, "peak_mb": peak_mb(), "seconds": time.perf_counter() - started,
                  "outcome": outcome}))
"""


def read_in_subprocess(path: Path, filename: str) -> dict:
    """Read a file in a fresh interpreter; return how much its peak memory grew and what it read."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), filename], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]  # an abort (calamine out of memory) fails here
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("build, accepted", [
    (lambda: h.full_sheet(99_000, 20), True),  # 1,980,000 distinct numbers: the densest sheet allowed
    # distinct inline texts, as many as the entry size allows (the costliest cells there are)
    (lambda: h.full_sheet(h.rows_fitting(ImportLimits().entry_bytes, 20, text=True), 20, text=True), True),
    (lambda: h.full_sheet(95_000, 20, shared=3), True),  # 285,000 distinct shared strings, 1,615,000 numbers
    (lambda: h.full_csv(14 * MB), True),  # 1,900,000 distinct short texts: just under the cell limit
    (lambda: h.full_sheet(200_000, 20), False),  # over the cell limit: refused before reading
    (h.far_cell, False),
    (h.wide_far_cell, False),
])
def test_reading_any_accepted_file_grows_memory_by_less_than_300_mb(tmp_path, build, accepted):
    filename, content = build()
    path = tmp_path / filename
    path.write_bytes(content)
    del content
    result = read_in_subprocess(path, filename)
    assert isinstance(result["outcome"], int) == accepted, result
    print(filename, result)
    assert result["peak_mb"] < 300, result  # the whole process: interpreter, modules, the file and its rows


def test_a_huge_text_node_or_tag_is_scanned_in_linear_time_and_exactly():
    text = h.workbook(h.HEADER + '<row r="2">' + h.cell("A2", "台" * (8 * MB)) + "</row>")
    started = time.thread_time()  # CPU, not the wall clock of a shared machine
    rows = read_table("text.xlsx", text, ImportLimits(ratio=10_000)).rows
    assert [(number, len(cells[0])) for number, cells in rows] == [(2, 8 * MB)]
    assert time.thread_time() - started < 5.0
    attribute = h.workbook(h.HEADER + f'<row r="2"><c x="{"a" * (3 * MB)}" r="A1048576"><v>1</v></c></row>')
    assert "行数" in refused("attribute.xlsx", attribute, ImportLimits(ratio=10_000))


def test_settings_read_the_import_limits_and_name_a_bad_one():
    from config.settings import Settings, SettingsError

    settings = Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_IMPORT_MAX_COLUMNS": "40"})
    assert settings.import_limits.columns == 40 and settings.import_limits.rows == 200_000
    with pytest.raises(SettingsError, match="REGISTRY_IMPORT_MAX_UPLOAD_MB"):
        Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_IMPORT_MAX_UPLOAD_MB": "twenty"})
