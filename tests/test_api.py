"""The JSON API base: tokens, error shape, envelope, OpenAPI document."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import bearer


def test_no_token_is_401_json(client, world):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_session_cookie_does_not_authenticate_the_api(client, auth, world):
    auth.login("admin")
    assert client.get("/api/v1/me").status_code == 401


def test_me(client, world, token_for):
    body = client.get("/api/v1/me", headers=bearer(token_for("rm_a"))).get_json()
    assert body["username"] == "rm_a" and body["role"] == "rm"
    assert body["manager"]["employee_no"] == "RMA1" and body["manager"]["team"] == "TEAMA"
    assert body["manager"]["supervisor"] == "SUPA"


def test_tokens_are_stored_hashed_and_revocable(client, world, token_for):
    from models import ApiToken, User, db
    from portal.operations.users import revoke_api_tokens

    token = token_for("rm_a")
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored[0]) == 64
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    revoke_api_tokens(db.session.scalar(select(User).where(User.username == "rm_a")))
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_deactivated_users_token_stops_working(client, world, token_for):
    from models import User, db
    from portal.operations.users import set_user_active

    token = token_for("rm_a")
    set_user_active(db.session.scalar(select(User).where(User.username == "rm_a")), False)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_managers_list_and_team_filter(client, world, token_for):
    body = client.get("/api/v1/managers?team=TEAMB", headers=bearer(token_for("admin"))).get_json()
    assert body["total"] == 3 and body["page"] == 1
    item = next(i for i in body["items"] if i["employee_no"] == "RMB2")
    assert item == {"employee_no": "RMB2", "name": item["name"], "level": "mid", "level_since": "2022-01-01",
                    "team": "TEAMB", "supervisor": "SUPB", "status": "active"}
    unknown = client.get("/api/v1/managers?team=NOPE", headers=bearer(token_for("admin")))
    assert unknown.status_code == 400 and unknown.get_json()["error"]["field"] == "team"


def test_clients_envelope_and_paging(client, world, token_for):
    first = client.get("/api/v1/clients?per_page=4", headers=bearer(token_for("admin"))).get_json()
    assert set(first) == {"items", "page", "per_page", "total"}
    assert first["total"] == 6 and len(first["items"]) == 4 and first["per_page"] == 4
    second = client.get("/api/v1/clients?per_page=4&page=2", headers=bearer(token_for("admin"))).get_json()
    assert len(second["items"]) == 2
    numbers = [i["client_no"] for i in first["items"] + second["items"]]
    assert len(set(numbers)) == 6
    for item in first["items"]:
        assert set(item) >= {"client_no", "name", "manager", "id_number_masked"}
        assert "*" in item["id_number_masked"]
    by_manager = client.get("/api/v1/clients?manager=RMA1", headers=bearer(token_for("admin"))).get_json()
    assert sorted(i["client_no"] for i in by_manager["items"]) == ["CA0001", "CA0002"]


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=0", "per_page=101", "page=-1"])
def test_bad_paging_is_400(client, world, token_for, query):
    response = client.get(f"/api/v1/clients?{query}", headers=bearer(token_for("admin")))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid"


def test_unknown_client_and_wrong_method(client, world, token_for):
    token = token_for("admin")
    missing = client.get("/api/v1/clients/NOPE", headers=bearer(token))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/clients/CA0001", headers=bearer(token))
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"
    nowhere = client.get("/api/v1/nothing-here", headers=bearer(token))
    assert nowhere.status_code == 404 and "error" in nowhere.get_json()


def test_client_detail(client, world, token_for):
    body = client.get("/api/v1/clients/CA0001", headers=bearer(token_for("sup_a"))).get_json()
    assert body["client_no"] == "CA0001" and body["manager"] == "RMA1"
    assert body["branch"] and body["birth_date"] == "1980-05-17"


def test_openapi_is_public_and_lists_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "{" + arg + "}").replace(f"<int:{arg}>", "{" + arg + "}")
        assert path in spec["paths"], f"{path} missing from the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path} missing from the OpenAPI document"
