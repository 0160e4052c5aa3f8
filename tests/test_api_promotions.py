"""GET /api/v1/managers/<employee_no>/eligibility: its exact shape, computed now, and who may read it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import PromotionRecommendation, db
from portal.operations import promotions as operations
from tests.helpers import bearer, user
from tests.test_promotions import history, set_level

pytestmark = pytest.mark.language("en")


KEYS = {"employee_no", "level", "recommendation", "target_level", "clauses", "eligible_in_months"}


def test_the_shape_of_a_promotion(client, world, token_for):
    m = world["a"]["rm"]
    set_level(m, "junior", 20)
    history(m, [86, 91])
    db.session.commit()
    response = client.get("/api/v1/managers/RMA1/eligibility", headers=bearer(token_for("admin")))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == KEYS
    assert (body["employee_no"], body["level"], body["recommendation"], body["target_level"]) == (
        "RMA1", "junior", "promote", "mid")
    assert body["eligible_in_months"] is None
    assert all(set(clause) == {"rule", "passed", "observed", "required"} for clause in body["clauses"])
    clauses = {clause["rule"]: clause for clause in body["clauses"]}
    assert clauses["months_in_level"] == {"rule": "months_in_level", "passed": True, "observed": 20,
                                          "required": "≥ 12"}
    assert clauses["each_total"]["observed"] == ["91.00", "86.00"] and clauses["each_total"]["required"] == "≥ 80"
    assert clauses["min_dimension"]["observed"] == 86
    # Computed now: nothing is stored.
    assert db.session.scalar(select(func.count(PromotionRecommendation.id))) == 0


def test_tenure_only_gives_eligible_in_months(client, world, token_for):
    m = world["a"]["rm"]
    set_level(m, "junior", 9)
    history(m, [86, 91], months_back=1)
    db.session.commit()
    body = client.get("/api/v1/managers/RMA1/eligibility", headers=bearer(token_for("rm_a"))).get_json()
    assert (body["recommendation"], body["target_level"], body["eligible_in_months"]) == ("hold", None, 3)
    assert [c["rule"] for c in body["clauses"] if not c["passed"]] == ["months_in_level"]


def test_demotion_and_compliance_flag_shapes(client, world, token_for):
    senior = world["b"]["rm2"]
    set_level(senior, "senior", 48)
    history(senior, [95, 95, 95, 95])
    operations.open_flag(senior, kind="conduct_breach", note="x", by=user("compliance"))
    weak = world["b"]["rm"]
    set_level(weak, "junior", 30)
    history(weak, [40, 45])
    db.session.commit()
    body = client.get("/api/v1/managers/RMB2/eligibility", headers=bearer(token_for("sup_b"))).get_json()
    assert body["recommendation"] == "hold"
    flag = next(c for c in body["clauses"] if c["rule"] == "no_compliance_flag")
    assert flag == {"rule": "no_compliance_flag", "passed": False, "observed": 1, "required": "= 0"}
    floor = client.get("/api/v1/managers/RMB1/eligibility", headers=bearer(token_for("admin"))).get_json()
    assert floor["recommendation"] == "hold"
    assert [c["rule"] for c in floor["clauses"]] == ["demotion_totals", "demotion_floor"]
    assert floor["clauses"][1]["passed"] is False and floor["clauses"][1]["observed"] == "junior"


@pytest.mark.parametrize("login, employee_no, status", [
    ("admin", "RMB1", 200), ("sup_a", "RMA1", 200), ("sup_a", "RMA2", 200), ("rm_a", "RMA1", 200),
    ("sup_a", "RMB1", 404), ("sup_a", "SUPA", 404), ("rm_a", "RMA2", 404), ("rm_a", "RMB1", 404),
    ("compliance", "RMA1", 403), ("client_a", "RMA1", 403), ("admin", "NOBODY", 404),
])
def test_who_may_read(client, world, token_for, login, employee_no, status):
    response = client.get(f"/api/v1/managers/{employee_no}/eligibility", headers=bearer(token_for(login)))
    assert response.status_code == status
    if status != 200:
        assert set(response.get_json()["error"]) >= {"code", "message"}


def test_no_token_is_401(client, world):
    response = client.get("/api/v1/managers/RMA1/eligibility")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_described_in_openapi(client, world):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/managers/{employee_no}/eligibility"]["get"]
    assert set(operation["responses"]) == {"200", "401", "403", "404"}
    schema = document["components"]["schemas"]["Eligibility"]
    assert set(schema["required"]) == KEYS
