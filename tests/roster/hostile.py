"""Hostile upload files, built by hand (zipfile and handwritten XML) the way an attacker would.

Each builder returns (filename, bytes). The sheets are minimal but complete workbooks that
python-calamine opens: without the guard, `far_cell` aborts the process (512 GiB asked for),
`wide_far_cell` takes gigabytes, `shared_strings_declared` reserves a billion strings.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>企业名称</t></is></c>" \
         "<c r=\"B1\" t=\"inlineStr\"><is><t>统一社会信用代码</t></is></c></row>"


def workbook(sheet_data: str, *, dimension: str | None = None, shared: str | None = None,
             extra: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Return an .xlsx whose first sheet's <sheetData> is `sheet_data` (plus optional parts)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship '
                        f'Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC}">'
                            '<sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>' if shared else "")
            + "</Relationships>"),
        "xl/worksheets/sheet1.xml": (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}'
                                     f"<sheetData>{sheet_data}</sheetData></worksheet>"),
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = f'<?xml version="1.0" encoding="UTF-8"?>{shared}'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def cell(ref: str, text: str) -> str:
    """Return an inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def far_cell() -> tuple[str, bytes]:
    """Cells A1 and XFD1048576: a 2 KB file whose dense sheet is 17 billion cells."""
    return "far.xlsx", workbook(f'<row r="1">{cell("A1", "x")}</row><row r="1048576">{cell("XFD1048576", "y")}</row>')


def wide_far_cell() -> tuple[str, bytes]:
    """Cells A1 and ZZ200000: 140 million cells, 5 GB in calamine."""
    return "zz.xlsx", workbook(f'<row r="1">{cell("A1", "x")}</row><row r="200000">{cell("ZZ200000", "y")}</row>')


def huge_dimension() -> tuple[str, bytes]:
    """A one-cell sheet that declares <dimension ref="A1:XFD1048576">."""
    return "dimension.xlsx", workbook(HEADER, dimension="A1:XFD1048576")


def shared_strings_declared() -> tuple[str, bytes]:
    """A shared-strings table declaring two billion entries (calamine reserves by it)."""
    table = f'<sst xmlns="{MAIN}" count="2000000000" uniqueCount="2000000000"><si><t>x</t></si></sst>'
    return "sst.xlsx", workbook('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=table)


def shared_strings_bomb(count: int = 3_000_000) -> tuple[str, bytes]:
    """Millions of distinct short strings: a small file, gigabytes once read."""
    body = "".join(f"<si><t>{n:x}</t></si>" for n in range(count))
    table = f'<sst xmlns="{MAIN}">{body}</sst>'
    return "strings.xlsx", workbook('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=table)


def zip_bomb_entry(size: int = 300 * 1024 * 1024) -> tuple[str, bytes]:
    """A sheet padded with hundreds of megabytes of spaces (compresses a thousandfold)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
    tail = b"</sheetData></worksheet>"
    chunk = b" " * (1024 * 1024)
    body = [compressor.compress(head)]
    for _ in range(size // len(chunk)):
        body.append(compressor.compress(chunk))
    body.append(compressor.compress(tail))
    body.append(compressor.flush())
    crc = zlib.crc32(head)
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    raw = workbook(HEADER)
    return "bomb.xlsx", _replace_entry(raw, "xl/worksheets/sheet1.xml", b"".join(body),
                                       len(head) + size // len(chunk) * len(chunk) + len(tail), crc)


def lying_entry() -> tuple[str, bytes]:
    """A sheet that declares 1 KB but inflates to 50 MB (the CRC of the first kilobyte is right)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
    data = head + b" " * (50 * 1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    return "lying.xlsx", _replace_entry(workbook(HEADER), "xl/worksheets/sheet1.xml", deflated, 1024,
                                        zlib.crc32(data[:1024]))


def many_entries(count: int = 20_000) -> tuple[str, bytes]:
    """A workbook with twenty thousand empty extra entries."""
    return "many.xlsx", workbook(HEADER, extra={f"xl/media/x{n}.xml": b"" for n in range(count)},
                                 compression=zipfile.ZIP_STORED)


def nested_archive() -> tuple[str, bytes]:
    """A workbook carrying another workbook inside it."""
    inner = workbook(HEADER)
    return "nested.xlsx", workbook(HEADER, extra={"xl/embeddings/inner.bin": inner})


def traversal() -> tuple[str, bytes]:
    """An entry named ../../etc/cron.d/x."""
    return "slip.xlsx", workbook(HEADER, extra={"../../etc/cron.d/x": b"* * * * * root true"})


def not_a_zip() -> tuple[str, bytes]:
    """Text named .xlsx."""
    return "名单.xlsx", b"this is not a spreadsheet, just text pretending to be one\n" * 10


def binary_csv() -> tuple[str, bytes]:
    """A PNG image named .csv."""
    return "名单.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def pdf_csv() -> tuple[str, bytes]:
    """A PDF named .csv."""
    return "名单.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 20


def zip_csv() -> tuple[str, bytes]:
    """An .xlsx renamed to .csv."""
    return "名单.csv", workbook(HEADER)


def csv_not_text() -> tuple[str, bytes]:
    """Random-looking bytes without a signature or NUL, named .csv: neither UTF-8 nor GB18030."""
    return "名单.csv", bytes(0x80 + (n * 37) % 128 for n in range(4096))


def csv_with_nul() -> tuple[str, bytes]:
    """A CSV with one NUL byte in a name."""
    return "名单.csv", "企业名称,统一社会信用代码\n台州\x00精工,91331002MA0500001G\n".encode()


def csv_long_line(size: int = 10 * 1024 * 1024) -> tuple[str, bytes]:
    """A CSV whose second line is ten megabytes long."""
    return "名单.csv", "企业名称,统一社会信用代码\n".encode() + b"a" * size + b"\n"


def overlapping_entries() -> tuple[str, bytes]:
    """Two directory entries pointing at the same compressed data (a "better zip bomb" trick)."""
    raw = bytearray(workbook(HEADER))
    end = raw.rfind(b"PK\x05\x06")
    directory = struct.unpack_from("<I", raw, end + 16)[0]
    first = raw.find(b"PK\x01\x02", directory)
    second = raw.find(b"PK\x01\x02", first + 4)
    offset = struct.unpack_from("<I", raw, first + 42)[0]
    struct.pack_into("<I", raw, second + 42, offset)
    return "overlap.xlsx", bytes(raw)


def _replace_entry(archive: bytes, name: str, deflated: bytes, size: int, crc: int) -> bytes:
    """Rebuild `archive` with entry `name` replaced by raw deflate data declaring `size` and `crc`."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    directory = []
    for info in source.infolist():
        if info.filename == name:
            raw, usize, ucrc = deflated, size, crc
        else:
            raw = _raw(archive, info)
            usize, ucrc = info.file_size, info.CRC
        encoded = info.filename.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8 if info.filename == name else
                              info.compress_type, 0, 0x21, ucrc, len(raw), usize, len(encoded), 0))
        out.write(encoded)
        out.write(raw)
        directory.append((info, encoded, offset, len(raw), usize, ucrc,
                          8 if info.filename == name else info.compress_type))
    start = out.tell()
    for _info, encoded, offset, csize, usize, ucrc, method in directory:
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, 0, 0x21, ucrc, csize, usize,
                              len(encoded), 0, 0, 0, 0, 0, offset))
        out.write(encoded)
    size_of_directory = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(directory), len(directory), size_of_directory,
                          start, 0))
    return out.getvalue()


def _raw(archive: bytes, info: zipfile.ZipInfo) -> bytes:
    """Return an entry's compressed bytes as stored."""
    at = info.header_offset
    name_length, extra_length = struct.unpack_from("<HH", archive, at + 26)
    start = at + 30 + name_length + extra_length
    return archive[start:start + info.compress_size]


def full_sheet(rows: int, columns: int, *, text: bool = False, shared: int = 0) -> tuple[str, bytes]:
    """A dense sheet of distinct values: the most memory an accepted file can take.

    Numbers by default; `text`: distinct inline texts; `shared`: that many first columns of
    distinct shared strings, the rest numbers.
    """
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(c + 1) for c in range(columns)]
    strings = ""
    if shared:
        half = shared
        template = "".join(f'<c r="{x}{{0}}" t="s"><v>{{{c + 1}}}</v></c>' if c < half else
                           f'<c r="{x}{{0}}"><v>{{0}}.{c}</v></c>' for c, x in enumerate(letters))
        row = '<row r="{0}">' + template + "</row>"
        body = "".join(row.format(r, *range((r - 1) * half, r * half)) for r in range(1, rows + 1))
        strings = f'<sst xmlns="{MAIN}">' + "".join(map("<si><t>名称{}</t></si>".format, range(rows * half))) + "</sst>"
        return "shared.xlsx", workbook(body, dimension=f"A1:{letters[-1]}{rows}", shared=strings)
    if text:
        template = "".join(f'<c r="{x}{{0}}" t="inlineStr"><is><t>{{0}}{x}</t></is></c>' for x in letters)
    else:
        template = "".join(f'<c r="{x}{{0}}"><v>{{0}}.{c}</v></c>' for c, x in enumerate(letters))
    row = '<row r="{0}">' + template + "</row>"
    body = "".join(map(row.format, range(1, rows + 1)))
    return "full.xlsx", workbook(body, dimension=f"A1:{letters[-1]}{rows}")


def rows_fitting(size: int, columns: int, *, text: bool = False) -> int:
    """Return how many rows of `full_sheet` keep its sheet XML under `size` bytes."""
    _, sample = full_sheet(1000, columns, text=text)
    with zipfile.ZipFile(io.BytesIO(sample)) as archive:
        per_row = archive.getinfo("xl/worksheets/sheet1.xml").file_size / 1000
    return int(size / (per_row * 1.15))  # row numbers grow longer further down


def full_csv(size: int) -> tuple[str, bytes]:
    """A CSV of `size` bytes of short distinct numbers, 20 to a line."""
    line_of = ",".join(["{0}" + str(c) for c in range(20)]) + "\n"
    lines, total, n = [], 0, 10_000
    while total < size:
        line = line_of.format(n).encode()
        if total + len(line) > size:
            break
        lines.append(line)
        total += len(line)
        n += 1
    return "full.csv", b"".join(lines)
