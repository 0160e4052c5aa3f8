"""The one reader of import files (CSV and XLSX) for every import: uploads and command-line files alike.

Every import reads its file through this module so that the same guarantees hold everywhere:

* every row is read, whatever an XLSX sheet's `<dimension>` says (openpyxl's read-only sheets trust
  it and stop at its last row and column; many tools write a stale one or none);
* a file whose size (XLSX: the uncompressed size of its ZIP members, as the archive declares them;
  Python's zipfile never inflates a member past its declared size) or whose row count passes a limit
  is refused as a whole *before* it is parsed: the rows of an XLSX are counted by streaming its
  members through zlib, without building anything in memory;
* any DTD or entity declaration, which spreadsheet programs never write, refuses the file before
  openpyxl sees it; behind that, openpyxl parses worksheets through `defusedxml` (whenever it is
  installed; the reader refuses to run otherwise) and, when lxml is installed, the workbook's other
  parts through lxml, which fetches no external entity and refuses an expansion that blows up: no
  external entity, no billion laughs;
* a truncated or malformed workbook is a refusal with a message, never an exception page;
* a field longer than the limit is a bad row with a named code, never a `_csv.Error`.

Interface (stable: other imports build on these names)
-------------------------------------------------------
`open_rows(path, filename=None, *, limits=None, encoding="auto", bad_encoding=...) -> Rows`
    A file on disk: XLSX when it is a ZIP container (the first worksheet), otherwise CSV.
`csv_rows(source, *, limits=None, encoding="auto", bad_encoding="refuse") -> Rows`
    `source`: bytes, str or a binary stream. `bad_encoding="refuse"` refuses the whole file when a
    byte sequence is not valid in `encoding`; `"row"` reports each such line as a `BadRow("encoding")`.
    `encoding="auto"` (the default) detects it: see `detect_encoding`.
`detect_encoding(source) -> "utf-8-sig" | "utf-8" | "gb18030"`
    What CSV files are saved in: UTF-8 with a byte-order mark (Excel's "CSV UTF-8"), UTF-8 without
    one, or GB18030/GBK (Excel's plain "CSV" on a Chinese Windows). The whole content is decoded, not
    a sample: a file is read as GB18030 only when it is not valid UTF-8 and is valid GB18030 to its
    last byte, so a file is never read in a wrong encoding silently; a file valid in neither is
    refused as a whole (FileRefused "encoding") with a message that says how to save it.
`xlsx_rows(path, *, limits=None) -> Rows`
`file_format(path, filename=None) -> "csv" | "xlsx"`; `check_size(path, fmt, limits=None)`.

A `Rows` is an iterator of `(line, values)`:
    `line`   the row's number in the file, the first row (normally the header) being 1; for CSV the
             physical line the record starts on;
    `values` a list of the row's cells (str for CSV; for XLSX what the cell holds: str, int, float,
             datetime, bool or None, trailing empty cells dropped), or a `BadRow` when the row
             cannot be used: `BadRow.code` is one of `ROW_CODES`, `BadRow.values` what could be read
             of it (over-long fields cut to the limit, to name the row), `BadRow.detail` the 1-based
             column of the over-long field where there is one.
    Rows with no content are skipped (they still count toward the row limit and the line numbers).
    `Rows.total` is the number of rows counted before reading (XLSX) or None (CSV); `Rows.format`
    is "csv" or "xlsx"; `Rows.encoding` the encoding a CSV was read in (None for XLSX). Use it as a
    context manager (or call `close()`) to release the file.

`FileRefused(code, message)`: the whole file is refused, raised when the reader is opened or while
iterating (the row limit, a malformed part found mid-sheet); the caller imports nothing then.
`code` is one of `FILE_CODES`; `message` is in the user's language.

Limits come from the configuration (`IMPORT_MAX_BYTES`, `IMPORT_MAX_ROWS`, `IMPORT_MAX_FIELD_CHARS`)
inside an app context, from `Limits()`'s defaults outside one, or from the `limits` argument.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app, has_app_context
from flask_babel import gettext as _

# The defaults: a million-row asset snapshot XLSX is about 380 MB uncompressed and 1,000,001 rows.
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
DEFAULT_MAX_FIELD_CHARS = 10_000

TOO_LARGE = "too_large"
TOO_MANY_ROWS = "too_many_rows"
UNSAFE_FILE = "unsafe_file"
UNREADABLE_FILE = "unreadable_file"
ENCODING = "encoding"
FILE_CODES = (TOO_LARGE, TOO_MANY_ROWS, UNSAFE_FILE, UNREADABLE_FILE, ENCODING)

FIELD_TOO_LONG = "field_too_long"
UNREADABLE = "unreadable"
ROW_CODES = (FIELD_TOO_LONG, UNREADABLE, ENCODING)

_CHUNK = 1 << 20
# A row element with or without a namespace prefix (<row ...>, <x:row ...>, <row/>).
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?row[\s/>]")
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Limits:
    """How much one import file may hold."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS

    @classmethod
    def current(cls) -> Limits:
        """The configured limits inside an app context, the defaults outside one."""
        if not has_app_context():
            return cls()
        config = current_app.config
        return cls(int(config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)),
                   int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)),
                   int(config.get("IMPORT_MAX_FIELD_CHARS", DEFAULT_MAX_FIELD_CHARS)))


class FileRefused(Exception):
    """The whole file is refused: `code` (one of FILE_CODES) says why, `message` in the user's language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be used: `code` is one of ROW_CODES; `values` what could be read of it."""

    code: str
    values: list[Any]
    detail: int | None = None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}"


def too_large(size: int, limits: Limits) -> FileRefused:
    """The refusal of a file of `size` bytes (uncompressed)."""
    return FileRefused(TOO_LARGE, _(
        "The file is too large: it holds %(size)s MB of data and at most %(limit)s MB can be imported at once. "
        "Split it into several files.", size=_megabytes(size), limit=_megabytes(limits.max_bytes)))


def too_many_rows(limits: Limits) -> FileRefused:
    """The refusal of a file of more than `limits.max_rows` rows."""
    return FileRefused(TOO_MANY_ROWS, _(
        "The file has more than %(n)s rows; at most %(n)s rows can be imported at once. "
        "Split it into several files.", n=f"{limits.max_rows:,}"))


def _unreadable_xlsx() -> FileRefused:
    return FileRefused(UNREADABLE_FILE, _("The file could not be read as an XLSX workbook."))


def _unsafe_xlsx() -> FileRefused:
    return FileRefused(UNSAFE_FILE, _(
        "The workbook contains XML declarations (a DTD or entities) that spreadsheet programs never write; "
        "it was not read. Save the sheet again from your spreadsheet program."))


def _not_in_encoding(encoding: str) -> FileRefused:
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return FileRefused(ENCODING, _("The file must be a CSV file in UTF-8."))
    return FileRefused(ENCODING, _("The file is not valid %(encoding)s text.", encoding=encoding))


# --- format and size -------------------------------------------------------------------------------

def file_format(path: str | Path, filename: str | None = None) -> str:
    """"xlsx" for a workbook (a ZIP container), "csv" otherwise; FileRefused for other spreadsheets."""
    name = (filename or str(path)).lower()
    with open(path, "rb") as stream:
        magic = stream.read(4)
    if magic == b"PK\x03\x04":
        return "xlsx"
    if name.endswith(".xlsx"):
        raise _unreadable_xlsx()
    if name.endswith(".xls") or magic == b"\xd0\xcf\x11\xe0":
        raise FileRefused(UNREADABLE_FILE, _("Old .xls workbooks are not read: save the sheet as .xlsx or .csv."))
    return "csv"


def check_size(path: str | Path, fmt: str, limits: Limits | None = None) -> None:
    """FileRefused when the file passes the size limit (XLSX: its members' uncompressed size)."""
    limits = limits or Limits.current()
    if fmt == "xlsx":
        _xlsx_archive_size(path, limits)
        return
    size = Path(path).stat().st_size
    if size > limits.max_bytes:
        raise too_large(size, limits)


def _xlsx_archive_size(path: str | Path, limits: Limits) -> int:
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _unreadable_xlsx() from None
    if size > limits.max_bytes:
        raise too_large(size, limits)
    return size


def _inspect_xlsx(path: str | Path, limits: Limits) -> int:
    """Count the row elements of every part, refusing DTDs and entities, without parsing anything.

    Returns the row count; FileRefused when the archive is too large, holds too many rows, declares a
    DTD or an entity, or cannot be inflated (a bad CRC, a truncated archive, an unknown method).
    """
    _xlsx_archive_size(path, limits)
    rows = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                with archive.open(info) as member:
                    carry = b""
                    while chunk := member.read(_CHUNK):
                        buffer = carry + chunk
                        cut = buffer.rfind(b"<")
                        # Keep a tag cut by the chunk's end for the next round (a tag is short).
                        if cut == -1 or len(buffer) - cut > 256:
                            body, carry = buffer, b""
                        else:
                            body, carry = buffer[:cut], buffer[cut:]
                        if _DECLARATION.search(body):
                            raise _unsafe_xlsx()
                        rows += len(_ROW_TAG.findall(body))
                        if rows > limits.max_rows:
                            raise too_many_rows(limits)
                    if _DECLARATION.search(carry):
                        raise _unsafe_xlsx()
                    rows += len(_ROW_TAG.findall(carry))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error):
        # A CRC that does not match (a member that inflates past its declared size), encryption, truncation.
        raise _unreadable_xlsx() from None
    if rows > limits.max_rows:
        raise too_many_rows(limits)
    return rows


# --- encodings ------------------------------------------------------------------------------------

AUTO = "auto"
_UTF8_BOM = codecs.BOM_UTF8


def _neither_encoding() -> FileRefused:
    return FileRefused(ENCODING, _(
        "The file is neither UTF-8 nor GB18030 (GBK) text, so it cannot be read without guessing. "
        "Save it from your spreadsheet program as \"CSV UTF-8\" (or as .xlsx) and import it again."))


def detect_encoding(source: bytes | bytearray | IO[bytes]) -> str:
    """`utf-8-sig` (a UTF-8 byte-order mark), `utf-8`, or `gb18030` (GBK is a subset); FileRefused when the
    content is valid in neither. Every byte is decoded; a stream is read through and put back where it stood."""
    if isinstance(source, bytes | bytearray):
        chunks: Iterator[bytes] = iter([bytes(source)])
        start = None
    else:
        start = source.tell()
        chunks = iter(lambda: source.read(_CHUNK), b"")
    try:
        utf8 = codecs.getincrementaldecoder("utf-8")()
        gb = codecs.getincrementaldecoder("gb18030")()
        utf8_ok = gb_ok = True
        first = True
        for chunk in chunks:
            if first:
                if chunk.startswith(_UTF8_BOM):
                    return "utf-8-sig"  # the mark says so; a bad byte later is refused while reading
                first = False
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if gb_ok:
                try:
                    gb.decode(chunk)
                except UnicodeDecodeError:
                    gb_ok = False
            if not utf8_ok and not gb_ok:
                break
        for decoder, ok in ((utf8, utf8_ok), (gb, gb_ok)):
            if ok:
                try:
                    decoder.decode(b"", final=True)  # a sequence cut at the end of the file
                except UnicodeDecodeError:
                    if decoder is utf8:
                        utf8_ok = False
                    else:
                        gb_ok = False
    finally:
        if start is not None:
            source.seek(start)
    if utf8_ok:
        return "utf-8"
    if gb_ok:
        return "gb18030"
    raise _neither_encoding()


# --- the row iterators -----------------------------------------------------------------------------

class Rows(Iterator[tuple[int, Any]]):
    """(line, values | BadRow) of one file; `total` rows counted beforehand (XLSX) or None."""

    def __init__(self, fmt: str, rows: Iterator[tuple[int, Any]], total: int | None = None, closer=None,
                 encoding: str | None = None):
        self.format, self.total, self.encoding = fmt, total, encoding
        self._rows, self._closer = rows, closer

    def __iter__(self) -> Rows:
        return self

    def __next__(self) -> tuple[int, Any]:
        return next(self._rows)

    def close(self) -> None:
        """Release the file (also done when the rows run out)."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_rows(path: str | Path, filename: str | None = None, *, limits: Limits | None = None,
              encoding: str = AUTO, bad_encoding: str = "refuse") -> Rows:
    """The rows of a file on disk: XLSX (first worksheet) when it is a ZIP container, otherwise CSV."""
    limits = limits or Limits.current()
    if file_format(path, filename) == "xlsx":
        return xlsx_rows(path, limits=limits)
    check_size(path, "csv", limits)
    stream = open(path, "rb")  # noqa: SIM115 - closed by Rows.close
    try:
        rows = csv_rows(stream, limits=limits, encoding=encoding, bad_encoding=bad_encoding)
    except BaseException:
        stream.close()
        raise
    rows._closer = stream.close
    return rows


def _blank(values: list[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _over_long(values: list[Any], limit: int) -> int | None:
    """The 1-based column of the first text value longer than `limit`, or None."""
    for position, value in enumerate(values, start=1):
        if isinstance(value, str) and len(value) > limit:
            return position
    return None


def _cut(values: list[Any], limit: int) -> list[Any]:
    return [value[:limit] if isinstance(value, str) else value for value in values]


def csv_rows(source: bytes | str | IO[bytes], *, limits: Limits | None = None, encoding: str = AUTO,
             bad_encoding: str = "refuse") -> Rows:
    """The rows of CSV content (bytes, text, or a binary stream read from where it stands)."""
    limits = limits or Limits.current()
    if encoding == AUTO:
        if isinstance(source, str):
            encoding = "utf-8"
        else:
            if not isinstance(source, bytes | bytearray) and not source.seekable():
                source = source.read(limits.max_bytes + 1)
            try:
                encoding = detect_encoding(source)
            except FileRefused:
                if bad_encoding != "row":
                    raise
                encoding = "utf-8"  # each line that is not UTF-8 is then named as a bad row
    rows = _csv_rows(source, limits, encoding, bad_encoding)
    rows.encoding = encoding
    return rows


def _csv_rows(source: bytes | str | IO[bytes], limits: Limits, encoding: str, bad_encoding: str) -> Rows:
    if bad_encoding not in ("refuse", "row"):
        raise ValueError("bad_encoding is 'refuse' or 'row'")
    errors = "strict" if bad_encoding == "refuse" else "surrogateescape"
    if isinstance(source, str):
        if len(source) > limits.max_bytes:
            raise too_large(len(source), limits)
        text: IO[str] = io.StringIO(source, newline="")
    else:
        if isinstance(source, bytes | bytearray):
            if len(source) > limits.max_bytes:
                raise too_large(len(source), limits)
            if bad_encoding == "refuse":  # refuse before a single row is handed out
                try:
                    decoded = bytes(source).decode(encoding)
                except UnicodeDecodeError:
                    raise _not_in_encoding(encoding) from None
                text = io.StringIO(decoded, newline="")
                return Rows("csv", _csv_records(text, limits, encoding))
            source = io.BytesIO(source)
        elif source.seekable():
            start = source.tell()
            size = source.seek(0, io.SEEK_END) - start
            source.seek(start)
            if size > limits.max_bytes:
                raise too_large(size, limits)
        text = io.TextIOWrapper(source, encoding=encoding, errors=errors, newline="")
    return Rows("csv", _csv_records(text, limits, encoding))


def _csv_records(text: IO[str], limits: Limits, encoding: str) -> Iterator[tuple[int, Any]]:
    try:
        yield from _csv_lines(text, limits, encoding)
    finally:
        if isinstance(text, io.TextIOWrapper):
            # The byte stream under it is its opener's to close (Rows.close); a wrapper dropped while it is still
            # open would be reported as an unclosed file.
            text.detach()


def _csv_lines(text: IO[str], limits: Limits, encoding: str) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(text)
    cap = limits.max_field_chars
    records = 0
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _not_in_encoding(encoding) from None
        except csv.Error as error:
            records += 1
            if records > limits.max_rows:
                raise too_many_rows(limits) from None
            # CPython's only words for a field past csv.field_size_limit(); anything else is a malformed line.
            code = FIELD_TOO_LONG if "field limit" in str(error) else UNREADABLE
            yield line, BadRow(code, [])
            continue
        records += 1
        if records > limits.max_rows:
            raise too_many_rows(limits)
        if _blank(values):
            continue
        if any(_ESCAPED_BYTE.search(value) for value in values):
            yield line, BadRow(ENCODING, [_ESCAPED_BYTE.sub("\ufffd", value)[:cap] for value in values])
            continue
        column = _over_long(values, cap)
        if column is not None:
            yield line, BadRow(FIELD_TOO_LONG, _cut(values, cap), column)
            continue
        yield line, values


def xlsx_rows(path: str | Path, *, limits: Limits | None = None) -> Rows:
    """The rows of the workbook's first worksheet, every one of them whatever its dimension says."""
    from openpyxl import load_workbook
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # a deployment fault, not the user's: openpyxl would parse with the bare stdlib
        raise RuntimeError("openpyxl must parse XML through defusedxml: install it and leave OPENPYXL_DEFUSEDXML set")
    limits = limits or Limits.current()
    total = _inspect_xlsx(path, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # BadZipFile, KeyError, ParseError, ValueError, InvalidFileException
        raise _xlsx_refusal(error) from None
    try:
        sheet = workbook.worksheets[0]
    except IndexError:
        workbook.close()
        raise _unreadable_xlsx() from None
    sheet.reset_dimensions()  # read to the last row and column the sheet holds, not the ones it claims
    return Rows("xlsx", _xlsx_records(sheet, limits), total, workbook.close)


def _xlsx_refusal(error: BaseException) -> FileRefused:
    """What an openpyxl failure means for the user: unsafe XML (defusedxml refused it) or an unreadable file."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = error
    while seen is not None:  # openpyxl wraps the parser's exception in a ValueError of its own
        if isinstance(seen, DefusedXmlException):
            return _unsafe_xlsx()
        seen = seen.__cause__ or seen.__context__
    return _unreadable_xlsx()


def _xlsx_records(sheet, limits: Limits) -> Iterator[tuple[int, Any]]:
    cap = limits.max_field_chars
    rows = sheet.iter_rows(values_only=True)
    line = 0
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as error:  # truncated XML, a cell openpyxl cannot convert, a bad CRC at the end
            raise _xlsx_refusal(error) from None
        line += 1
        if line > limits.max_rows:
            raise too_many_rows(limits)
        values = list(cells)
        while values and values[-1] is None:
            values.pop()
        if _blank(values):
            continue
        column = _over_long(values, cap)
        if column is not None:
            yield line, BadRow(FIELD_TOO_LONG, _cut(values, cap), column)
            continue
        yield line, values


def header_problem(cleaned: Sequence[str], expected: Sequence[str]) -> tuple[str, str] | None:
    """(code, message) when a file's header (lower-cased names, trailing blanks dropped) is not exactly the
    `expected` columns in some order: `empty_file` or `bad_header`; None when it is. Every import asks this."""
    columns = ", ".join(expected)
    if not cleaned:
        return "empty_file", _("The file is empty: the first line must name the columns %(columns)s.", columns=columns)
    duplicates = sorted({name for name in cleaned if cleaned.count(name) > 1})
    missing = [name for name in expected if name not in cleaned]
    extra = [name or _("(blank)") for name in cleaned if name not in expected]
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s", names=", ".join(missing)))
    if extra:
        problems.append(_("unknown columns: %(names)s", names=", ".join(extra)))
    if duplicates:
        problems.append(_("columns named twice: %(names)s", names=", ".join(duplicates)))
    if problems:
        return "bad_header", _("Line 1 (the header) must name exactly the columns %(columns)s; %(problems)s.",
                               columns=columns, problems="; ".join(problems))
    return None
