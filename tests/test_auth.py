"""Sign-in, sign-out, sessions and throttling (OWASP ASVS level 2)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import AuditEntry, db
from tests.helpers import TEST_PASSWORD, csrf_token


def audit_rows(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def test_sign_in_lands_on_the_role_home_and_is_audited(client, auth, world):
    response = auth.login("rm_a")
    assert response.status_code == 302 and response.location == "/"
    home = client.get("/").get_data(as_text=True)
    assert "RMA1" not in home or "经理" in home
    rows = audit_rows("auth.sign_in")
    assert rows[-1].actor_username == "rm_a" and rows[-1].outcome == "ok"


def test_wrong_password_is_refused_and_audited(client, auth, world):
    response = auth.login("rm_a", "wrong-password-123")
    assert response.status_code == 200
    assert "wrong" in response.get_data(as_text=True) or "错误" in response.get_data(as_text=True)
    assert client.get("/book").status_code == 302
    failed = [r for r in audit_rows("auth.sign_in") if r.outcome == "failed"]
    assert failed and failed[-1].object_id == "rm_a"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, auth, world):
    a = auth.login("nobody-here", "wrong-password-123").get_data(as_text=True)
    b = auth.login("rm_a", "wrong-password-123").get_data(as_text=True)
    strip = lambda html: html.split("<main", 1)[1].split('name="csrf_token"')[0]  # noqa: E731
    assert strip(a).replace("nobody-here", "") == strip(b).replace("rm_a", "")


def test_session_is_rotated_at_sign_in(client, auth, world):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    auth.client.post("/login", data={"username": "rm_a", "password": TEST_PASSWORD,
                                     "csrf_token": csrf_token(client)})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "login_at" in session


def test_sign_out_invalidates_a_replayed_cookie(client, auth, world):
    auth.login("rm_a")
    assert client.get("/book").status_code == 200
    cookie = client.get_cookie("portal_session").value
    response = auth.logout()
    assert response.status_code == 302
    client.set_cookie("portal_session", cookie)  # replay the cookie captured before sign-out
    replay = client.get("/book")
    assert replay.status_code == 302 and "/login" in replay.location


def test_sign_out_is_post_only(client, auth, world):
    auth.login("rm_a")
    assert client.get("/logout").status_code == 405


@pytest.mark.parametrize("field,delta", [("seen_at", timedelta(minutes=31)), ("login_at", timedelta(hours=12, minutes=1))])
def test_sessions_end_after_idle_and_absolute_limits(client, auth, world, field, delta):
    auth.login("rm_a")
    assert client.get("/book").status_code == 200
    with client.session_transaction() as session:
        session[field] = (datetime.now(UTC) - delta).timestamp()
    response = client.get("/book")
    assert response.status_code == 302 and "/login" in response.location


def test_a_session_inside_the_limits_lives_on(client, auth, world):
    auth.login("rm_a")
    with client.session_transaction() as session:
        session["seen_at"] = (datetime.now(UTC) - timedelta(minutes=29)).timestamp()
    assert client.get("/book").status_code == 200


@pytest.mark.parametrize("target,expected", [
    ("/book", "/book"),
    ("/book?q=1", "/book?q=1"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_next_redirect_is_validated(client, world, target, expected):
    token = csrf_token(client)
    response = client.post("/login", data={"username": "rm_a", "password": TEST_PASSWORD, "csrf_token": token,
                                           "next": target})
    assert response.status_code == 302 and response.location == expected


def test_deactivated_user_cannot_sign_in(client, auth, world):
    from models import User
    from portal.operations.users import set_user_active

    user = db.session.scalar(select(User).where(User.username == "rm_a"))
    set_user_active(user, False)
    db.session.commit()
    response = auth.login("rm_a")
    assert response.status_code == 200
    assert client.get("/book").status_code == 302


def test_post_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "rm_a", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/book").status_code == 302


def test_language_switch_is_remembered(client, auth, world):
    from models import User

    auth.login("rm_a")
    token = csrf_token(client, "/")
    client.post("/language", data={"language": "en", "csrf_token": token, "next": "/book"})
    assert "Client book" in client.get("/book").get_data(as_text=True)
    assert db.session.scalar(select(User.preferred_language).where(User.username == "rm_a")) == "en"
    token = csrf_token(client, "/")
    client.post("/language", data={"language": "zh_CN", "csrf_token": token, "next": "/book"})
    assert "客户名册" in client.get("/book").get_data(as_text=True)


def test_browser_language_is_the_default(client, world):
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)


class TestThrottling:
    @pytest.fixture
    def app_overrides(self):
        return {"LOGIN_LIMIT_PER_USERNAME": "3 per minute", "LOGIN_LIMIT_PER_ADDRESS": "6 per minute"}

    def test_per_username(self, client, auth, world):
        for _ in range(3):
            assert auth.login("rm_a", "wrong-password-123").status_code == 200
        blocked = auth.login("rm_a")  # even the right password waits
        assert blocked.status_code == 429
        assert auth.login("rm_b").status_code == 302  # another username is not blocked

    def test_per_address(self, client, auth, world):
        names = ["u1", "u2", "u3", "u4", "u5", "u6"]
        for name in names:
            assert auth.login(name, "wrong-password-123").status_code == 200
        assert auth.login("rm_a").status_code == 429
        other = client.post("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"},
                            data={"username": "rm_a", "password": TEST_PASSWORD, "csrf_token": csrf_token(client)})
        assert other.status_code == 302
