"""Compliance foresight in Chromium: an administrator previews new tier thresholds and saves them; compliance
downloads the inspection pack and both files open."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Client, ClientTier, db
from portal.rules.calendar import business_today
from tests.e2e.conftest import screenshot
from tests.helpers import TEST_PASSWORD

PARTS = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")
ASSETS = {"CA0001": "6000000", "CA0002": "1500000", "CA0003": "800000", "CB0001": "150000", "CB0002": "90000",
          "CB0003": "2500000"}
NEW = {"tier1_assets": "2000000", "tier1_contribution": "50000", "tier2_assets": "700000",
       "tier2_contribution": "10000", "tier3_assets": "200000", "tier3_contribution": "2000",
       "tier4_assets": "0", "tier4_contribution": "0"}


def sign_in(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(page.base_url + "/")


def tiers_at(day) -> dict:
    db.session.expire_all()
    return dict(db.session.execute(select(Client.client_no, ClientTier.tier)
                                   .join(ClientTier, ClientTier.client_id == Client.id)
                                   .where(ClientTier.stat_date == day)).all())


@pytest.fixture
def stat_date(app, world, token_for):
    day = business_today() - timedelta(days=3)
    body = [{"client_no": no, "date": day.isoformat(), **{p: "0" for p in PARTS}, "cash": cash}
            for no, cash in ASSETS.items()]
    response = app.test_client().post("/api/v1/asset-snapshots", data=json.dumps(body),
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {token_for('compliance')}"})
    assert response.status_code == 201
    return day


def test_admin_previews_and_saves_thresholds(stat_date, page):
    before = tiers_at(stat_date)
    sign_in(page, "admin")
    page.goto(page.base_url + "/tiering/thresholds")
    for name, value in NEW.items():
        page.fill(f"#{name}", value)
    page.click("#threshold-preview")
    page.wait_for_selector("#impact-preview")
    summary = page.locator("#preview-summary").inner_text()
    assert "6" in summary and "3" in summary  # 3 of the 6 clients holding a snapshot would move
    moved_cells = page.locator("#preview-matrix td.table-warning")
    previewed = {}
    for i in range(moved_cells.count()):
        cell = moved_cells.nth(i)
        previewed[(int(cell.get_attribute("data-from")), int(cell.get_attribute("data-to")))] = int(
            cell.locator("a").inner_text())
    screenshot(page, "tier-threshold-preview")
    assert tiers_at(stat_date) == before  # the preview saved nothing
    assert page.input_value("#tier1_assets") == NEW["tier1_assets"]  # the entries are kept for saving
    page.click("#threshold-save")
    page.wait_for_url("**/tiering/thresholds")
    assert page.locator("#threshold-versions tr[data-version='2']").count() == 1
    after = tiers_at(stat_date)
    moved = Counter((before[no], after[no]) for no in after if before[no] != after[no])
    assert previewed == dict(moved) and sum(moved.values()) == 3
    assert page.console_errors == []


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed")
def test_compliance_downloads_the_pack_and_both_files_open(stat_date, page, tmp_path):
    day = business_today() - timedelta(days=1)
    sign_in(page, "compliance")
    page.goto(page.base_url + f"/compliance/inspection-pack?as_of={day.isoformat()}")
    screenshot(page, "inspection-pack")
    with page.expect_download() as pdf_download:
        page.click("#pack-pdf")
    pdf_path = tmp_path / pdf_download.value.suggested_filename
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.name == f"inspection-pack-{day.isoformat()}.pdf"
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True,  # noqa: S603,S607
                          text=True).stdout
    assert "适当性自查报告" in text and "Suitability self-inspection pack" in text and day.isoformat() in text
    with page.expect_download() as xlsx_download:
        page.click("#pack-xlsx")
    xlsx_path = tmp_path / xlsx_download.value.suggested_filename
    xlsx_download.value.save_as(xlsx_path)
    book = load_workbook(io.BytesIO(xlsx_path.read_bytes()), read_only=True)
    assert len(book.worksheets) == 9
    index = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert index[0][0] == "适当性自查报告"
    matrix = [list(row) for row in book.worksheets[1].iter_rows(values_only=True)]
    assert sum(sum(row[1:5]) for row in matrix[1:]) == len(ASSETS)  # every client of the world, by tier
    assert page.console_errors == []
