"""Staff invitations (`flask invite-staff`) and one-time password reset links."""
from __future__ import annotations

import csv
import io
import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEntry, LoginToken, Manager, User, db, utcnow
from portal.auth.loaders import hash_token
from tests.helpers import TEST_PASSWORD, csrf_token

NEW_PASSWORD = "my-own-new-password"
UNUSABLE = ("This link cannot be used", "此链接无法使用")


@pytest.fixture
def newcomers(world, make):
    """Active staff without a login in both teams, plus one on leave and one who left."""
    make.manager(world["a"]["team"], employee_no="NEWA1")
    make.manager(world["a"]["team"], employee_no="NEWA2")
    make.manager(world["b"]["team"], employee_no="NEWB1")
    make.manager(world["a"]["team"], employee_no="AWAY1", status="on_leave")
    make.manager(world["a"]["team"], employee_no="GONE1", status="left")
    db.session.commit()
    return world


def invite(runner, *args):
    result = runner.invoke(args=["invite-staff", *args])
    rows = list(csv.DictReader(io.StringIO(result.stdout))) if result.exit_code == 0 else []
    return result, rows


def says(response, texts) -> bool:
    body = response.get_data(as_text=True)
    return any(text in body for text in texts)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def choose_password(client, link, password=NEW_PASSWORD, confirm=None):
    client.delete_cookie("portal_session")
    path = path_of(link)
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "confirm": confirm or password, "csrf_token": token})


def test_invite_staff_makes_logins_and_one_time_links_for_active_staff_without_one(app, client, auth, runner,
                                                                                   newcomers):
    result, rows = invite(runner, "--all")
    assert result.exit_code == 0, result.output
    assert [row["employee_no"] for row in rows] == ["NEWA1", "NEWA2", "NEWB1"]
    assert list(rows[0]) == ["employee_no", "name", "team", "username", "link", "expires_at"]
    assert rows[0]["team"] == "TEAMA" and rows[0]["username"] == "newa1"
    assert rows[0]["link"].startswith("http://localhost:5000/welcome/")
    assert rows[0]["expires_at"].endswith("+08:00")  # China time, with its offset
    secret = rows[0]["link"].rsplit("/", 1)[1]
    # Stored only as a hash, valid 7 days.
    token = db.session.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(secret)))
    assert token.purpose == "invitation" and token.user.username == "newa1"
    assert timedelta(days=6, hours=23) < token.expires_at - utcnow() <= timedelta(days=7)
    assert db.session.scalar(select(LoginToken).where(LoginToken.token_hash == secret)) is None
    invited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.invite")).all()
    assert len(invited) == 1 and invited[0].after["created"] == ["newa1", "newa2", "newb1"]
    # The login exists but nothing opens it before the link is used.
    assert auth.login("newa1", "").status_code == 200 and client.get("/book").status_code == 302

    page = client.get(path_of(rows[0]["link"]))
    assert page.status_code == 200 and "newa1" in page.get_data(as_text=True)
    weak = choose_password(client, rows[0]["link"], password="short")
    assert weak.status_code == 200 and db.session.get(User, token.user_id).password_hash == "!invited"
    response = choose_password(client, rows[0]["link"])
    assert response.status_code == 302 and client.get("/book").status_code == 200
    accepted = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.invitation_accepted")).all()
    assert accepted[-1].object_id == "newa1"
    auth.logout()
    assert auth.login("newa1", NEW_PASSWORD).status_code == 302
    # Used once: the link says so, without saying more.
    again = choose_password(client, rows[0]["link"], password="another-password-77")
    assert again.status_code == 200 and says(again, UNUSABLE)
    assert auth.login("newa1", "another-password-77").status_code == 200


def test_the_supervisor_of_a_team_is_invited_as_a_supervisor(runner, make, world):
    head = make.manager(employee_no="HEAD9")
    make.team("TEAMH", supervisor=head)
    db.session.commit()
    _, rows = invite(runner, "--team", "teamh")
    assert [row["username"] for row in rows] == ["head9"]
    assert db.session.scalar(select(User).where(User.username == "head9")).role == "supervisor"


def test_invite_staff_by_team_and_its_usage(runner, newcomers):
    result, rows = invite(runner, "--team", "TEAMB")
    assert result.exit_code == 0 and [row["employee_no"] for row in rows] == ["NEWB1"]
    assert invite(runner)[0].exit_code == 2
    assert invite(runner, "--all", "--team", "TEAMA")[0].exit_code == 2
    missing = invite(runner, "--team", "NOPE")[0]
    assert missing.exit_code == 1 and "NOPE" in missing.output


def test_rerunning_gives_pending_staff_a_fresh_link_and_voids_the_old(client, runner, newcomers):
    _, first = invite(runner, "--team", "TEAMB")
    _, second = invite(runner, "--team", "TEAMB")
    assert [row["username"] for row in second] == ["newb1"] and first[0]["link"] != second[0]["link"]
    assert says(choose_password(client, first[0]["link"]), UNUSABLE)
    assert choose_password(client, second[0]["link"]).status_code == 302
    _, third = invite(runner, "--team", "TEAMB")
    assert third == []  # the login has its own password now


def test_expired_and_unknown_links_get_the_one_message(client, runner, newcomers):
    _, rows = invite(runner, "--team", "TEAMB")
    token = db.session.scalar(select(LoginToken).where(LoginToken.purpose == "invitation"))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = client.get(path_of(rows[0]["link"]))
    unknown = client.get("/welcome/not-a-real-link")
    assert says(expired, UNUSABLE) and says(unknown, UNUSABLE)
    assert 'name="password"' not in expired.get_data(as_text=True)
    assert says(choose_password(client, rows[0]["link"]), UNUSABLE)


def test_the_csv_file_is_readable_by_its_owner_only(runner, newcomers, tmp_path):
    target = tmp_path / "links.csv"
    result = runner.invoke(args=["invite-staff", "--all", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3


# --- password reset ------------------------------------------------------------------------------

def issue_reset(client, auth, issuer, url):
    auth.login(issuer)
    token = csrf_token(client, "/")
    return client.post(url, data={"csrf_token": token})


def link_on(response) -> str:
    return re.search(r'id="reset-link">([^<]+)<', response.get_data(as_text=True)).group(1)


def test_an_admin_resets_a_staff_password_and_every_other_session_ends(app, client, auth, world):
    rm_a = db.session.scalar(select(User).where(User.username == "rm_a"))
    other_browser = app.test_client()
    other_browser.delete_cookie("portal_session")
    other_browser.post("/login", data={"username": "rm_a", "password": TEST_PASSWORD,
                                       "csrf_token": csrf_token(other_browser)})
    assert other_browser.get("/book").status_code == 200

    response = issue_reset(client, auth, "admin", f"/admin/users/{rm_a.id}/reset-link")
    assert response.status_code == 200
    link = link_on(response)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.reset_link")).actor_username == "admin"

    assert choose_password(client, link).status_code == 302
    assert client.get("/book").status_code == 200
    assert other_browser.get("/book").status_code == 302  # the other session has ended
    auth.logout()
    assert auth.login("rm_a", TEST_PASSWORD).status_code == 200
    assert auth.login("rm_a", NEW_PASSWORD).status_code == 302
    assert says(choose_password(client, link, password="yet-another-password"), UNUSABLE)


def test_a_manager_issues_a_reset_link_for_a_client_of_their_book_only(client, auth, world):
    client_a = db.session.scalar(select(User).where(User.username == "client_a"))
    page = (auth.login("rm_a"), client.get("/clients/CA0001"))[1].get_data(as_text=True)
    assert "issue-reset-link" in page
    assert issue_reset(client, auth, "rm_b", "/clients/CA0001/reset-link").status_code == 404
    assert issue_reset(client, auth, "sup_a", "/clients/CA0001/reset-link").status_code == 403
    # The admin resets staff logins; a client's link comes from the client's manager.
    refused = issue_reset(client, auth, "admin", f"/admin/users/{client_a.id}/reset-link")
    assert refused.status_code == 302
    assert db.session.scalar(select(LoginToken)) is None

    link = link_on(issue_reset(client, auth, "rm_a", "/clients/CA0001/reset-link"))
    assert choose_password(client, link).status_code == 302
    assert client.get("/me").status_code == 200
    auth.logout()
    assert auth.login("client_a", NEW_PASSWORD).status_code == 302


def test_a_new_reset_link_voids_the_previous_one(client, auth, world):
    rm_a = db.session.scalar(select(User).where(User.username == "rm_a"))
    first = link_on(issue_reset(client, auth, "admin", f"/admin/users/{rm_a.id}/reset-link"))
    second = link_on(issue_reset(client, auth, "admin", f"/admin/users/{rm_a.id}/reset-link"))
    assert says(choose_password(client, first), UNUSABLE)
    assert choose_password(client, second).status_code == 302


def test_a_deactivated_login_cannot_be_reset(client, auth, world):
    rm_a = db.session.scalar(select(User).where(User.username == "rm_a"))
    link = link_on(issue_reset(client, auth, "admin", f"/admin/users/{rm_a.id}/reset-link"))
    rm_a.active = False
    db.session.commit()
    assert says(choose_password(client, link), UNUSABLE)
    assert issue_reset(client, auth, "admin", f"/admin/users/{rm_a.id}/reset-link").status_code == 302
    assert db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1")) is not None


def test_a_login_name_already_taken_stops_the_whole_run(runner, make, newcomers):
    make.user("newa2", "compliance")
    db.session.commit()
    result, _ = invite(runner, "--all")
    assert result.exit_code == 1 and "NEWA2" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(LoginToken)) is None
    assert db.session.scalar(select(User).where(User.username == "newa1")) is None
