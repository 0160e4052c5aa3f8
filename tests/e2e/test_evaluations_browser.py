"""A supervisor opens the scoring page of one of their managers, sees the figures from the data, scores, saves."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from models import Client, Manager, ManagerTarget, RevenueRecord, ServiceRating, Team, User, db
from portal.operations import evaluations as ops
from tests.e2e.conftest import screenshot
from tests.e2e.test_book_browser import sign_in

START, END = date(2026, 1, 1), date(2026, 3, 31)


def _data_for_rma1() -> int:
    """An open cycle over team A with ratings, revenue and targets for RMA1; returns the cycle id."""
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    team = db.session.scalar(select(Team).where(Team.code == "TEAMA"))
    rma1 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))
    cycle = ops.create_cycle("2026 第一季度", START, END, team, admin)
    ops.open_cycle(cycle, admin)
    clients = db.session.scalars(select(Client).where(Client.manager_id == rma1.id).order_by(Client.client_no)).all()
    for c, stars in zip(clients, (5, 3), strict=True):  # mean 4 stars → 75.00
        db.session.add(ServiceRating(client_id=c.id, manager_id=rma1.id, cycle_id=cycle.id, stars=stars,
                                     rated_at=datetime(2026, 2, 1, 2, tzinfo=UTC)))
        db.session.add(RevenueRecord(client_id=c.id, month=date(2026, 2, 1), net_commission=Decimal("1500.00"),
                                     other_income=Decimal(0)))
        c.profile_valid_until = date(2027, 6, 30)
    db.session.add(ManagerTarget(manager_id=rma1.id, period_start=START, period_end=END,
                                 net_commission=Decimal("4000.00"), asset_growth=Decimal("100000.00"), new_clients=4))
    db.session.commit()
    return cycle.id


def test_supervisor_scores_a_manager_beside_the_derived_figures(app, world, page):
    cycle_id = _data_for_rma1()
    sign_in(page, "sup_a")
    page.click("a.nav-link[href='/cycles']")
    page.wait_for_url("**/cycles")
    page.click(f"#cycles tr[data-cycle='{cycle_id}'] a")
    page.wait_for_url(f"**/cycles/{cycle_id}")
    page.click("#evaluations tr[data-employee='RMA1'] a")
    page.wait_for_url(f"**/cycles/{cycle_id}/evaluations/RMA1")

    satisfaction = page.locator("#derived-satisfaction")
    assert satisfaction.locator(".derived-figure").inner_text() == "75.00"
    kpi = page.locator("#derived-kpi")
    # Net commission 3,000 of 4,000 (75 %); new clients 0 of 4 (0 %); valid profiles 2 of 2 (100 %);
    # no asset snapshots: asset growth has no data. Mean (0.75 + 0 + 1) / 3 → 58.33.
    assert kpi.locator(".derived-figure").inner_text() == "58.33"
    assert "3,000.00" in kpi.locator("tr[data-component='net_commission']").inner_text()
    assert kpi.locator("tr[data-component='asset_growth'] .no-data").count() == 1
    assert "75.00" in page.locator(".score-row[data-dimension='satisfaction'] .derived-beside").inner_text()
    assert "58.33" in page.locator(".score-row[data-dimension='kpi'] .derived-beside").inner_text()

    page.fill("#satisfaction", "75")
    page.fill("#kpi", "60")
    page.fill("#team", "85")
    page.fill("#competence", "70")
    page.fill("#comment", "客户评价良好，业绩仍需提升")
    page.click("#save-scores")
    page.wait_for_url(f"**/cycles/{cycle_id}/evaluations/RMA1")

    # junior 25/35/10/30: 18.75 + 21 + 8.5 + 21 = 69.25 → needs improvement
    assert page.locator(".alert-success").count() == 1
    assert page.locator("#total").inner_text() == "69.25"
    assert page.locator("#band").get_attribute("data-band") == "needs_improvement"
    assert page.locator("#satisfaction").input_value() == "75"
    screenshot(page, "evaluation-scored-zh")
    assert page.console_errors == []


def test_scoring_page_is_usable_at_phone_width(app, world, browser, live_server):
    cycle_id = _data_for_rma1()
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.base_url = live_server
    sign_in(page, "sup_a")
    page.goto(f"{live_server}/cycles/{cycle_id}/evaluations/RMA1")
    assert page.locator("#score-form").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    screenshot(page, "evaluation-phone-zh")
    context.close()
