"""The import file reader: every row whatever an XLSX dimension says; hostile workbooks and over-long fields
refused with a message (never a 500, never a silent loss); the same reader under every import."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import AssetSnapshot, CreditScreening, ManagerTarget, db
from portal.imports import readers
from portal.rules.calendar import business_today
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

HEADER = ["client_no", "date", "cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products"]
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture
def day():
    return business_today().replace(day=1) - timedelta(days=1)


def _snapshot_book(day, clients=("CA0001", "CA0002", "CA0003", "CB0001")) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for position, client_no in enumerate(clients, start=1):
        sheet.append([client_no, day.isoformat(), position * 1000, 0, 0, 0, 0, 0, 0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite(book: bytes, member: str, change) -> bytes:
    """The same workbook with one member's XML passed through `change` (bytes -> bytes)."""
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == member else data)
    return out.getvalue()


def _upload(client, content: bytes, filename: str = "snapshots.xlsx"):
    token = csrf_token(client, "/tiering/import")
    return client.post("/tiering/import", data={"kind": "assets", "csrf_token": token,
                                                "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def _snapshots() -> int:
    return db.session.scalar(select(func.count()).select_from(AssetSnapshot))


# --- every row, whatever the dimension says ------------------------------------------------------------

@pytest.mark.parametrize("dimension", [b'<dimension ref="A1:I2"/>', b""], ids=["understated", "missing"])
def test_an_xlsx_with_a_wrong_or_missing_dimension_imports_every_row(app, client, auth, world, day, dimension):
    def restate(xml: bytes) -> bytes:
        changed, count = re.subn(rb"<dimension ref=\"[^\"]*\"\s*/>", dimension, xml)
        assert count == 1
        return changed

    book = _rewrite(_snapshot_book(day), SHEET, restate)
    auth.login("compliance")
    response = _upload(client, book)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "4 rows for 4 clients" in body
    assert _snapshots() == 4


def test_the_reader_reads_columns_past_the_dimension_too(app, day, tmp_path):
    book = _rewrite(_snapshot_book(day), SHEET, lambda xml: xml.replace(b'ref="A1:I5"', b'ref="A1:B2"'))
    path = tmp_path / "narrow.xlsx"
    path.write_bytes(book)
    with readers.xlsx_rows(path) as rows:
        read = list(rows)
    assert [line for line, _values in read] == [1, 2, 3, 4, 5]
    assert read[0][1] == HEADER and read[4][1][:3] == ["CB0001", day.isoformat(), 4000]
    assert rows.total == 5


# --- hostile workbooks ---------------------------------------------------------------------------------

XXE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
       b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
                     for n in range(1, 10))
          + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


def _blank_row_bomb() -> bytes:
    """About 800 KB that inflates to 300 MB of blank rows (the finding's file)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        book = zipfile.ZipFile(io.BytesIO(_snapshot_book(business_today())))
        for info in book.infolist():
            if info.filename != SHEET:
                archive.writestr(info.filename, book.read(info.filename))
        with archive.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><sheetData>')
            block = b'<row spans="1:9"/>' * 65536
            for _ in range(300 * 1024 * 1024 // len(block)):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _blank_row_bomb()


def test_a_decompression_bomb_is_refused_before_it_is_parsed(app, client, auth, world, bomb):
    assert len(bomb) < 1024 * 1024
    auth.login("compliance")
    response = _upload(client, bomb)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The file has more than 2,000,000 rows" in body and "Split it" in body
    assert _snapshots() == 0


def test_a_workbook_past_the_size_limit_is_refused_with_its_size(app, client, auth, world, day):
    app.config["IMPORT_MAX_BYTES"] = 5_000
    auth.login("compliance")
    response = _upload(client, _snapshot_book(day))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "The file is too large" in body and "Split it" in body
    assert _snapshots() == 0


@pytest.mark.parametrize("sheet_xml", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_entities_refuse_the_workbook(app, client, auth, world, day, sheet_xml):
    auth.login("compliance")
    response = _upload(client, _rewrite(_snapshot_book(day), SHEET, lambda _xml: sheet_xml))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "XML declarations (a DTD or entities)" in body
    assert "root:" not in body and _snapshots() == 0


@pytest.mark.parametrize("sheet_xml", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_defusedxml_refuses_entities_the_byte_scan_would_miss(app, tmp_path, day, monkeypatch, sheet_xml):
    """The second line of defence: openpyxl parses through defusedxml, so entities are refused there too."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML
    monkeypatch.setattr(readers, "_DECLARATION", re.compile(rb"(?!)"))
    path = tmp_path / "entities.xlsx"
    path.write_bytes(_rewrite(_snapshot_book(day), SHEET, lambda _xml: sheet_xml))
    with pytest.raises(readers.FileRefused) as refused:
        with readers.xlsx_rows(path) as rows:
            list(rows)
    assert refused.value.code == readers.UNSAFE_FILE


def _workbook_declaring(entity: bytes):
    """workbook.xml with a DTD declaring `entity` and the sheet's name referring to it."""
    def change(xml: bytes) -> bytes:
        body = xml[xml.index(b"<workbook"):]
        return (b'<?xml version="1.0"?>\n<!DOCTYPE workbook [' + entity + b"]>\n"
                + re.sub(rb'name="[^"]*"', b'name="&xxe;"', body, count=1))
    return change


@pytest.mark.parametrize("entity", [b'<!ENTITY xxe SYSTEM "file:///etc/passwd">',
                                    b'<!ENTITY lol "lol">' + b"".join(
                                        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
                                        for n in range(1, 10)) + b'<!ENTITY xxe "&lol9;">'],
                         ids=["external-entity", "billion-laughs"])
def test_entities_in_the_workbook_part_are_never_resolved(app, tmp_path, day, monkeypatch, entity):
    """Behind the byte scan, the parts other than worksheets (workbook.xml here) are parsed by a parser that
    fetches no external entity and expands no entity bomb (defusedxml, or lxml when installed): refused."""
    monkeypatch.setattr(readers, "_DECLARATION", re.compile(rb"(?!)"))
    path = tmp_path / "entities.xlsx"
    path.write_bytes(_rewrite(_snapshot_book(day), "xl/workbook.xml", _workbook_declaring(entity)))
    with pytest.raises(readers.FileRefused) as refused:
        with readers.xlsx_rows(path) as rows:
            list(rows)
    assert refused.value.code in (readers.UNSAFE_FILE, readers.UNREADABLE_FILE)


def test_truncated_sheet_xml_is_refused(app, client, auth, world, day):
    auth.login("compliance")
    response = _upload(client, _rewrite(_snapshot_book(day), SHEET, lambda xml: xml[:len(xml) * 2 // 3]))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "could not be read as an XLSX workbook" in body
    assert _snapshots() == 0


def test_a_member_that_inflates_past_its_declared_size_is_refused(app, tmp_path, day):
    book = bytearray(_snapshot_book(day))
    archive = zipfile.ZipFile(io.BytesIO(bytes(book)))
    info = archive.getinfo(SHEET)
    # Declare the sheet 100 bytes long in the central directory: zipfile stops there, the CRC then fails.
    central = book.rfind(b"PK\x01\x02", 0, book.find(SHEET.encode(), info.header_offset + 30 + len(SHEET)) + 1)
    book[central + 24:central + 28] = (100).to_bytes(4, "little")
    path = tmp_path / "lying.xlsx"
    path.write_bytes(bytes(book))
    with pytest.raises(readers.FileRefused) as refused:
        with readers.xlsx_rows(path) as rows:
            list(rows)
    assert refused.value.code == readers.UNREADABLE_FILE


def test_an_over_long_xlsx_cell_is_a_named_bad_row(app, client, auth, world, day):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["CA0001", day.isoformat(), 1, 0, 0, 0, 0, 0, 0])
    sheet.append(["CA0002" + "x" * 20_000, day.isoformat(), 1, 0, 0, 0, 0, 0, 0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    auth.login("compliance")
    response = _upload(client, buffer.getvalue())
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "longer than 10000 characters" in body
    assert "<tr><td>3</td>" in body and _snapshots() == 0


# --- CSV: over-long fields -----------------------------------------------------------------------------

def test_csv_rows_name_an_over_long_field_and_go_on():
    content = ("a,b\n" + "1," + "x" * 200_000 + "\n" + "2,ok\n").encode()
    rows = list(readers.csv_rows(content))
    assert rows[0] == (1, ["a", "b"]) and rows[2] == (3, ["2", "ok"])
    line, bad = rows[1]
    assert line == 2 and isinstance(bad, readers.BadRow) and bad.code == readers.FIELD_TOO_LONG


def test_csv_rows_cap_fields_at_the_configured_length(app):
    app.config["IMPORT_MAX_FIELD_CHARS"] = 5
    with app.app_context():
        rows = list(readers.csv_rows("a,b\n123456,1\n"))
    assert rows[1][1] == readers.BadRow(readers.FIELD_TOO_LONG, ["12345", "1"], 1)


def test_csv_rows_report_or_refuse_bad_bytes():
    content = b"a\nok\n" + "caf\xe9\n".encode("latin-1")
    with pytest.raises(readers.FileRefused) as refused:
        list(readers.csv_rows(content))
    assert refused.value.code == readers.ENCODING
    rows = list(readers.csv_rows(io.BytesIO(content), bad_encoding="row"))
    assert rows[:2] == [(1, ["a"]), (2, ["ok"])] and rows[2][1].code == readers.ENCODING


def test_csv_rows_refuse_past_the_row_limit():
    with pytest.raises(readers.FileRefused) as refused:
        list(readers.csv_rows("a\n1\n2\n3\n", limits=readers.Limits(max_rows=3)))
    assert refused.value.code == readers.TOO_MANY_ROWS


def test_a_credit_csv_with_a_field_over_131072_characters(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    content = "kind,status,current_overdue,history\ncard,normal,0," + "N" * 131_073 + "\n"
    response = client.post("/clients/CA0001/credit/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "report.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Line 2: a value is longer than 10000 characters." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CreditScreening)) == 0


def test_a_targets_csv_with_an_over_long_field(client, auth, world):
    auth.login("admin")
    content = ("employee_no,period_start,period_end,net_commission,asset_growth,new_clients\n"
               "RMA1,2026-01-01,2026-03-31," + "1" * 200_000 + ",1,1\n")
    response = client.post("/targets/import", data={"csrf_token": csrf_token(client, "/targets"),
                                                    "file": (io.BytesIO(content.encode()), "targets.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Line 2: a value is longer than 10000 characters." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ManagerTarget)) == 0


@pytest.mark.parametrize("backend_route", ["copy", "line-by-line"])
def test_an_over_long_field_in_an_asset_csv_is_a_named_bad_row(app, client, auth, world, day, backend_route):
    lines = [",".join(HEADER), f"CA0001,{day},1,0,0,0,0,0,0", "CA0002" + "x" * 20_000 + f",{day},1,0,0,0,0,0,0"]
    if backend_route == "line-by-line":  # a quoted line break sends PostgreSQL's COPY route to the line reader too
        lines.append(f'"CA\n0003",{day},1,0,0,0,0,0,0')
    auth.login("compliance")
    response = _upload(client, ("\n".join(lines) + "\n").encode(), "snapshots.csv")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "longer than 10000 characters" in body
    assert "<tr><td>3</td>" in body and _snapshots() == 0
