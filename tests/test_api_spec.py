"""The API described once (portal/api/spec.py): the models that read requests and shape answers are the ones the
OpenAPI document is made of, and the document stays OpenAPI 3.0."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from portal.api.evaluations import Cycle
from portal.api.people import Manager
from portal.api.risk import Assessment
from portal.api.spec import page_of, shape
from tests.helpers import bearer

pytestmark = pytest.mark.language("en")

# JSON Schema 2020-12 words that OpenAPI 3.0 does not have.
NOT_OPENAPI_3_0 = {"const", "$defs", "examples", "prefixItems", "$schema", "unevaluatedProperties"}


def _walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def test_the_document_is_openapi_3_0_throughout(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.0.3"
    schemas = document["components"]["schemas"]
    for name in schemas:
        assert name.isidentifier() and "__" not in name, f"component name {name!r} is not one a reader would write"
    for path, node in _walk(document):
        assert not NOT_OPENAPI_3_0 & set(node), f"{path} uses {NOT_OPENAPI_3_0 & set(node)}"
        assert node.get("type") != "null", f"{path}: a null type (3.0 says nullable)"
        if "$ref" in node:
            assert node["$ref"].removeprefix("#/components/schemas/") in schemas, f"{path}: dangling {node['$ref']}"
        if node.get("nullable") and "enum" in node:
            assert None in node["enum"], f"{path}: a nullable enum must list null"


def test_query_parameters_are_absent_or_given_never_null(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                assert "nullable" not in parameter["schema"], parameter
                assert None not in parameter["schema"].get("enum", []), parameter


def test_the_document_is_built_once_per_application(app, client):
    first = client.get("/api/v1/openapi.json").get_json()
    built = app.extensions["openapi"]
    second = client.get("/api/v1/openapi.json").get_json()
    assert first == second and app.extensions["openapi"] is built


def test_every_api_view_declares_its_operation(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            assert getattr(app.view_functions[rule.endpoint], "api_operation", None), rule.rule


def test_answers_keep_their_json_forms():
    """Times as `datetime.isoformat` writes them (`+00:00`, not `Z`), dates ISO, money with two places."""
    assessment = shape(Assessment, {
        "id": 1, "score": 40, "grade": "C3", "risk_class": "balanced", "lowest_category": False, "flags": [],
        "caps": [], "valid_until": date(2027, 1, 2), "questionnaire_version": "2026.1", "channel": "self",
        "status": "in_force", "submitted_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)})
    assert assessment["submitted_at"] == "2026-01-02T03:04:05+00:00"
    assert assessment["valid_until"] == "2027-01-02"
    from portal.api.matrix import Count

    assert shape(Count, {"clients": 3, "assets": Decimal("12.5")}) == {"clients": 3, "assets": "12.50"}


def test_an_answer_with_a_key_the_model_does_not_declare_is_refused():
    manager = {"employee_no": "RM1", "name": "A", "level": "junior", "level_since": date(2026, 1, 1), "team": None,
               "supervisor": None, "status": "active"}
    assert shape(page_of(Manager), {"items": [manager], "page": 1, "per_page": 20, "total": 1})["items"] == [
        {**manager, "level_since": "2026-01-01"}]
    with pytest.raises(ValidationError):
        shape(Manager, {**manager, "salary": 1})
    with pytest.raises(ValidationError):
        shape(Manager, {**manager, "level": "chief"})


def test_optional_keys_stay_out_and_nullable_keys_stay_in():
    cycle = shape(Cycle, {"id": 1, "name": "Q1", "start": "2026-01-01", "end": "2026-03-31", "scope": "all",
                          "state": "draft", "weight_set_version": None, "opened_at": None, "closed_at": None})
    assert cycle["opened_at"] is None and "evaluations" not in cycle and "recommendations" not in cycle


def test_a_domain_parser_refuses_a_body_field_with_its_own_code(client, world, token_for):
    """The follow-up date is read by the follow-up rules' parser: its code, field and message."""
    response = client.post("/api/v1/clients/CA0001/follow-ups", headers=bearer(token_for("rm_a")),
                           json={"date": "yesterday", "channel": "phone", "grade": "B"})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_date", "field": "date",
                                            "message": "The date must be written YYYY-MM-DD."}


@pytest.mark.parametrize(("body", "field", "code"), [
    ([], None, "invalid"),
    ({"satisfaction": 80, "kpi": 80, "team": 80, "competence": 80, "version": True}, "version", "invalid_version"),
    ({"satisfaction": 80, "kpi": 80, "team": 80, "competence": 80, "version": "3"}, "version", "invalid_version"),
])
def test_a_body_model_refuses_with_the_apis_code(client, world, token_for, body, field, code):
    headers = bearer(token_for("sup_a"))
    created = client.post("/api/v1/cycles", headers=headers, json={
        "name": "Q1", "start": "2026-01-01", "end": "2026-03-31", "scope": {"team": "TEAMA"}}).get_json()
    client.post(f"/api/v1/cycles/{created['id']}/open", headers=headers)
    response = client.put(f"/api/v1/cycles/{created['id']}/evaluations/RMA1", headers=headers, json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error.get("field"), error["code"]) == (field, code)


@pytest.mark.parametrize(("query", "field"), [("state=bogus", "state"), ("per_page=0", "per_page"),
                                              ("per_page=101", "per_page"), ("page=x", "page")])
def test_a_query_model_refuses_with_the_field_named(client, world, token_for, query, field):
    response = client.get(f"/api/v1/cycles?{query}", headers=bearer(token_for("admin")))
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
