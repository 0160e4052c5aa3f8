"""Questionnaire editor: draft a copy, edit it (refused whole when invalid), preview, publish; the CLI loader."""
from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "data" / "questionnaire" / "default.json"


@pytest.fixture
def admin(client, auth, world):
    assert auth.login("admin").status_code == 302
    return client


# --- helpers ------------------------------------------------------------------------------------------

def versions() -> dict:
    from models import QuestionnaireVersion, db

    db.session.expire_all()
    return {v.version: v for v in db.session.scalars(select(QuestionnaireVersion))}


def active():
    from models import QuestionnaireVersion, db

    db.session.expire_all()
    return db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))


def audit(action: str) -> list:
    from models import AuditEntry, db

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def field_errors(page: str, field_id: str) -> list[str]:
    pattern = rf'<div class="invalid-feedback[^"]*" id="{re.escape(field_id)}-error">(.*?)</div>'
    return [html.unescape(m) for m in re.findall(pattern, page, re.DOTALL)]


def textarea_json(page: str) -> dict:
    match = re.search(r'<textarea[^>]*name="definition"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match, "no definition textarea"
    return json.loads(html.unescape(match.group(1)))


def create_draft(admin, label: str = "2026.2"):
    token = csrf_token(admin, "/admin/questionnaires")
    return admin.post("/admin/questionnaires/draft", data={"version": label, "csrf_token": token})


def save(admin, version_id: int, definition, label: str = "2026.2", months="24"):
    path = f"/admin/questionnaires/{version_id}/edit"
    token = csrf_token(admin, path) if admin.get(path).status_code == 200 else csrf_token(admin, "/")
    body = definition if isinstance(definition, str) else json.dumps(definition, ensure_ascii=False)
    return admin.post(path, data={"version": label, "validity_months": months, "definition": body,
                                  "csrf_token": token})


def all_first_answers(definition: dict) -> dict:
    """The first option of every question asked; the age question is answered from the birth date on file."""
    return {q["id"]: q["options"][0]["id"] for q in definition["questions"]
            if not any("min_age" in o or "max_age" in o for o in q["options"])}


# --- listing and drafting ----------------------------------------------------------------------------

def test_list_shows_each_version_with_its_figures(admin):
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "2026.1" in page and "Active" in page
    assert ">18<" in page  # questions in the shipped version
    assert ">24<" in page  # validity in months


def test_admin_creates_a_draft_copy_of_the_active_version(admin):
    from models import db

    base = active()
    response = create_draft(admin)
    assert response.status_code == 302
    draft = versions()["2026.2"]
    assert response.headers["Location"].endswith(f"/admin/questionnaires/{draft.id}/edit")
    assert draft.status == "draft" and draft.based_on_id == base.id
    assert draft.definition["questions"] == base.definition["questions"]
    assert draft.definition["version"] == "2026.2" and draft.validity_months == base.validity_months
    assert [row.object_id for row in audit("questionnaire.draft")] == ["2026.2"]

    # A second request goes to the existing draft instead of making another.
    again = create_draft(admin, "2026.3")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/{draft.id}/edit")
    assert "2026.3" not in versions()
    db.session.rollback()


@pytest.mark.parametrize("label,message", [("2026.1", "already exists"), ("", "This field is required."),
                                           ("x" * 41, "longer than 40")])
def test_a_draft_needs_a_new_unique_label(admin, label, message):
    before = set(versions())
    response = create_draft(admin, label)
    assert response.status_code == 400
    errors = field_errors(response.get_data(as_text=True), "version")
    assert errors and message in " ".join(errors)
    assert set(versions()) == before


# --- editing -----------------------------------------------------------------------------------------

def test_edit_page_shows_the_definition_and_saves_a_valid_change(admin):
    create_draft(admin)
    draft = versions()["2026.2"]
    page = admin.get(f"/admin/questionnaires/{draft.id}/edit").get_data(as_text=True)
    definition = textarea_json(page)
    assert "version" not in definition and len(definition["questions"]) == 18

    definition["questions"][0]["text"]["en"] = "How old are you?"
    response = save(admin, draft.id, definition, label="2026.2a", months="12")
    assert response.status_code == 302
    saved = versions()["2026.2a"]
    assert saved.id == draft.id and saved.validity_months == 12
    assert saved.definition["version"] == "2026.2a" and saved.definition["validity_months"] == 12
    assert saved.definition["questions"][0]["text"]["en"] == "How old are you?"
    rows = audit("questionnaire.save")
    assert rows[-1].before["version"] == "2026.2" and rows[-1].after["version"] == "2026.2a"


def _bad_definitions(base: dict) -> list:
    few = copy.deepcopy(base)
    few["questions"] = few["questions"][:11]
    disorder = copy.deepcopy(base)
    options = disorder["questions"][2]["options"]
    options[0], options[1] = options[1], options[0]
    return [
        ("{not json", "definition", "This is not valid JSON"),
        ("[1, 2]", "definition", "must be a JSON object"),
        (few, "definition", "at least 12 questions are required, found 11"),
        (disorder, "definition", "options must be in order of strictly increasing points"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_an_invalid_definition_is_refused_beside_the_field_and_nothing_is_saved(admin, case):
    create_draft(admin)
    draft = versions()["2026.2"]
    stored = copy.deepcopy(draft.definition)
    body, field, message = _bad_definitions(stored)[case]
    response = save(admin, draft.id, body, label="2026.9", months="6")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = field_errors(page, field)
    assert errors and message in " ".join(errors), errors
    assert "Nothing was saved" in page
    after = versions()
    assert "2026.9" not in after
    assert after["2026.2"].definition == stored and after["2026.2"].validity_months == 24
    assert audit("questionnaire.save") == []


@pytest.mark.parametrize("months,message", [("0", "from 1 to 120"), ("abc", "Not a valid integer"),
                                            ("", "whole number of months")])
def test_validity_months_is_checked(admin, months, message):
    create_draft(admin)
    draft = versions()["2026.2"]
    response = save(admin, draft.id, textarea_json(admin.get(f"/admin/questionnaires/{draft.id}/edit")
                                                   .get_data(as_text=True)), months=months)
    assert response.status_code == 400
    assert message in " ".join(field_errors(response.get_data(as_text=True), "validity_months"))
    assert versions()["2026.2"].validity_months == 24


def test_every_mistake_shows_at_once_and_odd_json_is_no_500(admin):
    create_draft(admin)
    draft = versions()["2026.2"]
    response = save(admin, draft.id, '{"questions": ', months="0")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_errors(page, "validity_months") and "not valid JSON" in " ".join(field_errors(page, "definition"))
    deep = copy.deepcopy(draft.definition)
    deep["notes"] = json.loads("[" * 900 + "]" * 900)
    assert save(admin, draft.id, deep).status_code == 302  # unknown keys are dropped on save
    assert "notes" not in versions()["2026.2"].definition
    assert save(admin, draft.id, "[" * 100_000 + "]" * 100_000).status_code in (400, 413)
    assert save(admin, draft.id, '{"title": "\u0000"}').status_code == 400  # a raw NUL: refused before the view
    # An escaped one passes the request filter; the operation refuses it by name.
    hidden = copy.deepcopy(versions()["2026.2"].definition)
    hidden["questions"][1]["options"][0]["text"]["zh_CN"] = "a\u0000b"
    refused = save(admin, draft.id, hidden)  # json.dumps writes it as \u0000
    assert refused.status_code == 400
    assert "questions[1].options[0].text.zh_CN: contains a control character" in html.unescape(
        " ".join(field_errors(refused.get_data(as_text=True), "definition")))


def test_label_of_another_version_is_refused_on_save(admin):
    create_draft(admin)
    draft = versions()["2026.2"]
    response = save(admin, draft.id, draft.definition, label="2026.1")
    assert response.status_code == 400
    assert "already exists" in " ".join(field_errors(response.get_data(as_text=True), "version"))


def test_published_versions_cannot_be_edited(admin):
    version = active()
    stored = copy.deepcopy(version.definition)
    page = admin.get(f"/admin/questionnaires/{version.id}/edit", follow_redirects=True).get_data(as_text=True)
    assert "can no longer be changed" in page
    changed = copy.deepcopy(stored)
    changed["questions"][0]["text"]["en"] = "Tampered"
    response = save(admin, version.id, changed, label="2026.1")
    assert response.status_code == 302
    assert "can no longer be changed" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert active().definition == stored
    # The read-only view shows the definition.
    view = admin.get(f"/admin/questionnaires/{version.id}").get_data(as_text=True)
    assert "read-only" in view and "q01" in view


def test_the_operation_refuses_a_non_draft_too(app, world):
    from portal.operations.errors import OperationError
    from portal.operations.questionnaires import publish, save_draft

    version = active()
    with pytest.raises(OperationError) as error:
        save_draft(version, version.definition, version.version, 24, None)
    assert error.value.code == "not_draft"
    with pytest.raises(OperationError):
        publish(version, None)


# --- preview ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,question,group", [("zh_CN", "您的年龄是？", "年龄"), ("en", "What is your age?", "Age")])
def test_preview_shows_every_question_as_a_client_sees_it(admin, lang, question, group):
    create_draft(admin)
    draft = versions()["2026.2"]
    response = admin.get(f"/admin/questionnaires/{draft.id}/preview?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert question in page
    assert page.count('type="radio"') == sum(len(q["options"]) for q in draft.definition["questions"])
    assert page.count("disabled>") >= page.count('type="radio"')
    assert 'type="submit"' not in page.split("<main", 1)[1].split("questionnaire-preview", 1)[1]
    text = html.unescape(page)
    for q in draft.definition["questions"]:
        assert q["text"][lang] in text
        assert all(option["text"][lang] in text for option in q["options"])
    assert group in text
    if lang == "en":
        assert "Securities knowledge" in page and "Risk preference" in page


def test_preview_with_an_unknown_language_falls_back(admin):
    response = admin.get(f"/admin/questionnaires/{active().id}/preview?lang=xx")
    assert response.status_code == 200


# --- publishing ------------------------------------------------------------------------------------

def test_publishing_retires_the_old_version_and_keeps_past_submissions(admin, world):
    from models import RiskAssessment, User, db
    from portal.operations.risk import submit_assessment

    old = active()
    client_a = world["a"]["clients"][0]
    user = db.session.scalar(select(User).where(User.username == "client_a"))
    assessment = submit_assessment(client_a, all_first_answers(old.definition), user, assisted=False)
    db.session.commit()
    assessment_id, old_score, old_grade = assessment.id, assessment.score, assessment.grade

    create_draft(admin)
    draft = versions()["2026.2"]
    changed = copy.deepcopy(draft.definition)
    for question in changed["questions"]:  # every option worth more: the same answers would now score differently
        for n, option in enumerate(question["options"]):
            option["points"] = 10 * (n + 1) + (5 if n == 0 else 0)
    assert save(admin, draft.id, changed).status_code == 302

    token = csrf_token(admin, f"/admin/questionnaires/{draft.id}")
    response = admin.post(f"/admin/questionnaires/{draft.id}/publish", data={"csrf_token": token})
    assert response.status_code == 302
    after = versions()
    assert after["2026.2"].status == "active" and after["2026.2"].published_at is not None
    assert after["2026.1"].status == "retired"
    assert sum(v.status == "active" for v in after.values()) == 1
    rows = audit("questionnaire.publish")
    assert rows[-1].after["active"] == "2026.2" and rows[-1].after["retired"] == "2026.1"

    stored = db.session.get(RiskAssessment, assessment_id)
    db.session.refresh(stored)
    assert stored.version_id == old.id and stored.version.version == "2026.1"
    assert stored.score == old_score and stored.grade == old_grade
    assert stored.version.definition == old.definition

    # The retired version is read-only now, and publishing it again is refused.
    assert save(admin, old.id, old.definition, label="2026.1").status_code == 302
    token = csrf_token(admin, f"/admin/questionnaires/{old.id}")
    refused = admin.post(f"/admin/questionnaires/{old.id}/publish", data={"csrf_token": token},
                         follow_redirects=True)
    assert "can no longer be changed" in refused.get_data(as_text=True)
    assert versions()["2026.1"].status == "retired"


def test_publish_without_csrf_changes_nothing(admin):
    create_draft(admin)
    draft = versions()["2026.2"]
    response = admin.post(f"/admin/questionnaires/{draft.id}/publish", data={})
    assert response.status_code in (302, 400)
    assert versions()["2026.2"].status == "draft"


# --- who may use it ------------------------------------------------------------------------------

@pytest.mark.parametrize("login", ["client_a", "rm_a", "sup_a", "compliance"])
def test_only_admins_use_the_editor(client, auth, world, login):
    version_id = active().id
    auth.login(login)
    for path in ("/admin/questionnaires", f"/admin/questionnaires/{version_id}",
                 f"/admin/questionnaires/{version_id}/edit", f"/admin/questionnaires/{version_id}/preview"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")
    assert client.post("/admin/questionnaires/draft", data={"version": "9", "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/questionnaires/{version_id}/publish", data={"csrf_token": token}).status_code == 403
    assert "9" not in versions()


def test_unknown_version_is_404(admin):
    assert admin.get("/admin/questionnaires/999999/edit").status_code == 404


# --- CLI --------------------------------------------------------------------------------------------

@pytest.fixture
def cli(app, runner):
    if "load-questionnaire" not in app.cli.commands:
        from portal.questionnaire.cli import register

        register(app)
    return runner


def test_cli_loads_a_good_file_as_a_draft_then_publishes(cli, tmp_path):
    definition = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    definition["version"] = "2027.1"
    path = tmp_path / "good.json"
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    result = cli.invoke(args=["load-questionnaire", str(path)])
    assert result.exit_code == 0, result.output
    assert "2027.1" in result.output and "draft" in result.output
    assert versions()["2027.1"].status == "draft"
    assert [row.object_id for row in audit("questionnaire.load")] == ["2027.1"]

    definition["version"] = "2027.2"
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    # A draft already exists: a second draft is refused, publishing at once is allowed.
    refused = cli.invoke(args=["load-questionnaire", str(path)])
    assert refused.exit_code != 0 and "already exists" in refused.output
    result = cli.invoke(args=["load-questionnaire", str(path), "--publish"])
    assert result.exit_code == 0, result.output
    after = versions()
    assert after["2027.2"].status == "active" and after["2026.1"].status == "retired"


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["questions"].__delitem__(slice(11, None)), "at least 12 questions are required, found 11"),
    (lambda d: d["questions"][0]["options"].reverse(), "options must be in order of strictly increasing points"),
    (lambda d: d.__setitem__("version", "2026.1"), "Version 2026.1 already exists"),
    (lambda d: d["questions"][0]["text"].pop("en"), "missing the en text"),
])
def test_cli_refuses_a_bad_file_with_the_reason(cli, tmp_path, mutate, message):
    from models import QuestionnaireVersion, db

    definition = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    definition["version"] = "2027.9"
    mutate(definition)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    before = db.session.scalar(select(func.count(QuestionnaireVersion.id)))
    result = cli.invoke(args=["load-questionnaire", str(path)])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert db.session.scalar(select(func.count(QuestionnaireVersion.id))) == before


def test_cli_refuses_a_file_that_is_not_json(cli, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"version": "x",', encoding="utf-8")
    result = cli.invoke(args=["load-questionnaire", str(path)])
    assert result.exit_code != 0 and "not valid JSON" in result.output and "line 1" in result.output
    missing = cli.invoke(args=["load-questionnaire", str(tmp_path / "absent.json")])
    assert missing.exit_code != 0
