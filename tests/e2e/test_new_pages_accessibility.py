"""axe-core over the pages the table system, audit log, dashboard, scoring form and questionnaire form
changed or added, in both languages: no serious or critical violation; and the form editor in Chromium
saves the shipped questionnaire back unchanged."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Client, QuestionnaireVersion, db
from portal.rules.calendar import business_today
from tests.e2e.test_accessibility import violations
from tests.e2e.test_evaluations_browser import _data_for_rma1
from tests.helpers import TEST_PASSWORD


def _sign_in(browser, live_server, username, locale):
    context = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server + "/")
    return context, page


def _draft() -> int:
    from models import User
    from portal.operations.questionnaires import create_draft

    admin = db.session.scalar(select(User).where(User.username == "admin"))
    draft = create_draft("2027.1", admin)
    db.session.commit()
    return draft.id


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_new_and_changed_pages_have_no_serious_violation(app, world, browser, live_server, locale):
    client = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    client.followup_grade, client.followup_due = "B", business_today() - timedelta(days=2)
    db.session.commit()
    cycle_id = _data_for_rma1()
    draft_id = _draft()
    pages = {"rm_a": ["/followups?log=CA0001", "/my/evaluations"],
             "sup_a": [f"/cycles/{cycle_id}/evaluations/RMA1", "/reports/trend"],
             "admin": ["/audit", f"/admin/questionnaires/{draft_id}/form", "/targets/new", "/admin/products"]}
    found = {}
    for username, paths in pages.items():
        context, page = _sign_in(browser, live_server, username, locale)
        try:
            for path in paths:
                assert page.goto(live_server + path).status == 200, path
                problems = violations(page)
                if problems:
                    found[path] = problems
        finally:
            context.close()
    assert found == {}, found


def test_form_editor_saves_the_shipped_questionnaire_unchanged_in_the_browser(app, world, browser, live_server):
    draft_id = _draft()
    before = db.session.get(QuestionnaireVersion, draft_id).definition
    context, page = _sign_in(browser, live_server, "admin", "zh-CN")
    try:
        page.goto(f"{live_server}/admin/questionnaires/{draft_id}/form")
        assert page.locator(".question-card").count() == 18
        page.click("#save-draft")
        page.wait_for_url(f"**/admin/questionnaires/{draft_id}/form")
        assert page.locator(".alert-success").count() == 1
        db.session.expire_all()
        assert db.session.get(QuestionnaireVersion, draft_id).definition == before
        # Adding a question shows an empty card; saving it as it is names the missing fields.
        page.click("button[value=add_question]")
        assert page.locator(".question-card").count() == 19
        page.click("#save-draft")
        assert "第19题，标识：此项必填。" in page.locator("#q-18-id-error").inner_text()
        db.session.expire_all()
        assert db.session.get(QuestionnaireVersion, draft_id).definition == before
    finally:
        context.close()
