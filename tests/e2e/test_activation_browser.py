"""Sign-in for everyone, in Chromium: a client activates on a phone and answers the questionnaire; a staff
member signs in with a directory account (the portal configured against a real slapd)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Client, User, db
from tests.directory_server import start_directory
from tests.e2e.conftest import screenshot
from tests.e2e.test_questionnaire_browser import answer_every_step, new_page

NEW_PASSWORD = "phone-chosen-password"


@pytest.fixture
def directory(tmp_path):
    server = start_directory(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def app_overrides(directory):
    return directory.app_settings()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


def test_a_client_activates_on_a_phone_answers_the_questionnaire_and_signs_in_again(app, world, browser,
                                                                                    live_server):
    record = db.session.scalar(select(Client).where(Client.client_no == "CA0002"))
    page = new_page(browser, live_server, width=390, height=844, is_mobile=True, has_touch=True)
    page.goto(live_server + "/login")
    page.click("#activate-link")
    page.wait_for_url("**/activate")
    assert no_sideways_scroll(page)
    page.fill("#client_no", "CA0002")
    page.fill("#id_number", record.id_number)
    page.fill("#mobile", "13800138001")  # one digit off: the one message, nothing saved
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("#activate-form button[type=submit]")
    page.wait_for_load_state()
    assert "这些信息无法开通账户" in page.locator(".alert-danger").inner_text()
    page.fill("#mobile", record.phone)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    screenshot(page, "activation-phone")
    page.click("#activate-form button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert "账户已开通" in page.locator(".alert-success").inner_text()

    page.goto(live_server + "/questionnaire")
    answer_every_step(page, "/questionnaire")
    page.click("#review-submit")
    page.wait_for_url("**/questionnaire/result/*")
    grade = page.locator("#result-grade").inner_text()
    assert grade in ("C1", "C2", "C3", "C4", "C5")
    assert no_sideways_scroll(page)

    # Sign out (the menu folds on a phone), then back in with the client number and the new password.
    page.click("button.navbar-toggler")
    page.wait_for_selector("#mainnav.show form[action='/logout'] button[type=submit]", state="visible")
    with page.expect_navigation(url="**/login", timeout=30_000):
        page.click("form[action='/logout'] button[type=submit]")
    page.fill("#username", "CA0002")
    page.fill("#password", NEW_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/me")
    assert "CA0002" in page.locator("main").inner_text()
    assert page.console_errors == []
    page.context.close()


def test_a_tablet_sees_the_activation_form_in_english(world, browser, live_server):
    page = new_page(browser, live_server, width=820, height=1180, locale="en-US", is_mobile=True, has_touch=True)
    page.goto(live_server + "/activate")
    assert page.locator("h1").inner_text() == "Activate your account"
    assert page.locator("#activate-form").bounding_box()["width"] <= 820
    assert no_sideways_scroll(page)
    page.click("text=Use the activation code")
    page.wait_for_url("**/activate/code")
    assert page.locator("#code").is_visible()
    page.context.close()


def test_a_staff_member_signs_in_with_a_directory_account(app, world, make, page, live_server):
    make.manager(world["a"]["team"], employee_no="DIR003")
    db.session.commit()
    page.goto(live_server + "/login")
    page.fill("#username", "zhang.wei")
    page.fill("#password", "zhang-directory-pw")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/book")
    assert page.url.endswith("/book")
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.username == "zhang.wei"))
    assert user.role == "rm" and user.manager.employee_no == "DIR003"
    assert page.console_errors == []
