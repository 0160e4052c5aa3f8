"""The follow-up dashboard: compact rows, a log action that opens one form, a refused form keeps what was typed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import Client, FollowupLog, db
from portal.rules.calendar import business_today
from tests.helpers import csrf_token


def _due(client_no, day, grade="B"):
    c = db.session.scalar(select(Client).where(Client.client_no == client_no))
    c.followup_grade, c.followup_due = grade, day
    db.session.commit()


def test_rows_are_compact_and_the_log_action_opens_one_form(client, auth, world):
    today = business_today()
    _due("CA0001", today - timedelta(days=2))
    _due("CA0002", today)
    auth.login("rm_a")
    html = client.get("/followups").get_data(as_text=True)
    assert html.count('<form class="followup-form') == 0
    assert html.count('class="btn btn-sm btn-outline-primary text-nowrap log-action"') == 2
    assert 'href="/followups?log=CA0001#log-CA0001"' in html
    opened = client.get("/followups?log=CA0001").get_data(as_text=True)
    assert opened.count('<form class="followup-form') == 1
    row = opened.split('data-client="CA0001"')[1].split('data-client="CA0002"')[0]
    assert 'action="/clients/CA0001/followups"' in row and 'id="log-CA0001"' in row


def test_a_client_beyond_the_lists_or_of_another_book(client, auth, world):
    auth.login("rm_a")
    page = client.get("/followups?log=CA0002").get_data(as_text=True)  # not due: the form opens on its own
    assert page.count('<form class="followup-form') == 1 and 'action="/clients/CA0002/followups"' in page
    assert client.get("/followups?log=CA0003").status_code == 404  # rm2_a's client
    assert client.get("/followups?log=NOPE").status_code == 404


def test_a_refused_form_keeps_everything_typed(client, auth, world):
    today = business_today()
    _due("CA0001", today - timedelta(days=4))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login("rm_a")
    token = csrf_token(client, "/followups")
    future = (today + timedelta(days=3)).isoformat()
    response = client.post("/clients/CA0001/followups", data={
        "csrf_token": token, "next": "dashboard", "date": future, "channel": "visit",
        "note": "上门拜访，客户有意向追加", "grade": "A"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count('<form class="followup-form') == 1
    form = html.split('<form class="followup-form')[1].split("</form>")[0]
    assert f'name="date" value="{future}"' in form
    assert 'value="上门拜访，客户有意向追加"' in form
    assert '<option value="visit" selected>' in form and '<option value="A" title=' in form
    assert 'value="A" title="' in form and 'selected>A</option>' in form
    assert 'is-invalid' in form and "future" in form
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0
