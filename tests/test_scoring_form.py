"""The scoring form: data-derived figures offered as the starting scores, the weighted total and band shown
for the scores in the form (worked out again by static/js/score-total.js as they change)."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from portal.rules import evaluation as rules
from tests.test_evaluations import book_data, evaluation_of, score_all  # noqa: F401

pytestmark = pytest.mark.language("en")


@pytest.mark.parametrize("figure,score", [("66.67", 67), ("65.22", 65), ("0.49", 0), ("99.5", 100),
                                          ("100.00", 100), (Decimal("12.5"), 13), (None, None)])
def test_starting_score_rounds_half_up(figure, score):
    assert rules.starting_score(figure) == score


def test_preview_total_matches_the_stored_total():
    weights = {"satisfaction": 25, "kpi": 35, "team": 10, "competence": 30}
    assert rules.preview_total({"satisfaction": "67", "kpi": "65", "team": "80", "competence": "90"}, weights) == (
        Decimal("74.50"), "satisfactory")
    assert rules.preview_total({"satisfaction": "67", "kpi": "", "team": "80", "competence": "90"}, weights) is None
    assert rules.preview_total({"satisfaction": "101", "kpi": "1", "team": "1", "competence": "1"}, weights) is None
    assert rules.preview_total({"satisfaction": "7.5", "kpi": "1", "team": "1", "competence": "1"}, weights) is None


def field_value(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*id="{name}"[^>]*value="([^"]*)"', page).group(1)


def test_derived_figures_are_the_starting_scores_until_scored(client, auth, book_data):  # noqa: F811
    auth.login("sup_a")
    page = client.get(f"/cycles/{book_data.id}/evaluations/RMA1").get_data(as_text=True)
    # satisfaction 66.67 → 67, KPI 65.22 → 65; the two dimensions without data start empty.
    assert field_value(page, "satisfaction") == "67" and field_value(page, "kpi") == "65"
    assert re.search(r'<input[^>]*id="team"[^>]*value=""', page)
    assert 'id="offered-satisfaction"' in page and 'id="offered-kpi"' in page
    assert re.search(r'<output id="live-total"[^>]*>—</output>', page)
    config = json.loads(re.search(r"data-score-total='([^']*)'", page).group(1))
    assert config["weights"] == {"satisfaction": 25, "kpi": 35, "team": 10, "competence": 30}
    assert [b[1] for b in config["bands"]] == ["excellent", "good", "satisfactory", "needs_improvement",
                                               "unsatisfactory"]
    assert '<script src="/static/js/score-total.js"></script>' in page


def test_saved_scores_win_over_the_figures_and_show_their_total(client, auth, book_data):  # noqa: F811
    score_all(book_data, scores={"satisfaction": 90, "kpi": 80, "team": 70, "competence": 60})
    auth.login("sup_a")
    page = client.get(f"/cycles/{book_data.id}/evaluations/RMA1").get_data(as_text=True)
    assert field_value(page, "satisfaction") == "90" and field_value(page, "kpi") == "80"
    assert 'id="offered-' not in page
    total = evaluation_of(book_data, "RMA1").total
    assert re.search(rf'<output id="live-total"[^>]*>{total}</output>', page)


def test_a_refused_form_shows_the_total_of_what_was_typed(client, auth, book_data):  # noqa: F811
    from tests.test_evaluations import score_form

    auth.login("sup_a")
    data = score_form(client, book_data, "RMA1", scores={"satisfaction": "80", "kpi": "80", "team": "80",
                                                         "competence": "200"})
    response = client.post(f"/cycles/{book_data.id}/evaluations/RMA1", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_value(page, "competence") == "200"  # kept as typed, refused beside the field
    assert re.search(r'<output id="live-total"[^>]*>—</output>', page)
    data = score_form(client, book_data, "RMA1", scores={"satisfaction": "80", "kpi": "80", "team": "80",
                                                         "competence": "80"}, version="999")
    conflict = client.post(f"/cycles/{book_data.id}/evaluations/RMA1", data=data).get_data(as_text=True)
    assert re.search(r'<output id="live-total"[^>]*>80.00</output>', conflict)
    assert re.search(r'<output id="live-band" data-band="good">', conflict)
