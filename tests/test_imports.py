"""Asset and revenue file imports: the upload page and the CLI share one validation; a bad row refuses the
whole file (every bad line named, nothing imported); a file replaces the dates it carries; clients are re-tiered."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import AssetSnapshot, AuditEntry, Client, ClientTier, RevenueRecord, db
from portal.imports.assets import ASSETS, REVENUE, ImportRejected, import_file
from portal.rules.calendar import add_months, business_today
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

HEADER = "client_no,date,cash,a_shares,b_shares,funds,warrants,bonds,collective_products"
REVENUE_HEADER = "client_no,month,net_commission,other_income"


@pytest.fixture
def day():
    return business_today().replace(day=1) - timedelta(days=1)


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _counts() -> tuple[int, int, int, int]:
    """Snapshots, revenue records, tier rows, import audit rows: all zero after a refused import."""
    return (db.session.scalar(select(func.count()).select_from(AssetSnapshot)),
            db.session.scalar(select(func.count()).select_from(RevenueRecord)),
            db.session.scalar(select(func.count()).select_from(ClientTier)),
            db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("%.import"))))


def _client(client_no: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def _upload(client, content: bytes, kind: str = "assets", filename: str = "snapshots.csv"):
    token = csrf_token(client, "/tiering/import")
    return client.post("/tiering/import", data={"kind": kind, "csrf_token": token,
                                                "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


# --- the upload page -------------------------------------------------------------------------------------

def test_upload_imports_shows_counts_and_dates_and_retiers(app, client, auth, world, day):
    auth.login("compliance")
    content = _csv(HEADER, f"CA0001,{day},1000000.00,0,0,0,0,0,0",
                   f" CA0002 , {day} , 12.5 ,0,0,0.10,0,0,0.2",  # spaces around values are ignored
                   f"CB0001,{day},99999.99,0,0,0,0,0,0")
    response = _upload(client, content)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert 'id="import-result"' in body and "3 rows for 3 clients" in body and day.isoformat() in body
    assert (_client("CA0001").asset_tier, _client("CA0002").asset_tier) == (2, 4)
    assert _client("CA0002").total_assets == Decimal("12.80")
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "assets.import"))
    assert audit.actor_username == "compliance" and audit.after["source"] == "upload"
    assert audit.after["filename"] == "snapshots.csv" and audit.after["rows"] == 3
    assert audit.after["dates"] == [day.isoformat()]


def test_upload_xlsx_with_typed_cells(app, client, auth, world, day):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["client_no", "month", "net_commission", "other_income"])
    sheet.append(["CA0001", day.replace(day=1), 1200.5, 0])  # a month typed as a date, numbers as numbers
    sheet.append(["CA0002", day.strftime("%Y-%m"), "30.00", 0.25])
    buffer = io.BytesIO()
    workbook.save(buffer)
    auth.login("admin")
    response = _upload(client, buffer.getvalue(), "revenue", "revenue.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = db.session.execute(select(RevenueRecord.month, RevenueRecord.net_commission, RevenueRecord.other_income)
                              .order_by(RevenueRecord.client_id)).all()
    assert rows == [(day.replace(day=1), Decimal("1200.50"), Decimal("0.00")),
                    (day.replace(day=1), Decimal("30.00"), Decimal("0.25"))]


def _future_month() -> str:
    return add_months(business_today().replace(day=1), 1).strftime("%Y-%m")


REFUSALS = [
    # (kind, lines after the header, expected line, column, words of the message)
    ("assets", ["CX9999,{day},1,0,0,0,0,0,0"], 2, "client_no", "No client has the number CX9999"),
    ("assets", ["CA0001,{day},abc,0,0,0,0,0,0"], 2, "cash", "not an amount"),
    ("assets", ["CA0001,{day},0,1 000,0,0,0,0,0"], 2, "a_shares", "not an amount"),
    ("assets", ["CA0001,{day},0,0,-1.00,0,0,0,0"], 2, "b_shares", "must not be negative"),
    ("assets", ["CA0001,{day},0,0,0,1.005,0,0,0"], 2, "funds", "more than 2 decimal places"),
    ("assets", ["CA0001,{day},0,0,0,0,,0,0"], 2, "warrants", "warrants is missing"),
    ("assets", ["CA0001,{day},0,0,0,0,0,123456789012345,0"], 2, "bonds", "too large"),
    ("assets", ["CA0001,{tomorrow},0,0,0,0,0,0,0"], 2, "date", "later than today"),
    ("assets", ["CA0001,2026-02-30,0,0,0,0,0,0,0"], 2, "date", "real date"),
    ("assets", ["CA0001,{day},1,0,0,0,0,0,0", "CA0002,{day},1,0,0,0,0,0,0", "CA0001,{day},2,0,0,0,0,0,0"], 4,
     "client_no", "appear on line 3 too"),
    ("assets", ["CA0001,{day},1,0,0,0,0,0"], 2, None, "has 8 fields"),
    ("revenue", ["CA0001,{next_month},1,0"], 2, "month", "later than the current month"),
    ("revenue", ["CA0001,2026-13,1,0"], 2, "month", "written YYYY-MM"),
    ("revenue", ["CA0001,{month},1,0", "", "CA0001,{month},1,0"], 4, "client_no", "appear on line 3 too"),
]


@pytest.mark.parametrize("kind, lines, line, column, words", REFUSALS)
def test_a_bad_row_refuses_the_whole_upload(app, client, auth, world, day, kind, lines, line, column, words):
    good = (f"CA0003,{day},5,0,0,0,0,0,0" if kind == "assets" else f"CA0003,{day:%Y-%m},5,0")
    values = {"day": day.isoformat(), "tomorrow": (business_today() + timedelta(days=1)).isoformat(),
              "next_month": _future_month(), "month": day.strftime("%Y-%m")}
    content = _csv(HEADER if kind == "assets" else REVENUE_HEADER, good, *(text.format(**values) for text in lines))
    auth.login("admin")
    response = _upload(client, content, kind)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in body and words in body
    assert f"<tr><td>{line + 1}</td>" in body  # the good first row is line 2, so the listed lines shift by one
    if column:
        assert f"<td>{column}</td>" in body
    assert _counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("kind, lines, line, column, words", REFUSALS)
def test_a_bad_row_refuses_the_whole_cli_import(app, runner, world, tmp_path, day, kind, lines, line, column, words):
    values = {"day": day.isoformat(), "tomorrow": (business_today() + timedelta(days=1)).isoformat(),
              "next_month": _future_month(), "month": day.strftime("%Y-%m")}
    good = (f"CA0003,{day},5,0,0,0,0,0,0" if kind == "assets" else f"CA0003,{day:%Y-%m},5,0")
    path = tmp_path / "file.csv"
    path.write_bytes(_csv(HEADER if kind == "assets" else REVENUE_HEADER, good,
                          *(text.format(**values) for text in lines)))
    result = runner.invoke(args=["import-assets" if kind == "assets" else "import-revenue", str(path)])
    assert result.exit_code == 1 and words in result.output
    assert f"line {line + 1} " in result.output and "Nothing was imported" in result.output
    if column:
        assert f"] {column}: " in result.output
    assert _counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("content, words", [
    (b"", "The file is empty"),
    (_csv(HEADER), "no data rows"),
    (_csv("client_no,date,cash"), "missing columns: a_shares"),
    (_csv(HEADER + ",note"), "unknown columns: note"),
    (_csv(HEADER + ",cash"), "columns named twice: cash"),
])
def test_a_bad_file_is_refused_as_a_whole(app, client, auth, world, content, words):
    auth.login("compliance")
    response = _upload(client, content)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert _counts() == (0, 0, 0, 0)


def test_every_bad_line_is_listed_with_its_number(app, client, auth, world, day):
    lines = [HEADER] + [f"CA0001,{day},1,0,0,0,0,0,0"] + [f"NOPE{i},{day},x,0,0,0,0,0,0" for i in range(3)]
    auth.login("admin")
    body = _upload(client, _csv(*lines)).get_data(as_text=True)
    for number in (3, 4, 5):
        assert f"<tr><td>{number}</td><td>NOPE{number - 3}</td><td>client_no</td>" in body
        assert f"<tr><td>{number}</td><td>NOPE{number - 3}</td><td>cash</td>" in body
    assert "6 problems" in body


def test_the_line_by_line_reader_names_lines_after_a_quoted_line_break(app, world, tmp_path, day):
    path = tmp_path / "quoted.csv"
    path.write_bytes(_csv(HEADER, f'"CA\n0001",{day},1,0,0,0,0,0,0', f"CA0002,{day},1,0,0,0,0,0,0",
                          f"CA0003,{day},oops,0,0,0,0,0,0"))
    with pytest.raises(ImportRejected) as raised:
        import_file(ASSETS, path)
    assert [(p.line, p.field) for p in raised.value.problems] == [(2, "client_no"), (5, "cash")]


def test_bad_utf8_is_named_by_line(app, world, tmp_path, day):
    path = tmp_path / "latin1.csv"
    path.write_bytes(_csv(HEADER, f"CA0001,{day},1,0,0,0,0,0,0") + f"CA\xe90002,{day},1,0,0,0,0,0,0\n".encode("latin-1"))
    with pytest.raises(ImportRejected) as raised:
        import_file(ASSETS, path)
    assert [(p.line, p.code) for p in raised.value.problems] == [(3, "encoding")]


def test_a_file_replaces_every_row_of_its_dates_and_only_those(app, world, tmp_path, day):
    earlier = day.replace(day=1) - timedelta(days=1)
    first = tmp_path / "first.csv"
    first.write_bytes(_csv(HEADER, f"CA0001,{earlier},7,0,0,0,0,0,0", f"CA0001,{day},1,0,0,0,0,0,0",
                           f"CA0002,{day},2,0,0,0,0,0,0", f"CA0003,{day},3,0,0,0,0,0,0"))
    assert import_file(ASSETS, first).rows == 4
    db.session.commit()
    second = tmp_path / "second.csv"
    second.write_bytes(_csv(HEADER, f"CA0002,{day},20,0,0,0,0,0,0", f"CB0001,{day},30,0,0,0,0,0,0"))
    result = import_file(ASSETS, second)
    db.session.commit()
    assert (result.rows, result.replaced, result.periods) == (2, 3, [day])
    at_day = db.session.execute(select(Client.client_no, AssetSnapshot.cash).join(
        Client, Client.id == AssetSnapshot.client_id).where(AssetSnapshot.stat_date == day)
        .order_by(Client.client_no)).all()
    assert at_day == [("CA0002", Decimal("20.00")), ("CB0001", Decimal("30.00"))]
    assert db.session.scalar(select(AssetSnapshot.cash).where(AssetSnapshot.stat_date == earlier)) == Decimal("7.00")
    assert _client("CA0001").tier_date == earlier  # its snapshot at `day` was withdrawn
    assert _client("CA0003").asset_tier is None and _client("CA0003").tier_date is None


def test_a_revenue_file_replaces_its_months_and_retiers_those_who_lost_revenue(app, world, tmp_path, day):
    month = day.replace(day=1)
    snapshots = tmp_path / "s.csv"
    snapshots.write_bytes(_csv(HEADER, f"CA0001,{day},1,0,0,0,0,0,0", f"CA0002,{day},1,0,0,0,0,0,0"))
    import_file(ASSETS, snapshots)
    first = tmp_path / "r1.csv"
    first.write_bytes(_csv(REVENUE_HEADER, f"CA0001,{month:%Y-%m},60000,0", f"CA0002,{month:%Y-%m},2000,0"))
    import_file(REVENUE, first)
    db.session.commit()
    assert (_client("CA0001").asset_tier, _client("CA0002").asset_tier) == (1, 3)
    second = tmp_path / "r2.csv"
    second.write_bytes(_csv(REVENUE_HEADER, f"CA0002,{month:%Y-%m},10000,0"))
    result = import_file(REVENUE, second)
    db.session.commit()
    assert result.replaced == 2 and result.retier_dates == [day]
    assert (_client("CA0001").asset_tier, _client("CA0001").contribution_12m) == (4, Decimal("0.00"))
    assert _client("CA0002").asset_tier == 2


def test_upload_roles(app, client, auth, world, day):
    for login in ("rm_a", "sup_a", "client_a"):
        auth.login(login)
        assert client.get("/tiering/import").status_code == 403
    auth.login("admin")
    page = client.get("/tiering/import")
    assert page.status_code == 200 and HEADER in page.get_data(as_text=True)
    template = client.get("/tiering/import/template?kind=revenue")
    assert template.status_code == 200 and REVENUE_HEADER in template.get_data(as_text=True)


def test_upload_needs_a_csv_or_xlsx_file(app, client, auth, world):
    auth.login("admin")
    response = _upload(client, b"%PDF-1.4", filename="report.pdf")
    assert response.status_code == 400 and "Only .csv and .xlsx" in response.get_data(as_text=True)
    response = _upload(client, b"not a zip", filename="book.xlsx")
    assert response.status_code == 400 and "XLSX workbook" in response.get_data(as_text=True)


# --- the command line -----------------------------------------------------------------------------------

def test_cli_import_assets_and_revenue(app, runner, world, tmp_path, day):
    path = tmp_path / "s.csv"
    path.write_bytes(_csv(HEADER, f"CA0001,{day},5000000.00,0,0,0,0,0,0", f"CA0002,{day},0,0,0,0,0,0,0"))
    result = runner.invoke(args=["import-assets", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 rows for 2 clients" in result.output and day.isoformat() in result.output
    revenue = tmp_path / "r.csv"
    revenue.write_bytes(_csv(REVENUE_HEADER, f"CA0002,{day:%Y-%m},9999.99,0.01"))
    result = runner.invoke(args=["import-revenue", str(revenue)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert (_client("CA0001").asset_tier, _client("CA0002").asset_tier) == (1, 2)
    audit = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("%.import"))).all()
    assert sorted(audit) == ["assets.import", "revenue.import"]


def test_cli_refuses_lists_every_line_up_to_the_cap_and_imports_nothing(app, runner, world, tmp_path, day):
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(HEADER, f"CA0001,{day},1,0,0,0,0,0,0",
                          *(f"MISSING{i:04d},{day},1,0,0,0,0,0,0" for i in range(250))))
    result = runner.invoke(args=["import-assets", str(path)])
    assert result.exit_code == 1
    assert "line 3 [MISSING0000] client_no: No client has the number MISSING0000." in result.output
    assert "line 202 [MISSING0199]" in result.output and "MISSING0200" not in result.output
    assert "... and 50 more problems." in result.output and "Nothing was imported: 250 problems" in result.output
    assert _counts() == (0, 0, 0, 0)


def test_cli_refuses_a_missing_file_and_a_bad_header(app, runner, world, tmp_path):
    assert runner.invoke(args=["import-assets", str(tmp_path / "nope.csv")]).exit_code != 0
    path = tmp_path / "wrong.csv"
    path.write_bytes(_csv(REVENUE_HEADER, "CA0001,2026-01,1,0"))
    result = runner.invoke(args=["import-assets", str(path)])
    assert result.exit_code == 1 and "missing columns: date, cash" in result.output
    assert _counts() == (0, 0, 0, 0)


def test_xlsx_through_the_cli(app, runner, world, tmp_path, day):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["CA0001", date(day.year, day.month, day.day), 100000, 0, 0, 0, 0, 0, 0])
    sheet.append(["CA0002", day.isoformat(), "1.5", 0, 0, 0, 0, 0, 0.001])
    path = tmp_path / "s.xlsx"
    workbook.save(path)
    result = runner.invoke(args=["import-assets", str(path)])
    assert result.exit_code == 1 and "line 3 [CA0002] collective_products" in result.output
    sheet.delete_rows(3)
    workbook.save(path)
    result = runner.invoke(args=["import-assets", str(path)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _client("CA0001").asset_tier == 3


@pytest.mark.parametrize("raw, value, code", [
    ("12.50", Decimal("12.50"), None), (" 7 ", Decimal("7"), None), ("1e3", Decimal("1E+3"), None),
    ("", None, None), ("abc", None, "not_a_number"), ("1,000", None, "not_a_number"), ("NaN", None, "not_a_number"),
    ("1e20", None, "too_large"), ("0.001", None, "too_many_decimals"), ("-0.00", Decimal("0.00"), None),
    (Decimal("99999999999999.99"), Decimal("99999999999999.99"), None), (5, Decimal(5), None),
])
def test_amounts_are_read_with_postgresqls_number_grammar(raw, value, code):
    from portal.imports.assets import parse_amount

    assert parse_amount(raw) == (value, code)


def test_thousands_of_unreadable_lines_are_counted_and_the_first_listed(app, world, tmp_path, day):
    path = tmp_path / "ragged.csv"
    path.write_bytes(_csv(HEADER, *(f"CA0001,{day},1,2" for _ in range(6000)), f"CX0001,{day},1,0,0,0,0,0,0"))
    with pytest.raises(ImportRejected) as raised:
        import_file(ASSETS, path, limit=200)
    assert raised.value.total == 6001 and len(raised.value.problems) == 200
    assert [p.line for p in raised.value.problems[:3]] == [2, 3, 4]
    assert raised.value.problems[0].code == "field_count"
    assert _counts() == (0, 0, 0, 0)


def test_an_excel_csv_with_byte_order_mark_and_crlf_lines(app, world, tmp_path, day):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER.upper().replace(",", ", ") + "\r\n"
                      + f"CA0001,{day},100000.00,0,0,0,0,0,0\r\nCA0002,{day},5,0,0,0,0,0,0\r\n").encode())
    result = import_file(ASSETS, path)
    db.session.commit()
    assert result.rows == 2 and _client("CA0001").asset_tier == 3


def test_a_clean_csv_goes_straight_into_staging_by_copy_on_postgresql(app, world, tmp_path, day, backend,
                                                                        monkeypatch):
    from portal.imports import assets

    if backend != "postgresql":
        pytest.skip("the raw COPY route is PostgreSQL's")
    read_line_by_line = []
    monkeypatch.setattr(assets._Stager, "add", lambda *args: read_line_by_line.append(args))
    path = tmp_path / "clean.csv"
    path.write_bytes(_csv(HEADER, f"CA0001,{day},1.50,0,0,0,0,0,0", f"CA0002,{day}, 2 ,0,0,0,0,0,0"))
    assert import_file(ASSETS, path).rows == 2 and read_line_by_line == []
