"""A manager opens the follow-up dashboard, logs a follow-up for an overdue client, and sees it move."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Client, db
from portal.rules.calendar import business_today
from tests.e2e.conftest import screenshot
from tests.e2e.test_book_browser import sign_in


def test_manager_logs_an_overdue_follow_up_and_it_moves_to_its_new_due_date(app, world, page):
    today = business_today()
    overdue = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    overdue.followup_grade, overdue.followup_due = "B", today - timedelta(days=4)
    db.session.commit()

    sign_in(page, "rm_a")
    page.click("a.nav-link[href='/followups']")
    page.wait_for_url("**/followups")
    row = page.locator("#section-overdue .followup-row[data-client='CA0001']")
    assert row.count() == 1
    assert (today - timedelta(days=4)).isoformat() in row.inner_text()
    assert page.locator("#count-overdue").inner_text() == "1"

    row.locator("a.log-action").click()  # the compact row opens its one log form
    page.wait_for_url("**/followups?log=CA0001*")
    assert page.locator("form.followup-form").count() == 1
    row.locator("select[name=channel]").select_option("visit")
    row.locator("select[name=grade]").select_option("A")  # A: due again tomorrow
    row.locator("input[name=note]").fill("上门拜访，客户有意向")
    assert row.locator("input[name=date]").input_value() == today.isoformat()  # the date defaults to today
    row.locator("button[type=submit]").click()
    page.wait_for_url("**/followups")

    assert page.locator(".alert-success").count() == 1
    assert page.locator("#section-overdue .followup-row[data-client='CA0001']").count() == 0
    assert page.locator("#count-overdue").inner_text() == "0"
    moved = page.locator("#section-this_week .followup-row[data-client='CA0001']")
    assert moved.count() == 1
    assert (today + timedelta(days=1)).isoformat() in moved.inner_text()
    screenshot(page, "followups-after-logging")

    page.click("#section-this_week .followup-row[data-client='CA0001'] a")
    page.wait_for_url("**/clients/CA0001/followups")
    assert "上门拜访，客户有意向" in page.locator("#followup-history").inner_text()
    assert page.console_errors == []


def test_dashboard_is_usable_at_phone_width(app, world, browser, live_server):
    today = business_today()
    for client_no in ("CA0001", "CA0002"):
        c = db.session.scalar(select(Client).where(Client.client_no == client_no))
        c.followup_grade, c.followup_due = "C", today
    db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.base_url = live_server
    sign_in(page, "rm_a")
    page.goto(live_server + "/followups")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    screenshot(page, "followups-phone-zh")
    context.close()
