"""axe-core (vendored from the npm package) over the main pages of every role: no serious or critical violation."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import TEST_PASSWORD

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
# The main pages of each role: the home page and the page each role works in most.
PAGES = {
    "client_a": ["/", "/me", "/questionnaire"],
    "rm_a": ["/", "/book", "/followups"],
    "sup_a": ["/", "/team"],
    "compliance": ["/", "/audit", "/compliance/professional-applications"],
    "admin": ["/", "/admin/users", "/admin/teams"],
    None: ["/login"],
}
BLOCKING = ("serious", "critical")


def violations(page) -> list[dict]:
    """Run axe on the page as loaded; return the serious and critical violations."""
    page.evaluate(AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [node["target"] for node in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("username", list(PAGES), ids=lambda u: u or "anonymous")
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_main_pages_have_no_serious_accessibility_violation(app, world, browser, live_server, username, locale):
    # bypass_csp only lets the test inject axe; the portal's own pages run under their CSP as always.
    context = browser.new_context(locale=locale, bypass_csp=True)
    page = context.new_page()
    try:
        if username:
            page.goto(live_server + "/login")
            page.fill("#username", username)
            page.fill("#password", TEST_PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(live_server + "/")
        found = {}
        for path in PAGES[username]:
            response = page.goto(live_server + path)
            assert response.status == 200, path
            problems = violations(page)
            if problems:
                found[path] = problems
        assert found == {}, found
    finally:
        context.close()
