"""An admin opens the pending nominations, approves one with a reason, and sees the level change in the history."""
from __future__ import annotations

from sqlalchemy import select

from models import LevelChange, Manager, db
from portal.operations import promotions as operations
from portal.rules.calendar import business_today
from tests.e2e.conftest import screenshot
from tests.e2e.test_book_browser import sign_in
from tests.helpers import user
from tests.test_promotions import history, set_level


def test_admin_approves_a_pending_nomination(app, world, page):
    m = world["a"]["rm"]
    set_level(m, "junior", 20)
    history(m, [88, 93])
    operations.run_engine(manager_ids=[m.id])
    operations.nominate(m, recommendation_id=operations.latest_recommendation(m.id).id,
                        reason="连续两个季度考核优秀", by=user("sup_a"))
    db.session.commit()

    sign_in(page, "admin")
    page.click("#nav-staff")  # the Staff menu
    page.click("#nav-staff + .dropdown-menu a[href='/nominations']")
    page.wait_for_url("**/nominations")
    row = page.locator("#nominations tr[data-employee='RMA1']")
    assert row.count() == 1 and "连续两个季度考核优秀" in row.inner_text()
    row.locator("a.btn").click()
    page.wait_for_url("**/managers/RMA1/nomination")
    assert page.locator("#clauses tr[data-rule='months_in_level']").count() == 1
    page.check("input[name=decision][value=approve]")
    assert page.locator("input[name=effective_date]").input_value() == business_today().isoformat()
    page.fill("textarea[name=reason]", "同意晋升")
    screenshot(page, "nomination-decision-zh")
    page.click("#decide")
    page.wait_for_url("**/managers/RMA1/levels")

    assert page.locator(".alert-success").count() == 1
    promotion = page.locator("#level-history tr[data-kind='promotion']")
    assert promotion.count() == 1
    text = promotion.inner_text()
    assert "连续两个季度考核优秀" in text and "Sup_A" in text and "Admin" in text
    screenshot(page, "level-history-after-approval")
    assert db.session.scalar(select(Manager.level).where(Manager.id == m.id)) == "mid"
    assert db.session.scalar(select(LevelChange.approved_by_id).where(LevelChange.kind == "promotion")) == \
        user("admin").id
    assert page.console_errors == []
