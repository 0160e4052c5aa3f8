"""The risk questionnaire in Chromium: a client fills it in both languages; a manager assists, the client confirms.

Console errors are asserted empty, so a Content-Security-Policy violation (an inline style or script)
fails these tests too.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import screenshot
from tests.helpers import TEST_PASSWORD

DEFAULT = json.loads((Path(__file__).resolve().parents[2] / "data" / "questionnaire" / "default.json")
                     .read_text(encoding="utf-8"))
STEPS = 5


def new_page(browser, live_server, width=1280, height=900, locale="zh-CN", **options):
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server
    page.console_errors = []
    page.on("console", lambda message: page.console_errors.append(message.text) if message.type == "error" else None)
    return page


def sign_in(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(page.base_url + "/")


def answer_every_step(page, base_path: str, choice=lambda count: count // 2, shots: str | None = None) -> None:
    """From the intro page: pick an option in every question of every step, up to the review page."""
    page.click("#questionnaire-begin")
    for n in range(1, STEPS + 1):
        page.wait_for_url(f"**{base_path}/step/{n}")
        assert page.locator("progress").get_attribute("value") == str(n)
        assert page.locator("progress").get_attribute("max") == str(STEPS)
        questions = page.locator("fieldset.question")
        assert questions.count() >= 1
        for i in range(questions.count()):
            radios = questions.nth(i).locator("input[type=radio]")
            radios.nth(choice(radios.count())).check()
        if shots and n in (1, STEPS):
            screenshot(page, f"{shots}-step{n}")
        page.click("#step-next")
    page.wait_for_url(f"**{base_path}/review")


def test_client_fills_the_questionnaire_in_both_languages(app, world, page):
    sign_in(page, "client_a")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.click("#fill-questionnaire")
    page.wait_for_url("**/questionnaire")
    assert DEFAULT["version"] in page.locator("#questionnaire-version").inner_text()
    screenshot(page, "questionnaire-zh-intro")
    answer_every_step(page, "/questionnaire", shots="questionnaire-zh")
    review = page.locator("main").inner_text()
    for question in DEFAULT["questions"]:
        assert question["text"]["zh_CN"] in review  # the definition's own Chinese text
    assert page.locator(".review-step").count() == STEPS
    screenshot(page, "questionnaire-zh-review")
    page.click("#review-submit")
    page.wait_for_url("**/questionnaire/result/*")
    assert page.locator("#result-grade").inner_text() in ("C1", "C2", "C3", "C4", "C5")
    assert page.locator("svg.result-chart rect.chart-bar").count() == 5
    assert page.locator("#profile-in-force").is_visible()
    assert "%" in page.locator("#result-percentile").inner_text()
    screenshot(page, "questionnaire-zh-result")

    page.click("#language-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Risk assessment result" in page.locator("h1").inner_text()
    page.goto(page.base_url + "/questionnaire")
    assert "Start" in page.locator("#questionnaire-begin").inner_text()
    answer_every_step(page, "/questionnaire", choice=lambda count: count - 1, shots="questionnaire-en")
    review = page.locator("main").inner_text()
    assert DEFAULT["questions"][0]["text"]["en"] in review
    screenshot(page, "questionnaire-en-review")
    page.click("#review-submit")
    page.wait_for_url("**/questionnaire/result/*")
    grade = page.locator("#result-grade").inner_text()
    assert grade in ("C3", "C4", "C5")  # the boldest answer to every question
    assert page.locator("#result-class").inner_text() in ("Balanced", "Aggressive")
    assert "You may buy products of risk level R1 to R" in page.locator("#result-levels").inner_text()
    assert "higher than" in page.locator("#result-percentile").inner_text()
    assert "Valid until" in page.locator("#result-validity").inner_text()
    screenshot(page, "questionnaire-en-result")
    page.goto(page.base_url + "/me/assessments")
    assert page.locator("#assessment-history tbody tr").count() == 2
    assert page.locator("#assessment-history tbody tr").first.get_attribute("data-state") == "in_force"
    screenshot(page, "questionnaire-en-history")
    assert page.console_errors == []


def test_questionnaire_is_usable_at_phone_width(app, world, browser, live_server):
    page = new_page(browser, live_server, width=375, height=740, is_mobile=True)
    sign_in(page, "client_a")
    page.goto(live_server + "/questionnaire")
    answer_every_step(page, "/questionnaire", shots="questionnaire-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    page.click("#review-submit")
    page.wait_for_url("**/questionnaire/result/*")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376, "the result page must not scroll sideways"
    screenshot(page, "questionnaire-phone-result")
    page.goto(live_server + "/me/assessments")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376, "the history table scrolls in its box"
    assert page.console_errors == []
    page.context.close()


def test_manager_assists_and_the_client_confirms(app, world, browser, live_server):
    manager = new_page(browser, live_server)
    sign_in(manager, "rm_a")
    manager.goto(live_server + "/clients/CA0001/assess")
    assert "CA0001" in manager.locator("main").inner_text()
    answer_every_step(manager, "/clients/CA0001/assess")
    screenshot(manager, "assisted-review")
    manager.click("#review-submit")
    manager.wait_for_url("**/questionnaire/result/*")
    assert manager.locator("#awaiting-confirmation").is_visible()
    assert manager.locator("#profile-in-force").count() == 0
    grade = manager.locator("#result-grade").inner_text()
    screenshot(manager, "assisted-result-awaiting")
    manager.goto(live_server + "/clients/CA0001/assessments")
    assert manager.locator("#assessment-history tbody tr").first.get_attribute("data-state") == "awaiting"
    assert manager.console_errors == []
    manager.context.close()

    client = new_page(browser, live_server)
    sign_in(client, "client_a")
    assert client.locator("#pending-assessment").is_visible()
    assert client.locator("#risk-profile-none").is_visible()
    screenshot(client, "assisted-client-home-pending")
    client.click("#confirm-pending")
    client.wait_for_url("**/questionnaire/result/*")
    assert client.locator("#profile-in-force").is_visible()
    assert client.locator("#result-confirmation").is_visible()
    client.click("a.nav-link[href='/me']")
    client.wait_for_url("**/me")
    assert grade in client.locator("#risk-grade").inner_text()
    assert client.locator("#risk-profile .profile-status").get_attribute("data-status") == "valid"
    assert client.locator("#pending-assessment").count() == 0
    screenshot(client, "assisted-client-confirmed")
    assert client.console_errors == []
    client.context.close()
