"""Hypothesis-driven bad input: every form, page and API route of the foundation answers without a 5xx.

Generated text (unicode, NUL, right-to-left marks, astral characters), very long strings, empty strings,
numbers and missing fields are posted with a valid CSRF token; query strings, paths and headers are
generated for the pages and the API. Whatever is refused leaves the database as it was.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.helpers import TEST_PASSWORD, Auth, csrf_token

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

ROLES = ("client", "rm", "supervisor", "compliance", "admin")
EDGE_CASES = [
    "", " ", "\x00", "a\x00b", "0", "-1", "1.5", "99999999999999999999", "1e309", "NaN", "null", "[]", "{}",
    "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "\\", "../../etc/passwd", "２０２４", "９",
    "9999-12-31", "0001-01-01", "2024-02-30", "𠀀𠀁", "\u202eRMA1", "ＲＭＡ１", "\ud7ff", "\t\n", "😀" * 30,
]
ANY_TEXT = st.text(max_size=60)
LONG_TEXT = st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=4), st.integers(60, 2500))
NUMBERS = st.one_of(st.integers(), st.floats()).map(str)
EDGE = st.sampled_from(EDGE_CASES)


def value(*realistic: str):
    """Any text, a very long one, a number, an edge case or (so deeper paths run too) a realistic value."""
    options = [ANY_TEXT, LONG_TEXT, NUMBERS, EDGE]
    if realistic:
        options.append(st.sampled_from(realistic))
    return st.one_of(*options)


def form(**fields):
    """A form body in which every field may be missing."""
    return st.fixed_dictionaries({}, optional=fields)


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80)


# --- helpers ----------------------------------------------------------------------------------------

def count(model) -> int:
    from models import db

    db.session.rollback()  # see what is committed, nothing a failed request left behind
    return db.session.scalar(select(func.count()).select_from(model))


def assert_no_server_error(response, what):
    assert response.status_code < 500, f"{what} → {response.status_code}"


CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"} | {"\x7f"}


def assert_listed_or_refused(response, params):
    """A list page answers 200, or 400 when the query carries control characters (refused up front)."""
    text = params if isinstance(params, str) else " ".join(f"{k} {v}" for k, v in params.items())
    from urllib.parse import unquote

    if response.status_code == 400:
        assert any(ch in CONTROL for ch in unquote(text)), f"400 for {params!r} without a control character"
    else:
        assert response.status_code == 200


def assert_local_redirect(response):
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        parts = urlsplit(location)
        assert parts.netloc in ("", "localhost"), f"redirect leaves the site: {location!r}"
        assert not location.startswith("//"), location


def assert_api_answer(response, what):
    assert_no_server_error(response, what)
    if response.status_code >= 400 and response.request.method != "HEAD":
        assert response.is_json, f"{what} → {response.status_code} is not JSON: {response.content_type}"
        body = response.get_json()
        assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
        assert isinstance(body["error"].get("code"), str) and body["error"]["code"], body
        assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body


class Session:
    """A signed-in browser with its CSRF token."""

    def __init__(self, app, username: str):
        self.client = app.test_client()
        assert Auth(self.client).login(username).status_code == 302
        self.token = csrf_token(self.client, "/")

    def post(self, path: str, data: dict):
        return self.client.post(path, data={**data, "csrf_token": self.token})

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


@pytest.fixture
def admin(app, world, make):
    from models import db

    make.manager(world["a"]["team"], employee_no="E70001")  # a staff record without a login
    db.session.commit()
    return Session(app, "admin")


@pytest.fixture
def supervisor(app, world):
    return Session(app, "sup_a")


@pytest.fixture
def manager(app, world):
    return Session(app, "rm_a")


# --- sign-in, language, sign-out ---------------------------------------------------------------------

LOGIN_FORM = form(username=value("rm_a", "admin", "RM_A"), password=value(TEST_PASSWORD),
                  next=value("/book", "//evil.example", "https://evil.example/", "/\\evil", "javascript:alert(1)"))


@FUZZ
@given(data=LOGIN_FORM)
@example(data={"username": "rm_a\x00", "password": TEST_PASSWORD})
@example(data={"username": "\x00", "password": "\x00"})
@example(data={"username": "rm_a", "password": TEST_PASSWORD, "next": "//evil.example/x"})
@example(data={"username": "rm_a", "password": TEST_PASSWORD, "next": "/\x00"})
@example(data={"username": "a" * 5000, "password": "b" * 5000})
@example(data={})
def test_fuzz_login(app, world, data):
    from models import User

    users_before = count(User)
    browser = app.test_client()
    token = csrf_token(browser, "/login")
    response = browser.post("/login", data={**data, "csrf_token": token})
    assert_no_server_error(response, f"POST /login {data!r}")
    assert_local_redirect(response)
    assert count(User) == users_before
    if response.status_code == 302:  # signed in: only with the right password
        assert data.get("password") == TEST_PASSWORD
        assert browser.get("/").status_code == 200


LANGUAGE_FORM = form(language=value("zh_CN", "en", "fr"), next=value("/book", "//evil.example", "http://x.y/"))


@FUZZ
@given(data=LANGUAGE_FORM, signed_in=st.booleans())
@example(data={"language": "en", "next": "\x00"}, signed_in=True)
@example(data={"language": "en", "next": "/\t/evil.example"}, signed_in=False)
@example(data={"language": "xx" * 3000}, signed_in=True)
def test_fuzz_language(app, world, data, signed_in):
    from models import User, db

    browser = app.test_client()
    if signed_in:
        Auth(browser).login("rm_a")
    token = csrf_token(browser, "/" if signed_in else "/login")
    response = browser.post("/language", data={**data, "csrf_token": token})
    assert_no_server_error(response, f"POST /language {data!r}")
    assert_local_redirect(response)
    db.session.rollback()
    stored = db.session.scalar(select(User.preferred_language).where(User.username == "rm_a"))
    assert stored in (None, "zh_CN", "en")


@FUZZ
@given(extra=form(next=value("/book"), csrf_token=value()), valid_token=st.booleans())
def test_fuzz_logout(app, world, extra, valid_token):
    browser = app.test_client()
    Auth(browser).login("rm_a")
    data = dict(extra)
    if valid_token:
        data["csrf_token"] = csrf_token(browser, "/")
    response = browser.post("/logout", data=data)
    assert_no_server_error(response, f"POST /logout {data!r}")
    assert_local_redirect(response)
    signed_out = browser.get("/book").status_code == 302
    assert signed_out == (valid_token and response.status_code == 302), "only a valid sign-out signs out"


# --- administration forms -----------------------------------------------------------------------------

USER_FORM = form(
    username=value("new.user", "rm_a", "x"), display_name=value("新用户"), role=value(*ROLES, "root"),
    client_no=value("CA0002", "CA0001", "CZ0404"), employee_no=value("E70001", "RMA1", "E0404"),
    preferred_language=value("zh_CN", "en", ""), password=value("a-long-enough-passphrase"),
    confirm=value("a-long-enough-passphrase"),
)


def user_example(**fields) -> dict:
    """A complete, valid user form but for the fields given."""
    return {"username": "new.user", "display_name": "新用户", "role": "admin", "client_no": "", "employee_no": "",
            "preferred_language": "", "password": "a-long-enough-passphrase",
            "confirm": "a-long-enough-passphrase", **fields}


@FUZZ
@given(data=USER_FORM)
@example(data=user_example(username="nul\x00user"))
@example(data=user_example(username="nul.display", display_name="\x00"))
@example(data=user_example(username="nul.client", role="client", client_no="CA\x00"))
@example(data=user_example(username="nul.employee", role="rm", employee_no="E\x00"))
@example(data=user_example(username="nul.password", password="p\x00" * 10, confirm="p\x00" * 10))
@example(data=user_example(username="new.rm", role="rm", employee_no="E70001"))
def test_fuzz_create_user(admin, data):
    from models import AuditEntry, User, db

    users_before, audit_before = count(User), count(AuditEntry)
    response = admin.post("/admin/users/new", data)
    assert_no_server_error(response, f"POST /admin/users/new {data!r}")
    if response.status_code == 302:
        assert count(User) == users_before + 1
        created = db.session.scalar(select(User).order_by(User.id.desc()).limit(1))
        assert created.username == data["username"].strip().lower()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "user.create", AuditEntry.object_id == created.username)) == 1
    else:
        assert response.status_code in (200, 400)
        assert count(User) == users_before, "a rejected login was half-saved"
        assert count(AuditEntry) <= audit_before + 1  # at most a logged refusal, never a user.create


TEAM_FORM = form(code=value("TEAMC", "TEAMA", "t1"), name=value("新团队"), supervisor=value("E70001", "SUPA", "E0404"))


@FUZZ
@given(data=TEAM_FORM)
@example(data={"code": "T\x00", "name": "x"})
@example(data={"code": "TEAMN", "name": "x\x00"})
@example(data={"code": "TEAMS", "name": "x", "supervisor": "E\x00"})
@example(data={"code": "ＴＥＡＭ", "name": "全角"})
def test_fuzz_create_team(admin, data):
    from models import Team

    before = count(Team)
    response = admin.post("/admin/teams", data)
    assert_no_server_error(response, f"POST /admin/teams {data!r}")
    assert count(Team) == before + (1 if response.status_code == 302 else 0)


MANAGER_FORM = form(
    employee_no=value("E90001", "RMA1"), name=value("赵六"), level=value("junior", "mid", "senior", "principal"),
    level_since=value("2023-01-01", "2019-01-01", "2999-01-01"), hire_date=value("2020-06-01", "2999-01-01"),
    team=value("TEAMA", "TEAMB", "", "NOPE"),
)


@FUZZ
@given(data=MANAGER_FORM)
@example(data={"employee_no": "E\x00", "name": "x", "level": "mid", "level_since": "2023-01-01",
               "hire_date": "2020-01-01", "team": ""})
@example(data={"employee_no": "E90002", "name": "x\x00", "level": "mid", "level_since": "2023-01-01",
               "hire_date": "2020-01-01", "team": ""})
@example(data={"employee_no": "E90003", "name": "x", "level": "mid", "level_since": "0001-01-01",
               "hire_date": "0001-01-01", "team": "TEAMA"})
@example(data={"employee_no": "E90004", "name": "x", "level": "mid", "level_since": "99999-01-01",
               "hire_date": "2020-01-01", "team": ""})
def test_fuzz_create_manager(admin, data):
    from models import Manager

    before = count(Manager)
    response = admin.post("/admin/managers/new", data)
    assert_no_server_error(response, f"POST /admin/managers/new {data!r}")
    assert count(Manager) == before + (1 if response.status_code == 302 else 0)


@FUZZ
@given(employee_no=value("RMA1", "RMB2", "SUPA"), data=form(team=value("TEAMA", "TEAMB", "NOPE")))
@example(employee_no="RMA1\x00", data={"team": "TEAMB"})
@example(employee_no="RMA1", data={"team": "TEAMB\x00"})
@example(employee_no="a/b", data={"team": "TEAMB"})
def test_fuzz_move_manager(admin, employee_no, data):
    from models import AuditEntry, Manager, db

    db.session.rollback()
    teams_before = dict(db.session.execute(select(Manager.employee_no, Manager.team_id)).all())
    moves_before = count(AuditEntry.__table__.select().where(AuditEntry.action == "manager.move").subquery())
    response = admin.post(f"/admin/managers/{quote(employee_no, safe='')}/team", data)
    assert_no_server_error(response, f"POST /admin/managers/{employee_no!r}/team {data!r}")
    db.session.rollback()
    teams_after = dict(db.session.execute(select(Manager.employee_no, Manager.team_id)).all())
    changed = {no for no in teams_after if teams_after[no] != teams_before.get(no)}
    moves_after = count(AuditEntry.__table__.select().where(AuditEntry.action == "manager.move").subquery())
    assert moves_after - moves_before == len(changed), "every move is audited, and only moves are"
    assert changed <= {employee_no}


@FUZZ
@given(client_no=value("CA0001", "CA0003", "CB0001"),
       data=form(to_manager=value("RMA1", "RMA2", "RMB1", "SUPA"), reason=value("平衡工作量")))
@example(client_no="CA0001\x00", data={"to_manager": "RMA2"})
@example(client_no="CA0001", data={"to_manager": "RMA2\x00"})
@example(client_no="CA0001", data={"to_manager": "RMA2", "reason": "理由\x00"})
@example(client_no="CA0001", data={"to_manager": "RMA2", "reason": "理" * 5000})
def test_fuzz_reassign(supervisor, client_no, data):
    from models import Client, ClientAssignment, Manager, Team, db

    history_before = count(ClientAssignment)
    response = supervisor.post(f"/clients/{quote(client_no, safe='')}/reassign", data)
    assert_no_server_error(response, f"POST /clients/{client_no!r}/reassign {data!r}")
    history_after = count(ClientAssignment)
    assert history_after == history_before + (1 if response.status_code == 302 else 0)
    # Whatever happened, team A's clients stayed in team A and team B's were not touched.
    rows = db.session.execute(select(Client.client_no, Team.code).join(Manager, Client.manager_id == Manager.id)
                              .join(Team, Manager.team_id == Team.id)).all()
    for number, team in rows:
        assert team == ("TEAMA" if number.startswith("CA") else "TEAMB"), (number, team)


# --- GET pages with generated query strings -------------------------------------------------------

def query(*keys: str, realistic: dict | None = None):
    realistic = realistic or {}
    fields = {key: value(*realistic.get(key, ())) for key in keys}
    fields["page"] = st.one_of(value("1", "2", "0", "-5"), st.integers().map(str))
    return st.one_of(st.fixed_dictionaries({}, optional=fields), ANY_TEXT)


BOOK_QUERY = query("q", "sort", "dir", realistic={"sort": ("name", "client_no", "opened_on", "branch"),
                                                   "dir": ("asc", "desc"), "q": ("张", "CA", "zhang")})


@FUZZ
@given(params=BOOK_QUERY)
@example(params={"page": "99999999999999999999"})
@example(params={"page": "9223372036854775807"})
@example(params={"page": "-99999999999999999999"})
@example(params={"q": "\x00"})
@example(params={"q": "%_\\", "sort": "name", "dir": "desc"})
@example(params="page=%FF%FE&q=%C0%80")
def test_fuzz_book(manager, params):
    response = manager.get("/book", query_string=params)
    assert_no_server_error(response, f"GET /book {params!r}")
    assert_listed_or_refused(response, params)
    page = response.get_data(as_text=True)
    assert "CB0001" not in page and "CA0003" not in page  # never someone else's clients


AUDIT_QUERY = query("actor", "action", "object_type", "object_id", "outcome", "from", "to",
                    realistic={"actor": ("admin",), "action": ("user.", "auth"), "outcome": ("ok", "denied", "failed"),
                               "from": ("2024-01-01", "0001-01-01"), "to": ("2030-12-31", "9999-12-31")})


@FUZZ
@given(params=AUDIT_QUERY)
@example(params={"to": "9999-12-31"})
@example(params={"from": "0001-01-01", "to": "0001-01-01"})
@example(params={"actor": "\x00"})
@example(params={"action": "\x00"})
@example(params={"page": "99999999999999999999"})
def test_fuzz_audit_log(admin, params):
    response = admin.get("/audit", query_string=params)
    assert_no_server_error(response, f"GET /audit {params!r}")
    assert_listed_or_refused(response, params)


ADMIN_LIST_QUERY = query("role", "q", "team", realistic={"role": ROLES, "team": ("TEAMA", "TEAMB"),
                                                         "q": ("rm", "RMA", "经理")})


@FUZZ
@given(path=st.sampled_from(["/admin/users", "/admin/managers", "/admin/teams"]), params=ADMIN_LIST_QUERY)
@example(path="/admin/users", params={"q": "\x00"})
@example(path="/admin/managers", params={"q": "\x00"})
@example(path="/admin/managers", params={"team": "\x00"})
@example(path="/admin/users", params={"page": "99999999999999999999"})
@example(path="/admin/managers", params={"page": "99999999999999999999"})
def test_fuzz_admin_lists(admin, path, params):
    response = admin.get(path, query_string=params)
    assert_no_server_error(response, f"GET {path} {params!r}")
    assert_listed_or_refused(response, params)


@FUZZ
@given(client_no=value("CA0001", "CB0001"), employee_no=value("RMA1", "RMB1"))
@example(client_no="\x00", employee_no="\x00")
def test_fuzz_record_pages(supervisor, client_no, employee_no):
    for path in (f"/clients/{quote(client_no, safe='')}", f"/clients/{quote(client_no, safe='')}/reassign",
                 f"/managers/{quote(employee_no, safe='')}/book"):
        response = supervisor.get(path)
        assert_no_server_error(response, f"GET {path}")
        refused = response.status_code == 400 and any(ch in CONTROL for ch in client_no + employee_no)
        assert refused or response.status_code in (200, 308, 403, 404), path


# --- the JSON API -----------------------------------------------------------------------------------

@pytest.fixture
def tokens(world, token_for):
    return {name: token_for(name) for name in ("admin", "compliance", "sup_a", "rm_a", "client_a")}


AUTH_KIND = st.sampled_from(["admin", "compliance", "sup_a", "rm_a", "client_a", "none", "garbage", "scheme"])
API_HEADERS = st.fixed_dictionaries({}, optional={
    "Accept": st.one_of(HEADER_TEXT, st.sampled_from(["application/json", "text/html", "*/*"])),
    "Accept-Language": st.one_of(HEADER_TEXT, st.sampled_from(["en", "zh-CN", "de;q=0.1"])),
    "Cookie": HEADER_TEXT,
    "X-Forwarded-For": HEADER_TEXT,
    "Content-Type": HEADER_TEXT,
})
API_QUERY = query("team", "manager", "per_page", "q",
                  realistic={"team": ("TEAMA", "teamb", "NOPE"), "manager": ("RMA1", "RMB1", "NOPE"),
                             "per_page": ("1", "100", "101", "0")})
API_PATH = st.one_of(
    st.sampled_from(["/api/v1/me", "/api/v1/managers", "/api/v1/clients", "/api/v1/clients/CA0001",
                     "/api/v1/clients/CB0001", "/api/v1/nothing", "/api/v1/", "/api/v1/clients/"]),
    value("CA0001", "CA0003", "CB0002").map(lambda no: f"/api/v1/clients/{quote(no, safe='')}"),
    value().map(lambda part: f"/api/v1/{quote(part, safe='/')}"),
)
METHOD = st.sampled_from(["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])


def authorization(kind: str, tokens: dict, garbage: str) -> dict:
    if kind == "none":
        return {}
    if kind == "garbage":
        return {"Authorization": f"Bearer {garbage}"}
    if kind == "scheme":
        return {"Authorization": garbage}
    return {"Authorization": f"Bearer {tokens[kind]}"}


@FUZZ
@given(method=METHOD, path=API_PATH, params=API_QUERY, headers=API_HEADERS, kind=AUTH_KIND, garbage=HEADER_TEXT)
@example(method="GET", path="/api/v1/clients/CA0001%00", params={}, headers={}, kind="admin", garbage="")
@example(method="GET", path="/api/v1/managers", params={"team": "TEAM\x00"}, headers={}, kind="admin", garbage="")
@example(method="GET", path="/api/v1/clients", params={"manager": "RMA1\x00"}, headers={}, kind="admin",
         garbage="")
@example(method="GET", path="/api/v1/clients", params={"q": "\x00"}, headers={}, kind="rm_a", garbage="")
@example(method="GET", path="/api/v1/clients", params={"page": "1000000", "per_page": "100"}, headers={},
         kind="admin", garbage="")
@example(method="GET", path="/api/v1/managers", params={"page": "١"}, headers={}, kind="admin", garbage="")
@example(method="POST", path="/api/v1/me", params={}, headers={}, kind="admin", garbage="")
@example(method="GET", path="/api/v1/me", params={}, headers={}, kind="scheme", garbage="Bearer")
def test_fuzz_api(app, tokens, method, path, params, headers, kind, garbage):
    client = app.test_client()
    response = client.open(path, method=method, query_string=params,
                           headers={**headers, **authorization(kind, tokens, garbage)})
    what = f"{method} {path} {params!r} as {kind}"
    assert_api_answer(response, what)
    if kind in ("none", "garbage", "scheme") and path != "/api/v1/openapi.json":
        assert not 200 <= response.status_code < 300, f"{what} answered {response.status_code} without a valid token"
    if response.status_code == 200 and method == "GET" and path in ("/api/v1/managers", "/api/v1/clients"):
        body = response.get_json()
        assert set(body) == {"items", "page", "per_page", "total"}, body
        assert 1 <= body["per_page"] <= 100 and body["page"] >= 1 and body["total"] >= 0
        assert len(body["items"]) <= body["per_page"]
        if path == "/api/v1/clients" and kind == "rm_a":
            assert {item["manager"] for item in body["items"]} <= {"RMA1"}
        if path == "/api/v1/clients" and kind == "client_a":
            assert [item["client_no"] for item in body["items"]] in ([], ["CA0001"])
