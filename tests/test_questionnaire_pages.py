"""The questionnaire in the browser's terms: the client's stepper, assisted entry, confirmation, results, history.

Answers are posted exactly as the pages send them (one indicator group per step, the CSRF token, the
hidden version id and the review page's one-time submission token).
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape as markup_escape
from sqlalchemy import func, select

from tests.helpers import Auth, csrf_token

pytestmark = pytest.mark.language("en")


DEFAULT = json.loads((Path(__file__).resolve().parents[1] / "data" / "questionnaire" / "default.json")
                     .read_text(encoding="utf-8"))
GROUPS = ("age", "knowledge", "experience", "financial", "preference")
AGE_QUESTION = "q01"  # answered from the birth date on file (the world's clients: 1980-05-17), never asked


def _record_age() -> str:
    from portal.rules import questionnaire as rules
    from portal.rules.calendar import business_today

    return rules.age_answer(rules.load_definition(DEFAULT), date(1980, 5, 17), business_today())[1]


RECORD_AGE = _record_age()
QUESTIONS = {q["id"]: q for q in DEFAULT["questions"] if q["id"] != AGE_QUESTION}  # the questions asked
STEPS = [[q["id"] for q in DEFAULT["questions"] if q["group"] == group and q["id"] in QUESTIONS] for group in GROUPS]
LOWEST = {q["id"]: q["options"][0]["id"] for q in DEFAULT["questions"]} | {AGE_QUESTION: RECORD_AGE}
HIGHEST = {q["id"]: q["options"][-1]["id"] for q in DEFAULT["questions"]} | {AGE_QUESTION: RECORD_AGE}
# A middle-of-the-road investor: no cap, no flag.
MIDDLE = {q["id"]: q["options"][len(q["options"]) // 2]["id"] for q in DEFAULT["questions"]} | {
    AGE_QUESTION: RECORD_AGE}


@pytest.fixture(autouse=True)
def many_retakes(app):
    """These tests submit for one client many times a day; the daily limit is tested in test_questionnaire_integrity."""
    from models import QuestionnaireVersion, db

    db.session.execute(QuestionnaireVersion.__table__.update().values(retakes_per_day=1000))
    db.session.commit()

TOKEN_RE = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')
VERSION_RE = re.compile(r'name="version_id"[^>]*value="([^"]+)"')


def field(question_id: str) -> str:
    return f"answer-{question_id}"


def count_assessments() -> int:
    from models import RiskAssessment, db

    db.session.rollback()  # what is committed, not what a failed request left in the session
    return db.session.scalar(select(func.count()).select_from(RiskAssessment))


def active_version_id() -> int:
    from models import QuestionnaireVersion, db

    return db.session.scalar(select(QuestionnaireVersion.id).where(QuestionnaireVersion.status == "active"))


class Stepper:
    """A signed-in browser that walks the stepper (self-service, or assisted for `client_no`)."""

    def __init__(self, client, username: str, client_no: str | None = None):
        self.client = client
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages are asserted in English
        assert Auth(client).login(username).status_code == 302
        self.token = csrf_token(client, "/")
        self.base = f"/clients/{client_no}/assess" if client_no else "/questionnaire"

    def step_url(self, n: int) -> str:
        return f"{self.base}/step/{n}"

    @property
    def review_url(self) -> str:
        return f"{self.base}/review"

    def post_step(self, n: int, answers: dict, nav: str = "next", version_id=None, **kwargs):
        data = {"csrf_token": self.token, "version_id": version_id or active_version_id(), "nav": nav}
        data.update({field(q): answers[q] for q in STEPS[n - 1] if q in answers})
        return self.client.post(self.step_url(n), data=data, **kwargs)

    def answer_all(self, answers: dict) -> None:
        for n in range(1, len(STEPS) + 1):
            response = self.post_step(n, answers)
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    def review_form(self) -> dict:
        page = self.client.get(self.review_url)
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        return {"csrf_token": self.token, "version_id": VERSION_RE.search(html).group(1),
                "submission_token": TOKEN_RE.search(html).group(1)}

    def submit(self, form: dict | None = None, **kwargs):
        return self.client.post(self.review_url, data=form or self.review_form(), **kwargs)


def result_id(response) -> int:
    match = re.search(r"/questionnaire/result/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def expected(answers: dict):
    from portal.rules import questionnaire as rules

    return rules.score(rules.load_definition(DEFAULT), answers)


# --- the client's own questionnaire ---------------------------------------------------------------------

def test_intro_shows_version_questions_and_validity(client, world):
    stepper = Stepper(client, "client_a")
    html = client.get("/questionnaire").get_data(as_text=True)
    assert DEFAULT["version"] in html
    assert f"<dd class=\"col-6 col-sm-8\">{len(QUESTIONS)}</dd>" in html
    assert "href=\"/questionnaire/step/1\"" in html
    assert stepper.client.get("/questionnaire/step/6").status_code == 404
    assert stepper.client.get("/questionnaire/step/0").status_code == 404


def test_full_client_flow_gives_the_scored_result(client, world):
    from models import Client, RiskAssessment, db

    stepper = Stepper(client, "client_a")
    for n in range(1, len(STEPS) + 1):
        page = client.get(stepper.step_url(n)).get_data(as_text=True)
        assert f'<progress class="w-100 mb-3 qn-progress" value="{n}" max="5"' in page
        for question_id in STEPS[n - 1]:
            assert f'name="{field(question_id)}"' in page
        response = stepper.post_step(n, MIDDLE)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/step/{n + 1}" if n < 5 else "/review")
    review = client.get("/questionnaire/review").get_data(as_text=True)
    for question in DEFAULT["questions"]:  # every chosen answer, in the user's language (English here)
        option = next(o for o in question["options"] if o["id"] == MIDDLE[question["id"]])
        assert str(markup_escape(option["text"]["en"])) in review
    assert review.count('href="/questionnaire/step/') >= 5
    response = stepper.submit()
    assert response.status_code == 302
    assessment = db.session.get(RiskAssessment, result_id(response))
    want = expected(MIDDLE)
    assert (assessment.score, assessment.grade, assessment.risk_class) == (want.score, want.grade, want.risk_class)
    assert assessment.channel == "self" and assessment.submission_token
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="result-grade">{want.grade}<' in html
    assert 'id="result-percentile"' in html and "%" in html
    assert "<svg" in html and 'class="chart-bar"' in html
    assert "style=" not in html  # the CSP forbids inline styles
    assert 'id="profile-in-force"' in html
    client_row = db.session.get(Client, world["a"]["clients"][0].id)
    db.session.refresh(client_row)
    assert client_row.risk_grade == want.grade and client_row.profile_valid_until is not None
    # the draft is gone: starting again begins at step 1
    assert 'href="/questionnaire/step/1"' in client.get("/questionnaire").get_data(as_text=True)


def test_result_page_in_english_names_class_levels_and_percentile(client, world):
    stepper = Stepper(client, "client_a")
    client.post("/language", data={"csrf_token": stepper.token, "language": "en", "next": "/"})
    stepper.answer_all(MIDDLE)
    response = stepper.submit()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    want = expected(MIDDLE)
    assert {"conservative": "Conservative", "balanced": "Balanced", "aggressive": "Aggressive"}[want.risk_class] in html
    assert f"You may buy products of risk level R1 to R{want.grade[1]}." in html
    assert "higher than" in html and "% of clients" in html
    assert "Valid until" in html


def test_answers_are_kept_across_steps_and_back(client, world):
    stepper = Stepper(client, "client_a")
    stepper.post_step(1, HIGHEST)
    stepper.post_step(2, LOWEST)
    page1 = client.get(stepper.step_url(1)).get_data(as_text=True)
    for question_id in STEPS[0]:
        assert re.search(rf'value="{HIGHEST[question_id]}" checked', page1), question_id
    # Back keeps what is on the page even when it is incomplete
    partial = {STEPS[2][0]: HIGHEST[STEPS[2][0]]}
    response = stepper.post_step(3, partial, nav="back")
    assert response.status_code == 302 and response.headers["Location"].endswith("/step/2")
    page3 = client.get(stepper.step_url(3)).get_data(as_text=True)
    assert re.search(rf'value="{HIGHEST[STEPS[2][0]]}" checked', page3)
    page2 = client.get(stepper.step_url(2)).get_data(as_text=True)
    assert re.search(rf'value="{LOWEST[STEPS[1][0]]}" checked', page2)
    # the intro offers to continue at the first open step
    intro = client.get("/questionnaire").get_data(as_text=True)
    assert 'href="/questionnaire/step/3"' in intro


def test_missing_answer_shows_a_message_beside_the_question(client, world):
    stepper = Stepper(client, "client_a")
    answers = {q: MIDDLE[q] for q in STEPS[1][1:]}  # first question of step 2 left out
    response = stepper.post_step(2, answers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    missing = STEPS[1][0]
    assert f'id="{field(missing)}-error"' in html
    assert "Please choose an answer to this question." in html
    assert f'id="{field(STEPS[1][1])}-error"' not in html
    # reviewing with open questions sends the client back to the first open step
    response = client.get("/questionnaire/review")
    assert response.status_code == 302 and response.headers["Location"].endswith("/step/1")
    assert count_assessments() == 0


def test_tampered_option_is_refused_and_nothing_is_stored(client, world):
    stepper = Stepper(client, "client_a")
    bad = dict(MIDDLE)
    bad[STEPS[0][0]] = "q99z"
    response = stepper.post_step(1, bad)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please choose one of the answers offered." in html
    assert f'id="{field(STEPS[0][0])}-error"' in html
    # an option of another question is just as unknown
    bad[STEPS[0][0]] = MIDDLE[STEPS[1][0]]
    assert "Please choose one of the answers offered." in stepper.post_step(1, bad).get_data(as_text=True)
    for n in range(2, 6):
        stepper.post_step(n, MIDDLE)
    assert client.get("/questionnaire/review").status_code == 302
    assert count_assessments() == 0


def test_tampered_hidden_fields_are_refused(client, world):
    stepper = Stepper(client, "client_a")
    assert stepper.post_step(1, MIDDLE, version_id="abc").status_code == 302
    assert stepper.post_step(1, MIDDLE, version_id="999999").headers["Location"].endswith("/questionnaire")
    stepper.answer_all(MIDDLE)
    form = stepper.review_form()
    for bad in ({"version_id": "x"}, {"submission_token": ""}, {"submission_token": "a" * 200},
                {"submission_token": "forged-token-of-some-length"}):
        response = stepper.submit({**form, **bad})
        assert response.status_code == 302, bad
        assert response.headers["Location"].endswith("/questionnaire/review"), bad
    # a version id other than the active one: treated as a changed questionnaire, the answers are dropped
    response = stepper.submit({**form, "version_id": "99999999999999999999"}, follow_redirects=True)
    assert "The questionnaire was updated while you were answering it." in response.get_data(as_text=True)
    assert count_assessments() == 0
    assert client.get("/questionnaire/result/99999999999999999999").status_code == 404
    stepper.answer_all(MIDDLE)
    assert stepper.submit().status_code == 302
    assert count_assessments() == 1


def test_double_submit_of_the_same_review_form_stores_one(client, world):
    stepper = Stepper(client, "client_a")
    stepper.answer_all(MIDDLE)
    form = stepper.review_form()
    second_tab = stepper.review_form()
    assert second_tab["submission_token"] == form["submission_token"]  # two tabs, one token
    first = stepper.submit(form)
    again = stepper.submit(form)
    other_tab = stepper.submit(second_tab, follow_redirects=True)
    assert count_assessments() == 1
    assert again.headers["Location"] == first.headers["Location"]
    assert "This questionnaire has already been submitted." in other_tab.get_data(as_text=True)


def test_version_changed_midway_discards_the_answers(client, world):
    from models import QuestionnaireVersion, db

    stepper = Stepper(client, "client_a")
    stepper.answer_all(MIDDLE)
    form = stepper.review_form()
    old = db.session.get(QuestionnaireVersion, active_version_id())
    definition = dict(DEFAULT, version="2026.2")
    new = QuestionnaireVersion(version="2026.2", status="draft", definition=definition, validity_months=24,
                               based_on_id=old.id)
    db.session.add(new)
    db.session.flush()
    old.status = "retired"
    db.session.flush()
    new.status = "active"
    db.session.commit()
    response = stepper.submit(form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The questionnaire was updated while you were answering it." in html
    assert count_assessments() == 0
    # the old answers are gone: the new version starts at step 1
    assert client.get("/questionnaire/review").headers["Location"].endswith("/step/1")
    assert "2026.2" in client.get("/questionnaire").get_data(as_text=True)
    # a step page of the old version is refused too
    stepper.post_step(1, MIDDLE, version_id=old.id)
    assert client.get(stepper.step_url(1)).status_code == 200
    stepper.answer_all(MIDDLE)
    assert stepper.submit().status_code == 302
    assert count_assessments() == 1


def test_answer_error_from_the_operation_sends_back_to_its_step(client, world, monkeypatch):
    from portal.operations.errors import OperationError
    from portal.questionnaire import views

    stepper = Stepper(client, "client_a")
    stepper.answer_all(MIDDLE)
    form = stepper.review_form()

    def refuse(*args, **kwargs):
        raise OperationError("Please answer question 13.", field=STEPS[4][0], code="missing")

    monkeypatch.setattr(views, "submit_assessment", refuse)
    response = stepper.submit(form)
    assert response.headers["Location"].endswith("/questionnaire/step/5")
    html = client.get(stepper.step_url(5)).get_data(as_text=True)
    assert f'id="{field(STEPS[4][0])}-error"' in html and "Please answer question 13." in html
    assert count_assessments() == 0


def test_no_active_questionnaire_is_a_message(client, world):
    from models import QuestionnaireVersion, db

    stepper = Stepper(client, "client_a")
    db.session.get(QuestionnaireVersion, active_version_id()).status = "retired"
    db.session.commit()
    response = client.get("/questionnaire")
    assert response.status_code == 200
    assert "No questionnaire is active" in response.get_data(as_text=True)
    assert client.get(stepper.step_url(1)).headers["Location"].endswith("/questionnaire")


def test_caps_and_flags_are_explained_with_their_texts(client, world):
    from models import RiskAssessment, db

    answers = dict(HIGHEST)
    answers["q16"] = "q16a"  # cannot bear any loss → C1, lowest category
    answers["q07"], answers["q15"] = "q07a", "q15d"  # no experience, aggressive goal → flag
    stepper = Stepper(client, "client_a")
    stepper.answer_all(answers)
    response = stepper.submit()
    assessment = db.session.get(RiskAssessment, result_id(response))
    assert assessment.grade == "C1" and assessment.lowest_category
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    caps = {c["id"]: c for c in DEFAULT["caps"]}
    checks = {c["id"]: c for c in DEFAULT["consistency_checks"]}
    assert caps["cannot_bear_loss"]["text"]["en"].replace('"', "&#34;") in html \
        or caps["cannot_bear_loss"]["text"]["en"] in html
    assert checks["no_experience_aggressive_goal"]["text"]["en"][:40] in html
    assert "You may buy only products of risk level R1." in html


# --- assisted entry and confirmation ------------------------------------------------------------------

def test_assisted_entry_waits_for_the_clients_confirmation(app, world):
    from models import Client, RiskAssessment, db

    manager = Stepper(app.test_client(), "rm_a", client_no="CA0001")
    assert "CA0001" in manager.client.get("/clients/CA0001/assess").get_data(as_text=True)
    manager.answer_all(MIDDLE)
    response = manager.submit()
    assessment_id = result_id(response)
    assessment = db.session.get(RiskAssessment, assessment_id)
    assert assessment.channel == "assisted" and assessment.confirmation is None
    html = manager.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="awaiting-confirmation"' in html and "awaiting confirmation" in html
    assert 'name="paper_reference"' in html
    ca = db.session.get(Client, world["a"]["clients"][0].id)
    db.session.refresh(ca)
    assert ca.risk_grade is None and ca.profile_id is None  # not in force
    history = manager.client.get("/clients/CA0001/assessments").get_data(as_text=True)
    assert f'data-assessment="{assessment_id}" data-state="awaiting"' in history
    intro = manager.client.get("/clients/CA0001/assess").get_data(as_text=True)
    assert 'id="pending-assessment"' in intro and "awaits the client's confirmation" in intro.replace("&#39;", "'")

    owner = Stepper(app.test_client(), "client_a")
    home = owner.client.get("/").get_data(as_text=True)
    assert 'id="pending-assessment"' in home and f"/me/assessments/{assessment_id}/confirm" in home
    assert 'id="pending-assessment"' in owner.client.get("/me").get_data(as_text=True)
    client_b = Stepper(app.test_client(), "client_b")
    assert client_b.client.post(f"/me/assessments/{assessment_id}/confirm",
                                data={"csrf_token": client_b.token}).status_code == 404
    assert owner.client.post(f"/me/assessments/{assessment_id}/confirm").status_code == 400  # no CSRF token
    response = owner.client.post(f"/me/assessments/{assessment_id}/confirm", data={"csrf_token": owner.token})
    assert response.status_code == 302
    db.session.expire_all()
    ca = db.session.get(Client, world["a"]["clients"][0].id)
    assert ca.risk_grade == assessment.grade and ca.profile_valid_until is not None
    assert db.session.get(RiskAssessment, assessment_id).confirmation.method == "client"
    html = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="profile-in-force"' in html
    again = owner.client.post(f"/me/assessments/{assessment_id}/confirm", data={"csrf_token": owner.token},
                              follow_redirects=True)
    assert "already been confirmed" in again.get_data(as_text=True)
    mine = owner.client.get("/me/assessments").get_data(as_text=True)
    assert f'data-assessment="{assessment_id}" data-state="in_force"' in mine


def test_paper_confirmation_puts_the_assessment_in_force(app, world):
    from models import Client, RiskAssessment, db

    manager = Stepper(app.test_client(), "rm_a", client_no="CA0002")
    manager.answer_all(LOWEST)
    assessment_id = result_id(manager.submit())
    url = f"/clients/CA0002/assessments/{assessment_id}/paper-confirmation"
    empty = manager.client.post(url, data={"csrf_token": manager.token, "paper_reference": "  "})
    assert empty.status_code == 200 and 'id="paper_reference-error"' in empty.get_data(as_text=True)
    too_long = manager.client.post(url, data={"csrf_token": manager.token, "paper_reference": "x" * 61})
    assert 'id="paper_reference-error"' in too_long.get_data(as_text=True)
    assert db.session.get(RiskAssessment, assessment_id).confirmation is None
    # another manager's client, or the wrong client for this assessment: 404
    assert manager.client.post(f"/clients/CB0001/assessments/{assessment_id}/paper-confirmation",
                               data={"csrf_token": manager.token, "paper_reference": "P-1"}).status_code == 404
    assert manager.client.post(f"/clients/CA0001/assessments/{assessment_id}/paper-confirmation",
                               data={"csrf_token": manager.token, "paper_reference": "P-1"}).status_code == 404
    response = manager.client.post(url, data={"csrf_token": manager.token, "paper_reference": "BJ-2026-0042"})
    assert response.status_code == 302
    db.session.expire_all()
    confirmation = db.session.get(RiskAssessment, assessment_id).confirmation
    assert confirmation.method == "paper" and confirmation.paper_reference == "BJ-2026-0042"
    assert db.session.get(Client, world["a"]["clients"][1].id).risk_grade == "C1"
    history = manager.client.get("/clients/CA0002/assessments").get_data(as_text=True)
    assert "BJ-2026-0042" in history and 'data-state="in_force"' in history


@pytest.mark.parametrize("app_overrides", [{"ASSISTED_PAPER_CONFIRMATION": False}])
def test_paper_confirmation_can_be_switched_off(app, world):
    from models import RiskAssessment, db

    manager = Stepper(app.test_client(), "rm_a", client_no="CA0001")
    manager.answer_all(MIDDLE)
    response = manager.submit()
    assessment_id = result_id(response)
    assert 'name="paper_reference"' not in manager.client.get(response.headers["Location"]).get_data(as_text=True)
    refused = manager.client.post(f"/clients/CA0001/assessments/{assessment_id}/paper-confirmation",
                                  data={"csrf_token": manager.token, "paper_reference": "P-1"})
    assert refused.status_code == 302
    assert db.session.get(RiskAssessment, assessment_id).confirmation is None


def test_manager_cannot_assess_another_book(app, world):
    manager = Stepper(app.test_client(), "rm_a")
    for path in ("/clients/CB0001/assess", "/clients/CB0001/assess/step/1", "/clients/CB0001/assess/review",
                 "/clients/CA0003/assess", "/clients/NOPE/assess"):
        assert manager.client.get(path).status_code == 404, path
    response = manager.client.post("/clients/CB0001/assess/step/1",
                                   data={"csrf_token": manager.token, "version_id": active_version_id()})
    assert response.status_code == 404
    # and a client cannot use the assisted stepper at all
    owner = Stepper(app.test_client(), "client_a")
    assert owner.client.get("/clients/CA0001/assess").status_code == 403


def test_a_newer_submission_supersedes_a_pending_one(app, world):
    from models import Client, db

    manager = Stepper(app.test_client(), "rm_a", client_no="CA0001")
    manager.answer_all(MIDDLE)
    pending_id = result_id(manager.submit())
    owner = Stepper(app.test_client(), "client_a")
    owner.answer_all(LOWEST)
    own_id = result_id(owner.submit())
    response = owner.client.post(f"/me/assessments/{pending_id}/confirm", data={"csrf_token": owner.token},
                                 follow_redirects=True)
    assert "can no longer be confirmed" in response.get_data(as_text=True)
    db.session.expire_all()
    ca = db.session.get(Client, world["a"]["clients"][0].id)
    assert ca.risk_grade == expected(LOWEST).grade
    history = owner.client.get("/me/assessments").get_data(as_text=True)
    assert f'data-assessment="{own_id}" data-state="in_force"' in history
    assert f'data-assessment="{pending_id}" data-state="never_confirmed"' in history
    assert history.index(f'data-assessment="{own_id}"') < history.index(f'data-assessment="{pending_id}"')


# --- scope of results and history ---------------------------------------------------------------------

def test_results_and_history_are_scoped(app, world):
    owner = Stepper(app.test_client(), "client_a")
    owner.answer_all(MIDDLE)
    url = owner.submit().headers["Location"]
    assert owner.client.get(url).status_code == 200
    expectations = {"client_b": 404, "rm_b": 404, "rm2_a": 404, "sup_b": 404,
                    "rm_a": 200, "sup_a": 200, "compliance": 200, "admin": 200}
    for username, status in expectations.items():
        browser = app.test_client()
        Auth(browser).login(username)
        assert browser.get(url).status_code == status, username
    history_expectations = {"rm_b": 404, "sup_b": 404, "rm2_a": 404, "rm_a": 200, "sup_a": 200,
                            "compliance": 200, "admin": 200, "client_a": 403}
    for username, status in history_expectations.items():
        browser = app.test_client()
        Auth(browser).login(username)
        assert browser.get("/clients/CA0001/assessments").status_code == status, username
    other = app.test_client()
    Auth(other).login("client_b")
    html = other.get("/me/assessments").get_data(as_text=True)
    assert 'id="no-assessments"' in html
    assert other.get("/questionnaire/result/0").status_code == 404
    assert other.get("/questionnaire/result/123456").status_code == 404


def test_history_lists_every_submission_newest_first(app, world):
    from models import RiskAssessment, db

    owner = Stepper(app.test_client(), "client_a")
    ids = []
    for answers in (LOWEST, MIDDLE, HIGHEST):
        owner.answer_all(answers)
        ids.append(result_id(owner.submit()))
    html = owner.client.get("/me/assessments").get_data(as_text=True)
    positions = [html.index(f'data-assessment="{i}"') for i in ids]
    assert positions == sorted(positions, reverse=True)
    assert f'data-assessment="{ids[-1]}" data-state="in_force"' in html
    assert html.count('data-state="superseded"') == 2
    for i in ids:
        assert f'href="/questionnaire/result/{i}"' in html
    stored = db.session.scalars(select(RiskAssessment).order_by(RiskAssessment.id)).all()
    for assessment, answers in zip(stored, (LOWEST, MIDDLE, HIGHEST)):
        assert assessment.answers == answers
        assert assessment.score == expected(answers).score


def test_pages_do_not_use_inline_styles_or_scripts(app, world):
    owner = Stepper(app.test_client(), "client_a")
    pages = ["/", "/me", "/questionnaire", "/questionnaire/step/1", "/me/assessments"]
    owner.answer_all(MIDDLE)
    pages.append("/questionnaire/review")
    for path in pages:
        html = owner.client.get(path).get_data(as_text=True)
        assert "style=" not in html and "<script>" not in html and "onclick" not in html, path


# --- generated answer sets ----------------------------------------------------------------------------

def _answer_value(question_id: str):
    options = [o["id"] for o in QUESTIONS[question_id]["options"]]
    other = [o["id"] for q in DEFAULT["questions"] if q["id"] != question_id for o in q["options"]]
    return st.one_of(st.sampled_from(options), st.sampled_from(options), st.sampled_from(other),
                     st.text(max_size=20), st.just(""))


def _spoil(answers: dict, question_id: str, value: str | None) -> dict:
    spoiled = dict(answers)
    if value is None:
        spoiled.pop(question_id)
    else:
        spoiled[question_id] = value
    return spoiled


VALID_SETS = st.fixed_dictionaries({q["id"]: st.sampled_from([o["id"] for o in q["options"]])
                                    for q in DEFAULT["questions"]})
ANSWER_SETS = st.one_of(
    VALID_SETS,  # complete and valid: must be stored, with the score the rules give
    st.builds(_spoil, VALID_SETS, st.sampled_from(sorted(QUESTIONS)),
              st.one_of(st.none(), st.text(max_size=20), st.sampled_from(sorted(HIGHEST.values())))),
    st.fixed_dictionaries({}, optional={q: _answer_value(q) for q in QUESTIONS}),
)
HIDDEN = st.fixed_dictionaries({
    "version": st.one_of(st.just("ok"), st.just("ok"), st.text(max_size=12), st.integers().map(str)),
    "token": st.one_of(st.just("ok"), st.just("ok"), st.text(max_size=80)),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWER_SETS, hidden=HIDDEN)
def test_generated_answer_sets_never_fail_and_store_only_the_rules_score(app, world, answers, hidden):
    from models import QuestionnaireVersion, RiskAssessment, db
    from portal.operations.risk import definition_of
    from portal.rules import questionnaire as rules

    browser = app.test_client()
    stepper = Stepper(browser, "client_a")
    before = count_assessments()
    for n in range(1, len(STEPS) + 1):
        response = stepper.post_step(n, answers)
        assert response.status_code < 500, (n, answers)
    review = browser.get(stepper.review_url)
    assert review.status_code < 500
    form = {"csrf_token": stepper.token, "version_id": str(active_version_id()), "submission_token": "x" * 32}
    if review.status_code == 200:
        html = review.get_data(as_text=True)
        form["version_id"] = VERSION_RE.search(html).group(1)
        form["submission_token"] = TOKEN_RE.search(html).group(1)
    if hidden["version"] != "ok":
        form["version_id"] = hidden["version"]
    if hidden["token"] != "ok":
        form["submission_token"] = hidden["token"]
    response = browser.post(stepper.review_url, data=form)
    assert response.status_code < 500
    after = count_assessments()
    complete = all(isinstance(answers.get(q), str) and answers[q] in [o["id"] for o in QUESTIONS[q]["options"]]
                   for q in QUESTIONS)
    answers = {k: v for k, v in answers.items() if k in QUESTIONS} | {AGE_QUESTION: RECORD_AGE}
    if after > before:
        assert after == before + 1 and complete, (answers, hidden)
        stored = db.session.scalars(select(RiskAssessment).order_by(RiskAssessment.id.desc()).limit(1)).one()
        assert stored.answers == answers
        version = db.session.get(QuestionnaireVersion, stored.version_id)
        assert stored.score == rules.score(definition_of(version), answers).score
    elif complete and hidden == {"version": "ok", "token": "ok"}:
        pytest.fail(f"a complete, untampered answer set was not stored: {answers}")


def test_percentile_counts_the_clients_below_the_score(app, world):
    """"Higher than N% of clients": clients with a lower current score over all with one; kept per process
    for SCORE_DISTRIBUTION_SECONDS when that is set (production: 300), read afresh when it is 0."""
    from models import db
    from portal.operations import risk

    clients = world["a"]["clients"] + world["b"]["clients"]
    for row, score in zip(clients, (10, 20, 20, 50, None, 90)):
        row.risk_score = score
    db.session.commit()
    first = risk.score_percentile(20)
    assert (first.below, first.total, first.percent) == (1, 5, 20)
    assert (risk.score_percentile(0).below, risk.score_percentile(91).below) == (0, 5)
    app.config["SCORE_DISTRIBUTION_SECONDS"] = 300
    try:
        assert risk.score_percentile(60).below == 4
        clients[0].risk_score = 95
        db.session.commit()
        assert risk.score_percentile(60).below == 4  # the kept distribution
        app.config["SCORE_DISTRIBUTION_SECONDS"] = 0
        assert risk.score_percentile(60).below == 3
    finally:
        app.config["SCORE_DISTRIBUTION_SECONDS"] = 0
        risk._DISTRIBUTIONS.clear()
