"""The API contract for cycles: create, open, score (with optimistic locking), close, results."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import AuditEntry, Evaluation, EvaluationCycle, Manager, PromotionRecommendation, db
from tests.helpers import bearer

pytestmark = pytest.mark.language("en")

BODY = {"satisfaction": 80, "kpi": 70, "team": 90, "competence": 60, "comment": "稳定"}


@pytest.fixture
def tokens(world, token_for):
    return {name: bearer(token_for(name)) for name in ("admin", "sup_a", "sup_b", "rm_a", "rm2_a", "compliance",
                                                       "client_a")}


def create(client, headers, scope=None, name="2026 Q1", start="2026-01-01", end="2026-03-31"):
    return client.post("/api/v1/cycles", headers=headers,
                       json={"name": name, "start": start, "end": end, "scope": scope or {"team": "TEAMA"}})


def opened_cycle(client, tokens, scope=None, who="sup_a"):
    body = create(client, tokens[who], scope).get_json()
    response = client.post(f"/api/v1/cycles/{body['id']}/open", headers=tokens[who])
    assert response.status_code == 200, response.get_json()
    return body["id"]


def test_create_returns_201_with_the_cycle_in_draft(client, tokens):
    response = create(client, tokens["sup_a"])
    assert response.status_code == 201
    body = response.get_json()
    assert body == {**body, "state": "draft", "name": "2026 Q1", "start": "2026-01-01", "end": "2026-03-31",
                    "scope": {"team": "TEAMA"}}
    assert isinstance(body["id"], int)
    everyone = create(client, tokens["admin"], "all", name="All").get_json()
    assert everyone["scope"] == "all" and everyone["state"] == "draft"


@pytest.mark.parametrize("body, field", [
    ({"name": "Q", "start": "2026-13-01", "end": "2026-03-31", "scope": "all"}, "start"),
    ({"name": "Q", "start": "2026-03-31", "end": "2026-01-01", "scope": "all"}, "end"),
    ({"name": "", "start": "2026-01-01", "end": "2026-03-31", "scope": "all"}, "name"),
    ({"name": "Q", "start": "2026-01-01", "end": "2026-03-31", "scope": "team"}, "scope"),
    ({"name": "Q", "start": "2026-01-01", "end": "2026-03-31", "scope": {"team": "NOPE"}}, "scope"),
    ({"name": 5, "start": "2026-01-01", "end": "2026-03-31", "scope": "all"}, "name"),
])
def test_bad_create_bodies_are_400(client, tokens, body, field):
    response = client.post("/api/v1/cycles", headers=tokens["admin"], json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert db.session.scalar(select(func.count(EvaluationCycle.id))) == 0


def test_not_json_is_400(client, tokens):
    response = client.post("/api/v1/cycles", headers=tokens["admin"], data="x", content_type="text/plain")
    assert response.status_code == 400


def test_who_may_create_what(client, tokens):
    assert create(client, tokens["sup_a"], {"team": "TEAMB"}).status_code == 403
    assert create(client, tokens["sup_a"], "all").status_code == 403
    assert create(client, tokens["rm_a"]).status_code == 403
    assert create(client, tokens["compliance"]).status_code == 403
    assert create(client, tokens["client_a"]).status_code == 403
    assert db.session.scalar(select(func.count(EvaluationCycle.id))) == 0


def test_open_creates_evaluations_and_returns_the_cycle(client, tokens):
    cycle = create(client, tokens["sup_a"]).get_json()
    response = client.post(f"/api/v1/cycles/{cycle['id']}/open", headers=tokens["sup_a"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "open" and body["evaluations"] == 2 and body["weight_set_version"] >= 1
    again = client.post(f"/api/v1/cycles/{cycle['id']}/open", headers=tokens["sup_a"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_draft"


def test_only_admin_and_the_teams_supervisor_open_and_close(client, tokens):
    cycle = create(client, tokens["sup_a"]).get_json()
    assert client.post(f"/api/v1/cycles/{cycle['id']}/open", headers=tokens["sup_b"]).status_code == 404
    assert client.post(f"/api/v1/cycles/{cycle['id']}/open", headers=tokens["rm_a"]).status_code == 403
    everyone = create(client, tokens["admin"], "all", name="All").get_json()
    assert client.post(f"/api/v1/cycles/{everyone['id']}/open", headers=tokens["sup_a"]).status_code == 403
    assert client.post(f"/api/v1/cycles/{cycle['id']}/open", headers=tokens["admin"]).status_code == 200
    overlapping = client.post(f"/api/v1/cycles/{everyone['id']}/open", headers=tokens["admin"])
    assert overlapping.status_code == 409 and overlapping.get_json()["error"]["code"] == "overlapping_cycle"


def test_put_scores_and_returns_total_and_band(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    response = client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"], json=BODY)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == 71.5 and body["band"] == "satisfactory" and body["employee_no"] == "RMA1"
    assert body["scores"] == {"satisfaction": 80, "kpi": 70, "team": 90, "competence": 60}
    assert body["version"] == 2 and body["comment"] == "稳定" and body["scored_by"] == "sup_a"
    assert "satisfaction" in body["derived"] and "kpi" in body["derived"]


@pytest.mark.parametrize("field, value", [("kpi", 101), ("kpi", -1), ("team", 12.5), ("competence", "80"),
                                          ("satisfaction", True), ("satisfaction", None)])
def test_put_refuses_a_score_outside_0_100_or_not_an_integer(client, tokens, field, value):
    cycle_id = opened_cycle(client, tokens)
    response = client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"],
                          json={**BODY, field: value})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert db.session.scalar(select(func.count(Evaluation.id)).where(Evaluation.total.is_not(None))) == 0


def test_put_with_a_stale_version_is_409_with_the_current_values_and_who(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    url = f"/api/v1/cycles/{cycle_id}/evaluations/RMA1"
    version = client.get(url, headers=tokens["admin"]).get_json()["version"]
    assert client.put(url, headers=tokens["sup_a"], json={**BODY, "version": version}).status_code == 200
    response = client.put(url, headers=tokens["admin"], json={**BODY, "kpi": 99, "version": version})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and error["changed_by"] == "sup_a" and error["changed_at"]
    assert error["current"]["scores"]["kpi"] == 70 and error["current"]["version"] == version + 1
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
        ["evaluation.score", "evaluation.score_conflict"])).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_username) for e in entries] == [("evaluation.score", "sup_a"),
                                                               ("evaluation.score_conflict", "admin")]
    assert entries[1].after["typed"]["kpi"] == 99
    on_top = client.put(url, headers=tokens["admin"], json={**BODY, "kpi": 99, "version": version + 1})
    assert on_top.status_code == 200 and on_top.get_json()["scores"]["kpi"] == 99


def test_put_without_a_version_goes_on_top(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    url = f"/api/v1/cycles/{cycle_id}/evaluations/RMA1"
    client.put(url, headers=tokens["sup_a"], json=BODY)
    response = client.put(url, headers=tokens["admin"], json={**BODY, "kpi": 50})
    assert response.status_code == 200 and response.get_json()["version"] == 3


@pytest.mark.parametrize("version", ["1", 1.0, True])
def test_a_bad_version_is_400(client, tokens, version):
    cycle_id = opened_cycle(client, tokens)
    response = client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"],
                          json={**BODY, "version": version})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "version"


def test_who_may_score_whom(client, tokens):
    cycle_id = opened_cycle(client, tokens, "all", who="admin")
    put = lambda who, no: client.put(f"/api/v1/cycles/{cycle_id}/evaluations/{no}",  # noqa: E731
                                     headers=tokens[who], json=BODY).status_code
    assert put("sup_a", "RMA1") == 200
    assert put("sup_a", "RMB1") == 404  # another team's manager
    assert put("sup_a", "SUPA") == 403  # never themself
    assert put("sup_a", "SUPB") == 404
    assert put("rm_a", "RMA1") == 403
    assert put("compliance", "RMA1") == 403
    assert put("admin", "SUPA") == 200  # an administrator scores supervisors
    assert client.put(f"/api/v1/cycles/{cycle_id}/evaluations/NOBODY", headers=tokens["admin"],
                      json=BODY).status_code == 404


def test_close_is_409_naming_the_unscored_then_200(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"], json=BODY)
    refused = client.post(f"/api/v1/cycles/{cycle_id}/close", headers=tokens["sup_a"])
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    rma2 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA2"))
    assert error["code"] == "unscored" and error["unscored"] == [{"employee_no": "RMA2", "name": rma2.name}]
    assert error["unscored_total"] == 1 and "RMA2" in error["message"]
    client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA2", headers=tokens["sup_a"], json=BODY)
    closed = client.post(f"/api/v1/cycles/{cycle_id}/close", headers=tokens["sup_a"])
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert closed.get_json()["recommendations"] == 2
    late = client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"], json=BODY)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "cycle_closed"
    again = client.post(f"/api/v1/cycles/{cycle_id}/close", headers=tokens["sup_a"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_open"


def test_put_in_a_draft_is_404_as_there_is_no_evaluation_yet(client, tokens):
    cycle = create(client, tokens["sup_a"]).get_json()
    response = client.put(f"/api/v1/cycles/{cycle['id']}/evaluations/RMA1", headers=tokens["sup_a"], json=BODY)
    assert response.status_code == 404


def test_results_with_recommendations_and_scoped_to_the_caller(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    for no in ("RMA1", "RMA2"):
        client.put(f"/api/v1/cycles/{cycle_id}/evaluations/{no}", headers=tokens["sup_a"], json=BODY)
    # The manager reads their own only, and sees no scores while the cycle is open.
    own = client.get(f"/api/v1/cycles/{cycle_id}/results", headers=tokens["rm_a"]).get_json()
    assert [i["employee_no"] for i in own["items"]] == ["RMA1"] and own["total"] == 1
    assert own["items"][0]["scores"] is None and own["items"][0]["total"] is None
    assert own["items"][0]["scores_visible"] is False and own["items"][0]["scored"] is True
    client.post(f"/api/v1/cycles/{cycle_id}/close", headers=tokens["sup_a"])
    results = client.get(f"/api/v1/cycles/{cycle_id}/results", headers=tokens["sup_a"]).get_json()
    assert results["cycle"]["state"] == "closed" and results["total"] == 2
    first = results["items"][0]
    assert first["employee_no"] == "RMA1" and first["total"] == 71.5 and first["band"] == "satisfactory"
    stored = db.session.scalar(select(PromotionRecommendation).where(PromotionRecommendation.cycle_id == cycle_id,
                                                                     PromotionRecommendation.manager_id ==
                                                                     db.session.scalar(select(Manager.id).where(
                                                                         Manager.employee_no == "RMA1"))))
    assert first["recommendation"]["recommendation"] == stored.recommendation
    own = client.get(f"/api/v1/cycles/{cycle_id}/results", headers=tokens["rm_a"]).get_json()
    assert own["items"][0]["total"] == 71.5  # visible once closed
    assert client.get(f"/api/v1/cycles/{cycle_id}/results", headers=tokens["compliance"]).get_json()["total"] == 2
    assert client.get(f"/api/v1/cycles/{cycle_id}/results", headers=tokens["sup_b"]).status_code == 404
    assert client.get(f"/api/v1/cycles/{cycle_id}/results", headers=tokens["client_a"]).status_code == 403
    assert client.get(f"/api/v1/cycles/{cycle_id}/evaluations/RMA2", headers=tokens["rm_a"]).status_code == 404


def test_results_paging_and_cycle_list(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    page = client.get(f"/api/v1/cycles/{cycle_id}/results?per_page=1&page=2", headers=tokens["admin"]).get_json()
    assert page["page"] == 2 and page["per_page"] == 1 and page["total"] == 2
    assert [i["employee_no"] for i in page["items"]] == ["RMA2"]
    assert client.get(f"/api/v1/cycles/{cycle_id}/results?per_page=0", headers=tokens["admin"]).status_code == 400
    listed = client.get("/api/v1/cycles", headers=tokens["sup_a"]).get_json()
    assert [c["id"] for c in listed["items"]] == [cycle_id]
    assert client.get("/api/v1/cycles", headers=tokens["sup_b"]).get_json()["total"] == 0
    assert client.get("/api/v1/cycles?state=open", headers=tokens["admin"]).get_json()["total"] == 1
    assert client.get("/api/v1/cycles?state=nope", headers=tokens["admin"]).status_code == 400
    one = client.get(f"/api/v1/cycles/{cycle_id}", headers=tokens["rm_a"]).get_json()
    assert one["evaluations"] == 1 and one["scored"] == 0  # the manager's own only


def test_openapi_documents_the_cycle_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/cycles"])
    assert "put" in spec["paths"]["/api/v1/cycles/{cycle_id}/evaluations/{employee_no}"]
    assert "Evaluation" in spec["components"]["schemas"] and "Cycle" in spec["components"]["schemas"]



JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={k: JSON_VALUES for k in (*BODY, "version")}))
def test_fuzzed_put_bodies_answer_without_a_server_error(client, tokens, body):
    cycle_id = db.session.scalar(select(EvaluationCycle.id)) or opened_cycle(client, tokens)
    response = client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"], json=body)
    assert response.status_code in (200, 400, 409), response.get_json()
    if response.status_code == 400:
        assert response.get_json()["error"]["code"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={"name": JSON_VALUES, "start": JSON_VALUES, "end": JSON_VALUES,
                                               "scope": JSON_VALUES}))
def test_fuzzed_cycle_bodies_answer_without_a_server_error(client, tokens, body):
    response = client.post("/api/v1/cycles", headers=tokens["admin"], json=body)
    assert response.status_code in (201, 400), response.get_json()


@pytest.mark.parametrize("body, field", [
    ({"name": "a\x00b", "start": "2026-01-01", "end": "2026-03-31", "scope": "all"}, "name"),
    ({"name": "Q", "start": "2026-01-01", "end": "2026-03-31", "scope": {"team": "TE\x00AMA"}}, "scope"),
])
def test_control_characters_in_json_text_are_400_not_a_database_error(client, tokens, body, field):
    response = client.post("/api/v1/cycles", headers=tokens["admin"], json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_a_nul_in_a_comment_is_400(client, tokens):
    cycle_id = opened_cycle(client, tokens)
    response = client.put(f"/api/v1/cycles/{cycle_id}/evaluations/RMA1", headers=tokens["sup_a"],
                          json={**BODY, "comment": "a\x00b"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "comment"
