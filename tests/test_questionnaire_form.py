"""The questionnaire editor as a form: every field of the definition edited in place, rows added, removed
and moved, mistakes named by question and option in both languages, and the shipped questionnaire saved
back unchanged."""
from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import Auth, client_in

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "data" / "questionnaire" / "default.json"


class FormFields(HTMLParser):
    """The name → value pairs a browser would post for the form with the given id (no button pressed)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.values, self.select, self.textarea = form_id, False, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values.append((a["name"], a.get("value", "on")))
            else:
                self.values.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.select = [a["name"], None, None]
        elif tag == "option" and self.select is not None:
            if self.select[2] is None:
                self.select[2] = a.get("value")
            if "selected" in a:
                self.select[1] = a.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "select" and self.select is not None:
            name, chosen, first = self.select
            self.values.append((name, chosen if chosen is not None else first))
            self.select = None


def form_data(page: str) -> dict:
    parser = FormFields("questionnaire-form")
    parser.feed(page)
    return dict(parser.values)


@pytest.fixture
def draft(app, world):
    from models import QuestionnaireVersion, db

    admin = client_in(app, "en")
    Auth(admin).login("admin")
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    admin.post("/admin/questionnaires/draft", data={"csrf_token": token, "version": "2027.1"})
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.version == "2027.1"))
    return admin, version


def stored(version) -> dict:
    from models import QuestionnaireVersion, db

    db.session.expire_all()
    return db.session.get(QuestionnaireVersion, version.id).definition


def test_the_shipped_questionnaire_round_trips_unchanged(draft):
    from portal.rules import questionnaire as rules

    admin, version = draft
    before = stored(version)
    shipped = rules.definition_to_dict(rules.load_definition(json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))))
    assert {k: v for k, v in before.items() if k != "version"} == {k: v for k, v in shipped.items() if k != "version"}
    page = admin.get(f"/admin/questionnaires/{version.id}/form").get_data(as_text=True)
    data = form_data(page)
    assert data["questions"] == "18" and data["q-0-id"] == "q01" and data["q-0-o-0-points"] == "1"
    assert data["cap-0-lowest"] == "y" and "cap-1-lowest" not in data
    response = admin.post(f"/admin/questionnaires/{version.id}/form", data={**data, "op": "save"})
    problems = re.search(r"id=\"form-problems\">(.*?)</div>", response.get_data(as_text=True), re.DOTALL)
    assert response.status_code == 302, problems and problems.group(1)
    assert stored(version) == before
    assert json.dumps(stored(version), ensure_ascii=False, sort_keys=True) == json.dumps(before, ensure_ascii=False,
                                                                                         sort_keys=True)


def test_fields_are_edited_in_place_and_saved(draft):
    admin, version = draft
    data = form_data(admin.get(f"/admin/questionnaires/{version.id}/form").get_data(as_text=True))
    data.update({"q-2-zh": "您的年收入是多少？（修订）", "q-2-o-3-points": "9", "band-1-max": "38", "band-2-min": "39",
                 "check-0-en": "Review this with the client.", "validity_months": "12"})
    assert admin.post(f"/admin/questionnaires/{version.id}/form", data={**data, "op": "save"}).status_code == 302
    saved = stored(version)
    assert saved["questions"][2]["text"]["zh_CN"] == "您的年收入是多少？（修订）"
    assert saved["questions"][2]["options"][3]["points"] == 9
    assert saved["bands"][1] == {"grade": "C2", "min": 20, "max": 38}
    assert saved["consistency_checks"][0]["text"]["en"] == "Review this with the client."
    assert saved["validity_months"] == 12


@pytest.mark.parametrize("language,change,field,message", [
    ("en", {"q-2-o-1-points": "abc"}, "q-2-o-1-points", "Question 3, option B, points: enter a whole number."),
    ("en", {"q-2-o-2-points": "0"}, "q-2-o-2-points",
     "Question 3, option C: points must be higher than the option above"),
    ("en", {"q-4-o-0-en": ""}, "q-4-o-0-en", "Question 5, option A, English text: this field is required."),
    ("en", {"cap-0-option": "q16z"}, "cap-0-option", "Cap 1: question q16 has no option q16z."),
    ("en", {"check-1-w-0-question": "q99"}, "check-1-w-0-question",
     "Consistency check 2, condition 1: no question has the identifier q99."),
    ("zh-CN", {"q-2-o-1-points": "abc"}, "q-2-o-1-points", "第3题，选项B，分值：请填写整数。"),
    ("zh-CN", {"q-0-zh": ""}, "q-0-zh", "第1题，中文文本：此项必填。"),
])
def test_mistakes_name_the_question_and_option_beside_the_field(app, draft, language, change, field, message):
    _, version = draft
    before = stored(version)
    admin = client_in(app, language)
    Auth(admin).login("admin")
    data = form_data(admin.get(f"/admin/questionnaires/{version.id}/form").get_data(as_text=True))
    response = admin.post(f"/admin/questionnaires/{version.id}/form", data={**data, **change, "op": "save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    beside = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert beside and html.unescape(beside.group(1)).startswith(message), beside and beside.group(1)
    assert form_data(page)[field] == next(iter(change.values()))  # the typed value is kept
    assert stored(version) == before


def test_the_rules_refuse_what_fields_alone_cannot_see(draft):
    admin, version = draft
    data = form_data(admin.get(f"/admin/questionnaires/{version.id}/form").get_data(as_text=True))
    data["band-1-min"] = "25"  # a gap between C1 and C2
    response = admin.post(f"/admin/questionnaires/{version.id}/form", data={**data, "op": "save"})
    assert response.status_code == 400 and 'id="form-problems"' in response.get_data(as_text=True)
    assert "bands" in response.get_data(as_text=True)


def test_rows_are_added_removed_and_moved_without_saving(draft):
    admin, version = draft
    before = stored(version)
    url = f"/admin/questionnaires/{version.id}/form"
    data = form_data(admin.get(url).get_data(as_text=True))

    moved = form_data(admin.post(url, data={**data, "op": "question_down-0"}).get_data(as_text=True))
    assert (moved["q-0-id"], moved["q-1-id"]) == (data["q-1-id"], "q01")
    assert moved["q-1-o-0-zh"] == data["q-0-o-0-zh"]  # options travel with their question

    added = form_data(admin.post(url, data={**data, "op": "add_question"}).get_data(as_text=True))
    assert added["questions"] == "19" and added["q-18-id"] == "" and added["q-18-options"] == "2"

    removed = form_data(admin.post(url, data={**data, "op": "remove_option-0-4"}).get_data(as_text=True))
    assert removed["q-0-options"] == "4" and "q-0-o-4-id" not in removed

    swapped = form_data(admin.post(url, data={**data, "op": "option_up-0-1"}).get_data(as_text=True))
    assert (swapped["q-0-o-0-id"], swapped["q-0-o-1-id"]) == ("q01b", "q01a")

    checks = form_data(admin.post(url, data={**data, "op": "add_condition-0"}).get_data(as_text=True))
    assert checks["check-0-conditions"] == "3"
    fewer = form_data(admin.post(url, data={**data, "op": "remove_cap-1"}).get_data(as_text=True))
    assert fewer["caps"] == "1"
    assert stored(version) == before  # none of these saved anything

    # Saving after moving keeps the move; swapped options with falling points are refused by name.
    assert admin.post(url, data={**moved, "op": "save"}).status_code == 302
    assert [q["id"] for q in stored(version)["questions"]][:2] == [data["q-1-id"], "q01"]
    page = admin.post(url, data={**swapped, "op": "save"}).get_data(as_text=True)
    assert "Question 1, option B: points must be higher than the option above" in html.unescape(page)


def test_enter_in_a_field_saves_rather_than_pressing_an_add_or_remove_button(draft):
    admin, version = draft
    page = admin.get(f"/admin/questionnaires/{version.id}/form").get_data(as_text=True)
    form = page.split('id="questionnaire-form"')[1]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'value="save"' in first_button


def test_published_versions_are_not_edited_as_a_form(app, world):
    from models import QuestionnaireVersion, db

    admin = client_in(app, "en")
    Auth(admin).login("admin")
    active = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    response = admin.get(f"/admin/questionnaires/{active.id}/form")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/questionnaires/{active.id}")
