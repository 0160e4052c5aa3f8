"""Lists fit the screen: at 1366 px the page body never scrolls sideways (a wide table scrolls inside its
own box, first column held), the book's working columns are in view, and the book, the follow-up
dashboard and the audit log are photographed in both languages at desktop and phone widths."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.helpers import TEST_PASSWORD

WIDTHS = {"desktop": (1366, 768), "phone": (390, 844)}
LOCALES = {"zh": "zh-CN", "en": "en-US"}
# Each role's lists: every one must fit 1366 px without the page scrolling sideways.
LISTS = {
    "rm_a": ["/book", "/followups", "/my/evaluations", "/matrix", "/ladder"],
    "sup_a": ["/team", "/cycles", "/nominations", "/managers/RMA1/book", "/targets", "/reports/levels"],
    "admin": ["/admin/users", "/admin/managers", "/admin/teams", "/admin/products", "/admin/packages",
              "/admin/questionnaires", "/audit", "/matrix/clients", "/managers/RMA1/levels"],
}


@pytest.fixture
def world(world):
    """The shared world with books as full as real ones: every column of a row filled, long names."""
    from datetime import date, timedelta

    from models import Branch, Client, db

    today = date.today()
    long_branch = Branch(code="SHPD01", name="上海浦东新区陆家嘴环路证券营业部", name_en="Shanghai Pudong Lujiazui Ring Road Securities Branch",
                         city="上海")
    db.session.add(long_branch)
    for n, client in enumerate(db.session.scalars(db.select(Client))):
        client.name = client.name + "·欧阳慕容"
        client.branch = long_branch
        client.risk_score, client.risk_grade, client.risk_class = 55, "C3", "balanced"
        client.lowest_category = n % 2 == 0
        client.profile_valid_until = today + timedelta(days=20 + n)
        client.asset_tier, client.followup_grade = 2, "B"
        client.followup_due = today - timedelta(days=n)
        client.credit_class = "normal"
        client.investor_category = "professional"
    db.session.commit()
    return world


def open_as(browser, live_server, username, locale, width, height):
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                  is_mobile=width < 500)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server + "/")
    return context, page


def body_overflow(page) -> int:
    """How many pixels the page itself would scroll sideways (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("username", list(LISTS))
def test_lists_never_scroll_the_page_sideways_at_1366(app, world, browser, live_server, username):
    context, page = open_as(browser, live_server, username, "zh-CN", *WIDTHS["desktop"])
    try:
        wide = {}
        for path in LISTS[username]:
            response = page.goto(live_server + path)
            assert response.status == 200, path
            if body_overflow(page) > 0:
                wide[path] = body_overflow(page)
        assert wide == {}, f"pages wider than 1366 px: {wide}"
    finally:
        context.close()


@pytest.mark.parametrize("language", list(LOCALES))
def test_book_shows_its_working_columns_at_1366_and_holds_the_first(app, world, browser, live_server, language):
    context, page = open_as(browser, live_server, "rm_a", LOCALES[language], *WIDTHS["desktop"])
    try:
        page.goto(live_server + "/book")
        assert body_overflow(page) <= 0
        # Package, follow-up and credit are what a manager works from: in view without scrolling.
        for cell in ("td.service-package", "td.followup-due", "td.credit-business"):
            box = page.locator(cell).first.bounding_box()
            assert box and box["x"] + box["width"] <= 1366, (cell, box)
        first = page.locator("table.table-portal tbody tr td").first
        assert first.evaluate("cell => getComputedStyle(cell).position") == "sticky"
        # Dates and codes stay on one line.
        due = page.locator("td.followup-due").first
        assert due.evaluate("cell => getComputedStyle(cell).whiteSpace") == "nowrap"
    finally:
        context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", list(LOCALES))
def test_screenshots_of_book_dashboard_and_audit_log(app, world, browser, live_server, language, width):
    shots = {"rm_a": {"book": "/book", "followups": "/followups"}, "admin": {"audit-log": "/audit"}}
    for username, pages in shots.items():
        context, page = open_as(browser, live_server, username, LOCALES[language], *WIDTHS[width])
        try:
            for name, path in pages.items():
                assert page.goto(live_server + path).status == 200
                assert body_overflow(page) <= 0, (path, width)
                assert screenshot(page, f"{name}-{language}-{WIDTHS[width][0]}").stat().st_size > 0
        finally:
            context.close()


@pytest.mark.parametrize("language", list(LOCALES))
def test_audit_log_reads_in_words_in_the_browser(app, world, browser, live_server, language):
    import re

    context, page = open_as(browser, live_server, "admin", LOCALES[language], *WIDTHS["desktop"])
    try:
        page.goto(live_server + "/audit")
        text = page.locator("main").inner_text()
        assert "\\u" not in text
        assert not re.search(r"\b[a-z_]+\.[a-z_]+\b", page.locator("#audit-entries").inner_text()), "a raw action code"
        assert ("登录" if language == "zh" else "Signed in") in text
        assert body_overflow(page) <= 0
    finally:
        context.close()


def test_dashboard_rows_are_compact_with_a_full_book_due(app, world, make, browser, live_server):
    from datetime import timedelta

    from models import db
    from portal.rules.calendar import business_today

    today = business_today()
    for n in range(40):
        client = make.client(world["a"]["rm"], name=f"客户{n:02d}·欧阳慕容")
        client.followup_grade, client.followup_due = "C", today - timedelta(days=n % 9)
    db.session.commit()
    context, page = open_as(browser, live_server, "rm_a", "zh-CN", *WIDTHS["desktop"])
    try:
        page.goto(live_server + "/followups")
        assert page.locator("form.followup-form").count() == 0
        heights = page.locator(".followup-row").evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
        assert len(heights) >= 40 and max(heights) <= 60, max(heights)
        page.locator(".followup-row .log-action").nth(5).click()
        page.wait_for_url("**/followups?log=*")
        assert page.locator("form.followup-form").count() == 1
        assert page.locator("form.followup-form input[name=note]").is_visible()
        assert body_overflow(page) <= 0
    finally:
        context.close()
