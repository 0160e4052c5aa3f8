"""The scoring form in Chromium: the data's figures are the starting scores, the weighted total and band
follow the fields as they change, and the same page saves with JavaScript turned off."""
from __future__ import annotations

from sqlalchemy import select

from models import Evaluation, Manager, db
from tests.e2e.test_evaluations_browser import _data_for_rma1
from tests.helpers import TEST_PASSWORD


def _open(browser, live_server, cycle_id, javascript=True):
    context = browser.new_context(locale="en-US", java_script_enabled=javascript, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#username", "sup_a")
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.goto(f"{live_server}/cycles/{cycle_id}/evaluations/RMA1")
    return context, page


def test_total_and_band_follow_the_fields(app, world, browser, live_server):
    cycle_id = _data_for_rma1()
    context, page = _open(browser, live_server, cycle_id)
    try:
        # Satisfaction 75.00 and KPI 58.33 from the data are offered as 75 and 58.
        assert page.input_value("#satisfaction") == "75" and page.input_value("#kpi") == "58"
        assert page.locator("#live-total").inner_text() == "—"
        page.fill("#team", "85")
        page.fill("#competence", "90")
        # Junior weights 25/35/10/30: 75×25 + 58×35 + 85×10 + 90×30 = 7455 → 74.55, satisfactory.
        assert page.locator("#live-total").inner_text() == "74.55"
        assert page.locator("#live-band").get_attribute("data-band") == "satisfactory"
        page.fill("#competence", "100")
        assert page.locator("#live-total").inner_text() == "77.55"
        page.fill("#satisfaction", "100")
        page.fill("#kpi", "100")
        assert page.locator("#live-total").inner_text() == "98.50"  # team still 85
        page.fill("#team", "100")
        assert page.locator("#live-total").inner_text() == "100.00"
        assert page.locator("#live-band").inner_text() == "Excellent"
        page.fill("#kpi", "")
        assert page.locator("#live-total").inner_text() == "—"
    finally:
        context.close()


def test_the_page_saves_without_javascript(app, world, browser, live_server):
    cycle_id = _data_for_rma1()
    context, page = _open(browser, live_server, cycle_id, javascript=False)
    try:
        page.fill("#team", "85")
        page.fill("#competence", "90")
        page.click("#save-scores")
        page.wait_for_url(f"**/cycles/{cycle_id}/evaluations/RMA1")
        rma1 = db.session.scalar(select(Manager.id).where(Manager.employee_no == "RMA1"))
        db.session.expire_all()
        saved = db.session.scalar(select(Evaluation).where(Evaluation.manager_id == rma1,
                                                           Evaluation.cycle_id == cycle_id))
        assert (saved.satisfaction, saved.kpi, str(saved.total)) == (75, 58, "74.55")
        assert page.locator("#live-total").inner_text() == "74.55"  # the server's figure for the saved scores
    finally:
        context.close()


def test_report_picker_suggests_staff_as_one_types(app, world, browser, live_server):
    from models import Manager

    rma1 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))
    rma1.name, rma1.name_pinyin = "欧阳娜", "Ouyang Na"
    db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.fill("#username", "admin")
        page.fill("#password", TEST_PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(live_server + "/")
        page.goto(live_server + "/reports/trend")
        page.locator("#manager").press_sequentially("ouy")
        option = page.locator("#manager-options option[value='RMA1']")
        option.wait_for(state="attached")
        assert "欧阳娜" in option.get_attribute("label")
        page.fill("#manager", "RMA1")
        page.click("main form button[type=submit]")
        page.wait_for_url("**/reports/trend?manager=RMA1")
        assert "欧阳娜" in page.locator("h2").first.inner_text()
    finally:
        context.close()
