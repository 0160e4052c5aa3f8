"""Staff sign-in through the directory, against a real OpenLDAP server (Debian's slapd) started per test."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import AuditEntry, Manager, User, db
from portal.auth.directory import DirectorySettings, DirectoryUnavailable, user_filter
from portal.auth.directory import authenticate as directory_authenticate
from tests.directory_server import COMPLIANCE_GROUP, SUPERVISOR_GROUP, start_directory
from tests.helpers import TEST_PASSWORD

UNAVAILABLE = ("directory is unavailable", "目录服务暂时不可用")
REFUSED = ("The username or password is wrong", "用户名或密码错误")


@pytest.fixture
def directory(tmp_path):
    server = start_directory(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def app_overrides(directory):
    return directory.app_settings()


@pytest.fixture
def staff(world, make):
    """Staff records the test directory's people point at (RMA1's and SUPA's come from `world`)."""
    for employee_no in ("DIR001", "DIR002", "DIR003"):
        make.manager(world["a"]["team"], employee_no=employee_no)
    make.manager(world["a"]["team"], employee_no="LEFT01", status="left")
    db.session.commit()
    return world


def says(response, texts) -> bool:
    body = response.get_data(as_text=True)
    return any(text in body for text in texts)


def audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def login_of(employee_no):
    db.session.expire_all()
    return db.session.scalar(select(User).join(Manager, User.manager_id == Manager.id)
                             .where(Manager.employee_no == employee_no))


def test_a_good_bind_signs_in_and_links_the_staff_record_by_employee_number(client, auth, staff):
    response = auth.login("zhang.wei", "zhang-directory-pw")
    assert response.status_code == 302 and response.location == "/"
    user = login_of("DIR003")
    assert user.username == "zhang.wei" and user.role == "rm" and user.display_name == "张伟"
    # The portal never stores a directory password: the login has no local password at all.
    assert user.password_hash == "!directory"
    assert client.get("/book").status_code == 200
    assert "/account/password" not in client.get("/").get_data(as_text=True)  # changed in the directory
    assert audit("auth.sign_in")[-1].outcome == "ok" and audit("auth.sign_in")[-1].actor_username == "zhang.wei"
    # Signing in again reuses the same login.
    auth.logout()
    assert auth.login("Zhang.Wei", "zhang-directory-pw").status_code == 302
    assert db.session.scalar(select(User.id).where(User.username == "zhang.wei")) == user.id


def test_a_staff_record_that_already_has_a_login_signs_into_it(client, auth, staff):
    assert auth.login("li.na", "li-directory-pw").status_code == 302
    assert login_of("SUPA").username == "sup_a" and login_of("SUPA").role == "supervisor"
    assert client.get("/team").status_code == 200


@pytest.mark.parametrize("username,password", [
    ("zhang.wei", "not-the-password"),        # wrong password
    ("nobody.at.all", "zhang-directory-pw"),  # unknown person
    ("*)(uid=*", "zhang-directory-pw"),       # injection: would match everyone unescaped
    ("*", "zhang-directory-pw"),
    ("zhang.wei)(|(uid=*", "zhang-directory-pw"),
])
def test_wrong_password_unknown_person_and_filter_injection_are_refused(client, auth, staff, username, password):
    response = auth.login(username, password)
    assert response.status_code == 200 and says(response, REFUSED)
    assert client.get("/book").status_code == 302
    assert login_of("DIR003") is None
    assert audit("auth.sign_in")[-1].outcome == "failed"


def test_the_login_name_is_escaped_in_the_search_filter(app):
    assert user_filter("(uid={username})", "*)(uid=*") == "(uid=\\2a\\29\\28uid=\\2a)"
    assert user_filter("(sAMAccountName={username})", "a\\b\x00") == "(sAMAccountName=a\\5cb\\00)"


def test_an_empty_password_is_never_sent_as_an_anonymous_bind(app, directory):
    settings = DirectorySettings.from_config(app.config)
    assert directory_authenticate(settings, "zhang.wei", "") is None
    assert directory_authenticate(settings, "zhang.wei", "zhang-directory-pw").employee_no == "DIR003"


def test_a_person_without_a_staff_record_is_refused_and_the_audit_log_says_why(client, auth, staff):
    response = auth.login("zhao.lei", "zhao-directory-pw")
    assert response.status_code == 200 and says(response, REFUSED)
    refused = audit("auth.directory_refused")[-1]
    assert refused.object_id == "zhao.lei" and refused.after == {"reason": "no_staff_record", "employee_no": "NOREC9"}
    assert db.session.scalar(select(User).where(User.username == "zhao.lei")) is None


def test_a_person_marked_left_cannot_sign_in_whatever_the_directory_says(client, auth, staff):
    assert says(auth.login("sun.li", "sun-directory-pw"), REFUSED)
    assert audit("auth.directory_refused")[-1].after["reason"] == "staff_left"
    # Leaving after a first sign-in: the existing login is refused too.
    manager = db.session.scalar(select(Manager).where(Manager.employee_no == "DIR003"))
    assert auth.login("zhang.wei", "zhang-directory-pw").status_code == 302
    auth.logout()
    manager.status = "left"
    db.session.commit()
    assert says(auth.login("zhang.wei", "zhang-directory-pw"), REFUSED)
    assert client.get("/book").status_code == 302


def test_a_deactivated_login_stays_shut_though_the_directory_accepts_the_password(client, auth, staff):
    user = db.session.scalar(select(User).where(User.username == "sup_a"))
    user.active = False
    db.session.commit()
    assert says(auth.login("li.na", "li-directory-pw"), REFUSED)
    assert audit("auth.directory_refused")[-1].after["reason"] == "login_deactivated"


def test_groups_give_the_role(client, auth, staff):
    assert auth.login("wang.fang", "wang-directory-pw").status_code == 302
    assert login_of("DIR001").role == "admin"
    assert client.get("/admin/users").status_code == 200
    # In the compliance and the supervisor group: compliance comes first.
    assert auth.login("chen.jie", "chen-directory-pw").status_code == 302
    assert login_of("DIR002").role == "compliance"


def test_a_group_taken_away_in_the_directory_is_gone_at_the_next_sign_in(client, auth, staff, directory):
    assert auth.login("chen.jie", "chen-directory-pw").status_code == 302
    assert login_of("DIR002").role == "compliance"
    directory.remove_from_group("chen.jie", COMPLIANCE_GROUP)
    auth.logout()
    assert auth.login("chen.jie", "chen-directory-pw").status_code == 302
    assert login_of("DIR002").role == "supervisor"
    change = audit("user.role_from_directory")[-1]
    assert change.before["role"] == "compliance" and change.after["role"] == "supervisor"
    directory.remove_from_group("chen.jie", SUPERVISOR_GROUP)
    auth.logout()
    assert auth.login("chen.jie", "chen-directory-pw").status_code == 302
    assert login_of("DIR002").role == "rm"
    assert client.get("/admin/users").status_code == 403


def test_the_directory_stopped_mid_run(app, client, auth, staff, directory):
    assert auth.login("zhang.wei", "zhang-directory-pw").status_code == 302
    auth.logout()
    directory.stop()

    response = auth.login("zhang.wei", "zhang-directory-pw")
    assert response.status_code == 503 and says(response, UNAVAILABLE)
    assert client.get("/book").status_code == 302
    assert audit("auth.sign_in")[-1].after == {"reason": "directory_unavailable"}
    # The break-glass admin (a local login without a staff record) and clients still sign in.
    assert auth.login("admin", TEST_PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert auth.login("client_a", TEST_PASSWORD).status_code == 302

    # The throttles still count attempts answered "unavailable".
    app.config["LOGIN_LIMIT_PER_USERNAME"] = "3 per minute"
    codes = [auth.login("li.na", f"guess-{n}").status_code for n in range(4)]
    assert codes == [503, 503, 503, 429]
    throttled = audit("auth.sign_in")[-1]
    assert throttled.outcome == "throttled" and throttled.object_id == "li.na"


def test_without_ldap_url_staff_sign_in_with_local_passwords(app, client, auth, staff):
    app.config["LDAP_URL"] = ""
    assert auth.login("rm_a", TEST_PASSWORD).status_code == 302
    assert says(auth.login("zhang.wei", "zhang-directory-pw"), REFUSED)


def test_with_a_directory_staff_linked_to_a_record_no_longer_use_a_local_password(client, auth, staff):
    # rm_a has a local password from before the directory; the directory decides now.
    assert says(auth.login("rm_a", TEST_PASSWORD), REFUSED)


def test_on_leave_staff_still_sign_in(client, auth, staff):
    manager = db.session.scalar(select(Manager).where(Manager.employee_no == "DIR003"))
    manager.status = "on_leave"
    manager.level_since = date(2022, 1, 1)
    db.session.commit()
    assert auth.login("zhang.wei", "zhang-directory-pw").status_code == 302


@pytest.fixture
def tls_directory(tmp_path):
    server = start_directory(tmp_path, tls=True)
    yield server
    server.stop()


def _settings(app, server, **changes):
    return DirectorySettings.from_config({**app.config, **server.app_settings(), **changes})


def test_starttls_and_ldaps_check_the_servers_certificate(app, tls_directory):
    server = tls_directory
    trusted = str(server.certificates["ca"])
    starttls = _settings(app, server, LDAP_START_TLS=True, LDAP_CA_FILE=trusted)
    assert directory_authenticate(starttls, "zhang.wei", "zhang-directory-pw").employee_no == "DIR003"
    ldaps = _settings(app, server, LDAP_URL=server.ldaps_url, LDAP_CA_FILE=trusted)
    assert directory_authenticate(ldaps, "li.na", "li-directory-pw").role == "supervisor"
    assert directory_authenticate(ldaps, "li.na", "wrong-password") is None
    # A certificate the configured CA did not sign: the password is never sent, the directory is "unavailable".
    untrusted = str(server.certificates["other-ca"])
    for settings in (_settings(app, server, LDAP_START_TLS=True, LDAP_CA_FILE=untrusted),
                     _settings(app, server, LDAP_URL=server.ldaps_url, LDAP_CA_FILE=untrusted)):
        with pytest.raises(DirectoryUnavailable):
            directory_authenticate(settings, "zhang.wei", "zhang-directory-pw")
