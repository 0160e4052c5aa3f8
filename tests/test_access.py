"""Deny by default: every route declares a policy, and nobody reaches what is not theirs."""
from __future__ import annotations

import pytest

from portal.access import BUILTIN_PUBLIC, PUBLIC, policy_of
from tests.helpers import csrf_token

ROLES = ("client", "rm", "supervisor", "compliance", "admin")
LOGIN_OF_ROLE = {"client": "client_a", "rm": "rm_a", "supervisor": "sup_a", "compliance": "compliance",
                 "admin": "admin"}
# Sample values for URL variables, all belonging to side A of the `world` fixture.
SAMPLE_ARGS = {"client_no": "CA0001", "employee_no": "RMA1", "user_id": "1", "filename": "css/portal.css",
               "screening_id": "1", "n": "1", "assessment_id": "1", "version_id": "1", "application_id": "1",
               "product_id": "1", "record_id": "1", "package_code": "premier", "cycle_id": "1",
               "secret": "not-a-live-secret"}
SAMPLE_ARGS["import_id"] = "1"  # an onboarding import in the history


def test_every_route_declares_a_policy(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules() if policy_of(rule.endpoint) is None]
    assert missing == [], f"routes without an access policy: {missing}"


def test_policies_name_only_known_roles(app):
    for rule in app.url_map.iter_rules():
        policy = policy_of(rule.endpoint)
        if policy != PUBLIC:
            assert policy and set(policy) <= set(ROLES), rule.endpoint


def test_public_routes_are_only_the_expected_ones(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules() if policy_of(rule.endpoint) == PUBLIC}
    assert public == {"auth.login", "auth.language", "home.healthz", "api.openapi_document", "activation.activate",
                      "activation.activate_with_code", "activation.welcome", "activation.reset"} | BUILTIN_PUBLIC


@pytest.mark.own_app  # adds a route
def test_a_route_without_policy_is_refused_for_everyone(app, client, auth, world):
    @app.route("/forgotten-view")
    def forgotten_view():
        return "secret"

    auth.login("admin")
    response = client.get("/forgotten-view")
    assert response.status_code == 403
    assert b"secret" not in response.data


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILTIN_PUBLIC:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", SAMPLE_ARGS[arg]).replace(f"<int:{arg}>", SAMPLE_ARGS[arg])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


@pytest.mark.parametrize("role", ROLES)
def test_roles_outside_a_policy_get_403(app, client, auth, world, token_for, role):
    """Every route × every role the route does not name → 403 (pages and API alike)."""
    token = token_for(LOGIN_OF_ROLE[role])
    auth.login(LOGIN_OF_ROLE[role])
    checked = 0
    for endpoint, method, path in _routes(app):
        policy = policy_of(endpoint)
        if policy == PUBLIC or role in policy:
            continue
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 403, (role, method, path, response.status_code)
        checked += 1
    assert checked > 0 or role == "admin"


def test_anonymous_is_sent_to_sign_in_or_gets_401(app, client, world):
    for endpoint, method, path in _routes(app):
        if policy_of(endpoint) == PUBLIC:
            continue
        response = client.open(path, method=method)
        if path.startswith("/api/"):
            assert response.status_code == 401, path
            assert response.get_json()["error"]["code"] == "unauthorized"
        elif method == "GET":
            assert response.status_code == 302 and "/login" in response.location, path
        else:
            assert response.status_code in (302, 400), path  # redirected, or refused by CSRF first


# Someone else's object: (login, method, path) → must be 403 or 404.
OTHERS = [
    # a manager sees only their own book
    ("rm_a", "GET", "/clients/CB0001"),
    ("rm_a", "GET", "/clients/CA0003"),  # a colleague's client in the same team
    ("rm_a", "GET", "/managers/RMA2/book"),
    ("rm_a", "GET", "/managers/RMB1/book"),
    ("rm_a", "GET", "/api/v1/clients/CB0001"),
    ("rm_a", "GET", "/api/v1/clients/CA0003"),
    # a supervisor sees only their team
    ("sup_a", "GET", "/clients/CB0001"),
    ("sup_a", "GET", "/managers/RMB1/book"),
    ("sup_a", "GET", "/clients/CB0001/reassign"),
    ("sup_a", "POST", "/clients/CB0001/reassign"),
    ("sup_a", "GET", "/api/v1/clients/CB0002"),
    # a client sees only themself
    ("client_a", "GET", "/api/v1/clients/CA0002"),
    ("client_a", "GET", "/api/v1/clients/CB0001"),
    ("client_a", "GET", "/clients/CA0002"),
    ("client_a", "GET", "/managers/RMA1/book"),
    # the client page's tabs are scoped like the page
    ("rm_a", "GET", "/clients/CB0001/tier"),
    ("sup_a", "GET", "/clients/CB0001/package"),
    ("sup_a", "GET", "/clients/CB0001/assignments"),
]


@pytest.mark.parametrize("login,method,path", OTHERS)
def test_someone_elses_object_is_refused(app, client, auth, world, token_for, login, method, path):
    from sqlalchemy import func, select

    from models import AuditEntry, db

    before = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))
    if path.startswith("/api/"):
        response = client.open(path, method=method, headers={"Authorization": f"Bearer {token_for(login)}"})
    else:
        auth.login(login)
        data = {"csrf_token": csrf_token(client, "/"), "to_manager": "RMB2"} if method == "POST" else None
        response = client.open(path, method=method, data=data)
    assert response.status_code in (403, 404), response.status_code
    body = response.get_data(as_text=True)
    assert "CB0001" not in body.replace(path, "") or response.status_code == 403
    after = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))
    assert after == before + 1, "a refused access is written to the audit log"


def test_list_endpoints_are_scoped(client, world, token_for):
    rm = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {token_for('rm_a')}"}).get_json()
    assert sorted(i["client_no"] for i in rm["items"]) == ["CA0001", "CA0002"]
    other_book = client.get("/api/v1/clients?manager=RMB1",
                            headers={"Authorization": f"Bearer {token_for('rm_a')}"}).get_json()
    assert other_book["items"] == [] and other_book["total"] == 0
    sup = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {token_for('sup_a')}"}).get_json()
    assert sorted(i["client_no"] for i in sup["items"]) == ["CA0001", "CA0002", "CA0003"]
    me = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {token_for('client_a')}"}).get_json()
    assert [i["client_no"] for i in me["items"]] == ["CA0001"]
    compliance = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {token_for('compliance')}"})
    assert compliance.get_json()["total"] == 6
    managers = client.get("/api/v1/managers", headers={"Authorization": f"Bearer {token_for('sup_a')}"}).get_json()
    assert sorted(i["employee_no"] for i in managers["items"]) == ["RMA1", "RMA2", "SUPA"]


def test_book_pages_show_only_the_callers_clients(client, auth, world):
    auth.login("sup_a")
    page = client.get("/managers/RMA2/book").get_data(as_text=True)
    assert "CA0003" in page and "CA0001" not in page
    auth.login("compliance")
    assert client.get("/managers/RMB1/book").status_code == 200
    assert client.get("/clients/CB0001").status_code == 200


@pytest.mark.parametrize("login", ["rm_a", "sup_a", "compliance", "admin"])
def test_staff_never_see_a_full_id_number(client, auth, world, login):
    from sqlalchemy import select

    from models import Client, db

    full = db.session.scalar(select(Client.id_number).where(Client.client_no == "CA0001"))
    auth.login(login)
    for path in ("/clients/CA0001", "/managers/RMA1/book"):
        body = client.get(path).get_data(as_text=True)
        assert full not in body
        assert full[:4] + "*" * (len(full) - 8) + full[-4:] in body


def test_the_client_sees_their_own_full_id_number(client, auth, world, token_for):
    from sqlalchemy import select

    from models import Client, db

    full = db.session.scalar(select(Client.id_number).where(Client.client_no == "CA0001"))
    auth.login("client_a")
    assert full in client.get("/me").get_data(as_text=True)
    body = client.get("/api/v1/clients/CA0001", headers={"Authorization": f"Bearer {token_for('client_a')}"})
    assert body.get_json()["id_number"] == full
    staff = client.get("/api/v1/clients/CA0001", headers={"Authorization": f"Bearer {token_for('rm_a')}"})
    assert "id_number" not in staff.get_json() and staff.get_json()["id_number_masked"].startswith(full[:4])
