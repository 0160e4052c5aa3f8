"""The API contract: credit screening (evaluate, store, history) and follow-ups (list, log)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import Client, CreditScreening, FollowupLog, db
from portal.rules.calendar import business_today
from portal.rules.credit import CLASSES, CODES, KINDS, STATUSES
from tests.helpers import bearer

pytestmark = pytest.mark.language("en")

CLEAN = "N" * 24


def card(history=CLEAN, status="normal", overdue=0, kind="card"):
    return {"kind": kind, "status": status, "current_overdue": overdue, "history": history}


# --- POST /api/v1/credit-screening -----------------------------------------------------------------

@pytest.mark.parametrize("username", ["rm_a", "sup_a", "compliance", "admin"])
def test_any_staff_token_evaluates_and_nothing_is_stored(client, world, token_for, username):
    response = client.post("/api/v1/credit-screening", headers=bearer(token_for(username)),
                           json={"accounts": [card(), card("N" * 22 + "3N", kind="loan")]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["class"] == "subprime"
    assert {r["code"] for r in body["reasons"]} == {"subprime.worst_level"}
    assert set(body["reasons"][0]) >= {"code", "message"}
    assert db.session.scalar(select(func.count(CreditScreening.id))) == 0


def test_a_client_token_cannot_use_the_staff_endpoints(client, world, token_for):
    token = token_for("client_a")
    assert client.post("/api/v1/credit-screening", headers=bearer(token),
                       json={"accounts": [card()]}).status_code == 403
    assert client.post("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token),
                       json={"accounts": [card()]}).status_code == 403
    assert client.get("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/clients/CA0001/follow-ups", headers=bearer(token)).status_code == 403
    response = client.post("/api/v1/clients/CA0001/follow-ups", headers=bearer(token),
                           json={"date": business_today().isoformat(), "channel": "phone", "grade": "B"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_no_token_is_401(client, world):
    assert client.post("/api/v1/credit-screening", json={"accounts": []}).status_code == 401


def test_empty_account_list_is_normal(client, world, token_for):
    body = client.post("/api/v1/credit-screening", headers=bearer(token_for("rm_a")), json={"accounts": []}).get_json()
    assert body == {"class": "normal", "reasons": [body["reasons"][0]]} and body["reasons"][0]["code"] == \
        "normal.no_accounts"


@pytest.mark.parametrize("history, position", [("N" * 10 + "X" + "N" * 13, 11), ("N" * 23 + " ", 24)])
def test_bad_character_names_the_account_and_position(client, world, token_for, history, position):
    response = client.post("/api/v1/credit-screening", headers=bearer(token_for("rm_a")),
                           json={"accounts": [card(), card(history)]})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_account" and error["account_index"] == 1 and error["account"] == 2
    assert error["position"] == position and error["field"] == "accounts[1].history"
    assert f"position {position}" in error["message"] and "Account 2" in error["message"]


def test_wrong_length_names_the_account(client, world, token_for):
    response = client.post("/api/v1/credit-screening", headers=bearer(token_for("rm_a")),
                           json={"accounts": [card("N" * 23)]})
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["account_index"] == 0 and "24" in error["message"]


@pytest.mark.parametrize("account, field", [
    (card(kind="boat"), "kind"), (card(status="lost"), "status"), (card(overdue=-1), "current_overdue"),
    (card(overdue="2"), "current_overdue"), ({"kind": "card"}, "status"),
])
def test_unknown_kind_status_or_bad_overdue_is_400(client, world, token_for, account, field):
    response = client.post("/api/v1/credit-screening", headers=bearer(token_for("rm_a")), json={"accounts": [account]})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == f"accounts[0].{field}"


@pytest.mark.parametrize("body", [None, {}, {"accounts": "x"}, {"accounts": [1]}, [card()]])
def test_malformed_bodies_are_400(client, world, token_for, body):
    response = client.post("/api/v1/credit-screening", headers=bearer(token_for("rm_a")), json=body)
    assert response.status_code == 400 and "error" in response.get_json()


ACCOUNT = st.fixed_dictionaries({
    "kind": st.sampled_from(KINDS), "status": st.sampled_from(STATUSES),
    "current_overdue": st.integers(0, 12), "history": st.text(st.sampled_from(CODES), min_size=24, max_size=24)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(accounts=st.lists(ACCOUNT, max_size=6))
def test_generated_account_lists_always_get_one_of_the_four_classes(client, world, token_for, accounts):
    response = client.post("/api/v1/credit-screening", headers=bearer(token_for("compliance")),
                           json={"accounts": accounts})
    assert response.status_code == 200 and response.get_json()["class"] in CLASSES


# --- /api/v1/clients/<no>/credit-screenings ---------------------------------------------------------

def test_manager_stores_and_reads_the_history(client, world, token_for):
    token = token_for("rm_a")
    response = client.post("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token),
                           json={"accounts": [card("N" * 22 + "11")]})
    assert response.status_code == 201
    stored = response.get_json()
    assert stored["class"] == "blemished" and stored["eligible"] is True and stored["client_no"] == "CA0001"
    response = client.post("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token),
                           json={"accounts": [card()], "override_class": "barred", "override_reason": "失信被执行人"})
    assert response.status_code == 201
    assert response.get_json()["class"] == "barred" and response.get_json()["computed_class"] == "normal"
    history = client.get("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token)).get_json()
    assert set(history) == {"items", "page", "per_page", "total"} and history["total"] == 2
    assert [i["class"] for i in history["items"]] == ["barred", "blemished"]
    assert db.session.scalar(select(Client.credit_class).where(Client.client_no == "CA0001")) == "barred"
    sup = client.get("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token_for("sup_a")))
    assert sup.status_code == 200 and sup.get_json()["total"] == 2


def test_store_is_for_the_managers_own_clients_only(client, world, token_for):
    for client_no in ("CB0001", "CA0003"):
        response = client.post(f"/api/v1/clients/{client_no}/credit-screenings", headers=bearer(token_for("rm_a")),
                               json={"accounts": [card()]})
        assert response.status_code == 404
    assert client.post("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token_for("sup_a")),
                       json={"accounts": [card()]}).status_code == 403
    assert client.get("/api/v1/clients/CB0001/credit-screenings",
                      headers=bearer(token_for("rm_a"))).status_code == 404
    assert db.session.scalar(select(func.count(CreditScreening.id))) == 0


def test_a_bad_account_stores_nothing(client, world, token_for):
    response = client.post("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token_for("rm_a")),
                           json={"accounts": [card(), card("bad")]})
    assert response.status_code == 400 and response.get_json()["error"]["account_index"] == 1
    response = client.post("/api/v1/clients/CA0001/credit-screenings", headers=bearer(token_for("rm_a")),
                           json={"accounts": [card()], "override_class": "normal", "override_reason": "x"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "override_class"
    assert db.session.scalar(select(func.count(CreditScreening.id))) == 0


# --- /api/v1/clients/<no>/follow-ups ------------------------------------------------------------------

def test_log_and_list_follow_ups(client, world, token_for):
    token = token_for("rm_a")
    day = business_today() - timedelta(days=2)
    response = client.post("/api/v1/clients/CA0001/follow-ups", headers=bearer(token),
                           json={"date": day.isoformat(), "channel": "visit", "note": "面谈", "grade": "B"})
    assert response.status_code == 201, response.get_json()
    entry = response.get_json()
    assert entry["next_due"] == (day + timedelta(days=7)).isoformat()
    assert (entry["date"], entry["channel"], entry["note"], entry["grade"]) == (day.isoformat(), "visit", "面谈", "B")
    listed = client.get("/api/v1/clients/CA0001/follow-ups", headers=bearer(token)).get_json()
    assert set(listed) == {"items", "page", "per_page", "total"} and listed["total"] == 1
    assert listed["items"][0]["next_due"] == entry["next_due"]
    assert client.get("/api/v1/clients/CA0001/follow-ups", headers=bearer(token_for("sup_a"))).status_code == 200
    assert client.get("/api/v1/clients/CA0001/follow-ups", headers=bearer(token_for("sup_b"))).status_code == 404


def test_rm_a_cannot_log_for_cb0001(client, world, token_for):
    response = client.post("/api/v1/clients/CB0001/follow-ups", headers=bearer(token_for("rm_a")),
                           json={"date": business_today().isoformat(), "channel": "phone", "grade": "B"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0


@pytest.mark.parametrize("change, field, words", [
    ({"date": "FUTURE"}, "date", "future"),
    ({"grade": "F"}, "grade", "A, B, C, D or E"),
    ({"grade": None}, "grade", "A, B, C, D or E"),
    ({"channel": "fax"}, "channel", "channel"),
    ({"date": "2024-02-30"}, "date", "YYYY-MM-DD"),
    ({"date": None}, "date", "date"),
    ({"note": "x" * 1001}, "note", "1000"),
    ({"note": 5}, "note", "text"),
])
def test_bad_follow_ups_are_400_with_a_clear_message(client, world, token_for, change, field, words):
    body = {"date": business_today().isoformat(), "channel": "phone", "note": "", "grade": "B", **change}
    if body["date"] == "FUTURE":
        body["date"] = (business_today() + timedelta(days=1)).isoformat()
    response = client.post("/api/v1/clients/CA0001/follow-ups", headers=bearer(token_for("rm_a")), json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0


def test_openapi_describes_the_new_paths(client, world):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/credit-screening"]
    assert {"get", "post"} <= set(paths["/api/v1/clients/{client_no}/credit-screenings"])
    assert {"get", "post"} <= set(paths["/api/v1/clients/{client_no}/follow-ups"])
