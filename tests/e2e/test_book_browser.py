"""A manager signs in, opens the client book, filters it, switches the language."""
from __future__ import annotations

from tests.e2e.conftest import screenshot
from tests.helpers import TEST_PASSWORD


def sign_in(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(page.base_url + "/")


def test_manager_filters_the_book_and_switches_language(app, world, page):
    sign_in(page, "rm_a")
    page.click("a.nav-link[href='/book']")
    page.wait_for_url("**/book")
    assert page.locator("h1").inner_text().startswith("张三a") is False
    assert "客户名册" in page.locator("h1").inner_text()
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    page.fill("#q", "李四")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/book?q=*")
    assert rows.count() == 1
    assert "CA0002" in rows.first.inner_text()
    assert "*" in rows.first.locator(".masked-id").inner_text()  # the ID number is masked
    page.click("#language-switch button[value=en]")
    page.wait_for_load_state()
    assert "Client book" in page.locator("h1").inner_text()
    assert "CA0002" in page.locator("table tbody").inner_text()  # the filter survives the switch
    screenshot(page, "book-filtered-en")
    assert page.console_errors == []


def test_book_is_usable_at_phone_width(app, world, browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.base_url = live_server
    sign_in(page, "rm_a")
    page.goto(live_server + "/book")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, "the page itself must not scroll sideways on a phone"
    page.click(".navbar-toggler")
    page.locator("#language-switch").wait_for(state="visible")
    screenshot(page, "book-phone-zh")
    context.close()
