"""One page per client: tabs with their own URLs, reached from the book in one click, scoped like every client view
(a manager their book, a supervisor their team, compliance everything read-only), follow-ups logged in place."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Client, FollowupLog, db
from portal.rules.calendar import business_today
from tests.helpers import csrf_token

TAB_RE = re.compile(r'<a class="nav-link( active)?" href="([^"]+)" data-tab="([a-z]+)"')
ALL_TABS = ["profile", "assessments", "tier", "package", "suitability", "followups", "credit", "assignments"]
TAB_PATHS = {"profile": "", "assessments": "/assessments", "tier": "/tier", "package": "/package",
             "suitability": "/suitability", "followups": "/followups", "credit": "/credit",
             "assignments": "/assignments"}


def tabs(html: str) -> list[tuple[str, str, bool]]:
    return [(key, href, bool(active)) for active, href, key in TAB_RE.findall(html)]


@pytest.mark.parametrize("login, client_no, expected", [
    ("rm_a", "CA0001", ALL_TABS),
    ("sup_a", "CA0003", ALL_TABS),
    ("compliance", "CB0002", ALL_TABS),
    ("admin", "CA0002", ["profile", "assessments", "tier", "package", "suitability", "assignments"]),
])
def test_every_tab_has_its_own_url_and_opens_marked_active(client, auth, world, login, client_no, expected):
    auth.login(login)
    html = client.get(f"/clients/{client_no}").get_data(as_text=True)
    found = tabs(html)
    assert [key for key, _href, _active in found] == expected
    for key, href, _active in found:
        assert href == f"/clients/{client_no}{TAB_PATHS[key]}"
        response = client.get(href)
        assert response.status_code == 200, href
        page = response.get_data(as_text=True)
        assert [k for k, _h, active in tabs(page) if active] == [key], href
        assert 'aria-current="page"' in page


def test_the_book_reaches_the_client_page_and_its_tabs_in_one_click(client, auth, world):
    auth.login("rm_a")
    book = client.get("/book").get_data(as_text=True)
    for client_no in ("CA0001", "CA0002"):
        assert f'href="/clients/{client_no}"' in book
        assert f'href="/clients/{client_no}/followups"' in book and f'href="/clients/{client_no}/credit"' in book


def test_the_profile_tab_shows_follow_up_and_credit_with_links(client, auth, world):
    c = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    c.followup_grade, c.followup_due, c.credit_class = "B", business_today() - timedelta(days=2), "blemished"
    db.session.commit()
    auth.login("rm_a")
    html = client.get("/clients/CA0001").get_data(as_text=True)
    followup = html[html.index('id="client-followup"'):]
    assert 'data-grade="B"' in followup and 'href="/clients/CA0001/followups"' in followup
    assert "已逾期" in followup.split("</dd>")[0]  # overdue, in the user's language
    credit = html[html.index('id="client-credit"'):].split("</dd>")[0]
    assert 'data-class="blemished"' in credit and 'href="/clients/CA0001/credit"' in credit
    assert 'id="client-tier"' in html and 'href="/clients/CA0001/tier"' in html
    assert 'href="/clients/CA0001/package"' in html


def test_a_follow_up_is_logged_in_place_on_its_tab(client, auth, world):
    auth.login("rm_a")
    page = client.get("/clients/CA0001/followups").get_data(as_text=True)
    assert 'data-tab="followups"' in page and 'method="post"' in page
    response = client.post("/clients/CA0001/followups", data={
        "csrf_token": csrf_token(client, "/clients/CA0001/followups"), "date": business_today().isoformat(),
        "channel": "phone", "grade": "B", "note": "电话回访"})
    assert response.status_code == 302 and response.location.endswith("/clients/CA0001/followups")
    page = client.get(response.location).get_data(as_text=True)
    assert [k for k, _h, active in tabs(page) if active] == ["followups"] and "电话回访" in page
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 1


def test_compliance_reads_every_tab_and_changes_nothing(client, auth, world):
    auth.login("compliance")
    followups = client.get("/clients/CB0001/followups").get_data(as_text=True)
    assert 'name="channel"' not in followups
    credit = client.get("/clients/CB0001/credit").get_data(as_text=True)
    assert 'name="kind-0"' not in credit
    token = csrf_token(client, "/clients/CB0001")
    response = client.post("/clients/CB0001/followups", data={"csrf_token": token, "date": "2026-01-05",
                                                              "channel": "phone", "grade": "B"})
    assert response.status_code == 403


@pytest.mark.parametrize("login, path", [
    ("rm_a", "/clients/CA0003/tier"),  # a colleague's client
    ("rm_a", "/clients/CB0001/package"),
    ("rm_a", "/clients/CB0001/assignments"),
    ("sup_a", "/clients/CB0001/tier"),  # another team's client
    ("sup_a", "/clients/CB0002/assignments"),
])
def test_tabs_of_someone_elses_client_are_not_found_and_logged(client, auth, world, login, path):
    auth.login(login)
    before = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))
    assert client.get(path).status_code == 404
    after = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))
    assert after == before + 1


def test_a_client_has_no_staff_client_page(client, auth, world):
    auth.login("client_a")
    for suffix in ("", "/tier", "/package", "/assignments"):
        assert client.get(f"/clients/CA0001{suffix}").status_code == 403
    assert client.get("/me").status_code == 200
