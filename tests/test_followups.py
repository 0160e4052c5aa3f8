"""Follow-ups: the operation, the dashboard, the history page, the .ics export, the team's overdue counts, the book."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from models import AuditEntry, Client, FollowupLog, User, db
from portal.operations.errors import OperationError
from portal.operations.followups import log_followup
from portal.rules.calendar import business_today
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")


def _client(client_no):
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _set_due(client_no, due, grade="B"):
    c = _client(client_no)
    c.followup_due, c.followup_grade = due, grade
    db.session.commit()


# --- the operation ---------------------------------------------------------------------------------

def test_logging_sets_grade_and_due_date_and_audits(app, world):
    today = business_today()
    c = _client("CA0001")
    entry = log_followup(c, logged_on=today, channel="phone", note="  called  ", grade="B", by_user=_user("rm_a"))
    db.session.commit()
    assert entry.next_due == today + timedelta(days=7) and entry.note == "called"
    assert (c.followup_grade, c.followup_due) == ("B", today + timedelta(days=7))
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "followup.log"))
    assert audit.object_id == "CA0001" and audit.after["grade"] == "B" and audit.before["grade"] is None


@pytest.mark.parametrize("grade, days", [("A", 1), ("C", 15), ("D", 30)])
def test_cadence_counts_from_the_logged_date(app, world, grade, days):
    day = business_today() - timedelta(days=3)
    entry = log_followup(_client("CA0001"), logged_on=day, channel="visit", note=None, grade=grade, by_user=None)
    assert entry.next_due == day + timedelta(days=days)


def test_e_is_yearly(app, world):
    day = business_today() - timedelta(days=2)
    entry = log_followup(_client("CA0001"), logged_on=day, channel="email", note="", grade="E", by_user=None)
    assert entry.next_due.year == day.year + 1


@pytest.mark.parametrize("kwargs, field, code", [
    ({"logged_on": "future"}, "date", "future_date"),
    ({"grade": "F"}, "grade", "unknown_grade"),
    ({"grade": "a"}, "grade", "unknown_grade"),
    ({"channel": "fax"}, "channel", "unknown_channel"),
    ({"note": "x" * 1001}, "note", "note_too_long"),
])
def test_bad_input_is_refused_and_nothing_changes(app, world, kwargs, field, code):
    c = _client("CA0001")
    args = {"logged_on": business_today(), "channel": "phone", "note": "ok", "grade": "B", "by_user": None}
    args.update(kwargs)
    if args["logged_on"] == "future":
        args["logged_on"] = business_today() + timedelta(days=1)
    with pytest.raises(OperationError) as raised:
        log_followup(c, **args)
    assert raised.value.field == field and raised.value.code == code
    db.session.rollback()
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0
    assert _client("CA0001").followup_grade is None


def test_a_back_dated_entry_does_not_override_a_later_one(app, world):
    today = business_today()
    c = _client("CA0001")
    log_followup(c, logged_on=today, channel="phone", note=None, grade="A", by_user=None)
    log_followup(c, logged_on=today - timedelta(days=5), channel="visit", note="earlier", grade="D", by_user=None)
    db.session.commit()
    assert (c.followup_grade, c.followup_due) == ("A", today + timedelta(days=1))
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 2


@pytest.mark.parametrize("statement", ["UPDATE followup_logs SET grade = 'A'", "DELETE FROM followup_logs"])
def test_the_log_is_append_only(app, world, statement):
    log_followup(_client("CA0001"), logged_on=business_today(), channel="phone", note=None, grade="B", by_user=None)
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(FollowupLog.grade)) == "B"


# --- pages -------------------------------------------------------------------------------------------

def test_dashboard_buckets_overdue_today_and_this_week(client, auth, world):
    today = business_today()
    _set_due("CA0001", today - timedelta(days=3))
    _set_due("CA0002", today)
    auth.login("rm_a")
    page = client.get("/followups")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    overdue = html.split('id="section-overdue"')[1].split('id="section-today"')[0]
    due_today = html.split('id="section-today"')[1].split('id="section-this_week"')[0]
    assert "CA0001" in overdue and "CA0002" not in overdue
    assert "CA0002" in due_today
    assert "CA0003" not in html  # rm2_a's client
    assert "deal is expected within 1 month" in html  # the grade definitions as help text


def test_dashboard_orders_overdue_oldest_first(client, auth, world, make):
    today = business_today()
    _set_due("CA0001", today - timedelta(days=2))
    _set_due("CA0002", today - timedelta(days=9))
    auth.login("rm_a")
    html = client.get("/followups").get_data(as_text=True)
    assert html.index('data-client="CA0002"') < html.index('data-client="CA0001"')


def test_one_click_logging_from_the_dashboard_moves_the_client(client, auth, world):
    today = business_today()
    _set_due("CA0001", today - timedelta(days=3))
    auth.login("rm_a")
    token = csrf_token(client, "/followups")
    response = client.post("/clients/CA0001/followups", data={
        "csrf_token": token, "next": "dashboard", "date": today.isoformat(), "channel": "wechat",
        "note": "发了产品资料", "grade": "C"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/followups")
    c = _client("CA0001")
    assert (c.followup_grade, c.followup_due) == ("C", today + timedelta(days=15))
    html = client.get("/followups").get_data(as_text=True)
    assert 'data-client="CA0001"' not in html.split('id="section-today"')[0]


def test_future_date_on_the_form_is_refused(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/followups")
    future = (business_today() + timedelta(days=1)).isoformat()
    response = client.post("/clients/CA0001/followups", data={
        "csrf_token": token, "date": future, "channel": "phone", "note": "", "grade": "B"})
    assert response.status_code == 400
    assert "future" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0


def test_rm_cannot_log_or_read_for_another_managers_client(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/followups")
    response = client.post("/clients/CB0001/followups", data={
        "csrf_token": token, "date": business_today().isoformat(), "channel": "phone", "grade": "B"})
    assert response.status_code == 404
    assert client.get("/clients/CB0001/followups").status_code == 404
    assert client.get("/clients/CA0003/followups").status_code == 404  # same team, other manager
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0


def test_supervisor_reads_the_team_history_but_cannot_log(client, auth, world):
    log_followup(_client("CA0003"), logged_on=business_today(), channel="meeting", note="季度回顾", grade="D",
                 by_user=_user("rm2_a"))
    db.session.commit()
    auth.login("sup_a")
    page = client.get("/clients/CA0003/followups")
    assert page.status_code == 200 and "季度回顾" in page.get_data(as_text=True)
    assert 'action="/clients/CA0003/followups"' not in page.get_data(as_text=True)
    token = csrf_token(client, "/clients/CA0003/followups")
    assert client.post("/clients/CA0003/followups", data={"csrf_token": token}).status_code == 403
    assert client.get("/clients/CB0003/followups").status_code == 404


def test_ics_export(client, auth, world):
    today = business_today()
    _set_due("CA0001", today - timedelta(days=1), "A")
    _set_due("CA0002", today + timedelta(days=3), "B")
    _set_due("CA0003", today)  # another manager's
    auth.login("rm_a")
    response = client.get("/followups.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")  # CRLF only
    assert body.count("BEGIN:VEVENT") == 2 and "CA0003" not in body
    assert f"DTSTART;VALUE=DATE:{(today - timedelta(days=1)):%Y%m%d}" in body
    assert f"UID:followup-CA0001-{(today - timedelta(days=1)):%Y%m%d}@" in body
    assert "DTSTAMP:" in body and "SUMMARY:" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_only_managers_get_the_dashboard_and_ics(client, auth, world):
    auth.login("sup_a")
    assert client.get("/followups").status_code == 403
    assert client.get("/followups.ics").status_code == 403


def test_team_page_shows_overdue_counts_per_manager(client, auth, world):
    today = business_today()
    _set_due("CA0001", today - timedelta(days=1))
    _set_due("CA0002", today - timedelta(days=20))
    _set_due("CA0003", today)
    _set_due("CB0001", today - timedelta(days=1))
    auth.login("sup_a")
    html = client.get("/team").get_data(as_text=True)
    assert 'data-manager="RMA1">2<' in html
    assert 'data-manager="RMA2">0<' in html
    assert "RMB1" not in html


def test_book_shows_and_sorts_by_follow_up_columns(client, auth, world):
    today = business_today()
    _set_due("CA0001", today + timedelta(days=5), "C")
    _set_due("CA0002", today - timedelta(days=5), "A")
    auth.login("rm_a")
    html = client.get("/book?sort=followup_due").get_data(as_text=True)
    assert html.index("CA0002") < html.index("CA0001")
    html = client.get("/book?sort=followup_due&dir=desc").get_data(as_text=True)
    assert html.index("CA0001") < html.index("CA0002")
    html = client.get("/book?sort=followup_grade").get_data(as_text=True)
    assert html.index("CA0002") < html.index("CA0001")
    assert (today + timedelta(days=5)).isoformat() in html
