"""Every home page and the client page in Chromium, in both languages, at 1366 px and on a 390 px phone:
the queues list their items with links that open, the client's tabs each open their own URL, the page body
never scrolls sideways, axe-core finds no serious violation; screenshots go to tests/e2e/artifacts."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import violations
from tests.helpers import TEST_PASSWORD
from tests.queue_data import seed_every_queue

SIZES = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}
# Each home page's sections, and which of them must hold items with the seeded records.
QUEUES = {
    "rm_a": {"followups_overdue", "followups_due_today", "profiles_expiring", "profiles_expired",
             "warnings_awaiting", "consistency_flags"},
    "sup_a": {"team_overdue", "evaluations_to_score", "recommendations_awaiting"},
    "admin": {"nominations_to_decide", "imports_refused"},
    "compliance": {"mismatches", "professional_applications", "retake_raises"},
    "client_a": {"questionnaire", "warnings_to_confirm", "package"},
}
EMPTY = {"rm_a": {"profiles_expired"}}  # CA0002's profile was renewed: nothing expired in rm_a's book
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def signed_in(browser, live_server, username: str, locale: str, size: str):
    context = browser.new_context(locale=locale, viewport=SIZES[size], bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server + "/")
    return context, page


def lang(locale: str) -> str:
    return "zh" if locale.startswith("zh") else "en"


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_every_home_page_lists_its_queue_with_links_that_open(app, world, browser, live_server, locale):
    seed_every_queue()
    for username, keys in QUEUES.items():
        for size in SIZES:
            context, page = signed_in(browser, live_server, username, locale, size)
            try:
                found = {s.get_attribute("id")[len("queue-"):]: int(s.get_attribute("data-count"))
                         for s in page.locator("#work-queues section.queue").all()}
                assert set(found) == keys, username
                busy = keys - EMPTY.get(username, set())
                assert all(found[key] > 0 for key in busy), (username, found)
                assert page.evaluate(NO_SIDEWAYS_SCROLL), (username, size)
                screenshot(page, f"home-{username.split('_')[0]}-{lang(locale)}-{size}")
                if size == "1366":
                    assert violations(page) == [], username
                    links = [a.get_attribute("href") for a in page.locator("#work-queues .queue-rows a").all()]
                    assert len(links) >= len(busy)
                    for href in links:
                        response = page.goto(live_server + href)
                        assert response.status == 200, href
                        assert page.locator("h1").count() >= 1, href
            finally:
                context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_client_page_opens_each_tab_at_its_own_url(app, world, browser, live_server, locale):
    seed_every_queue()
    for size in SIZES:
        context, page = signed_in(browser, live_server, "rm_a", locale, size)
        try:
            page.goto(live_server + "/book")
            page.click("a[href='/clients/CA0001']")  # one click from the book
            page.wait_for_url(live_server + "/clients/CA0001")
            assert page.evaluate(NO_SIDEWAYS_SCROLL), size
            screenshot(page, f"client-page-{lang(locale)}-{size}")
            keys = [a.get_attribute("data-tab") for a in page.locator("#client-tabs a").all()]
            assert keys == ["profile", "assessments", "tier", "package", "suitability", "followups", "credit",
                            "assignments"]
            for key in keys[1:]:
                tab = page.locator(f"#client-tabs a[data-tab='{key}']")
                href = tab.get_attribute("href")
                tab.click()
                page.wait_for_url(live_server + href)
                assert page.locator("#client-tabs a.active").get_attribute("data-tab") == key
                assert page.evaluate(NO_SIDEWAYS_SCROLL), (key, size)
                if size == "1366" and key in ("followups", "tier"):
                    assert violations(page) == [], key
                if key == "followups":
                    screenshot(page, f"client-page-followups-{lang(locale)}-{size}")
            if size == "1366":
                page.goto(live_server + "/clients/CA0001")
                assert violations(page) == []
        finally:
            context.close()


def test_the_account_page_turns_reminders_off(app, world, browser, live_server):
    context, page = signed_in(browser, live_server, "rm_a", "en-US", "390")
    try:
        page.click("#account-link") if page.locator("#account-link").is_visible() else page.goto(
            live_server + "/account")
        page.wait_for_url(live_server + "/account")
        page.fill("#email", "rm_a@broker.example")
        page.check("#reminders")
        page.click("#reminder-settings button[type=submit]")
        page.wait_for_url(live_server + "/account")
        assert page.locator("#reminders").is_checked()
        assert page.input_value("#email") == "rm_a@broker.example"
        assert violations(page) == []
        screenshot(page, "account-reminders-en-390")
    finally:
        context.close()
