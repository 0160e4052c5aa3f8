"""Impact previews: each preview's counts equal what the change then actually does, and nothing is written
by the preview itself."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import AuditEntry, Client, ClientTier, TierThresholdSet, db
from portal.rules.calendar import business_today
from tests.helpers import Auth, csrf_token

PARTS = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")
# CA0001..CB0003 with these assets (yuan) at the statistics date.
ASSETS = {"CA0001": "6000000", "CA0002": "1500000", "CA0003": "800000", "CB0001": "150000", "CB0002": "90000",
          "CB0003": "2500000"}
NEW_LADDER = [{"tier": 1, "min_assets": "2000000", "min_contribution": "50000"},
              {"tier": 2, "min_assets": "700000", "min_contribution": "10000"},
              {"tier": 3, "min_assets": "200000", "min_contribution": "2000"},
              {"tier": 4, "min_assets": "0", "min_contribution": "0"}]


@pytest.fixture
def browser(app):
    def make(username):
        test_client = app.test_client()
        test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert Auth(test_client).login(username).status_code == 302
        return test_client
    return make


@pytest.fixture
def day():
    return business_today().replace(day=1) - timedelta(days=1)


@pytest.fixture
def snapshots(app, world, token_for, day):
    body = [{"client_no": no, "date": day.isoformat(), **{p: "0" for p in PARTS}, "cash": amount}
            for no, amount in ASSETS.items()]
    response = app.test_client().post("/api/v1/asset-snapshots", data=json.dumps(body),
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {token_for('compliance')}"})
    assert response.status_code == 201, response.get_json()
    return day


def tiers_at(day) -> dict:
    db.session.expire_all()
    return dict(db.session.execute(select(Client.client_no, ClientTier.tier)
                                   .join(ClientTier, ClientTier.client_id == Client.id)
                                   .where(ClientTier.stat_date == day)).all())


def form_of(ladder) -> dict:
    return {f"tier{item['tier']}_{measure}": item[f"min_{measure}"] for item in ladder
            for measure in ("assets", "contribution")}


def written() -> tuple:
    """What a preview must not change: threshold versions, tier rows, audit rows."""
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(TierThresholdSet)),
            tuple(db.session.execute(select(ClientTier.client_id, ClientTier.tier, ClientTier.computed_at)
                                     .order_by(ClientTier.id)).all()),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


# --- tier thresholds ---------------------------------------------------------------------------------

def test_api_tier_preview_equals_what_saving_then_does(app, snapshots, token_for, browser):
    day = snapshots
    before = tiers_at(day)
    assert before == {"CA0001": 1, "CA0002": 2, "CA0003": 3, "CB0001": 3, "CB0002": 4, "CB0003": 2}
    token = token_for("compliance")
    untouched = written()
    response = app.test_client().post("/api/v1/tier-thresholds/preview", json={"thresholds": NEW_LADDER},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert written() == untouched  # nothing stored by the preview
    assert body["as_of"] == day.isoformat() and body["total_clients"] == 6
    assert sum(t["clients"] for t in body["transitions"]) == body["total_clients"]
    assert all(t["clients"] > 0 for t in body["transitions"])
    assert set(body) == {"as_of", "total_clients", "moved", "transitions"}

    admin = browser("admin")
    token = csrf_token(admin, "/tiering/thresholds")
    response = admin.post("/tiering/thresholds", data={"csrf_token": token, **form_of(NEW_LADDER), "note": "test"})
    assert response.status_code == 302
    after = tiers_at(day)
    actual = Counter((before.get(no), after[no]) for no in after)
    previewed = {(t["from_tier"], t["to_tier"]): t["clients"] for t in body["transitions"]}
    assert previewed == dict(actual)
    assert body["moved"] == sum(n for (old, new), n in actual.items() if old != new) == 3
    assets = {(t["from_tier"], t["to_tier"]): Decimal(t["assets"]) for t in body["transitions"]}
    assert assets[(2, 1)] == Decimal("2500000.00") and assets[(3, 2)] == Decimal("800000.00")


@pytest.mark.parametrize(("ladder", "field", "message"), [
    ([{**NEW_LADDER[0], "min_assets": "100"}, *NEW_LADDER[1:]], "tier1_assets", "must be more than tier 2"),
    ([*NEW_LADDER[:3], {"tier": 4, "min_assets": "5", "min_contribution": "0"}], "tier4_assets",
     "Tier 4 takes every remaining client"),
    ([*NEW_LADDER[:3], {"tier": 4, "min_assets": "-1", "min_contribution": "0"}], "tier4_assets",
     "must not be negative"),
    (NEW_LADDER[:3], "thresholds", "exactly once"),
    ("x", "thresholds", "must be a list"),
])
def test_api_bad_ladder_is_400_with_the_pages_message(app, snapshots, token_for, browser, ladder, field, message):
    response = app.test_client().post("/api/v1/tier-thresholds/preview", json={"thresholds": ladder},
                                      headers={"Authorization": f"Bearer {token_for('admin')}",
                                               "Accept-Language": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and message in error["message"]
    if field != "thresholds":  # the page says the same beside the field
        admin = browser("admin")
        token = csrf_token(admin, "/tiering/thresholds")
        page = admin.post("/tiering/thresholds/preview", data={"csrf_token": token, **form_of(ladder)})
        assert page.status_code == 400
        assert error["message"] in page.get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize("login", ["rm_a", "sup_a", "client_a"])
def test_api_tier_preview_is_for_admin_and_compliance(app, snapshots, token_for, login):
    response = app.test_client().post("/api/v1/tier-thresholds/preview", json={"thresholds": NEW_LADDER},
                                      headers={"Authorization": f"Bearer {token_for(login)}"})
    assert response.status_code == 403


def test_page_preview_shows_the_matrix_and_who_moves_with_exports(app, snapshots, browser):
    admin = browser("admin")
    token = csrf_token(admin, "/tiering/thresholds")
    untouched = written()
    page = admin.post("/tiering/thresholds/preview", data={"csrf_token": token, **form_of(NEW_LADDER)})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert written() == untouched
    assert 'id="impact-preview"' in html and "3 of 6 clients would move" in html
    assert 'data-from="2" data-to="1"' in html and 'value="2000000"' in html  # the form keeps the entries
    query = "&".join(f"{k}={v}" for k, v in form_of(NEW_LADDER).items())
    listing = admin.get(f"/tiering/thresholds/preview/clients?{query}").get_data(as_text=True)
    assert 'data-client="CA0003"' in listing and 'data-client="CB0003"' in listing
    assert 'data-client="CA0001"' not in listing
    only = admin.get(f"/tiering/thresholds/preview/clients?{query}&from=2&to=1").get_data(as_text=True)
    assert 'data-client="CB0003"' in only and 'data-client="CA0003"' not in only
    exported = admin.get(f"/tiering/thresholds/preview/clients?{query}&export=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["CA0003", "CB0001", "CB0003"] and rows[1][5:7] == ["3", "2"]
    book = load_workbook(io.BytesIO(admin.get(f"/tiering/thresholds/preview/clients?{query}&export=xlsx").data))
    assert [c.value for c in book.active["A"]][1:] == ["CA0003", "CB0001", "CB0003"]
    # compliance may read the drill-down; a manager may not
    assert browser("compliance").get(f"/tiering/thresholds/preview/clients?{query}").status_code == 200
    assert browser("rm_a").get(f"/tiering/thresholds/preview/clients?{query}").status_code == 403


def test_preview_without_snapshots_says_so(app, world, token_for):
    response = app.test_client().post("/api/v1/tier-thresholds/preview", json={"thresholds": NEW_LADDER},
                                      headers={"Authorization": f"Bearer {token_for('admin')}"})
    assert response.status_code == 200
    assert response.get_json() == {"as_of": None, "total_clients": 0, "moved": 0, "transitions": []}


# --- the package grid ----------------------------------------------------------------------------------

def _profiles(world) -> None:
    """A valid profile for every client of the world (their own submissions)."""
    from portal.operations.risk import submit_assessment
    from portal.rules import questionnaire as rules

    definition = rules.load_definition_file("data/questionnaire/default.json")
    for n, client in enumerate(world["a"]["clients"] + world["b"]["clients"]):
        pick = (0, 2, 4)[n % 3]
        answers = {q.id: q.options[min(pick, len(q.options) - 1)].id for q in definition.questions if q.id != "q01"}
        submit_assessment(client, answers, None, assisted=False)
    db.session.commit()


def _packages() -> dict:
    from portal.operations.packages import package_for_client

    db.session.expire_all()
    return {c.client_no: package_for_client(c).code for c in db.session.scalars(select(Client))}


def test_package_grid_preview_equals_what_saving_then_does(app, world, snapshots, browser):
    from forms.suitability import cell_field_name
    from portal.operations.packages import package_cells
    from portal.rules.vocabulary import RISK_CLASSES, TIERS

    _profiles(world)
    before = _packages()
    grid = dict(package_cells())
    proposed = {**grid, (2, "conservative"): "premier", (2, "balanced"): "premier", (2, "aggressive"): "premier",
                (1, "aggressive"): "essential"}
    field_names = {cell_field_name(t, c): proposed[(t, c)] for t in TIERS for c in RISK_CLASSES}
    admin = browser("admin")
    token = csrf_token(admin, "/admin/packages")
    untouched = (written(), sorted(package_cells().items()))
    response = admin.post("/admin/packages/cells/preview", data={"csrf_token": token, **field_names})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    assert 'id="impact-preview"' in html
    assert (written(), sorted(package_cells().items())) == untouched

    from portal.operations.previews import package_movers, preview_package_grid
    preview = preview_package_grid(proposed)
    movers, total = package_movers(proposed)
    query = "&".join(f"{k}={v}" for k, v in field_names.items())
    listing = admin.get(f"/admin/packages/cells/preview/clients?{query}").get_data(as_text=True)
    exported = admin.get(f"/admin/packages/cells/preview/clients?{query}&export=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert sorted(r[0] for r in rows[1:]) == sorted(row.client_no for row, _old, _new in movers)
    assert all(f'data-client="{row.client_no}"' in listing for row, _old, _new in movers)
    assert admin.post("/admin/packages/cells", data={"csrf_token": token, **field_names}).status_code == 302
    after = _packages()
    actual = Counter((before[no], after[no]) for no in after if before[no] is not None)
    assert {(t.source, t.target): t.clients for t in preview.transitions} == dict(actual)
    assert preview.moved == sum(n for (old, new), n in actual.items() if old != new) > 0
    assert total == preview.moved
    assert sorted(row.client_no for row, _old, _new in movers) == sorted(
        no for no in after if before[no] is not None and before[no] != after[no])


# --- a draft questionnaire version --------------------------------------------------------------------------

def test_questionnaire_draft_preview_equals_what_answering_under_it_then_gives(app, world, browser):
    from models import QuestionnaireVersion, RiskAssessment
    from portal.operations.risk import submit_assessment
    from portal.rules import questionnaire as rules

    _profiles(world)  # each client's latest answers: lowest, middle or highest options
    admin = browser("admin")
    token = csrf_token(admin, "/admin/questionnaires")
    assert admin.post("/admin/questionnaires/draft", data={"csrf_token": token, "version": "2026.5"}
                      ).status_code == 302
    draft = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "draft"))
    body = {k: v for k, v in draft.definition.items() if k not in ("version", "validity_months")}
    body["bands"] = [{"grade": "C1", "min": 0, "max": 4}, {"grade": "C2", "min": 5, "max": 9},
                     {"grade": "C3", "min": 10, "max": 14}, {"grade": "C4", "min": 15, "max": 19},
                     {"grade": "C5", "min": 20, "max": 100}]  # a middle score becomes C5
    assert admin.post(f"/admin/questionnaires/{draft.id}/edit", data={
        "csrf_token": token, "version": "2026.5", "validity_months": "24", "definition": json.dumps(body)}
    ).status_code == 302
    latest = {}
    for assessment in db.session.scalars(select(RiskAssessment).order_by(RiskAssessment.id)):
        latest[assessment.client_id] = assessment
    submissions = db.session.scalar(select(func.count()).select_from(RiskAssessment))

    page = admin.get(f"/admin/questionnaires/{draft.id}/impact")
    assert page.status_code == 200 and 'id="impact-preview"' in page.get_data(as_text=True)
    from portal.operations.previews import preview_questionnaire
    db.session.expire_all()
    preview, movers = preview_questionnaire(db.session.get(QuestionnaireVersion, draft.id))
    assert db.session.scalar(select(func.count()).select_from(RiskAssessment)) == submissions
    exported = admin.get(f"/admin/questionnaires/{draft.id}/impact/clients?export=csv").get_data(as_text=True)
    assert sorted(r[0] for r in list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))[1:]) == sorted(
        m.client_no for m in movers)

    assert admin.post(f"/admin/questionnaires/{draft.id}/publish", data={"csrf_token": token}).status_code == 302
    definition = rules.load_definition(db.session.get(QuestionnaireVersion, draft.id).definition)
    actual = Counter()
    for client_id, assessment in latest.items():
        client = db.session.get(Client, client_id)
        answers = {k: v for k, v in assessment.answers.items() if k != definition.age_question.id}
        again = submit_assessment(client, answers, None, assisted=False)
        actual[(assessment.grade, again.grade)] += 1
    db.session.commit()
    assert {(t.source, t.target): t.clients for t in preview.transitions} == dict(actual)
    assert preview.moved == sum(n for (old, new), n in actual.items() if old != new) > 0


# --- promotion rules ------------------------------------------------------------------------------------------

def test_promotion_rules_preview_equals_the_engine_run_after_saving(app, world, browser):
    from models import Manager, PromotionRecommendation
    from portal.operations import ladder
    from portal.operations import promotions as operations
    from portal.operations.previews import latest_closed_cycle
    from portal.rules.calendar import add_months
    from tests.test_promotions import closed_cycle, evaluate

    today = business_today()
    older, newer = closed_cycle(add_months(today, -5), name="older"), closed_cycle(add_months(today, -2), name="newer")
    scores = {"RMA1": (85, 86), "RMB1": (82, 83), "RMA2": (50, 55), "RMB2": (70, 72)}
    for employee_no, (first, second) in scores.items():
        manager = db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))
        evaluate(older, manager, first)
        evaluate(newer, manager, second)
    db.session.commit()
    form = {k: ("" if v is None else ("y" if v is True else str(v))) for k, v in
            ladder.rules_as_form_data(ladder.rule_set_in_force().rules).items() if v is not False}
    form["junior_each_total_at_least"] = "84"  # RMB1 (82, 83) would no longer be promoted

    def run() -> dict:
        operations.run_engine(cycle=latest_closed_cycle(), compiled=False)
        db.session.commit()
        rows = db.session.execute(select(Manager.employee_no, PromotionRecommendation.recommendation)
                                  .join(Manager, Manager.id == PromotionRecommendation.manager_id)
                                  .order_by(PromotionRecommendation.id)).all()
        return dict(rows)  # the newest run's answer per manager

    before = run()
    admin = browser("admin")
    token = csrf_token(admin, "/ladder/rules")
    recommendations = db.session.scalar(select(func.count()).select_from(PromotionRecommendation))
    page = admin.post("/ladder/rules/preview", data={"csrf_token": token, **form})
    assert page.status_code == 200, page.get_data(as_text=True)[:800]
    html = page.get_data(as_text=True)
    assert 'id="impact-preview"' in html and 'data-manager="RMB1"' in html and 'data-manager="RMA1"' not in html
    assert db.session.scalar(select(func.count()).select_from(PromotionRecommendation)) == recommendations
    exported = admin.post("/ladder/rules/preview?export=csv", data={"csrf_token": token, **form})
    assert [r[0] for r in list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))[1:]] == [
        "RMB1"]
    from forms.promotions import RulesForm
    from portal.operations.previews import preview_promotion_rules
    from portal.promotions.views import _rules_data
    with app.test_request_context("/ladder/rules", method="POST", data=form):
        preview, movers, _cycle = preview_promotion_rules(_rules_data(RulesForm(meta={"csrf": False})))

    assert admin.post("/ladder/rules", data={"csrf_token": token, **form}).status_code == 302
    after = run()
    actual = Counter((before[no], after[no]) for no in after)
    assert {(t.source, t.target): t.clients for t in preview.transitions} == dict(actual)
    assert [m.employee_no for m in movers] == [no for no in sorted(after) if before[no] != after[no]] == ["RMB1"]


# --- evaluation weights ---------------------------------------------------------------------------------------

def test_weights_preview_equals_the_totals_scoring_then_gives(app, world, browser):
    from models import Evaluation, EvaluationWeightSet, Manager
    from portal.operations import evaluations as scoring_ops
    from portal.operations.previews import latest_closed_cycle
    from portal.rules.calendar import add_months
    from portal.rules.evaluation import band_for, weighted_total
    from tests.test_promotions import closed_cycle, evaluate

    today = business_today()
    older, newer = closed_cycle(add_months(today, -5), name="older"), closed_cycle(add_months(today, -2), name="newer")
    # RMB1 is promoted on satisfaction; weighing KPI far more drops both totals below 80
    scores = {"RMA1": {"satisfaction": 85, "kpi": 88, "team": 85, "competence": 86},
              "RMB1": {"satisfaction": 98, "kpi": 72, "team": 80, "competence": 82}}
    for employee_no, dims in scores.items():
        manager = db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))
        evaluate(older, manager, dims)
        evaluate(newer, manager, dims)
    db.session.commit()
    current = scoring_ops.weight_set_in_force()
    form = {f"{level}_{d}": str(w) for level, row in current.weights.items() for d, w in row.items()}
    form.update({f"band_{code}": str(floor) for floor, code in scoring_ops.bands_of(current)[:-1]})
    form.update({"junior_satisfaction": "10", "junior_kpi": "60", "junior_team": "10", "junior_competence": "20"})
    admin = browser("admin")
    token = csrf_token(admin, "/ladder/weights")
    versions = db.session.scalar(select(func.count()).select_from(EvaluationWeightSet))
    page = admin.post("/ladder/weights/preview", data={"csrf_token": token, **form})
    assert page.status_code == 200, page.get_data(as_text=True)[:600]
    html = page.get_data(as_text=True)
    assert 'id="impact-preview"' in html and 'data-manager="RMB1"' in html and 'data-manager="RMA1"' not in html
    assert db.session.scalar(select(func.count()).select_from(EvaluationWeightSet)) == versions
    exported = admin.post("/ladder/weights/preview?export=csv", data={"csrf_token": token, **form})
    assert [r[0] for r in list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))[1:]] == [
        "RMB1"]
    from portal.operations.previews import preview_weights
    weights = {level: {d: int(form[f"{level}_{d}"]) for d in row} for level, row in current.weights.items()}
    thresholds = {code: Decimal(form[f"band_{code}"]) for _floor, code in scoring_ops.bands_of(current)[:-1]}
    bands, recommendations, movers, cycle = preview_weights(weights, thresholds)
    assert cycle.id == latest_closed_cycle().id and [m.employee_no for m in movers] == ["RMB1"]

    assert admin.post("/ladder/weights", data={"csrf_token": token, **form}).status_code == 302
    new_set = scoring_ops.weight_set_in_force()
    assert new_set.version == current.version + 1
    actual = Counter()
    for evaluation in db.session.scalars(select(Evaluation).where(Evaluation.cycle_id == cycle.id)):
        dims = {d: getattr(evaluation, d) for d in ("satisfaction", "kpi", "team", "competence")}
        total = weighted_total(dims, scoring_ops.weights_of(new_set, evaluation.level))
        actual[(evaluation.band, band_for(total, scoring_ops.bands_of(new_set)))] += 1
    assert {(t.source, t.target): t.clients for t in bands.transitions} == dict(actual)
    assert bands.moved == 1 and recommendations.moved == 1
