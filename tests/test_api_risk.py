"""Questionnaire and profiles over the API: the round trip, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import RiskAssessment, RiskProfile, db
from portal.rules import questionnaire as rules
from tests.helpers import bearer

DEFINITION = json.loads(Path("data/questionnaire/default.json").read_text(encoding="utf-8"))
DEF = rules.load_definition(DEFINITION)
BIRTH_DATE = date(1980, 5, 17)  # the world fixture's clients


@pytest.fixture(autouse=True)
def many_retakes(app):
    """These tests submit for one client many times a day; the daily limit is tested in test_questionnaire_integrity."""
    from models import QuestionnaireVersion

    db.session.execute(QuestionnaireVersion.__table__.update().values(retakes_per_day=1000))
    db.session.commit()


def record_age() -> str:
    """The age option the client's birth date gives today (the API takes it from the records)."""
    from portal.rules.calendar import business_today

    return rules.age_answer(DEF, BIRTH_DATE, business_today())[1]


def answers(pick=0):
    """Every question answered with its option at index `pick` (clamped); the age as the records give it."""
    chosen = {q.id: q.options[min(pick, len(q.options) - 1)].id for q in DEF.questions}
    chosen["q01"] = record_age()
    return chosen


def test_questionnaire_in_both_languages(client, world, token_for):
    token = token_for("client_a")
    zh = client.get("/api/v1/questionnaire?lang=zh_CN", headers=bearer(token)).get_json()
    en = client.get("/api/v1/questionnaire?lang=en", headers=bearer(token)).get_json()
    assert zh["version"] == en["version"] == DEFINITION["version"]
    assert len(zh["questions"]) >= 12
    assert zh["questions"][0]["text"] != en["questions"][0]["text"]
    for question in en["questions"]:
        stored = next(q for q in DEFINITION["questions"] if q["id"] == question["id"])
        points = {o["id"]: o["points"] for o in stored["options"]}
        served = [points[o["id"]] for o in question["options"]]
        assert served == sorted(served), "options are served in order of increasing points"
    assert client.get("/api/v1/questionnaire?lang=fr", headers=bearer(token)).status_code == 400


def test_client_round_trip_puts_the_profile_in_force(client, world, token_for):
    token = token_for("client_a")
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers(4)}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    expected = rules.score(DEF, answers(4))
    assert body["score"] == expected.score and body["grade"] == expected.grade
    assert body["risk_class"] == expected.risk_class and body["lowest_category"] == expected.lowest_category
    assert body["questionnaire_version"] == DEFINITION["version"] and body["valid_until"]
    assert set(body["flags"]) == set(expected.flags)
    profile = client.get("/api/v1/clients/CA0001/profile", headers=bearer(token)).get_json()
    assert profile["grade"] == expected.grade and profile["valid_until"] == body["valid_until"]
    detail = client.get("/api/v1/clients/CA0001", headers=bearer(token)).get_json()
    assert detail["grade"] == expected.grade and detail["profile_status"] == "valid"
    assert detail["risk_class"] == expected.risk_class and detail["profile_valid_until"] == body["valid_until"]


def test_lowest_category_and_caps(client, world, token_for):
    chosen = answers(4)
    chosen["q16"] = "q16a"  # cannot bear any loss of principal
    body = client.post("/api/v1/clients/CA0001/assessments", json={"answers": chosen},
                       headers=bearer(token_for("client_a"))).get_json()
    assert body["grade"] == "C1" and body["lowest_category"] is True and body["risk_class"] == "conservative"


def test_manager_submission_is_assisted_and_pending(client, world, token_for):
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers(2)},
                           headers=bearer(token_for("rm_a")))
    assert response.status_code == 201
    body = response.get_json()
    assert body["channel"] == "assisted" and body["status"] == "awaiting_confirmation" and body["valid_until"] is None
    assert client.get("/api/v1/clients/CA0001/profile", headers=bearer(token_for("rm_a"))).status_code == 404


@pytest.mark.parametrize("login,client_no", [("rm_a", "CB0001"), ("rm_a", "CA0003"), ("client_a", "CA0002")])
def test_no_answering_for_someone_elses_client(client, world, token_for, login, client_no):
    response = client.post(f"/api/v1/clients/{client_no}/assessments", json={"answers": answers()},
                           headers=bearer(token_for(login)))
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(RiskAssessment.id))) == 0


@pytest.mark.parametrize("login", ["sup_a", "compliance", "admin"])
def test_other_roles_cannot_submit(client, world, token_for, login):
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers()},
                           headers=bearer(token_for(login)))
    assert response.status_code == 403


@pytest.mark.parametrize("body,field", [
    ({"answers": {k: v for k, v in answers().items() if k != "q05"}}, "q05"),
    ({"answers": {**answers(), "q05": "q01a"}}, "q05"),
    ({"answers": {**answers(), "q99": "q99a"}}, "q99"),
    ({"answers": {**answers(), "q05": 3}}, "q05"),
    ({"answers": []}, "answers"),
    ({"nope": 1}, "answers"),
    ([1, 2], "answers"),
])
def test_bad_bodies_name_the_question_and_store_nothing(client, world, token_for, body, field):
    response = client.post("/api/v1/clients/CA0001/assessments", json=body, headers=bearer(token_for("client_a")))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert db.session.scalar(select(func.count(RiskAssessment.id))) == 0


def test_not_json_is_400(client, world, token_for):
    response = client.post("/api/v1/clients/CA0001/assessments", data="answers=1",
                           headers={**bearer(token_for("client_a")), "Content-Type": "text/plain"})
    assert response.status_code == 400


def test_profile_as_of_past_dates(client, world, token_for):
    from portal.rules.calendar import add_months, business_today

    token = token_for("client_a")
    client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers(0)}, headers=bearer(token))
    today = business_today()
    assert client.get(f"/api/v1/clients/CA0001/profile?as_of={today - timedelta(days=1)}",
                      headers=bearer(token)).status_code == 404
    assert client.get(f"/api/v1/clients/CA0001/profile?as_of={today}", headers=bearer(token)).status_code == 200
    later = add_months(today, 24)
    assert client.get(f"/api/v1/clients/CA0001/profile?as_of={later}", headers=bearer(token)).status_code == 200
    assert client.get(f"/api/v1/clients/CA0001/profile?as_of={later + timedelta(days=1)}",
                      headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/clients/CA0001/profile?as_of=2026-13-01", headers=bearer(token)).status_code == 400


def test_newer_submission_supersedes_and_history_is_kept(client, world, token_for):
    token = token_for("client_a")
    first = client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers(0)}, headers=bearer(token))
    second = client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers(4)}, headers=bearer(token))
    assert first.get_json()["grade"] != second.get_json()["grade"]
    profile = client.get("/api/v1/clients/CA0001/profile", headers=bearer(token)).get_json()
    assert profile["assessment_id"] == second.get_json()["id"]
    assert db.session.scalar(select(func.count(RiskProfile.id))) == 2


def test_no_route_changes_or_deletes_a_submission(app):
    for rule in app.url_map.iter_rules():
        if "assessment" in rule.rule:
            assert not (rule.methods & {"PUT", "PATCH", "DELETE"}), rule.rule


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_answer_sets_never_500_and_store_exact_sums(client, world, token_for, data):
    token = token_for("client_a")
    chosen = {}
    for question in DEF.questions:
        choice = data.draw(st.one_of(st.sampled_from([o.id for o in question.options]), st.none(),
                                     st.text(max_size=5)), label=question.id)
        if choice is not None:
            chosen[question.id] = choice
    before = db.session.scalar(select(func.count(RiskAssessment.id)))
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": chosen}, headers=bearer(token))
    assert response.status_code in (201, 400)
    after = db.session.scalar(select(func.count(RiskAssessment.id)))
    if chosen.get("q01") not in (None, "", record_age()):
        assert response.status_code == 400
    if response.status_code == 201:
        stored = db.session.scalar(select(RiskAssessment).order_by(RiskAssessment.id.desc()).limit(1))
        expected = rules.score(DEF, {**chosen, "q01": record_age()})
        assert stored.score == expected.score and stored.raw_points == expected.raw_points
        assert after == before + 1
    else:
        assert after == before


def test_suitability_records_are_immutable(app, world, token_for, client):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    client.post("/api/v1/clients/CA0001/assessments", json={"answers": answers(1)},
                headers=bearer(token_for("client_a")))
    for statement in ("UPDATE risk_assessments SET score = 99", "DELETE FROM risk_assessments",
                      "UPDATE risk_profiles SET grade = 'C5'", "DELETE FROM risk_profiles"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
            db.session.flush()
        db.session.rollback()
    assert db.session.scalar(select(func.count(RiskAssessment.id))) == 1

