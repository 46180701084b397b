"""Make a value safe for a spreadsheet cell (no formula injection, no characters Excel rejects); stream CSV text;
write an .xlsx sheet with the fastest writer installed (rustpy-xlsxwriter, constant memory)."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import IO, Any

import sqlalchemy as sa

#: control characters that XML 1.0 (and so .xlsx) cannot hold; the same set as openpyxl's
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: what Excel and LibreOffice read as the start of a formula (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a plain signed number is not a formula, so "-12.50" stays as it is
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
MAX_CELL_CHARS = 32767  # Excel's limit for one cell


def safe_cell(value: Any) -> Any:
    """Return `value` fit for a cell: text stripped of illegal characters and defused of formulas.

    Text that would start a formula gets a leading apostrophe, which Excel shows as text; numbers,
    dates and None pass unchanged. Called for every cell of an export, so the common case — printable
    text not starting a formula — costs two C-level checks (issue 19).
    """
    if not isinstance(value, str):
        return value
    # isprintable() is False for every illegal character (and for a few legal ones: then the regex decides)
    text = value if value.__class__ is str and value.isprintable() else ILLEGAL_CHARACTERS.sub("", value)
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
    first = text[:1]
    if first == " ":
        first = text.lstrip(" ")[:1]
    if first in _FORMULA_FIRST and not PLAIN_NUMBER.match(text.strip()):
        return ("'" + text)[:MAX_CELL_CHARS]
    return text


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  #: each start is one character
#: a cell starting (after spaces) a formula, searched once in a row's texts each after a newline; with
#: ILLEGAL_CHARACTERS, what makes safe_cell change a text. A newline inside a cell may match needlessly
#: (the row then goes cell by cell, with the same result); a cell that safe_cell changes always matches.
#: Two searches, not one alternation: each starts with a literal or a class the regex engine scans for fast.
_FORMULA_CELL = re.compile(r"\n *[=+\-@\t\r]")


def needs_care(texts: Iterable[str | None]) -> bool:
    """Tell whether `safe_cell` might change any of `texts` (None and "" never change): one join and two
    C-speed searches for them all. False means every one of them is already fit for a cell; True may be
    said of texts that are (a newline inside one, a long one): check those one by one."""
    joined = "\n" + "\n".join(filter(None, texts))
    return len(joined) > MAX_CELL_CHARS or bool(_FORMULA_CELL.search(joined) or ILLEGAL_CHARACTERS.search(joined))


def safe_rows(rows: Iterable[Sequence[Any]], text: Sequence[int]) -> Iterator[Sequence[Any]]:
    """Yield each of `rows` with every cell as `safe_cell` makes it, without a Python call per cell.

    `text` gives the positions that may hold text (the others never hold a str: numbers, dates, None).
    A row's texts are joined and searched once (`needs_care`, inlined here); the rare row that needs care
    goes through `safe_cell` cell by cell, so every row comes out exactly as `[safe_cell(v) for v in row]`
    (issue 19: the exports' per-cell work was most of their time). A row needing no care is yielded as it is.
    """
    if not text:
        yield from rows
        return
    pick = itemgetter(*text) if len(text) > 1 else (lambda row: (row[text[0]],))
    join, formula, illegal, limit = "\n".join, _FORMULA_CELL.search, ILLEGAL_CHARACTERS.search, MAX_CELL_CHARS
    for row in rows:
        texts = "\n" + join(filter(None, pick(row)))  # None and "" need no care (and cannot be joined)
        if len(texts) > limit or formula(texts) or illegal(texts):
            yield [safe_cell(v) for v in row]
        else:
            yield row


def csv_stream(headers: Sequence[str], data: Iterator[Sequence[Any]], batch: int = 500,
               counted: list[int] | None = None) -> Iterator[bytes]:
    """`headers`, then the rows, as UTF-8 CSV (with a BOM, CRLF) in chunks of `batch` rows — writerows: the csv
    module formats each value, None as empty, a date as 2024-06-15, an amount as 123.45; `counted` gets the number
    of data rows. Streams: memory holds one chunk."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    while chunk := list(itertools.islice(data, batch)):
        writer.writerows(chunk)
        count += len(chunk)
        yield drain(buffer)
    if count == 0:
        yield drain(buffer)
    if counted is not None:
        counted.append(count)


def csv_head(headers: Sequence[str]) -> bytes:
    """What csv_stream writes before the rows: the BOM and the header line."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerow(headers)
    return drain(buffer)


def drain(buffer: io.StringIO) -> bytes:
    """Return what a streaming CSV writer put in `buffer` as UTF-8, and empty it for the next chunk."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def write_sheet(out: IO[bytes], *, sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                widths: Sequence[float], freeze_col: int = 0, date_format: str = "yyyy-mm-dd") -> int:
    """Write one worksheet — `headers`, then `rows` (already `safe_cell`ed) — as .xlsx to `out`; return the rows.

    The writer is rust_xlsxwriter (the rustpy-xlsxwriter wheel) in its constant-memory mode: rows
    are pulled from the iterator one at a time and flushed to a temporary file as they come, so a
    large export holds one row in memory, not the sheet (issue 19: about a tenth of openpyxl's time
    for the same cells). Text is written as inline strings (never a formula); dates take
    `date_format`; the header row stays frozen and the first `freeze_col` columns too.
    """
    from rustpy_xlsxwriter import write_worksheet  # a compiled wheel: only the export paths need it

    keys = tuple(headers)
    if not keys or len(set(keys)) != len(keys):
        raise ValueError("a sheet needs distinct headers: the writer keys each row's cells by its header")
    data = iter(rows)
    first = next(data, None)
    count = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal count
        if first is None:  # the writer takes the header row from the records' keys: an empty export
            yield dict.fromkeys(keys)  # gets a row of empty cells (not written) to carry it
            return
        for row in itertools.chain((first,), data):
            count += 1
            yield dict(zip(keys, row, strict=True))

    write_worksheet(records(), out, sheet_name=sheet, freeze_row=1, freeze_col=freeze_col or None,
                    column_widths=list(widths), datetime_format=date_format)
    return count


# --- rows as the driver returns them, and CSV written by PostgreSQL (COPY … TO STDOUT): no SQLAlchemy
# processing of each row, no Python value per cell (issue 19)


def driver_statement(connection: sa.Connection, stmt: sa.Select[Any]) -> tuple[str, Any]:
    """`stmt` as the driver takes it: its SQL for `connection`'s dialect and its parameters, each as the
    statement's types bind it (a date as text on SQLite); an IN list expanded. An ORM statement's options
    (the session's region criteria, registry/regions/scoping.py with_scope) are part of the SQL."""
    sql, params, order = _driver_compiled(connection, stmt)
    return (sql, [params[name] for name in order]) if order is not None else (sql, params)


def _driver_compiled(connection: sa.Connection, stmt: sa.Select[Any]) -> tuple[str, dict[str, Any], Any]:
    """`stmt`'s SQL, its bound parameters by name and their order (None: the driver takes them by name)."""
    dialect = connection.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = {}
    for name, value in compiled.construct_params().items():
        bound = compiled.binds.get(name)
        if bound is None:  # an IN list's nth value
            bound = compiled.binds.get(name.rsplit("_", 1)[0])
        process = bound.type.bind_processor(dialect) if bound is not None else None
        params[name] = process(value) if process else value
    return compiled.string, params, compiled.positiontup


def driver_lookup(connection: sa.Connection, stmt: sa.Select[Any], *names: str) -> Callable[..., list[Any]]:
    """`stmt` compiled once (driver_statement); the function returned runs it on the driver with the bound
    parameters `names` set to its arguments (values as the driver binds them) and returns its rows."""
    sql, params, order = _driver_compiled(connection, stmt)
    raw = connection.connection.driver_connection

    def lookup(*values: Any) -> list[Any]:
        given = {**params, **dict(zip(names, values, strict=True))}
        return raw.execute(sql, [given[name] for name in order] if order is not None else given).fetchall()

    return lookup


# --- CSV written by PostgreSQL

#: a line of PostgreSQL's CSV read for what makes safe_cell change a cell, at C speed: each byte mapped to its
#: role — "," a cell's start (a comma, a line's end, an opening quote), "=" a formula's first character or a
#: space, "!" a character ILLEGAL_CHARACTERS removes, "a" anything else (a UTF-8 sequence's bytes are never ASCII)
_ROLES = bytearray(b"a" * 256)
for _c in ',\n"':
    _ROLES[ord(_c)] = ord(",")
for _c in "=+-@\t\r ":
    _ROLES[ord(_c)] = ord("=")
for _c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)):
    _ROLES[_c] = ord("!")
_ROLES = bytes(_ROLES)


def _risky(data: bytes) -> bool:
    """Whether safe_cell might change a cell of `data`, CSV lines (a batch or one) as PostgreSQL writes them: a
    cell starting (in quotes or not) with a formula's first character or a space, or an illegal character.
    A quote or a separator inside a quoted cell, a negative number, may say so needlessly (the row then goes
    through safe_cell, with the same result); a cell that safe_cell changes always does."""
    roles = data.translate(_ROLES)
    return roles[:1] == b"=" or b",=" in roles or b"!" in roles


def sql_cell(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """`column` as COPY … (FORMAT csv) must write it to give the csv module's bytes: a date as 2024-06-15, an
    empty text as nothing (COPY quotes it, the csv module does not); numbers as PostgreSQL writes them, which
    is str() of the Decimal or int psycopg would return."""
    if isinstance(column.type, sa.String):
        return sa.func.nullif(column, "")
    if isinstance(column.type, sa.Date):
        return sa.func.to_char(column, "YYYY-MM-DD")
    return column


def copy_csv_lines(connection: sa.Connection, stmt: sa.Select[Any], text: Sequence[int], batch: int = 1000,
                   counted: list[int] | None = None) -> Iterator[bytes]:
    """The rows of `stmt` (PostgreSQL) as CSV lines (CRLF) written by the server, numbered from 1 in front, in
    chunks of `batch` lines: what csv_stream writes for the same rows made safe, minus the header.

    `stmt`'s columns are the cells as `sql_cell` makes them. PostgreSQL's CSV quotes exactly what the csv
    module quotes (a comma, a quote, CR or LF; quotes doubled) and sends each row as one message, so a row
    costs one bytes formatting here, and a batch a translation, two substring searches (_risky) and a length
    check for what safe_cell would change. In a batch that matches, each matching row is read back and
    written by the csv module after safe_cell on its `text` positions (counted with the row number at 0): its
    bytes are exactly the Python export's. Runs in the connection's transaction (its snapshot, its settings);
    streams: memory holds one chunk.
    """
    sql, params = driver_statement(connection, stmt)
    raw = connection.connection.driver_connection
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
        while part := [bytes(data) for data in itertools.islice(copy, batch)]:  # a row a message, ending in LF
            lines = [b"%d,%b\r\n" % (number, data[:-1]) for number, data in enumerate(part, start=count + 1)]
            if _risky(b"".join(part)) or max(map(len, part)) > MAX_CELL_CHARS:
                for i, data in enumerate(part):
                    if _risky(data) or len(data) > MAX_CELL_CHARS:
                        lines[i] = _careful_line(count + 1 + i, data, text)
            count += len(part)
            yield b"".join(lines)
    if counted is not None:
        counted.append(count)


def _careful_line(number: int, data: bytes, text: Sequence[int]) -> bytes:
    """A row that may need care, read back from the server's CSV and written as the Python export writes it."""
    cells: list[Any] = [number, *next(csv.reader([data.decode()]))]
    for i in text:
        cells[i] = safe_cell(cells[i])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode()


# --- CSV lines assembled by SQLite: one text a row, checked and finished a batch at a time in C (issue 19)

#: what separates the cells of a line SQLite assembles: an illegal character, so never in a clean cell
_SEP = "\x1f"
#: a cell SQLite cannot write exactly as Python would (an amount stored as a REAL it cannot prove, a count that is
#: not an integer): the row is read again as values (an illegal character too, so the batch is never clean)
_UNSURE = "\x01"
#: a byte of a batch of such lines (numbered, CRLF), mapped to its role: "s" a separator, "e" CR or LF, "q" a quote
#: or a comma, "=" a formula's first character or a space, "!" a character ILLEGAL_CHARACTERS removes, "a" anything
#: else (a UTF-8 sequence's bytes are never ASCII); _PLAIN_ROLES, for a batch whose named codes are not quoted, makes
#: a quote or a comma "!" as well
_LINE_ROLES = bytearray(b"a" * 256)
for _c in "=+-@\t ":
    _LINE_ROLES[ord(_c)] = ord("=")
for _c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x1F)):
    _LINE_ROLES[_c] = ord("!")
_LINE_ROLES[ord(_SEP)], _LINE_ROLES[ord("\r")], _LINE_ROLES[ord("\n")] = b"see"
_PLAIN_ROLES = bytearray(_LINE_ROLES)
_LINE_ROLES[ord('"')], _LINE_ROLES[ord(",")] = b"qq"
_PLAIN_ROLES[ord('"')], _PLAIN_ROLES[ord(",")] = b"!!"
_LINE_ROLES, _PLAIN_ROLES = bytes(_LINE_ROLES), bytes(_PLAIN_ROLES)


def csv_text(value: str) -> str:
    """`value` as the csv module writes it in a row, after safe_cell: quoted (quotes doubled) when it must be."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([0, safe_cell(value)])
    return buffer.getvalue()[2:-2]


def sqlite_cell(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """`column` as text exactly as the Python export writes it, in SQLite, for `sqlite_line`, or `_UNSURE`: text
    and dates (stored as their ISO text) as stored — unless a NUL is in it (printf's %s would end the text there,
    where safe_cell removes it) —, NULL as nothing; an integer as its digits; a NUMERIC(p, s) as "%.<s>f" % value
    — an integer with s zeros, a REAL by printf only when reading the printed text back gives the stored value
    (then it is the correctly rounded text Python prints; SQLite's own rounding is not trusted)."""
    typ, value = column.type, sa.literal_column
    kind = sa.func.typeof(column)
    if isinstance(typ, sa.Integer):
        return sa.case((kind.in_([value("'integer'"), value("'null'")]), column), else_=value("char(1)"))
    if isinstance(typ, sa.Numeric) and not isinstance(typ, sa.Float) and typ.scale:
        printed = sa.func.printf(value(f"'%.{typ.scale}f'"), column)
        whole = sa.case((column.between(value("-999999999999999"), value("999999999999999")),
                         column.op("||")(value("'." + "0" * typ.scale + "'"))), else_=value("char(1)"))
        real = sa.case((sa.and_(kind == value("'real'"), column.between(value("-1e12"), value("1e12")),
                                column != value("0"), sa.cast(printed, sa.Float) == column), printed),
                       else_=value("char(1)"))
        return sa.case((value("'integer'"), whole), (value("'null'"), value("''")), value=kind, else_=real)
    if isinstance(typ, (sa.String, sa.Date)) and not isinstance(typ, sa.DateTime):
        return sa.func.iif(sa.func.instr(column, value("char(0)")), value("char(1)"), column, type_=typ)
    raise TypeError(f"no exact SQLite text for a {typ!r} cell")


def sqlite_line(cells: Sequence[sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
    """The cells (each as `sqlite_cell` makes it, or a named code's `csv_text`) as one text, separated by `_SEP`
    (printf's %s writes NULL as nothing), as its UTF-8 bytes: nothing decoded, nothing encoded."""
    if not 1 < len(cells) < 100:  # SQLite's limit on a function's arguments
        raise ValueError("a line needs 2–99 cells")
    line = sa.func.printf(sa.literal(_SEP.join(["%s"] * len(cells)), sa.String()), *cells, type_=sa.String())
    return sa.cast(line, sa.LargeBinary())


def sqlite_csv_lines(connection: sa.Connection, stmt: sa.Select[Any], cells: int, text: Sequence[int],
                     again: Callable[[Sequence[Any]], Sequence[Any]], batch: int = 1000,
                     counted: list[int] | None = None) -> Iterator[bytes]:
    """The rows of `stmt` (SQLite) as CSV lines (CRLF), numbered from 1 in front, in chunks of `batch` lines: what
    csv_stream writes for the same rows made safe, minus the header, without a Python value per cell.

    `stmt`'s columns: the line (`sqlite_line` of `cells` cells, UTF-8 bytes), the number of quotes and commas the
    named codes' `csv_text` put in it, then the row's key. A batch is one bytes formatting of its numbered lines,
    one translation to roles (_clean: a cell holding a separator, CR, LF, quote or comma shows in a count — they
    must be exactly the separators, the line ends and the named codes' quoting —, a cell starting a formula or
    holding an illegal character in a search), a length check and the separators made commas: then the bytes are
    the csv module's. In a batch that fails, each failing row is split into its cells and written by the csv
    module after safe_cell on its `text` positions (counted with the row number at 0); a row whose cells cannot be
    told apart (a separator in a text, a named code quoted, `_UNSURE`) is read again: `again(key)` gives
    its cells as rows() makes them.
    Runs on the connection (its snapshot while the statement is open); streams: memory holds one chunk.
    """
    sql, params = driver_statement(connection, stmt)
    cursor = connection.connection.driver_connection.cursor()
    line, quoted, shape, count = itemgetter(0), itemgetter(1), b"%d\x1f%b\r\n".__mod__, 0
    try:
        cursor.execute(sql, params)
        while part := cursor.fetchmany(batch):
            lines = list(map(line, part))
            data = b"".join(map(shape, zip(range(count + 1, count + len(part) + 1), lines, strict=True)))
            if _clean(data, len(part), cells, sum(map(quoted, part)), max(map(len, lines))):
                data = data.replace(b"\x1f", b",")
            else:
                data = b"".join(_row_line(count + 1 + i, row, cells, text, again) for i, row in enumerate(part))
            count += len(part)
            yield data
    finally:
        cursor.close()
    if counted is not None:
        counted.append(count)


def _clean(data: bytes, rows: int, cells: int, quoted: int, longest: int) -> bool:
    """Whether `data`, `rows` numbered lines of `cells` cells after the number, are exactly the csv module's bytes
    once each separator is a comma: every separator, CR, LF, quote and comma counted where it must be (a cell holding
    one adds to a count), no cell starting a formula or holding an illegal character, none longer than a cell may be
    (`longest`, the longest line's bytes, bounds them all)."""
    roles = data.translate(_LINE_ROLES if quoted else _PLAIN_ROLES)
    return (b"!" not in roles and b"s=" not in roles and roles.count(b"s") == rows * cells
            and roles.count(b"e") == 2 * rows and (not quoted or roles.count(b"q") == quoted)
            and longest <= MAX_CELL_CHARS)


def _row_line(number: int, row: Sequence[Any], separators: int, text: Sequence[int],
              again: Callable[[Sequence[Any]], Sequence[Any]]) -> bytes:
    """One row of a batch that was not clean, as the csv module writes it."""
    line, quoted, *key = row
    data = b"%d\x1f%b\r\n" % (number, line)
    if _clean(data, 1, separators, quoted, len(line)):
        return data.replace(b"\x1f", b",")
    try:
        values = line.decode()
    except UnicodeDecodeError:  # rows() reads text as the driver decodes it: it fails there too
        values = None
    if values is None or quoted or _UNSURE in values or values.count(_SEP) != separators - 1:
        cells: list[Any] = [number, *again(key)]
    else:
        cells = [number, *values.split(_SEP)]
        for i in text:
            cells[i] = safe_cell(cells[i])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode()
