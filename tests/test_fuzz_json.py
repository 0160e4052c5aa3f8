"""Hypothesis against every operation of the API document: nested and oversized JSON, text with control
characters, numbers no column holds. Every answer is below 500 and every refusal a JSON error with a code;
a body the one JSON reader refuses is a 400 with its code wherever a body is read.

Operations come from /api/v1/openapi.json, so an operation added to the document is fuzzed too.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ROLES = ("admin", "sup_a", "rm_a", "client_a")
PATH_VALUES = {"client_no": "CA0001", "employee_no": "RMA1"}
CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f"]
FIELDS = ["note", "override_reason", "override_class", "name", "comment", "date", "channel", "grade", "answers",
          "accounts", "client_no", "history", "kind", "status", "scope", "start", "end", "satisfaction", "kpi",
          "current_overdue", "month", "cash", "lang"]
READER_CODES = {"too_deeply_nested", "control_characters", "number_out_of_range"}

FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


NESTED = st.builds(lambda depth, kind: ("nested", nested(depth, kind)), st.integers(21, 4000),
                   st.sampled_from(["array", "object"]))
CONTROL_TEXT = st.builds(lambda before, control, after: before + control + after, st.text(max_size=20),
                         st.sampled_from(CONTROL), st.text(max_size=20))
WITH_CONTROL = st.builds(lambda field, text, wrap: ("control", json.dumps(
    {field: text} if wrap == "top" else {field: [{"note": text}]} if wrap == "list" else {"accounts": [
        {"kind": text, "status": "normal", "current_overdue": 0, "history": "N" * 24}]})),
    st.sampled_from(FIELDS), CONTROL_TEXT, st.sampled_from(["top", "list", "account"]))
OVERSIZED = st.one_of(
    st.builds(lambda field, n: ("oversized", json.dumps({field: "x" * n})), st.sampled_from(FIELDS),
              st.integers(100_000, 400_000)),
    st.builds(lambda n: ("oversized", json.dumps({"accounts": [{}] * n})), st.integers(1_000, 20_000)),
    st.builds(lambda n: ("oversized", json.dumps([{"client_no": "CA0001"}] * n)), st.integers(10_001, 12_000)),
)
HUGE_NUMBERS = st.builds(lambda field, raw: ("number", f'{{"{field}": {raw}}}'), st.sampled_from(FIELDS),
                         st.sampled_from(["1e999", "-1e999999", "1" * 30, str(2 ** 63), str(2 ** 31), "1" * 5000]))
BODIES = st.one_of(NESTED, WITH_CONTROL, OVERSIZED, HUGE_NUMBERS)


@pytest.fixture
def tokens(world, token_for):
    return {role: {"Authorization": f"Bearer {token_for(role)}"} for role in ROLES}


@pytest.fixture
def operations(client, tokens):
    """(method, path) of every documented operation, path parameters filled with real records."""
    created = client.post("/api/v1/cycles", headers=tokens["sup_a"], json={
        "name": "Q1", "start": "2026-01-01", "end": "2026-03-31", "scope": {"team": "TEAMA"}}).get_json()
    client.post(f"/api/v1/cycles/{created['id']}/open", headers=tokens["sup_a"])
    values = {**PATH_VALUES, "cycle_id": str(created["id"])}
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []
    for template, item in spec["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        found += [(method.upper(), path) for method in item if method in ("get", "post", "put", "patch", "delete")]
    assert len(found) >= 25
    return found


def _check(response, method: str, path: str, role: str, kind: str, body: str) -> None:
    what = f"{method} {path} as {role} with a {kind} body ({len(body)} characters)"
    assert response.status_code < 500, f"{what} → {response.status_code}"
    if response.status_code >= 400:
        assert response.is_json, f"{what} → {response.status_code} {response.content_type}"
        error = response.get_json()["error"]
        assert isinstance(error["code"], str) and error["code"] and error["message"], what
    if kind in ("nested", "control") and method in ("POST", "PUT") and response.status_code == 400:
        assert response.get_json()["error"]["code"] in READER_CODES | {"invalid_rows", "invalid_account",
                                                                        "invalid", "invalid_body"}, what


@FUZZ
@given(body=BODIES)
@example(body=("nested", nested(5000, "array")))
@example(body=("nested", nested(3000, "object")))
@example(body=("control", json.dumps({"date": "2026-03-02", "channel": "phone", "note": "a\x00b", "grade": "A"})))
@example(body=("control", json.dumps({"accounts": [{"kind": "card", "status": "normal", "current_overdue": 0,
                                                    "history": "N" * 24}], "override_class": "barred",
                                      "override_reason": "x\x00y"})))
@example(body=("number", json.dumps({"accounts": [{"kind": "card", "status": "normal", "current_overdue": 2 ** 31,
                                                   "history": "N" * 24}]})))
def test_every_api_operation_refuses_hostile_json_without_a_server_error(app, tokens, operations, body):
    kind, text = body
    client = app.test_client()
    for method, path in operations:
        for role in ROLES:
            response = client.open(path, method=method, data=text, content_type="application/json",
                                   headers=tokens[role])
            _check(response, method, path, role, kind, text)


def test_a_refused_body_names_its_code_on_every_operation_that_reads_one(app, tokens, operations):
    """Deep nesting is refused as such by every POST and PUT a role may use, before any other check."""
    client = app.test_client()
    reached = 0
    for method, path in operations:
        if method not in ("POST", "PUT"):
            continue
        for role in ROLES:
            response = client.open(path, method=method, data=nested(5000, "array"),
                                   content_type="application/json", headers=tokens[role])
            if response.status_code < 300 or response.status_code in (401, 403, 404, 409):
                continue  # takes no body (open, close), or the role may not use it: refused before reading
            assert response.status_code == 400, f"{method} {path} as {role}: {response.status_code}"
            assert response.get_json()["error"]["code"] == "too_deeply_nested", f"{method} {path} as {role}"
            reached += 1
    assert reached >= 9
