"""The inspection pack for a past date: the CLI and the page, the PDF read back with pdftotext, the XLSX with
openpyxl; built twice it is identical, and data arriving later does not change it."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import (
    Client,
    Product,
    ProfessionalApplication,
    QuestionnaireVersion,
    RiskAssessment,
    RiskProfile,
    SuitabilityConfirmation,
    SuitabilityRecord,
    db,
)
from portal.rules.calendar import add_months, business_today
from tests.helpers import Auth

PARTS = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed")


def at(day: date, hour: int = 4) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def client_of(client_no: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def profile(client: Client, day: date, grade: str, *, lowest: bool = False, months: int = 24,
            raised_from: int | None = None) -> RiskProfile:
    """A submission and its profile in force from `day` (history written as the operations would have)."""
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    risk_class = {"C1": "conservative", "C2": "conservative", "C3": "balanced"}.get(grade, "aggressive")
    assessment = RiskAssessment(client_id=client.id, version_id=version.id, answers={}, group_points={},
                                raw_points=30, score=50, band_grade=grade, grade=grade, risk_class=risk_class,
                                lowest_category=lowest, caps=[], flags=[], channel="self", submitted_at=at(day),
                                raised_from_id=raised_from)
    db.session.add(assessment)
    db.session.flush()
    row = RiskProfile(client_id=client.id, assessment_id=assessment.id, effective_at=at(day), effective_on=day,
                      valid_until=add_months(day, months), score=50, grade=grade, risk_class=risk_class,
                      lowest_category=lowest)
    db.session.add(row)
    db.session.flush()
    client.profile_id, client.risk_grade, client.risk_class = row.id, grade, risk_class
    client.lowest_category, client.profile_valid_until = lowest, row.valid_until
    return row


def record(client: Client, product: Product, day: date, outcome: str, *, profile_row=None, age: int = 45,
           extra_care: bool = False) -> SuitabilityRecord:
    row = SuitabilityRecord(client_id=client.id, product_id=product.id, action="subscription",
                            amount=Decimal("10000.00"), product_risk_level=product.risk_level,
                            profile_id=profile_row.id if profile_row else None,
                            client_grade=profile_row.grade if profile_row else None, investor_category="ordinary",
                            client_age=age, outcome=outcome, elderly_prompt=age >= 65 and product.risk_level >= 4,
                            extra_care_given=extra_care, reasons=[], recorded_at=at(day), business_date=day)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def day():
    """D: the day before yesterday (a past date; yesterday and today hold the 'later' data)."""
    return business_today() - timedelta(days=2)


@pytest.fixture
def history(app, world, token_for, day):
    """Tiers at a statistics date before D, profiles, warnings, an elderly R5 sale, a lowest-category holding,
    a professional approval and a grade raised on retake, all dated on or before D."""
    stat_date = day - timedelta(days=5)
    body = [{"client_no": no, "date": stat_date.isoformat(), **{p: "0" for p in PARTS}, "cash": cash}
            for no, cash in (("CA0001", "6000000"), ("CA0002", "1500000"), ("CA0003", "300000"),
                             ("CB0001", "50000"))]
    response = app.test_client().post("/api/v1/asset-snapshots", data=json.dumps(body),
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {token_for('compliance')}"})
    assert response.status_code == 201, response.get_json()
    r2, r5 = (Product(code=f"P-R{n}", name_zh=f"产品R{n}", name_en=f"Product R{n}", kind="fund", risk_level=n)
              for n in (2, 5))
    db.session.add_all([r2, r5])
    db.session.flush()
    ca1, ca2, ca3, cb1, cb2 = (client_of(no) for no in ("CA0001", "CA0002", "CA0003", "CB0001", "CB0002"))
    first = profile(ca1, day - timedelta(days=20), "C2")
    p1 = profile(ca1, day - timedelta(days=10), "C5", raised_from=db.session.scalar(
        select(RiskProfile.assessment_id).where(RiskProfile.id == first.id)))
    p2 = profile(ca2, day - timedelta(days=40), "C3")
    profile(ca3, add_months(day, -25), "C4")  # expired before D
    p4 = profile(cb1, day - timedelta(days=60), "C1", lowest=True)
    profile(cb2, add_months(day, -24) + timedelta(days=10), "C3")  # expiring within 30 days of D
    confirmed = record(ca2, r5, day - timedelta(days=7), "warning", profile_row=p2)
    db.session.add(SuitabilityConfirmation(record_id=confirmed.id, method="client", confirmed_at=at(day - timedelta(days=6))))
    record(ca2, r5, day - timedelta(days=3), "warning", profile_row=p2)  # awaiting on D
    record(ca1, r5, day - timedelta(days=5), "allowed", profile_row=p1, age=66, extra_care=True)
    record(cb1, r2, day - timedelta(days=50), "allowed", profile_row=p4)  # lowest category holding R2
    db.session.add(ProfessionalApplication(client_id=ca1.id, applied_at=at(day - timedelta(days=30)), checks={},
                                           status="approved", decided_at=at(day - timedelta(days=25)),
                                           reason="资产达标"))
    db.session.commit()
    return day


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,  # noqa: S603,S607
                          text=True).stdout


def sheet_rows(book, index: int) -> list[list]:
    return [list(row) for row in book.worksheets[index].iter_rows(values_only=True)]


def build(runner, day: date, out) -> tuple[bytes, bytes]:
    result = runner.invoke(args=["inspection-pack", "--as-of", day.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stem = f"inspection-pack-{day.isoformat()}"
    return (out / f"{stem}.pdf").read_bytes(), (out / f"{stem}.xlsx").read_bytes()


def test_cli_pack_reads_back_with_every_part_and_its_figures(history, runner, tmp_path):
    day = history
    build(runner, day, tmp_path)
    stem = f"inspection-pack-{day.isoformat()}"
    text = pdf_text(tmp_path / f"{stem}.pdf")
    # both editions, in their own language (the Chinese text comes back out: the font is embedded, text selectable)
    assert "适当性自查" in text and "Suitability self-inspection pack" in text
    for zh, en in (("适当性矩阵", "Suitability matrix"), ("特别风险警示", "Special risk warnings"),
                   ("专业投资者", "Professional investor approvals"), ("重测调高等级", "Grade raised on retake")):
        assert zh in text and en in text
    assert day.isoformat() in text and "CA0001" in text
    fonts = subprocess.run(["pdffonts", str(tmp_path / f"{stem}.pdf")], check=True, capture_output=True,  # noqa: S603,S607
                           text=True).stdout
    assert "WenQuanYi" in fonts and " yes yes yes " in fonts

    book = load_workbook(io.BytesIO((tmp_path / f"{stem}.xlsx").read_bytes()), read_only=True)
    assert len(book.worksheets) == 9  # the index and one sheet per part
    index = sheet_rows(book, 0)
    digest = next(row[1] for row in index if row[0] and "SHA-256" in str(row[0]))
    assert len(digest) == 64
    figures = {(row[1]): row[2] for row in index if row and len(row) > 2 and row[1] and row[2] is not None}
    matrix = sheet_rows(book, 1)
    assert matrix[1][0] == 1 and sum(matrix[1][1:5]) == 1  # tier 1: CA0001 (6,000,000)
    warnings = sheet_rows(book, 4)[1:]
    assert sorted(row[6] for row in warnings) == sorted(["待确认", "已确认"])
    elderly = sheet_rows(book, 5)[1:]
    assert [(row[0], row[3], row[8]) for row in elderly] == [("CA0001", 5, True)]
    lowest = sheet_rows(book, 6)[1:]
    assert [row[0] for row in lowest] == ["CB0001"]
    professional = sheet_rows(book, 7)[1:]
    assert [row[0] for row in professional] == ["CA0001"]
    retakes = sheet_rows(book, 8)[1:]
    assert [(row[0], row[4], row[7]) for row in retakes] == [("CA0001", "C2", "C5")]
    profiles = sheet_rows(book, 2)[1:]
    assert {(row[0], row[1]) for row in profiles if row[1] in ("CA0003", "CB0002")} == {
        ("已过期", "CA0003"), ("30 天内即将到期", "CB0002")}
    assert figures  # the index states each part's figures


def test_the_same_date_gives_the_same_pack_and_later_data_changes_nothing(history, runner, tmp_path, token_for,
                                                                            app):
    from portal.compliance.pack import build_xlsx, collect

    day = history
    first_pdf, first_xlsx = build(runner, day, tmp_path / "one")
    second_pdf, second_xlsx = build(runner, day, tmp_path / "two")
    assert first_pdf == second_pdf  # the PDF is written invariant: byte for byte the same
    assert workbook_values(first_xlsx) == workbook_values(second_xlsx)
    digest = build_xlsx(collect(day))[1]

    # later data: a client opened today, new submissions and profiles, a warning and its confirmation,
    # a new statistics date and a re-tier, another approval: all after D
    later = business_today()
    ca1, ca2 = client_of("CA0001"), client_of("CA0002")
    from tests.helpers import Factory
    newcomer = Factory().client(world_manager(), client_no="CZ0001")
    newcomer.opened_on = later
    product = db.session.scalar(select(Product).where(Product.code == "P-R5"))
    p = profile(ca2, later, "C1", lowest=True)
    record(ca2, product, later, "warning", profile_row=p)
    db.session.add(SuitabilityConfirmation(record_id=db.session.scalar(
        select(SuitabilityRecord.id).where(SuitabilityRecord.business_date == day - timedelta(days=3))),
        method="client", confirmed_at=at(later, 1)))
    db.session.add(ProfessionalApplication(client_id=ca1.id, applied_at=at(later), checks={}, status="rejected",
                                           decided_at=at(later, 5)))
    db.session.commit()
    body = [{"client_no": "CA0003", "date": (later - timedelta(days=1)).isoformat(), **{k: "0" for k in PARTS},
             "cash": "9000000"}]
    assert app.test_client().post("/api/v1/asset-snapshots", data=json.dumps(body), content_type="application/json",
                                  headers={"Authorization": f"Bearer {token_for('compliance')}"}).status_code == 201
    third_pdf, third_xlsx = build(runner, day, tmp_path / "three")
    assert build_xlsx(collect(day))[1] == digest
    assert third_pdf == first_pdf and workbook_values(third_xlsx) == workbook_values(first_xlsx)


def workbook_values(data: bytes) -> list:
    """Every sheet's name and cell values (the zip's member times differ between two saves)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]) for sheet in book.worksheets]


def world_manager():
    from models import Manager

    return db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))


def test_cli_refuses_today_and_bad_dates(app, world, runner, tmp_path):
    result = runner.invoke(args=["inspection-pack", "--as-of", business_today().isoformat(), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "past date" in result.output
    result = runner.invoke(args=["inspection-pack", "--as-of", "2026-13-01", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_compliance_page_builds_and_downloads_the_pack(history, app):
    day = history
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(browser).login("compliance")
    page = browser.get(f"/compliance/inspection-pack?as_of={day.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="pack-pdf"' in html and 'id="pack-xlsx"' in html
    pdf = browser.get(f"/compliance/inspection-pack/download?as_of={day.isoformat()}&format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    xlsx = browser.get(f"/compliance/inspection-pack/download?as_of={day.isoformat()}&format=xlsx")
    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert book.worksheets[0]["A1"].value == "Suitability self-inspection pack"  # the page's language
    assert browser.get(f"/compliance/inspection-pack?as_of={business_today().isoformat()}").status_code == 400
    assert browser.get("/compliance/inspection-pack?as_of=x").status_code == 400
    assert browser.get(f"/compliance/inspection-pack/download?as_of={business_today()}&format=pdf").status_code == 400
    manager = app.test_client()
    Auth(manager).login("rm_a")
    assert manager.get("/compliance/inspection-pack").status_code == 403
