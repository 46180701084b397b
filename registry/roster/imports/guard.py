"""Refusing hostile files before any parser sees them: the upload, the archive, the sheet, the text.

python-calamine builds a sheet as one dense block from its first to its last cell and reserves
memory by the counts a file declares: a 2 KB .xlsx with cells A1 and XFD1048576 asks for 512 GiB
and aborts the whole process (a Rust allocation failure, not an exception); a shared-strings
table declaring a billion entries does the same. So everything that makes a reader allocate is
bounded here first, from the bytes themselves, in one pass that keeps a megabyte at a time:

- the upload's size;
- the archive (.xlsx is a zip): the number of entries (from its end record, before the zip
  module reads the directory), each entry's size, their total, each entry's compression ratio,
  and odd entries (encrypted, unknown compression, paths with "..", duplicates, overlapping
  data, nested archives). Each entry is inflated with a cap and must be exactly as long as it
  declares, with the CRC it declares: calamine reads the same bytes;
- the sheet XML: its declared <dimension ref>, the last row and column of every cell reference
  actually present, the number of cells; the shared strings' declared and real count and size.
  Every XML part is scanned (not only the one the workbook names as its first sheet), so a
  relationship pointing elsewhere cannot slip a sheet past the check. No DTD is allowed.
- a .csv: NUL bytes, binary signatures (zip, PDF, PNG, ...), encoding, the longest line.

.xls (BIFF) and .ods cannot be bounded this way and are refused with a request to save the
file as .xlsx or .csv. Every refusal is a FileProblem with a Chinese message naming the limit,
the file's value and the allowed value; limits come from config (REGISTRY_IMPORT_MAX_*).
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import PurePath, PurePosixPath

from config.import_limits import MB, ImportLimits
from registry.roster.imports.problems import FileProblem

HEADER_ROWS = 10  #: title and header lines a sheet may have above its data rows
RATIO_GRACE = 1 * MB  #: entries smaller than this are not held to the compression ratio
CHUNK = 1 * MB  #: inflated at a time
ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  #: .xls, and an .xlsx saved with a password
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm"}
OLD_SUFFIXES = {".xls", ".ods", ".xlsb", ".et"}
NESTED_SUFFIXES = {".zip", ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".docx", ".pptx", ".jar", ".gz", ".tgz",
                   ".bz2", ".xz", ".7z", ".rar", ".tar"}
#: signatures of files that are not text, with what they are (for the message)
BINARY = ((b"PK\x03\x04", "zip 压缩包或 .xlsx"), (b"PK\x05\x06", "zip 压缩包"), (OLE, "Office 二进制文件（.xls/.doc）"),
          (b"%PDF", "PDF"), (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
          (b"\x1f\x8b", "gzip 压缩包"), (b"7z\xbc\xaf", "7z 压缩包"), (b"Rar!", "RAR 压缩包"), (b"MZ", "可执行程序"),
          (b"\x7fELF", "可执行程序"), (b"BZh", "bzip2 压缩包"), (b"\xfd7zXZ", "xz 压缩包"))
ALLOWED_CONTROL = frozenset(b"\t\n\r\x0c\x1a")

_COLUMN = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")
_CELL_TAGS = (b"<c ", b"<c>", b"<c/", b"<c\t", b"<c\n", b"<c\r", b":c ", b":c>", b":c/", b":c\t", b":c\n", b":c\r")
_LAST_REF = re.compile(rb'<c r="([^"]*)"')
_ROW_REF = re.compile(rb'<row r="([0-9]+)"')
_SPLIT_REF = re.compile(rb"([A-Za-z]*)([0-9]+)")
_SI_TAGS = (b"<si>", b"<si ", b"<si/", b":si>", b":si ", b":si/")
_DIMENSION = re.compile(rb"<(?:[\w.\-]+:)?dimension\s[^>]*?(?<=\s)ref\s*=\s*[\"']([^\"']*)[\"']")
_SST = re.compile(rb"<(?:[\w.\-]+:)?sst([\s>/][^>]*)>")
_SST_COUNT = re.compile(rb"(?<=\s)(?:count|uniqueCount)\s*=\s*[\"']\s*([0-9]+)")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _digits_over(number: int) -> str:
    """Return a regex for decimal numbers (leading zeros allowed) above `number`."""
    text = str(number)
    options = [f"0*[1-9][0-9]{{{len(text)},}}"]
    for i, digit in enumerate(text):
        if digit != "9":
            options.append(f"0*{text[:i]}[{int(digit) + 1}-9][0-9]{{{len(text) - i - 1}}}")
    return "(?:" + "|".join(options) + ")"


def _letters_over(number: int) -> str:
    """Return a regex for column letters (either case) beyond column `number`."""
    text = column_letters(number) if number else ""
    options = [f"[A-Za-z]{{{len(text) + 1},}}"]
    for i, letter in enumerate(text):
        if letter != "Z":
            above = chr(ord(letter) + 1)
            prefix = "".join(f"[{c}{c.lower()}]" for c in text[:i])
            options.append(f"{prefix}[{above}-Z{above.lower()}-z][A-Za-z]{{{len(text) - i - 1}}}")
    return "(?:" + "|".join(options) + ")"


@functools.lru_cache(maxsize=256)
def _greater(row: int, column: int) -> re.Pattern[bytes]:
    """Return a search for an r="..." reference beyond row `row` or column `column`."""
    pattern = f"r\\s*=\\s*[\"']([A-Za-z]*{_digits_over(row)}|{_letters_over(column)}[0-9]+)[\"']"
    return re.compile(pattern.encode())


def refuse(what: str, value: int | str, limit: int | str, english: str, hint: str = "") -> FileProblem:
    """Return the refusal of a limit: which limit, the file's value, the allowed value."""
    return FileProblem(f"{what}超出上限：本文件为 {_n(value)}，上限为 {_n(limit)}{hint} / {english}")


def _n(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size < 10 * MB else f"{size / MB:,.0f} MB"


def check_upload(filename: str, content: bytes, limits: ImportLimits) -> str:
    """Check a file before it is parsed; return how to read it ("xlsx" or "csv"). :raises FileProblem:"""
    if not content:
        raise FileProblem("文件为空 / the file is empty")
    if len(content) > limits.upload_bytes:
        raise refuse("文件大小", _mb(len(content)), _mb(limits.upload_bytes), "file too large", "，请拆分文件")
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in OLD_SUFFIXES or (suffix != ".csv" and content.startswith(OLE)):
        what = "加密的或旧版（.xls）" if content.startswith(OLE) else f"{suffix} 格式的"
        raise FileProblem(f"不支持{what}电子表格：请在 Excel 或 WPS 中另存为 .xlsx（不加密）或 .csv 后上传"
                          " / only .xlsx and .csv files are accepted")
    if suffix in SPREADSHEET_SUFFIXES or (suffix != ".csv" and content.startswith(ZIP)):
        check_xlsx(content, limits)
        return "xlsx"
    check_text(content, limits)
    return "csv"


# --- .csv -----------------------------------------------------------------------------------------

def check_text(content: bytes, limits: ImportLimits) -> None:
    """Refuse a "CSV" that is not text, or has a line longer than the limit. :raises FileProblem:"""
    for magic, kind in BINARY:
        if content.startswith(magic):
            raise FileProblem(f"文件不是文本格式的 CSV（实为 {kind}），请上传 .csv 文本文件或 .xlsx 文件"
                              " / not a text CSV file")
    if b"\x00" in content:
        hint = "（可能是 UTF-16 编码的文本，请另存为 UTF-8 的 CSV）" if content[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise FileProblem(f"文件不是文本格式的 CSV：含有 NUL（二进制）字节{hint} / not a text file (NUL bytes)")
    head = content[:65536]
    controls = sum(1 for byte in head if byte < 0x20 and byte not in ALLOWED_CONTROL)
    if controls > max(8, len(head) // 100):
        raise FileProblem("文件不是文本格式的 CSV：含有大量控制字符（二进制内容） / not a text file")
    lines = content.split(b"\n")
    longest = max(map(len, lines))
    if longest > limits.line_bytes:
        number = next(n for n, line in enumerate(lines, start=1) if len(line) == longest)
        raise refuse(f"CSV 第{number}行的长度", _size(longest), _size(limits.line_bytes), "line too long",
                     "，请确认文件是逗号分隔的名单")
    del lines
    decode_csv(content)  # neither UTF-8 nor GB18030: not text


def decode_csv(content: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (which Excel on Chinese Windows writes)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise FileProblem("CSV 文件编码无法识别（应为 UTF-8 或 GB18030），或文件不是文本"
                          " / CSV is neither UTF-8 nor GB18030") from None


def _size(size: int) -> str:
    return _mb(size) if size >= MB else f"{size:,} 字节"


# --- .xlsx: the archive ---------------------------------------------------------------------------

def _not_xlsx(why: str) -> FileProblem:
    return FileProblem(f"无法读取电子表格：{why}，请确认是有效的 .xlsx 文件 / not a readable spreadsheet")


def check_xlsx(content: bytes, limits: ImportLimits) -> None:
    """Check an .xlsx archive and every XML part in it. :raises FileProblem:"""
    declared = _declared_entries(content)
    entries = max(declared, content.count(b"PK\x01\x02"))
    if entries > limits.entries:
        raise refuse("压缩包中的文件数", entries, limits.entries, "too many entries in the archive")
    try:
        infos = zipfile.ZipFile(BytesIO(content)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise _not_xlsx("文件不是有效的 zip 压缩包") from None
    if len(infos) > limits.entries:
        raise refuse("压缩包中的文件数", len(infos), limits.entries, "too many entries in the archive")
    spans = _check_entries(content, infos, limits)
    found_sheet = False
    for info, (start, end) in zip(infos, spans, strict=True):
        if info.is_dir():
            continue
        scan = _XmlPart(info.filename, info.file_size, limits) if _is_xml(info.filename) else None
        for chunk in _inflate(content, info, start, end):
            if scan is not None:
                scan.feed(chunk)
            elif chunk[:4] == ZIP:
                raise _odd(f"压缩包中嵌套了另一个压缩包（{info.filename}）")
        if scan is not None:
            if scan.close():
                _exact_extent(info.filename, _inflate(content, info, start, end), limits)
            found_sheet = found_sheet or scan.is_sheet
    if not found_sheet:
        raise _not_xlsx("文件中没有工作表")


def _declared_entries(content: bytes) -> int:
    """Return the entry count the archive's end record declares (0 when there is none)."""
    at = content.rfind(b"PK\x05\x06", max(0, len(content) - 65_557))
    if at < 0 or len(content) - at < 22:
        raise _not_xlsx("文件不是有效的 zip 压缩包")
    total = struct.unpack_from("<H", content, at + 10)[0]
    locator = at - 20
    if total == 0xFFFF and locator >= 0 and content[locator:locator + 4] == b"PK\x06\x07":  # zip64
        record = struct.unpack_from("<Q", content, locator + 8)[0]
        if record + 40 <= len(content) and content[record:record + 4] == b"PK\x06\x06":
            total = struct.unpack_from("<Q", content, record + 32)[0]
    return total


def _odd(why: str) -> FileProblem:
    return FileProblem(f"电子表格文件结构异常，已拒绝：{why}。请在 Excel 或 WPS 中另存为 .xlsx 后上传"
                       " / unexpected entry in the archive")


def _check_entries(content: bytes, infos: list[zipfile.ZipInfo], limits: ImportLimits) -> list[tuple[int, int]]:
    """Check each entry's name, kind and sizes; return where each one's compressed data lies."""
    names: set[str] = set()
    total = 0
    spans = []
    for info in infos:
        name = info.filename
        path = PurePosixPath(name)
        if (not name or name.startswith("/") or "\\" in name or "\x00" in name or ".." in path.parts
                or re.match(r"^[A-Za-z]:", name)):
            raise _odd(f"压缩包中有异常的文件名 {name[:80]!r}")
        if name.lower() in names:
            raise _odd(f"压缩包中有重名的文件 {name[:80]}")
        names.add(name.lower())
        if info.flag_bits & 0x1:
            raise FileProblem("电子表格已加密，无法读取：请取消密码保护后另存为 .xlsx 再上传 / encrypted file")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _odd(f"压缩包中的 {name[:80]} 使用了不支持的压缩方式（{info.compress_type}）")
        if path.suffix.lower() in NESTED_SUFFIXES:
            raise _odd(f"压缩包中嵌套了另一个压缩包（{name[:80]}）")
        if info.file_size > limits.entry_bytes:
            raise refuse(f"压缩包中 {name[:80]} 解压后的大小", _mb(info.file_size), _mb(limits.entry_bytes),
                         "archive entry too large")
        total += info.file_size
        if total > limits.total_bytes:
            raise refuse("压缩包解压后的总大小", f"超过 {_mb(total)}", _mb(limits.total_bytes),
                         "archive too large when uncompressed")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_GRACE and ratio > limits.ratio:
            raise refuse(f"压缩包中 {name[:80]} 的压缩比", f"{ratio:,.0f} 倍", f"{limits.ratio:,} 倍",
                         "compression ratio too high (zip bomb)")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise _odd(f"压缩包中 {name[:80]} 声明的大小不一致")
        spans.append(_data_span(content, info))
    ordered = sorted(spans)
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < end:
            raise _odd("压缩包中的文件数据互相重叠")
    return spans


def _data_span(content: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Return (start, end) of an entry's compressed data, from its local header."""
    at = info.header_offset
    if at < 0 or at + 30 > len(content) or content[at:at + 4] != ZIP:
        raise _not_xlsx("压缩包已损坏")
    name_length, extra_length = struct.unpack_from("<HH", content, at + 26)
    start = at + 30 + name_length + extra_length
    end = start + info.compress_size
    if end > len(content):
        raise _not_xlsx("压缩包已损坏（文件被截断）")
    return start, end


def _inflate(content: bytes, info: zipfile.ZipInfo, start: int, end: int) -> Iterator[bytes]:
    """Yield an entry's bytes a megabyte at a time; refuse it unless it is exactly as declared."""
    data = memoryview(content)[start:end]
    produced, crc = 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(data), CHUNK):
            chunk = bytes(data[at:at + CHUNK])
            crc = zlib.crc32(chunk, crc)
            yield chunk
        produced = len(data)
    else:
        inflater = zlib.decompressobj(-15)
        pending = bytes(data)
        try:
            while pending and not inflater.eof:
                chunk = inflater.decompress(pending, CHUNK)
                pending = inflater.unconsumed_tail
                produced += len(chunk)
                if produced > info.file_size:
                    raise _odd(f"{info.filename[:80]} 解压后比声明的 {info.file_size:,} 字节更大")
                crc = zlib.crc32(chunk, crc)
                if chunk:
                    yield chunk
        except zlib.error:
            raise _not_xlsx(f"压缩包中的 {info.filename[:80]} 已损坏") from None
        if not inflater.eof:
            raise _not_xlsx(f"压缩包中的 {info.filename[:80]} 已损坏（数据不完整）")
    if produced != info.file_size or crc != info.CRC:
        raise _not_xlsx(f"压缩包中的 {info.filename[:80]} 已损坏（大小或校验和不符）")


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


# --- .xlsx: the XML parts -------------------------------------------------------------------------

def column_number(letters: str) -> int:
    """Return the 1-based number of a column: A → 1, Z → 26, AA → 27, XFD → 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    """Return the letters of a 1-based column number."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _XmlPart:
    """One XML entry scanned as it is inflated: dimension, cell references, shared strings.

    Fast path: every cell tag carries exactly one r="A1" reference (Excel, WPS, LibreOffice and
    every common writer do so), so the last row and column are the largest references, found by
    regular expressions a megabyte at a time. A sheet with a cell lacking its reference, or with
    attributes the expressions cannot vouch for, is scanned again exactly, the way calamine
    positions such cells (`_exact_extent`).
    """

    def __init__(self, name: str, size: int, limits: ImportLimits) -> None:
        self.name, self.size, self.limits = name, size, limits
        self.carry = b""
        self.cells = 0
        self.max_row = self.max_col = 0
        self.exact = False  #: the fast path cannot vouch for this part: rescan it exactly
        self.is_sheet = False
        self.strings = 0
        self.is_sst = False
        self.chunks = 0

    def feed(self, chunk: bytes) -> None:
        """Scan the complete tags of `chunk` (what follows its last "<" waits for the next chunk)."""
        data = self.carry + chunk
        cut = data.rfind(b"<")
        if cut < 0:  # text only: no tag starts or continues here
            self.carry = b""
            return
        self.carry = data[cut:]
        if len(self.carry) > CHUNK:  # one tag or text over a megabyte (a cell holds 32,767 characters at most)
            self.exact = True  # the cells are counted again by the XML parser; keep memory flat meanwhile
            self.carry = b""
        if cut:
            self._scan(data[:cut])

    def close(self) -> bool:
        """Scan what is left; return whether the part must be scanned again exactly."""
        self._scan(self.carry)
        self.carry = b""
        return self.exact

    def _scan(self, text: bytes) -> None:
        if not text:
            return
        first = self.chunks == 0
        self.chunks += 1
        if first and b"<!" in text and _DTD.search(text):  # a DTD can only precede the root element
            raise _odd(f"{self.name[:80]} 含有 DTD 声明")
        if first and b"sst" in text and (match := _SST.search(text)):  # <sst> is a root element
            self._shared_strings_header(match.group(1))
        if not self.is_sheet:  # calamine reads <dimension> only before <sheetData>
            if b"dimension" in text:
                for match in _DIMENSION.finditer(text):
                    self._dimension(match.group(1).decode("ascii", "replace"))
            self.is_sheet = b"heetData" in text
        self._cells(text)
        if self.is_sst:
            self.strings += sum(text.count(tag) for tag in _SI_TAGS)
            if self.strings > self.limits.shared_strings:
                raise refuse("共享字符串（不同文本）的数量", f"超过 {self.limits.shared_strings:,}",
                             self.limits.shared_strings, "too many shared strings")

    def _cells(self, text: bytes) -> None:
        """Count the cells and raise the last row and column seen, with C-speed searches only.

        Every r="..." written in any way is held to the bar by one search; that is the whole
        truth when every cell tag starts <c r=" (calamine places a cell by its r). A cell tag
        without it is placed by counters, so such a part is marked for the exact scan.
        """
        with_r = text.count(b'<c r="')
        cells = text.count(b"<c")
        if cells != with_r:  # <cols>, <conditionalFormatting>... start with <c too: count cell tags exactly
            cells = sum(text.count(tag) for tag in _CELL_TAGS[:6])
        if b":c" in text:
            cells += sum(text.count(tag) for tag in _CELL_TAGS[6:])
        if not cells:
            return
        self.cells += cells
        if self.cells > self.limits.cells:
            raise refuse(f"工作表（{self.name[:60]}）的单元格数", f"超过 {self.limits.cells:,}", self.limits.cells,
                         "too many cells")
        if self.exact or cells != with_r:
            self.exact = True  # counted again exactly at the end
            return
        last = _LAST_REF.search(text, text.rfind(b'<c r="'))
        row_text = text[text.rfind(b"<row"):] if b"<row" in text else text[-4096:]
        refs = [last.group(1), *_LAST_REF.findall(row_text)] if last else []
        if row := _ROW_REF.match(row_text):  # a row whose cells come in the next chunk
            refs.append(row.group(1))
        for ref in refs:
            self._raise_to(ref)
        for _ in range(100):  # each match raises the bar; files written in order need none
            found = _greater(self.max_row, self.max_col).search(text)
            if found is None:
                return
            self._raise_to(found.group(1))
        self.exact = True

    def _raise_to(self, ref: bytes) -> None:
        found = _SPLIT_REF.fullmatch(ref)
        if found is None:
            raise _odd(f"{self.name[:80]} 中有无效的单元格位置 {ref[:20]!r}")
        letters, digits = found.groups()
        if len(letters) > 4 or len(digits) > 8:
            raise _odd(f"{self.name[:80]} 中有无效的单元格位置 {ref[:20]!r}")
        row = int(digits)
        column = column_number(letters.decode().upper()) if letters else 0
        if row > self.max_row or column > self.max_col:
            self.max_row, self.max_col = max(self.max_row, row), max(self.max_col, column)
            self._extent(self.max_row, self.max_col, "实际使用")

    def _extent(self, rows: int, columns: int, kind: str) -> None:
        allowed_rows = self.limits.rows + HEADER_ROWS
        if rows > allowed_rows:
            raise refuse(f"工作表{kind}的行数", f"{rows:,} 行", f"{allowed_rows:,} 行（数据行 {self.limits.rows:,} 行"
                         f"另加表头）", "too many rows", "，请拆分文件")
        if columns > self.limits.columns:
            raise refuse(f"工作表{kind}的列数", f"{columns:,} 列（至 {column_letters(columns)} 列）",
                         f"{self.limits.columns:,} 列（至 {column_letters(self.limits.columns)} 列）", "too many columns")
        if rows * columns > self.limits.cells:
            raise refuse(f"工作表{kind}的区域（{rows:,} 行 × {columns:,} 列）", f"{rows * columns:,} 个单元格",
                         f"{self.limits.cells:,} 个单元格", "sheet area too large", "，请删除多余的行列或拆分文件")

    def _dimension(self, ref: str) -> None:
        corners = ref.split(":")
        rows = columns = 0
        for corner in corners:
            found = re.fullmatch(r"\$?([A-Za-z]+)\$?([0-9]+)", corner.strip())
            if found is None:
                return  # calamine refuses a dimension it cannot read; nothing to allocate by
            columns = max(columns, column_number(found.group(1).upper()))
            rows = max(rows, int(found.group(2)))
        self._extent(rows, columns, "声明（dimension）")

    def _shared_strings_header(self, attributes: bytes) -> None:
        self.is_sst = True
        if self.size > self.limits.shared_strings_bytes:
            raise refuse("共享字符串表解压后的大小", _mb(self.size), _mb(self.limits.shared_strings_bytes),
                         "shared strings too large")
        for count in _SST_COUNT.findall(attributes):
            if int(count) > self.limits.shared_strings:
                raise refuse("声明的共享字符串（不同文本）数量", int(count), self.limits.shared_strings,
                             "too many shared strings declared")


def _exact_extent(name: str, chunks: Iterator[bytes], limits: ImportLimits) -> None:
    """Scan a sheet with an XML parser, placing cells without a reference the way calamine does.

    calamine takes a cell's position from its r attribute, else from counters: the row from the
    last <row r>, plus one per row closed; the column from the last cell, plus one. Counting
    every element (calamine skips empty ones) can only overstate the extent, never understate it.
    """
    import pyexpat

    part = _XmlPart(name, 0, limits)
    state = {"row": 0, "col": 0, "max_row": 0, "max_col": 0, "cells": 0}

    def position(ref: str) -> tuple[int, int]:
        found = _COLUMN.match(ref)
        if found is None:
            raise _odd(f"{name[:80]} 中有无效的单元格位置 {ref[:20]!r}")
        return int(found.group(2)) - 1, column_number(found.group(1)) - 1

    def start(tag: str, attributes: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if local == "row" and "r" in attributes:
            row = attributes["r"].strip()
            if not row.isdigit() or not 0 < len(row) <= 7 or int(row) == 0:
                raise _odd(f"{name[:80]} 中有无效的行号 {row[:20]!r}")
            state["row"] = int(row) - 1
        elif local == "c":
            row, col = position(attributes["r"]) if "r" in attributes else (state["row"], state["col"])
            state["col"] = col + 1
            state["cells"] += 1
            if row + 1 > state["max_row"] or col + 1 > state["max_col"]:
                state["max_row"], state["max_col"] = max(state["max_row"], row + 1), max(state["max_col"], col + 1)
                part._extent(state["max_row"], state["max_col"], "实际使用")
            if state["cells"] > limits.cells:
                raise refuse(f"工作表（{name[:60]}）的单元格数", f"超过 {limits.cells:,}", limits.cells, "too many cells")

    def end(tag: str) -> None:
        if tag.rpartition(":")[2] == "row":
            state["row"] += 1
            state["col"] = 0

    def no_dtd(*_: object) -> None:
        raise _odd(f"{name[:80]} 含有 DTD 声明")

    parser = pyexpat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = no_dtd
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise _not_xlsx(f"{name[:80]} 不是有效的 XML（{pyexpat.ErrorString(exc.code)}）") from None
