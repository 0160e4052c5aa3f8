"""Administration: logins, teams, staff records, moves between teams; each change audited, bad input refused."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import Auth, csrf_token

pytestmark = pytest.mark.language("en")

NEW_PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def admin(client, auth, world):
    response = auth.login("admin")
    assert response.status_code == 302
    return client


# --- helpers ----------------------------------------------------------------------------------------

def count(model) -> int:
    from models import db

    return db.session.scalar(select(func.count()).select_from(model))


def user_named(username: str):
    from models import User, db

    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def manager_no(employee_no: str):
    from models import Manager, db

    db.session.expire_all()
    return db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))


def audit(action: str, object_id: str | None = None) -> list:
    from models import AuditEntry, db

    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def field_errors(page: str, field_id: str) -> list[str]:
    """The messages rendered beside one form field (the `invalid-feedback` blocks naming it)."""
    pattern = rf'<div class="invalid-feedback[^"]*" id="{re.escape(field_id)}-error">(.*?)</div>'
    return [html.unescape(m) for m in re.findall(pattern, page, re.DOTALL)]


def all_field_errors(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field_id, message in re.findall(r'<div class="invalid-feedback[^"]*" id="([\w-]+)-error">(.*?)</div>', page, re.DOTALL):
        found.setdefault(field_id, []).append(html.unescape(message))
    return found


def user_form(**overrides) -> dict:
    data = {"username": "wang.fang", "display_name": "王芳", "role": "compliance", "client_no": "",
            "employee_no": "", "preferred_language": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    data.update(overrides)
    return data


def post_form(client, path: str, data: dict, follow: bool = False):
    data = dict(data, csrf_token=csrf_token(client, path if not path.endswith("/team") else "/admin/managers"))
    return client.post(path, data=data, follow_redirects=follow)


# --- creating logins ----------------------------------------------------------------------------------

def test_admin_creates_a_staff_login_through_the_form(admin, app):
    from models import User

    before = count(User)
    assert admin.get("/admin/users/new").status_code == 200
    response = post_form(admin, "/admin/users/new", user_form(username="Wang.Fang", preferred_language="zh_CN"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")
    assert count(User) == before + 1

    user = user_named("wang.fang")  # usernames are kept in lower case
    assert user is not None and user.role == "compliance" and user.active
    assert user.display_name == "王芳" and user.preferred_language == "zh_CN"
    assert user.manager is None and user.client is None
    assert NEW_PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt:")

    rows = audit("user.create", "wang.fang")
    assert len(rows) == 1
    assert rows[0].actor_username == "admin" and rows[0].actor_role == "admin" and rows[0].outcome == "ok"
    assert rows[0].after["role"] == "compliance"
    assert NEW_PASSWORD not in str(rows[0].after)

    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "wang.fang" in listing

    # The new login works.
    other = app.test_client()
    assert Auth(other).login("wang.fang", NEW_PASSWORD).status_code == 302
    assert other.get("/audit").status_code == 200


def test_admin_creates_a_client_login_linked_to_its_client(admin, app):
    from models import User

    before = count(User)
    response = post_form(admin, "/admin/users/new", user_form(username="li.si", display_name="李四", role="client",
                                                              client_no="CA0002"))
    assert response.status_code == 302
    assert count(User) == before + 1
    user = user_named("li.si")
    assert user.role == "client" and user.client is not None and user.client.client_no == "CA0002"
    assert user.manager is None
    assert audit("user.create", "li.si")[0].after["client_no"] == "CA0002"

    # Signed in, the client sees their own record and nobody else's.
    other = app.test_client()
    assert Auth(other).login("li.si", NEW_PASSWORD).status_code == 302
    page = other.get("/me").get_data(as_text=True)
    assert "CA0002" in page and "CA0001" not in page


def test_admin_creates_an_rm_login_linked_to_its_staff_record(admin, app, world, make):
    from models import User, db

    make.manager(world["a"]["team"], employee_no="E70001")
    db.session.commit()
    before = count(User)
    response = post_form(admin, "/admin/users/new", user_form(username="zhao.liu", display_name="赵六", role="rm",
                                                              employee_no="E70001"))
    assert response.status_code == 302
    assert count(User) == before + 1
    user = user_named("zhao.liu")
    assert user.role == "rm" and user.manager is not None and user.manager.employee_no == "E70001"
    assert user.client is None
    assert audit("user.create", "zhao.liu")[0].after["employee_no"] == "E70001"

    other = app.test_client()
    assert Auth(other).login("zhao.liu", NEW_PASSWORD).status_code == 302
    assert other.get("/book").status_code == 200


@pytest.mark.parametrize("overrides, field, message", [
    pytest.param({"password": "short-pw", "confirm": "short-pw"}, "password", "12", id="short-password"),
    pytest.param({"confirm": NEW_PASSWORD + "x"}, "confirm", "The passwords differ.", id="mismatched-confirm"),
    pytest.param({"username": "rm_a"}, "username", "already taken", id="duplicate-username"),
    pytest.param({"username": "RM_A"}, "username", "already taken", id="duplicate-username-other-case"),
    pytest.param({"role": "client", "client_no": "CZ9999"}, "client_no", "CZ9999", id="unknown-client-number"),
    pytest.param({"role": "client", "client_no": ""}, "client_no", "client number", id="client-without-number"),
    pytest.param({"role": "client", "client_no": "CA0001"}, "client_no", "already has a login",
                 id="client-already-has-login"),
    pytest.param({"role": "rm", "employee_no": ""}, "employee_no", "employee number", id="rm-without-employee"),
    pytest.param({"role": "rm", "employee_no": "E99999"}, "employee_no", "E99999", id="rm-unknown-employee"),
    pytest.param({"role": "supervisor", "employee_no": "RMA1"}, "employee_no", "already has a login",
                 id="staff-record-already-has-login"),
    pytest.param({"role": "superuser"}, "role", "", id="unknown-role"),
    pytest.param({"username": "bad name!"}, "username", "", id="bad-username-characters"),
    pytest.param({"display_name": ""}, "display_name", "", id="missing-display-name"),
    pytest.param({"preferred_language": "fr"}, "preferred_language", "", id="unknown-language"),
])
def test_bad_user_input_shows_a_message_beside_the_field_and_saves_nothing(admin, overrides, field, message):
    from models import AuditEntry, User

    users_before, audit_before = count(User), count(AuditEntry)
    response = post_form(admin, "/admin/users/new", user_form(**overrides))
    assert response.status_code == 200, "a rejected form is shown again, not redirected"
    page = response.get_data(as_text=True)
    errors = field_errors(page, field)
    assert errors, f"no message beside {field}; messages shown: {all_field_errors(page)}"
    assert message in " ".join(errors)
    assert count(User) == users_before
    assert count(AuditEntry) == audit_before
    if "username" not in overrides:
        assert user_named("wang.fang") is None


def test_user_form_without_csrf_token_is_refused(admin):
    from models import User

    before = count(User)
    response = admin.post("/admin/users/new", data=user_form())
    assert response.status_code == 400
    assert count(User) == before


# --- deactivating logins ---------------------------------------------------------------------------

def test_deactivated_user_loses_its_session_its_tokens_and_cannot_sign_in(admin, app, token_for):
    rm_browser = app.test_client()
    assert Auth(rm_browser).login("rm_a").status_code == 302
    assert rm_browser.get("/book").status_code == 200
    token = token_for("rm_a")
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    rm = user_named("rm_a")
    response = post_form(admin, f"/admin/users/{rm.id}/deactivate", {})
    assert response.status_code == 302
    assert user_named("rm_a").active is False

    # The cookie issued before the deactivation no longer signs anyone in.
    response = rm_browser.get("/book")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Nor does the bearer token.
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401 and api.get_json()["error"]["code"]
    # And a fresh sign-in is refused.
    response = Auth(rm_browser).login("rm_a")
    assert response.status_code == 200
    assert rm_browser.get("/book").status_code == 302

    rows = audit("user.deactivate", "rm_a")
    assert len(rows) == 1
    assert rows[0].actor_username == "admin"
    assert rows[0].before["active"] is True and rows[0].after["active"] is False

    listing = admin.get("/admin/users?q=rm_a").get_data(as_text=True)
    assert "Deactivated" in listing

    # Reactivated, the login can sign in again (the old cookie stays dead).
    response = post_form(admin, f"/admin/users/{rm.id}/activate", {})
    assert response.status_code == 302
    assert user_named("rm_a").active is True
    assert rm_browser.get("/book").status_code == 302
    assert Auth(rm_browser).login("rm_a").status_code == 302
    assert rm_browser.get("/book").status_code == 200
    rows = audit("user.activate", "rm_a")
    assert len(rows) == 1 and rows[0].before["active"] is False and rows[0].after["active"] is True


def test_deactivate_needs_a_post_with_csrf(admin):
    rm = user_named("rm_a")
    assert admin.get(f"/admin/users/{rm.id}/deactivate").status_code == 405
    assert admin.post(f"/admin/users/{rm.id}/deactivate").status_code == 400
    assert user_named("rm_a").active is True
    assert audit("user.deactivate") == []


def test_deactivating_an_unknown_user_is_404(admin):
    assert post_form(admin, "/admin/users/999999/deactivate", {}).status_code == 404


def test_admin_cannot_deactivate_itself(admin):
    me = user_named("admin")
    response = post_form(admin, f"/admin/users/{me.id}/deactivate", {}, follow=True)
    assert response.status_code == 200
    assert "You cannot deactivate your own login." in response.get_data(as_text=True)
    assert user_named("admin").active is True
    assert audit("user.deactivate") == []
    assert admin.get("/admin/users").status_code == 200  # still signed in


# --- teams ------------------------------------------------------------------------------------------

def test_admin_creates_a_team(admin, make):
    from models import Team, db

    make.manager(level="senior", employee_no="E80001")  # no team yet
    db.session.commit()
    before = count(Team)
    response = post_form(admin, "/admin/teams", {"code": "sh-wealth", "name": "上海财富管理组", "supervisor": "E80001"})
    assert response.status_code == 302
    assert count(Team) == before + 1
    db.session.expire_all()
    team = db.session.scalar(select(Team).where(Team.code == "SH-WEALTH"))
    assert team is not None and team.name == "上海财富管理组"
    assert team.supervisor is not None and team.supervisor.employee_no == "E80001"
    assert manager_no("E80001").team_id == team.id  # a supervisor without a team joins the one they head

    rows = audit("team.create", "SH-WEALTH")
    assert len(rows) == 1 and rows[0].actor_username == "admin"
    assert rows[0].after == {"code": "SH-WEALTH", "name": "上海财富管理组", "supervisor": "E80001"}
    assert "SH-WEALTH" in admin.get("/admin/teams").get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    pytest.param({"code": "bad code!", "name": "坏组"}, "code", "capital letters", id="bad-code"),
    pytest.param({"code": "X", "name": "太短"}, "code", "", id="code-too-short"),
    pytest.param({"code": "TEAMA", "name": "重复"}, "code", "already taken", id="duplicate-code"),
    pytest.param({"code": "teama", "name": "重复"}, "code", "already taken", id="duplicate-code-lower-case"),
    pytest.param({"code": "TEAMZ", "name": ""}, "name", "", id="missing-name"),
    pytest.param({"code": "TEAMZ", "name": "组", "supervisor": "E404"}, "supervisor", "E404",
                 id="unknown-supervisor"),
])
def test_bad_team_input_shows_a_message_and_saves_nothing(admin, data, field, message):
    from models import AuditEntry, Team

    teams_before, audit_before = count(Team), count(AuditEntry)
    response = post_form(admin, "/admin/teams", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    errors = field_errors(page, field)
    assert errors, f"no message beside {field}; messages shown: {all_field_errors(page)}"
    assert message in " ".join(errors)
    assert count(Team) == teams_before
    assert count(AuditEntry) == audit_before


# --- staff records ----------------------------------------------------------------------------------

def manager_form(**overrides) -> dict:
    data = {"employee_no": "E90001", "name": "赵六", "level": "mid", "level_since": "2023-01-01",
            "hire_date": "2020-06-01", "team": "TEAMA"}
    data.update(overrides)
    return data


def test_admin_creates_a_staff_record(admin):
    from models import Manager

    before = count(Manager)
    assert admin.get("/admin/managers/new").status_code == 200
    response = post_form(admin, "/admin/managers/new", manager_form())
    assert response.status_code == 302
    assert count(Manager) == before + 1
    manager = manager_no("E90001")
    assert manager.name == "赵六" and manager.level == "mid" and manager.status == "active"
    assert manager.level_since == date(2023, 1, 1) and manager.hire_date == date(2020, 6, 1)
    assert manager.team is not None and manager.team.code == "TEAMA"

    rows = audit("manager.create", "E90001")
    assert len(rows) == 1 and rows[0].actor_username == "admin"
    assert rows[0].after["team"] == "TEAMA" and rows[0].after["level"] == "mid"
    assert rows[0].after["level_since"] == "2023-01-01"
    assert "E90001" in admin.get("/admin/managers?team=TEAMA").get_data(as_text=True)


def test_a_staff_record_without_a_team(admin):
    response = post_form(admin, "/admin/managers/new", manager_form(employee_no="E90002", team=""))
    assert response.status_code == 302
    assert manager_no("E90002").team is None


TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("overrides, field, message", [
    pytest.param({"hire_date": TOMORROW, "level_since": TOMORROW}, "hire_date", "future", id="future-hire-date"),
    pytest.param({"level_since": TOMORROW}, "level_since", "future", id="future-level-date"),
    pytest.param({"level_since": "2019-12-31", "hire_date": "2020-06-01"}, "level_since", "hire date",
                 id="level-date-before-hire-date"),
    pytest.param({"employee_no": "RMA1"}, "employee_no", "already taken", id="duplicate-employee-number"),
    pytest.param({"employee_no": "rma1"}, "employee_no", "already taken", id="duplicate-employee-number-lower"),
    pytest.param({"employee_no": "E 1"}, "employee_no", "", id="bad-employee-number"),
    pytest.param({"hire_date": "2020-02-30"}, "hire_date", "", id="impossible-date"),
    pytest.param({"hire_date": ""}, "hire_date", "", id="missing-hire-date"),
    pytest.param({"level": "emperor"}, "level", "", id="unknown-level"),
    pytest.param({"team": "NOPE"}, "team", "", id="unknown-team"),
    pytest.param({"name": ""}, "name", "", id="missing-name"),
])
def test_bad_staff_input_shows_a_message_and_saves_nothing(admin, overrides, field, message):
    from models import AuditEntry, Manager

    managers_before, audit_before = count(Manager), count(AuditEntry)
    response = post_form(admin, "/admin/managers/new", manager_form(**overrides))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    errors = field_errors(page, field)
    assert errors, f"no message beside {field}; messages shown: {all_field_errors(page)}"
    assert message in " ".join(errors)
    assert count(Manager) == managers_before
    assert count(AuditEntry) == audit_before


# --- moving managers between teams -------------------------------------------------------------------

def test_admin_moves_a_manager_to_another_team(admin, world):
    from models import Client, db

    response = post_form(admin, "/admin/managers/RMA2/team", {"team": "TEAMB"})
    assert response.status_code == 302
    moved = manager_no("RMA2")
    assert moved.team.code == "TEAMB"
    # The book moves with its manager.
    assert db.session.scalar(select(func.count()).select_from(Client).where(Client.manager_id == moved.id)) == 1

    rows = audit("manager.move", "RMA2")
    assert len(rows) == 1 and rows[0].actor_username == "admin"
    assert rows[0].before["team"] == "TEAMA" and rows[0].after["team"] == "TEAMB"


def test_moved_manager_shows_on_the_new_supervisors_team_page(admin, app, world):
    assert post_form(admin, "/admin/managers/RMA2/team", {"team": "TEAMB"}).status_code == 302
    sup_b = app.test_client()
    Auth(sup_b).login("sup_b")
    assert "RMA2" in sup_b.get("/team").get_data(as_text=True)
    sup_a = app.test_client()
    Auth(sup_a).login("sup_a")
    assert "RMA2" not in sup_a.get("/team").get_data(as_text=True)


def test_a_supervisor_cannot_be_moved(admin):
    response = post_form(admin, "/admin/managers/SUPA/team", {"team": "TEAMB"}, follow=True)
    assert response.status_code == 200
    assert "supervisor cannot be moved" in response.get_data(as_text=True)
    assert manager_no("SUPA").team.code == "TEAMA"
    assert audit("manager.move") == []


def test_moving_to_the_same_or_an_unknown_team_changes_nothing(admin):
    response = post_form(admin, "/admin/managers/RMA1/team", {"team": "TEAMA"}, follow=True)
    assert response.status_code == 200
    assert "already in team TEAMA" in response.get_data(as_text=True)
    response = post_form(admin, "/admin/managers/RMA1/team", {"team": "NOPE"}, follow=True)
    assert response.status_code == 200
    assert "Choose a team." in response.get_data(as_text=True)
    assert manager_no("RMA1").team.code == "TEAMA"
    assert audit("manager.move") == []


def test_moving_an_unknown_manager_is_404(admin):
    assert post_form(admin, "/admin/managers/NOBODY/team", {"team": "TEAMB"}).status_code == 404


# --- who may use the admin pages ---------------------------------------------------------------------

ADMIN_GETS = ["/admin/users", "/admin/users/new", "/admin/teams", "/admin/managers", "/admin/managers/new"]


@pytest.mark.parametrize("username", ["sup_a", "rm_a", "client_a", "compliance"])
def test_other_roles_get_403_on_admin_pages(client, auth, world, username):
    from models import AuditEntry, Team, User, db

    assert auth.login(username).status_code == 302
    for path in ADMIN_GETS:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")
    target = user_named("rm_b")
    users_before, teams_before = count(User), count(Team)
    posts = {
        "/admin/users/new": user_form(username="intruder"),
        f"/admin/users/{target.id}/deactivate": {},
        "/admin/teams": {"code": "EVIL", "name": "evil"},
        "/admin/managers/new": manager_form(),
        "/admin/managers/RMB1/team": {"team": "TEAMA"},
    }
    for path, data in posts.items():
        assert client.post(path, data=dict(data, csrf_token=token)).status_code == 403, path
    assert count(User) == users_before and count(Team) == teams_before
    assert user_named("rm_b").active is True
    assert manager_no("RMB1").team.code == "TEAMB"
    assert manager_no("E90001") is None
    refusals = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused",
                                                           AuditEntry.actor_username == username)).all()
    assert len(refusals) >= len(ADMIN_GETS) + len(posts)


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for path in ADMIN_GETS:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
