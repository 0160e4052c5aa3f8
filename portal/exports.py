"""CSV and XLSX downloads of a table, with spreadsheet formula injection neutralised.

A cell whose text begins with `=`, `+`, `-` or `@` (or a tab or carriage return) would be run as a
formula by Excel or LibreOffice; such text is prefixed with an apostrophe, which spreadsheets show as
plain text. Numbers and Decimals stay numbers (a negative amount is a number, not a formula).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def plain_cell(value: object) -> object:
    """A value as a CSV cell: None empty, dates ISO, numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a byte-order mark, so that Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(name)) for name in header])
    for row in rows:
        writer.writerow([plain_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], title: str = "Sheet1") -> bytes:
    """A one-sheet workbook; Decimals are written as numbers, text is neutralised."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    sheet.append([neutralise(str(name)) for name in header])
    for row in rows:
        cells = []
        for value in row:
            plain = plain_cell(value)
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "#,##0.00"
                cells.append(cell)
            elif isinstance(value, datetime):
                # Excel has no time zones: write the naive UTC time.
                cells.append(value.replace(tzinfo=None))
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            else:
                cells.append(plain)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]],
             title: str = "Sheet1") -> Response:
    """A CSV or XLSX attachment named `filename.csv` / `filename.xlsx`; fmt is "csv" or "xlsx"."""
    if fmt == "xlsx":
        body, mimetype = xlsx_bytes(header, rows, title), XLSX_TYPE
    else:
        # Werkzeug adds "; charset=utf-8" to a text/* mimetype itself: naming it here too doubled it.
        body, mimetype, fmt = csv_bytes(header, rows), "text/csv", "csv"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
