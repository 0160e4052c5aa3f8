"""GET /api/v1/suitability-matrix: the exact shape, the figures, as-of dates, filters and each role's scope."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.rules.calendar import business_today
from tests.test_matrix import build, give_tier

pytestmark = pytest.mark.language("en")

PATH = "/api/v1/suitability-matrix"
CLASSES = ("conservative", "balanced", "aggressive")


def get(client, token, query=""):
    return client.get(f"{PATH}{query}", headers={"Authorization": f"Bearer {token}"})


def cells(body) -> dict:
    return {(cell["tier"], cell["risk_class"]): (cell["clients"], cell["assets"]) for cell in body["cells"]}


def test_shape_and_figures_for_compliance(client, world, token_for):
    build(world)
    response = get(client, token_for("compliance"))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"as_of", "cells", "no_profile", "total_clients"}
    assert body["as_of"] == business_today().isoformat()
    assert [(c["tier"], c["risk_class"]) for c in body["cells"]] == [(t, r) for t in (1, 2, 3, 4) for r in CLASSES]
    assert all(set(c) == {"tier", "risk_class", "clients", "assets"} for c in body["cells"])
    assert all(isinstance(c["clients"], int) and isinstance(c["assets"], str) for c in body["cells"])
    figures = cells(body)
    assert figures[(1, "aggressive")] == (2, "13000000.10")
    assert figures[(2, "balanced")] == (1, "1500000.25")
    assert figures[(4, "conservative")] == (1, "0.00")
    assert figures[(1, "conservative")] == (0, "0.00")
    assert body["no_profile"] == {"clients": 2, "assets": "200500.50"}
    assert body["total_clients"] == 6
    assert sum(c["clients"] for c in body["cells"]) + body["no_profile"]["clients"] == body["total_clients"]


def test_as_of_a_past_date_uses_the_history(client, world, token_for):
    data = build(world)
    day = data["today"] - timedelta(days=100)
    body = get(client, token_for("admin"), f"?as_of={day.isoformat()}").get_json()
    assert body["as_of"] == day.isoformat()
    figures = {key: value for key, value in cells(body).items() if value[0]}
    assert figures == {(3, "balanced"): (1, "300000.00"), (4, "aggressive"): (1, "0.00"),
                       (4, "conservative"): (2, "0.00")}
    assert body["no_profile"] == {"clients": 2, "assets": "0.00"}
    # a re-tier after the date leaves it unchanged
    give_tier("CA0002", data["today"], 1, "9000000.00")
    from models import db

    db.session.commit()
    assert get(client, token_for("admin"), f"?as_of={day.isoformat()}").get_json() == body
    assert cells(get(client, token_for("admin")).get_json())[(1, "balanced")] == (1, "9000000.00")


@pytest.mark.parametrize("username, total", [("admin", 6), ("compliance", 6), ("sup_a", 3), ("sup_b", 3),
                                             ("rm_a", 2), ("rm2_a", 1)])
def test_each_role_gets_its_scope(client, world, token_for, username, total):
    build(world)
    assert get(client, token_for(username)).get_json()["total_clients"] == total


def test_a_clients_token_is_refused(client, world, token_for):
    response = get(client, token_for("client_a"))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_no_token_is_401(client, world):
    assert client.get(PATH).status_code == 401


def test_filters(client, world, token_for):
    build(world)
    token = token_for("compliance")
    assert get(client, token, "?team=TEAMB").get_json()["total_clients"] == 3
    body = get(client, token, "?manager=RMA2").get_json()
    assert body["total_clients"] == 1 and body["no_profile"] == {"clients": 1, "assets": "200000.00"}
    assert get(client, token, "?team=TEAMA&manager=RMB1").get_json()["total_clients"] == 0
    assert get(client, token_for("sup_a"), "?manager=RMA1").get_json()["total_clients"] == 2
    assert get(client, token_for("rm_a"), "?team=TEAMA").get_json()["total_clients"] == 2  # own team: own book


@pytest.mark.parametrize("query, code, field", [
    ("?as_of=2026-13-01", "invalid_date", "as_of"),
    ("?as_of=tomorrow", "invalid_date", "as_of"),
    ("?team=NOPE", "unknown_team", "team"),
    ("?manager=E404", "unknown_manager", "manager"),
])
def test_bad_input_is_400_with_a_code(client, world, token_for, query, code, field):
    response = get(client, token_for("compliance"), query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["field"] == field and error["message"]


def test_a_future_date_is_400(client, world, token_for):
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    response = get(client, token_for("compliance"), f"?as_of={tomorrow}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "future_date"


@pytest.mark.parametrize("username, query", [("sup_a", "?team=TEAMB"), ("sup_a", "?manager=RMB1"),
                                             ("rm_a", "?manager=RMA2"), ("rm_a", "?team=TEAMB")])
def test_outside_the_callers_scope_is_404(client, world, token_for, username, query):
    from sqlalchemy import func, select

    from models import AuditEntry, db

    before = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))
    response = get(client, token_for(username), query)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    after = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "denied"))
    assert after == before + 1


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/suitability-matrix"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"as_of", "team", "manager"}
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404"}
    schema = spec["components"]["schemas"]["SuitabilityMatrix"]
    assert schema["required"] == ["as_of", "cells", "no_profile", "total_clients"]
