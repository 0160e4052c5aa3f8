"""Client self-activation at /activate (details on file) and /activate/code (a code printed by the manager)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from models import AuditEntry, Client, LoginToken, User, db, utcnow
from portal.auth.loaders import hash_token
from tests.helpers import client_record, csrf_token

NEW_PASSWORD = "a-fresh-client-secret"
MISMATCH = ("These details do not open an account", "这些信息无法开通账户")


@pytest.fixture
def app_overrides():
    return {"LOGIN_LIMIT_PER_USERNAME": "1000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute"}


def activate(client, client_no, id_number, mobile, password=NEW_PASSWORD, confirm=None, token=None):
    if token is None:
        client.delete_cookie("portal_session")  # a fresh browser each time
        token = csrf_token(client, "/activate")
    return client.post("/activate", data={"client_no": client_no, "id_number": id_number, "mobile": mobile,
                                          "password": password, "confirm": confirm or password, "csrf_token": token})


def activate_with_code(client, client_no, id_number, code, password=NEW_PASSWORD):
    client.delete_cookie("portal_session")
    token = csrf_token(client, "/activate/code")
    return client.post("/activate/code", data={"client_no": client_no, "id_number": id_number, "code": code,
                                               "password": password, "confirm": password, "csrf_token": token})


def audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def says(response, texts) -> bool:
    body = response.get_data(as_text=True)
    return any(text in body for text in texts)


def login_of(client_no):
    db.session.expire_all()
    return db.session.scalar(select(User).join(Client, User.client_id == Client.id).where(Client.client_no == client_no))


def test_a_client_activates_with_the_details_on_file_and_is_signed_in(client, auth, world):
    record = client_record("CA0002")
    response = activate(client, " ca0002 ", record.id_number.lower(), "+86 138-0013-8000")
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/me").status_code == 200
    user = login_of("CA0002")
    assert user.username == "ca0002" and user.role == "client" and user.display_name == record.name
    ok = audit("client.activate")[-1]
    assert ok.outcome == "ok" and ok.object_id == "CA0002"
    # The client number is the login name from then on, typed in any case.
    auth.logout()
    assert auth.login("CA0002", NEW_PASSWORD).status_code == 302
    assert client.get("/me").status_code == 200


def test_the_activation_page_links_from_sign_in_and_speaks_both_languages(client, world):
    assert 'href="/activate"' in client.get("/login").get_data(as_text=True)
    zh = client.get("/activate", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.get("/activate", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "开通账户" in zh and "Activate your account" in en
    assert 'name="viewport"' in en and "col-12" in en  # one column on a phone


def _measure(client, monkeypatch, data):
    """One activation POST: its response, SQL statements, constant-time comparisons and password hashes."""
    import portal.operations.signin as signin
    import portal.operations.users as users

    counts = {"compare": 0, "hash": 0, "sql": []}
    real_same, real_hash = signin.same_secret, users.hash_password

    def counting_same(a, b):
        counts["compare"] += 1
        return real_same(a, b)

    def counting_hash(password):
        counts["hash"] += 1
        return real_hash(password)

    client.delete_cookie("portal_session")
    token = csrf_token(client, "/activate")

    def seen(conn, cursor, statement, parameters, context, executemany):
        counts["sql"].append(re.sub(r"\s+", " ", statement))

    with monkeypatch.context() as patch:
        patch.setattr(signin, "same_secret", counting_same)
        patch.setattr(users, "hash_password", counting_hash)
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            response = activate(client, *data, token=token)
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    return response, counts


@pytest.mark.commits  # compares the SQL statements each attempt sends: the test's savepoints would show in them
def test_each_wrong_part_gets_the_same_answer_after_the_same_work(client, world, monkeypatch):
    record = client_record("CA0002")
    right = ("CA0002", record.id_number, record.phone)
    wrong = {
        "client number": ("CX9999", record.id_number, record.phone),
        "ID number": ("CA0002", "110105198005999999", record.phone),
        "mobile": ("CA0002", record.id_number, "13900000000"),
        "all three": ("CZ0000", "000000000000000000", "13000000000"),
    }
    results = {name: _measure(client, monkeypatch, data) for name, data in wrong.items()}
    strip = lambda r: r.get_data(as_text=True).split("<main", 1)[1].split('name="csrf_token"')[0]  # noqa: E731
    bodies = {name: strip(response).replace(data[0], "") for (name, (response, _)), data
              in zip(results.items(), wrong.values())}
    assert len(set(bodies.values())) == 1, "the message differs with the part that was wrong"
    assert all(response.status_code == 200 and says(response, MISMATCH) for response, _ in results.values()), \
        {name: (r.status_code, strip(r)[-600:]) for name, (r, _) in results.items()}
    work = {name: (c["compare"], c["hash"], tuple(c["sql"])) for name, (_, c) in results.items()}
    assert len(set(work.values())) == 1, f"the work differs with the part that was wrong: {work}"
    compares, hashes, statements = next(iter(work.values()))
    assert compares == 3 and hashes == 0 and any("FROM clients" in s for s in statements)
    assert login_of("CA0002") is None
    failed = [row for row in audit("client.activate") if row.outcome == "failed"]
    assert len(failed) == 4 and {row.after["reason"] for row in failed} == {"mismatch"}
    # The right triple does the same comparisons, then hashes the new password once.
    response, counts = _measure(client, monkeypatch, right)
    assert response.status_code == 302 and counts["compare"] == 3 and counts["hash"] == 1


def test_a_second_activation_of_the_same_client_is_refused(client, world):
    record = client_record("CA0002")
    assert activate(client, "CA0002", record.id_number, record.phone).status_code == 302
    again = activate(client, "CA0002", record.id_number, record.phone, password="another-password-42")
    assert again.status_code == 200 and says(again, ("already has a login", "已有登录账号"))
    assert audit("client.activate")[-1].after["reason"] == "already_activated"
    # A client who had a login before (client_a) is refused the same way.
    first = client_record("CA0001")
    assert says(activate(client, "CA0001", first.id_number, first.phone), ("already has a login", "已有登录账号"))


def test_a_closed_account_is_refused(client, world):
    record = client_record("CA0002")
    record.closed_on = date(2026, 1, 5)
    db.session.commit()
    response = activate(client, "CA0002", record.id_number, record.phone)
    assert response.status_code == 200 and says(response, ("is closed", "已销户"))
    assert login_of("CA0002") is None
    assert audit("client.activate")[-1].after["reason"] == "closed"


def test_the_new_password_follows_the_policy_and_the_form_checks_the_repeat(client, world):
    record = client_record("CA0002")
    short = activate(client, "CA0002", record.id_number, record.phone, password="short")
    assert short.status_code == 200 and login_of("CA0002") is None
    assert "at least 12" in short.get_data(as_text=True) or "至少" in short.get_data(as_text=True)
    mismatch = activate(client, "CA0002", record.id_number, record.phone, confirm="something-else-entirely")
    assert mismatch.status_code == 200 and login_of("CA0002") is None


def test_a_bad_form_gets_messages_not_an_error(client, world):
    token = csrf_token(client, "/activate")
    response = client.post("/activate", data={"client_no": "C" * 300, "id_number": "", "mobile": "x",
                                              "csrf_token": token})
    assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)


def test_activation_is_throttled_per_client_number_and_per_address(app, client, world):
    app.config["LOGIN_LIMIT_PER_USERNAME"] = "3 per minute"
    codes = [activate(client, "CA0002", "110105198005999999", "13800138000").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = audit("client.activate")[-1]
    assert throttled.outcome == "throttled" and throttled.object_id == "CA0002"
    # Another client number from the same address is not held back by that one's limit ...
    assert activate(client, "CA0003", "110105198005999999", "13800138000").status_code == 200
    # ... but the address has its own limit across numbers.
    app.config["LOGIN_LIMIT_PER_USERNAME"] = "1000 per minute"
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "6 per minute"
    codes = [activate(client, f"CQ{n:04d}", "110105198005999999", "13800138000").status_code for n in range(7)]
    assert codes == [200] * 6 + [429]


# --- activation codes printed by the manager ------------------------------------------------------

def print_code(client, auth, username, client_no):
    auth.login(username)
    token = csrf_token(client, f"/clients/{client_no}")
    return client.post(f"/clients/{client_no}/activation-code", data={"csrf_token": token})


def code_on(response) -> str:
    return re.search(r'id="activation-code">([A-Z0-9-]+)<', response.get_data(as_text=True)).group(1)


def test_a_manager_prints_a_one_time_code_for_a_client_of_their_book(client, auth, world):
    record = client_record("CA0002")
    record.phone = None
    db.session.commit()
    detail = (auth.login("rm_a"), client.get("/clients/CA0002"))[1].get_data(as_text=True)
    assert "issue-activation-code" in detail
    printed = print_code(client, auth, "rm_a", "CA0002")
    assert printed.status_code == 200
    code = code_on(printed)
    stored = db.session.scalar(select(LoginToken).where(LoginToken.client_id == record.id))
    assert stored.token_hash == hash_token(code) and stored.purpose == "activation"
    assert timedelta(hours=71) < stored.expires_at - utcnow() <= timedelta(hours=72)
    assert audit("client.activation_code")[-1].actor_username == "rm_a"

    auth.logout()
    response = activate_with_code(client, "CA0002", record.id_number, code.lower().replace("-", " "))
    assert response.status_code == 302 and login_of("CA0002").username == "ca0002"
    # The code works once.
    client.delete_cookie("portal_session")
    login_of("CA0002").client_id = None  # even were the login gone, the spent code opens nothing
    db.session.commit()
    again = activate_with_code(client, "CA0002", record.id_number, code)
    assert again.status_code == 200 and says(again, MISMATCH)


def test_a_code_opens_only_its_own_client_and_only_before_it_expires(client, auth, world):
    record, other = client_record("CA0002"), client_record("CA0003")
    code = code_on(print_code(client, auth, "rm_a", "CA0002"))
    auth.logout()
    assert says(activate_with_code(client, "CA0003", other.id_number, code), MISMATCH)
    assert says(activate_with_code(client, "CA0002", "110105198005999999", code), MISMATCH)
    token = db.session.scalar(select(LoginToken).where(LoginToken.client_id == record.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert says(activate_with_code(client, "CA0002", record.id_number, code), MISMATCH)
    assert login_of("CA0002") is None and login_of("CA0003") is None


def test_printing_a_new_code_voids_the_earlier_one(client, auth, world):
    record = client_record("CA0002")
    first = code_on(print_code(client, auth, "rm_a", "CA0002"))
    second = code_on(print_code(client, auth, "rm_a", "CA0002"))
    auth.logout()
    assert says(activate_with_code(client, "CA0002", record.id_number, first), MISMATCH)
    assert activate_with_code(client, "CA0002", record.id_number, second).status_code == 302


def test_only_the_clients_own_manager_prints_a_code(client, auth, world):
    assert print_code(client, auth, "rm_b", "CA0002").status_code == 404
    assert print_code(client, auth, "sup_a", "CA0002").status_code == 403
    assert print_code(client, auth, "admin", "CA0002").status_code == 403
    assert db.session.scalar(select(LoginToken)) is None


def test_no_code_for_a_client_who_already_has_a_login_or_a_closed_account(client, auth, world):
    response = print_code(client, auth, "rm_a", "CA0001")
    assert response.status_code == 302
    record = client_record("CA0002")
    record.closed_on = date(2026, 1, 5)
    db.session.commit()
    assert print_code(client, auth, "rm_a", "CA0002").status_code == 302
    assert db.session.scalar(select(LoginToken)) is None
