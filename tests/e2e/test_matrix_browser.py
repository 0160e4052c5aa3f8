"""Compliance opens the matrix, filters it by team, opens a cell, goes back, and downloads the XLSX."""
from __future__ import annotations

from openpyxl import load_workbook

from tests.e2e.conftest import screenshot
from tests.e2e.test_book_browser import sign_in
from tests.test_matrix import build


def test_compliance_filters_the_matrix_opens_a_cell_and_downloads_the_workbook(app, world, page, tmp_path):
    build(world)
    sign_in(page, "compliance")
    page.click("a.nav-link[href='/matrix']")
    page.wait_for_url("**/matrix")
    total = page.locator("#matrix-total .cell-clients")
    assert total.inner_text() == "6"
    screenshot(page, "matrix-all-zh")

    page.fill("#team", "TEAMA")
    page.click("#matrix-filters button[type=submit]")
    page.wait_for_url("**/matrix?*team=TEAMA*")
    assert total.inner_text() == "3"
    cell = page.locator("td[data-tier='1'][data-class='aggressive'] .cell-clients")
    assert cell.inner_text() == "1"
    shown_assets = page.locator("td[data-tier='total'][data-class='total'] .cell-assets").inner_text()
    assert page.locator("#chart-cells rect").count() == 16  # the chart draws every cell

    cell.click()
    page.wait_for_url("**/matrix/clients?*tier=1*")
    rows = page.locator("#client-list tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-client") == "CA0001"
    assert "*" in rows.first.locator(".masked-id").inner_text()  # the ID number is masked
    page.go_back()
    page.wait_for_url("**/matrix?*team=TEAMA*")
    assert total.inner_text() == "3"

    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    assert download.suggested_filename.startswith("suitability-matrix-") and download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    total_row = rows[5]  # the header, four tiers, then the totals; columns 9 and 10: all clients, all assets
    assert total_row[9] == int(total.inner_text()) == 3
    assert f"{total_row[10]:,.2f}元" == shown_assets == "7,700,000.35元"
    screenshot(page, "matrix-team-filtered-zh")
    assert page.console_errors == []


def test_matrix_is_usable_at_phone_width(app, world, browser, live_server):
    build(world)
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.base_url = live_server
    sign_in(page, "compliance")
    page.goto(live_server + "/matrix")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    screenshot(page, "matrix-phone-zh")
    context.close()
