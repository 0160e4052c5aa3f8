"""Sign-in without user enumeration or lock-out, the password policy, and changing one's own password."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry, User, db
from portal.rules import passwords
from tests.helpers import TEST_PASSWORD, csrf_token

pytestmark = pytest.mark.language("en")

NEW_PASSWORD = "a quiet harbour at dawn"


def _sign_in(client, username: str, password: str, address: str = "127.0.0.1"):
    client.delete_cookie("portal_session")
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _audit(action: str, outcome: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if outcome:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    return db.session.scalars(stmt.order_by(AuditEntry.id)).all()


# --- the same work for unknown and existing names ----------------------------------------------------

def test_unknown_and_existing_usernames_cost_the_same_hash_computations(client, world, monkeypatch):
    """Finding: an unknown name computed a new scrypt hash on every try (two hashes), an existing one one."""
    from portal.operations import users

    calls = {"generate": 0, "check": 0}
    generate, check = users.generate_password_hash, users.check_password_hash

    def counting_generate(*args, **kwargs):
        calls["generate"] += 1
        return generate(*args, **kwargs)

    def counting_check(*args, **kwargs):
        calls["check"] += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(users, "generate_password_hash", counting_generate)
    monkeypatch.setattr(users, "check_password_hash", counting_check)
    counts = []
    for username in ("no-such-user", "rm_a", "another-unknown", "rm_b"):
        calls.update(generate=0, check=0)
        response = _sign_in(client, username, "wrong-password-123")
        assert response.status_code == 200
        counts.append(dict(calls))
    assert counts == [{"generate": 0, "check": 1}] * 4


def test_the_dummy_hash_is_computed_at_start_up_with_the_configured_method(database_url):
    from portal.operations import users
    from tests.conftest import make_app

    users._DUMMY_HASH.pop("scrypt:2048:8:1", None)
    make_app(database_url, PASSWORD_HASH_METHOD="scrypt:2048:8:1")
    assert users._DUMMY_HASH["scrypt:2048:8:1"].startswith("scrypt:2048:8:1$")


# --- throttles: per (username, address), per address, site-wide ---------------------------------------

class TestThrottles:
    @pytest.fixture
    def app_overrides(self):
        return {"LOGIN_LIMIT_PER_USERNAME": "3 per minute", "LOGIN_LIMIT_PER_ADDRESS": "6 per minute",
                "LOGIN_LIMIT_GLOBAL": "10 per minute"}

    def test_an_attacker_elsewhere_does_not_lock_the_person_out(self, client, world):
        """Finding: five wrong passwords for a username, and the real person's right password got 429."""
        for _ in range(5):
            _sign_in(client, "rm_a", "wrong-password-123", "203.0.113.9")
        assert _sign_in(client, "rm_a", "wrong-password-123", "203.0.113.9").status_code == 429
        assert _sign_in(client, "rm_a", TEST_PASSWORD, "203.0.113.9").status_code == 429  # the guesser waits
        assert _sign_in(client, "rm_a", TEST_PASSWORD, "10.1.2.3").status_code == 302  # the person gets in

    def test_one_address_guessing_many_names_is_stopped(self, client, world):
        for number in range(6):
            assert _sign_in(client, f"name{number}", "wrong-password-123", "203.0.113.7").status_code == 200
        assert _sign_in(client, "rm_a", TEST_PASSWORD, "203.0.113.7").status_code == 429
        assert _sign_in(client, "rm_a", TEST_PASSWORD, "10.1.2.3").status_code == 302

    def test_guessing_spread_over_many_addresses_meets_the_site_wide_limit(self, client, world):
        for number in range(10):
            assert _sign_in(client, "rm_a", "wrong-password-123", f"198.51.100.{number}").status_code == 200
        assert _sign_in(client, "rm_b", TEST_PASSWORD, "198.51.100.200").status_code == 429

    def test_every_throttled_attempt_is_audited_with_the_limit_it_met(self, client, world):
        for _ in range(3):
            _sign_in(client, "rm_a", "wrong-password-123", "203.0.113.9")
        for _ in range(2):
            assert _sign_in(client, "rm_a", "wrong-password-123", "203.0.113.9").status_code == 429
        rows = _audit("auth.sign_in", "throttled")
        assert len(rows) == 2
        assert rows[0].object_id == "rm_a" and rows[0].after == {"limit": "subject_and_address",
                                                                 "address": "203.0.113.9"}
        assert len(_audit("auth.sign_in", "failed")) == 3

    def test_successful_sign_ins_do_not_count(self, client, world):
        for _ in range(8):
            assert _sign_in(client, "rm_a", TEST_PASSWORD).status_code == 302


# --- the password policy -------------------------------------------------------------------------------

@pytest.mark.parametrize("password, username, codes", [
    ("password1234", "rm_a", [passwords.COMMON]),
    ("Qwerty123456", "rm_a", [passwords.COMMON]),
    ("aaaaaaaaaaaa", "rm_a", [passwords.REPETITIVE, passwords.COMMON]),
    ("123456789012", "rm_a", [passwords.SEQUENCE, passwords.COMMON]),
    ("zhangweizhangwei", "zhangwei", [passwords.CONTAINS_USERNAME, passwords.REPETITIVE]),
    (" " * 11 + "a", "rm_a", [passwords.REPETITIVE]),
    ("dragon2026!!", "rm_a", [passwords.COMMON]),
    ("elevenchars", "rm_a", [passwords.TOO_SHORT]),
    ("x" * 129, "rm_a", [passwords.TOO_LONG]),
    ("a quiet harbour at dawn", "rm_a", []),
    ("我的第一只猫叫小白很可爱", "rm_a", []),
])
def test_password_problems(password, username, codes):
    assert passwords.password_problems(password, username) == codes


def test_the_shipped_list_holds_the_100000_most_common_passwords():
    common = passwords.common_passwords()
    assert len(common) >= 100_000
    assert {"123456", "password", "qwerty123456", "iloveyou", "password1234"} <= common


# --- changing one's own password -----------------------------------------------------------------------

def _change(client, current: str, new: str, confirm: str | None = None):
    token = csrf_token(client, "/account/password")
    return client.post("/account/password", data={"csrf_token": token, "current_password": current,
                                                  "new_password": new, "confirm": new if confirm is None else confirm})


@pytest.mark.parametrize("username", ["client_a", "rm_a", "sup_a", "compliance", "admin"])
def test_every_signed_in_user_has_the_page(client, auth, world, username):
    auth.login(username)
    page = client.get("/account/password")
    assert page.status_code == 200 and 'id="change-password"' in page.get_data(as_text=True)
    assert 'href="/account/password"' in client.get("/").get_data(as_text=True)


def test_the_page_needs_a_signed_in_user(client, world):
    assert client.get("/account/password").status_code == 302


def test_changing_the_password_ends_every_other_session(app, client, auth, world):
    other = app.test_client()
    _sign_in(other, "rm_a", TEST_PASSWORD)
    assert other.get("/book").status_code == 200
    auth.login("rm_a")
    response = _change(client, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert "Your password has been changed" in client.get("/account/password").get_data(as_text=True)
    assert client.get("/book").status_code == 200  # this session goes on
    assert other.get("/book").status_code == 302  # the other one has ended
    assert _sign_in(other, "rm_a", TEST_PASSWORD).status_code == 200  # the old password no longer works
    assert _sign_in(other, "rm_a", NEW_PASSWORD).status_code == 302
    row = _audit("user.password_change")[-1]
    assert row.actor_username == "rm_a" and row.outcome == "ok" and NEW_PASSWORD not in str(row.after)


@pytest.mark.parametrize("current, new, confirm, words", [
    ("wrong-password-123", NEW_PASSWORD, None, "The current password is wrong."),
    (TEST_PASSWORD, "password1234", None, "on a list of common or breached passwords"),
    (TEST_PASSWORD, "rm_a-rm_a-rm_a", None, "must not contain the username"),
    (TEST_PASSWORD, "short", None, "at least 12 characters"),
    (TEST_PASSWORD, NEW_PASSWORD, "a quiet harbour at dusk", "The two new passwords differ."),
    (TEST_PASSWORD, TEST_PASSWORD, None, "must differ from the current one"),
])
def test_a_refused_change_says_why_and_changes_nothing(client, auth, world, current, new, confirm, words):
    auth.login("rm_a")
    response = _change(client, current, new, confirm)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "rm_a"))
    db.session.refresh(user)
    from werkzeug.security import check_password_hash

    assert check_password_hash(user.password_hash, TEST_PASSWORD)
    assert client.get("/book").status_code == 200


def test_a_wrong_current_password_is_audited_and_throttled(client, auth, world):
    auth.login("rm_a")
    _change(client, "wrong-password-123", NEW_PASSWORD)
    assert _audit("user.password_change", "failed")[-1].actor_username == "rm_a"


def test_the_page_is_translated(client, auth, world):
    auth.login("rm_a")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    db.session.scalar(select(User).where(User.username == "rm_a")).preferred_language = None
    db.session.commit()
    response = _change(client, TEST_PASSWORD, "password1234")
    body = response.get_data(as_text=True)
    assert "修改密码" in body and "常见或已泄露" in body
