"""Questionnaire integrity: the age answer comes from the birth date, retakes are limited per business day, and
a grade raised on retake within 30 days is flagged for the manager and listed for compliance."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Client, QuestionnaireVersion, RiskAssessment, db
from portal.rules import questionnaire as rules
from portal.rules.calendar import whole_years
from portal.rules.vocabulary import GRADES
from tests.helpers import Auth, bearer, csrf_token

DEFAULT = json.loads((Path(__file__).resolve().parents[1] / "data" / "questionnaire" / "default.json")
                     .read_text(encoding="utf-8"))
DEF = rules.load_definition(DEFAULT)


def asked(pick: int = 2, **override) -> dict:
    """Every question but the age question answered with option `pick`."""
    chosen = {q.id: q.options[min(pick, len(q.options) - 1)].id for q in DEF.questions if q.id != "q01"}
    return {**chosen, **override}


def today():
    from portal.rules.calendar import business_today

    return business_today()


def years_ago(day: date, years: int) -> date:
    from portal.rules.calendar import add_months

    return add_months(day, -12 * years)


def set_birth(client_no: str, birth: date) -> None:
    client = db.session.scalar(select(Client).where(Client.client_no == client_no))
    client.birth_date = birth
    db.session.commit()


def count_assessments() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(RiskAssessment.id)))


# --- the age from the birth date (pure rules) -----------------------------------------------------------

@pytest.mark.parametrize(("birth", "day", "age"), [
    (date(1961, 12, 3), date(2026, 12, 3), 65),  # the 65th birthday itself
    (date(1961, 12, 3), date(2026, 12, 2), 64),  # the day before
    (date(2000, 2, 29), date(2001, 2, 28), 0),  # 29 February: not yet on 28 February of a common year
    (date(2000, 2, 29), date(2001, 3, 1), 1),  # ... but on 1 March
    (date(2000, 2, 29), date(2004, 2, 29), 4),  # and on the day itself in a leap year
    (date(1960, 2, 29), date(2025, 2, 28), 64),
    (date(1960, 2, 29), date(2025, 3, 1), 65),
])
def test_age_in_whole_years(birth, day, age):
    assert whole_years(birth, day) == age


@pytest.mark.parametrize(("birth", "day", "option"), [
    (date(1961, 12, 3), date(2026, 12, 3), "q01a"),
    (date(1961, 12, 3), date(2026, 12, 2), "q01b"),
    (date(1960, 2, 29), date(2025, 2, 28), "q01b"),
    (date(1960, 2, 29), date(2025, 3, 1), "q01a"),
    (date(1990, 6, 1), date(2026, 6, 1), "q01d"),  # 36
    (date(1990, 6, 2), date(2026, 6, 1), "q01e"),  # 35
    (date(2010, 1, 1), date(2026, 6, 1), None),  # 16: no option covers it, the question is asked
])
def test_age_option_from_the_birth_date(birth, day, option):
    found = rules.age_answer(DEF, birth, day)
    assert (found[1] if found else None) == option
    if found:
        assert found[0] == "q01"


def test_overlapping_or_misplaced_age_ranges_are_refused():
    data = json.loads(json.dumps(DEFAULT))
    data["questions"][0]["options"][1]["max_age"] = 66  # 56-66 overlaps 65+
    with pytest.raises(rules.DefinitionError, match="overlap"):
        rules.load_definition(data)
    data = json.loads(json.dumps(DEFAULT))
    del data["questions"][0]["options"][2]["min_age"], data["questions"][0]["options"][2]["max_age"]
    with pytest.raises(rules.DefinitionError, match="has no age range"):
        rules.load_definition(data)
    data = json.loads(json.dumps(DEFAULT))
    data["questions"][2]["options"][0]["min_age"] = 30
    with pytest.raises(rules.DefinitionError, match="only one question may carry age ranges"):
        rules.load_definition(data)
    # the stored form keeps the ranges
    assert rules.definition_to_dict(DEF)["questions"][0]["options"][0]["min_age"] == 65


# --- the API: the age may be left out; a disagreeing one is refused -----------------------------------

def test_api_derives_the_age_and_applies_the_65_cap_on_the_65th_birthday(client, world, token_for):
    set_birth("CA0001", years_ago(today(), 65))
    token = token_for("client_a")
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(4)}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert "age_65_plus" in body["caps"] and body["grade"] == "C3"
    stored = db.session.get(RiskAssessment, body["id"])
    assert stored.answers["q01"] == "q01a"


def test_api_refuses_an_age_that_disagrees_with_the_birth_date(client, world, token_for):
    set_birth("CA0001", years_ago(today(), 65))
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(4, q01="q01e")},
                           headers=bearer(token_for("client_a")))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "age_mismatch" and error["field"] == "q01"
    assert count_assessments() == 0
    # the day before the 65th birthday the client is 64: "56 to 64" agrees, and no cap applies
    set_birth("CA0001", years_ago(today(), 65) + timedelta(days=1))
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(4, q01="q01b")},
                           headers=bearer(token_for("client_a")))
    assert response.status_code == 201 and "age_65_plus" not in response.get_json()["caps"]


def test_api_age_for_a_29_february_birth(client, world, token_for):
    born = date(1960, 2, 29)
    set_birth("CA0001", born)
    expected = rules.age_answer(DEF, born, today())[1]
    response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(1)},
                           headers=bearer(token_for("client_a")))
    assert response.status_code == 201
    assert db.session.get(RiskAssessment, response.get_json()["id"]).answers["q01"] == expected


# --- the pages: never asked, shown as "from your records" --------------------------------------------

def walk(browser, base: str, answers: dict) -> str:
    """Post every step from the page's own fields; return the review page."""
    token = csrf_token(browser, "/")
    version_id = db.session.scalar(select(QuestionnaireVersion.id).where(QuestionnaireVersion.status == "active"))
    n = 1
    while True:
        page = browser.get(f"{base}/step/{n}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        fields = {q: answers[q] for q in answers if f'name="answer-{q}"' in html}
        response = browser.post(f"{base}/step/{n}", data={"csrf_token": token, "version_id": version_id,
                                                           "nav": "next", **{f"answer-{q}": v for q, v in fields.items()}})
        assert response.status_code == 302
        if response.headers["Location"].endswith("/review"):
            break
        n += 1
    return browser.get(f"{base}/review").get_data(as_text=True)


def submit(browser, base: str):
    import re

    html = browser.get(f"{base}/review").get_data(as_text=True)
    token = csrf_token(browser, "/")
    return browser.post(f"{base}/review", data={
        "csrf_token": token,
        "version_id": re.search(r'name="version_id"[^>]*value="([^"]+)"', html).group(1),
        "submission_token": re.search(r'name="submission_token"[^>]*value="([^"]+)"', html).group(1)})


@pytest.mark.parametrize("assisted", [False, True])
def test_pages_never_ask_the_age_and_show_it_from_the_records(app, world, assisted):
    set_birth("CA0001", years_ago(today(), 70))
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(browser).login("rm_a" if assisted else "client_a")
    base = "/clients/CA0001/assess" if assisted else "/questionnaire"
    first = browser.get(f"{base}/step/1").get_data(as_text=True)
    assert 'name="answer-q01"' not in first and 'name="answer-q02"' in first
    review = walk(browser, base, asked(4))
    assert 'id="review-from-records"' in review and "65 and over" in review and "from your records" in review
    response = submit(browser, base)
    assert response.status_code == 302 and "/questionnaire/result/" in response.headers["Location"]
    assessment = db.session.scalar(select(RiskAssessment).order_by(RiskAssessment.id.desc()).limit(1))
    assert assessment.answers["q01"] == "q01a" and assessment.grade == "C3" and "age_65_plus" in assessment.caps
    result = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="result-from-records"' in result and "answer-from-records" in result


# --- retakes per business day ---------------------------------------------------------------------------

def test_the_fourth_submission_of_a_day_is_429_with_retry_on(client, world, token_for):
    own, manager = token_for("client_a"), token_for("rm_a")
    # own and assisted entries count together
    for token in (own, manager, own):
        assert client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(2)},
                           headers=bearer(token)).status_code == 201
    for token in (own, manager):
        response = client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(2)},
                               headers=bearer(token))
        assert response.status_code == 429
        error = response.get_json()["error"]
        assert error["code"] == "retake_limit" and error["retry_on"] == (today() + timedelta(days=1)).isoformat()
    assert count_assessments() == 3
    # another client is not affected
    assert client.post("/api/v1/clients/CA0002/assessments", json={"answers": asked(2)},
                       headers=bearer(manager)).status_code == 201


def test_yesterdays_submissions_do_not_count(client, world, token_for):
    from portal.rules.calendar import start_of_business_day

    ca = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    just_before = start_of_business_day(today()) - timedelta(seconds=1)
    for _n in range(3):
        db.session.add(RiskAssessment(client_id=ca.id, version_id=version.id, answers={}, group_points={},
                                      raw_points=20, score=10, band_grade="C1", grade="C1", risk_class="conservative",
                                      caps=[], flags=[], channel="self", submitted_at=just_before))
    db.session.commit()
    assert client.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(0)},
                       headers=bearer(token_for("client_a"))).status_code == 201


def test_the_limit_is_the_versions_and_the_page_says_when_to_try_again(app, world, token_for):
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    version.retakes_per_day = 1
    db.session.commit()
    api = app.test_client()
    assert api.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(2)},
                    headers=bearer(token_for("client_a"))).status_code == 201
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(browser).login("client_a")
    tomorrow = (today() + timedelta(days=1)).isoformat()
    intro = browser.get("/questionnaire").get_data(as_text=True)
    assert 'id="retake-limit"' in intro and tomorrow in intro and 'id="questionnaire-begin"' not in intro
    # a review already open is refused on submit with the same message, and nothing is stored
    walk(browser, "/questionnaire", asked(2))
    response = submit(browser, "/questionnaire")
    assert response.status_code == 302 and response.headers["Location"].endswith("/questionnaire")
    assert tomorrow in browser.get("/questionnaire").get_data(as_text=True)
    assert count_assessments() == 1


def test_the_limit_is_edited_with_the_draft_and_carried_when_published(app, world):
    admin = app.test_client()
    Auth(admin).login("admin")
    token = csrf_token(admin, "/admin/questionnaires")
    assert admin.post("/admin/questionnaires/draft", data={"csrf_token": token, "version": "2026.9"}
                      ).status_code == 302
    draft = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "draft"))
    assert draft.retakes_per_day == 3
    body = {k: v for k, v in draft.definition.items() if k not in ("version", "validity_months")}
    form = {"csrf_token": token, "version": "2026.9", "validity_months": "24", "definition": json.dumps(body)}
    refused = admin.post(f"/admin/questionnaires/{draft.id}/edit", data={**form, "retakes_per_day": "0"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(QuestionnaireVersion, draft.id).retakes_per_day == 3
    assert admin.post(f"/admin/questionnaires/{draft.id}/edit", data={**form, "retakes_per_day": "5"}
                      ).status_code == 302
    db.session.expire_all()
    assert db.session.get(QuestionnaireVersion, draft.id).retakes_per_day == 5
    assert admin.post(f"/admin/questionnaires/{draft.id}/publish", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    active = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    assert active.version == "2026.9" and active.retakes_per_day == 5


# --- grade raised on retake -------------------------------------------------------------------------------

def _old_submission(client_no: str, grade: str, days_ago: int) -> int:
    from portal.rules.calendar import start_of_business_day

    ca = db.session.scalar(select(Client).where(Client.client_no == client_no))
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    row = RiskAssessment(client_id=ca.id, version_id=version.id, answers={}, group_points={}, raw_points=20,
                         score=10, band_grade=grade, grade=grade, risk_class=rules.risk_class_of(grade), caps=[],
                         flags=[], channel="self",
                         submitted_at=start_of_business_day(today() - timedelta(days=days_ago)) + timedelta(hours=3))
    db.session.add(row)
    db.session.commit()
    return row.id


def test_a_raise_within_30_days_is_flagged_and_listed_side_by_side(app, world, token_for):
    from portal.compliance.queries import Scope, retake_raise_count, retake_raises
    from portal.rules.profile import RETAKE_RAISE_DAYS

    api = app.test_client()
    low = api.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(0)},
                   headers=bearer(token_for("client_a"))).get_json()
    high = api.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(4)},
                    headers=bearer(token_for("rm_a"))).get_json()
    lower = api.post("/api/v1/clients/CA0001/assessments", json={"answers": asked(1)},
                     headers=bearer(token_for("client_a"))).get_json()
    assert GRADES.index(high["grade"]) > GRADES.index(low["grade"])
    assert db.session.get(RiskAssessment, high["id"]).raised_from_id == low["id"]
    assert db.session.get(RiskAssessment, lower["id"]).raised_from_id is None  # a lower grade is no raise
    # a previous submission 31 days back is outside the window; 29 days back inside
    _old_submission("CB0001", "C1", RETAKE_RAISE_DAYS + 1)
    outside = api.post("/api/v1/clients/CB0001/assessments", json={"answers": asked(4)},
                       headers=bearer(token_for("client_b"))).get_json()
    assert db.session.get(RiskAssessment, outside["id"]).raised_from_id is None
    old = _old_submission("CB0002", "C1", RETAKE_RAISE_DAYS - 1)
    inside = api.post("/api/v1/clients/CB0002/assessments", json={"answers": asked(4)},
                      headers=bearer(token_for("rm_b"))).get_json()
    assert db.session.get(RiskAssessment, inside["id"]).raised_from_id == old

    from models import User
    compliance = db.session.scalar(select(User).where(User.username == "compliance"))
    rows = db.session.execute(retake_raises(compliance, Scope(), today())).all()
    assert [(r.client_no, r.old_grade, r.new_grade) for r in rows] == [
        ("CB0002", "C1", inside["grade"]), ("CA0001", low["grade"], high["grade"])]
    assert retake_raise_count(compliance) == 2
    assert retake_raise_count(compliance, day=today() - timedelta(days=1)) == 0

    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(browser).login("compliance")
    page = browser.get("/matrix/retake-raises").get_data(as_text=True)
    assert f'data-assessment="{high["id"]}"' in page and f'data-assessment="{inside["id"]}"' in page
    assert "Previous result" in page and "New result" in page
    team = browser.get("/matrix/retake-raises?team=TEAMA").get_data(as_text=True)
    assert f'data-assessment="{high["id"]}"' in team and f'data-assessment="{inside["id"]}"' not in team
    assert browser.get("/matrix/retake-raises?as_of=2999-01-01").status_code == 400
    exported = browser.get("/matrix/retake-raises?export=csv").get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(exported)))
    assert lines[0][0] == "Client number" and [line[0] for line in lines[1:]] == ["CB0002", "CA0001"]
    assert lines[2][6] == low["grade"] and lines[2][10] == high["grade"]
    workbook = load_workbook(io.BytesIO(browser.get("/matrix/retake-raises?export=xlsx").data))
    sheet = workbook.active
    assert [sheet.cell(row=r, column=1).value for r in (2, 3)] == ["CB0002", "CA0001"]

    # the manager sees the flag on the result page, and only their own book in the list
    manager = app.test_client()
    manager.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(manager).login("rm_a")
    result = manager.get(f"/questionnaire/result/{high['id']}").get_data(as_text=True)
    assert 'id="result-raised-on-retake"' in result and "Grade raised on retake" in result
    history_page = manager.get("/clients/CA0001/assessments").get_data(as_text=True)
    assert history_page.count("raised-on-retake") == 1
    own = manager.get("/matrix/retake-raises").get_data(as_text=True)
    assert f'data-assessment="{high["id"]}"' in own and f'data-assessment="{inside["id"]}"' not in own
    client_page = app.test_client()
    Auth(client_page).login("client_a")
    assert client_page.get("/matrix/retake-raises").status_code == 403
