"""The level ladder page, and editing weights, bands and promotion rules as new versions."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, EvaluationCycle, EvaluationWeightSet, PromotionRecommendation, PromotionRuleSet, db
from portal.operations import ladder
from portal.operations import promotions as operations
from portal.operations.errors import OperationError
from portal.rules.evaluation import DEFAULT_WEIGHTS, DIMENSIONS
from portal.rules.promotion import rules_from_dict, rules_to_dict
from portal.rules.vocabulary import LEVELS
from tests.helpers import csrf_token
from tests.test_promotions import TODAY, user

pytestmark = pytest.mark.language("en")


def weights_form(weights=None, bands=("90", "80", "70", "60"), note="") -> dict:
    weights = weights or DEFAULT_WEIGHTS
    data = {f"{level}_{d}": str(weights[level][d]) for level in LEVELS for d in DIMENSIONS}
    data.update({f"band_{code}": value for code, value in
                 zip(("excellent", "good", "satisfactory", "needs_improvement"), bands)})
    data["note"] = note
    return data


def rules_form(**changes) -> dict:
    data = {}
    for name, value in ladder.rules_as_form_data(rules_to_dict()).items():
        if isinstance(value, bool):
            if value:
                data[name] = "y"
        elif value is not None:
            data[name] = str(value)
    data.update(changes)
    return data


# --- the ladder page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["rm_a", "sup_a", "compliance", "admin"])
def test_every_staff_role_reads_the_ladder(client, auth, world, login):
    auth.login(login)
    page = client.get("/ladder").get_data(as_text=True)
    for level in LEVELS:
        assert f'id="level-{level}"' in page
    assert "Junior Relationship Manager" in page and "Bank of China" in page
    assert "At least 12 months in the level" in page and "No open compliance flag" in page
    assert "each of the latest 2 totals is below 60" in page
    assert ("Edit weights and bands" in page) is (login == "admin")


def test_the_ladder_in_chinese_shows_the_seed_text(client, auth, world):
    auth.login("rm_a")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = client.get("/ladder").get_data(as_text=True)
    assert "初级客户经理是刚刚加入中国银行的新手" in page and "资深客户经理" in page


def test_a_client_cannot_read_the_ladder(client, auth, world):
    auth.login("client_a")
    assert client.get("/ladder").status_code == 403


# --- weights and bands -------------------------------------------------------------------------------------


def test_admin_saves_weights_as_a_new_version_and_open_cycles_keep_theirs(client, auth, world):
    from portal.operations.evaluations import create_cycle, open_cycle

    cycle = create_cycle("Q", TODAY - timedelta(days=30), TODAY + timedelta(days=60), world["a"]["team"],
                         user("admin"))
    open_cycle(cycle, user("admin"))
    db.session.commit()
    opened_with = cycle.weight_set_id
    auth.login("admin")
    changed = {level: dict(values) for level, values in DEFAULT_WEIGHTS.items()}
    changed["junior"] = {"satisfaction": 30, "kpi": 30, "team": 10, "competence": 30}
    response = client.post("/ladder/weights", data={"csrf_token": csrf_token(client, "/ladder/weights"),
                                                    **weights_form(changed, bands=("92", "80.5", "70", "60"),
                                                                   note="More weight on service")})
    assert response.status_code == 302
    newest = ladder.weights_in_force()
    assert newest.version == 2 and newest.weights["junior"]["satisfaction"] == 30
    assert newest.bands[1] == ["80.5", "good"] and newest.bands[-1] == ["0", "unsatisfactory"]
    assert newest.created_by_id == user("admin").id and newest.note == "More weight on service"
    assert db.session.get(EvaluationCycle, cycle.id).weight_set_id == opened_with != newest.id
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "evaluation_weights.new_version"))
    assert audit.before["version"] == 1 and audit.after["version"] == 2
    page = client.get("/ladder").get_data(as_text=True)
    assert "Weights and bands: version 2." in page and "More weight on service" in page


@pytest.mark.parametrize("field, value, message", [
    ("junior_kpi", "36", "The weights of a level must add up to 100; these add up to 101."),
    ("mid_team", "101", "Each weight is a whole number from 0 to 100."),
    ("senior_team", "-1", "Each weight is a whole number from 0 to 100."),
    ("principal_kpi", "35.5", "Each weight is a whole number from 0 to 100."),
    ("band_good", "95", "Each band must start below the band above it."),
    ("band_needs_improvement", "0", "Only the lowest band starts at 0."),
    ("band_excellent", "90.123", "Enter a number from 0 to 100 with at most two decimals."),
])
def test_bad_weights_are_refused_with_a_message(client, auth, world, field, value, message):
    auth.login("admin")
    data = {"csrf_token": csrf_token(client, "/ladder/weights"), **weights_form()}
    data[field] = value
    response = client.post("/ladder/weights", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(EvaluationWeightSet.id))) == 1


def test_unchanged_weights_make_no_version(client, auth, world):
    auth.login("admin")
    response = client.post("/ladder/weights", data={"csrf_token": csrf_token(client, "/ladder/weights"),
                                                    **weights_form()})
    assert response.status_code == 400 and "already in force" in response.get_data(as_text=True)


def test_the_operation_checks_weights_itself(app, world):
    bad = {level: dict(values) for level, values in DEFAULT_WEIGHTS.items()}
    bad["mid"]["kpi"] = 41
    with pytest.raises(OperationError) as refused:
        ladder.create_weight_set(bad, {"excellent": 90, "good": 80, "satisfactory": 70, "needs_improvement": 60},
                                 note=None, by=user("admin"))
    assert refused.value.code == "weights_sum" and refused.value.field == "mid_satisfaction"
    with pytest.raises(OperationError):
        ladder.create_weight_set({"junior": DEFAULT_WEIGHTS["junior"]}, {}, note=None, by=user("admin"))


@pytest.mark.parametrize("path", ["/ladder/weights", "/ladder/rules"])
@pytest.mark.parametrize("login", ["rm_a", "sup_a", "compliance"])
def test_only_an_admin_edits(client, auth, world, path, login):
    auth.login(login)
    assert client.get(path).status_code == 403
    assert client.post(path, data={"csrf_token": csrf_token(client, "/")}).status_code == 403


# --- promotion rules ---------------------------------------------------------------------------------------


def test_admin_saves_rules_and_the_engine_uses_the_new_version(client, auth, world):
    auth.login("admin")
    page = client.get("/ladder/rules").get_data(as_text=True)
    assert 'name="junior_min_months"' in page and 'value="12"' in page
    response = client.post("/ladder/rules", data={"csrf_token": csrf_token(client, "/ladder/rules"),
                                                  **rules_form(junior_min_months="9", mid_team_at_least="",
                                                               note="Faster first step")})
    assert response.status_code == 302
    newest = ladder.rule_set_in_force()
    assert newest.version == 2 and newest.note == "Faster first step"
    rules, demotion = rules_from_dict(newest.rules)
    assert rules[0].min_months == 9 and rules[1].team_at_least is None
    assert rules[2].no_open_compliance_flag is True and demotion.each_total_below == Decimal(60)
    operations.run_engine(manager_ids=[world["a"]["rm"].id])
    stored = db.session.scalar(select(PromotionRecommendation))
    assert stored.rule_set_id == newest.id
    tenure = next(c for c in operations.recommendation_detail(stored)["clauses"] if c["rule"] == "months_in_level")
    assert tenure["required"] == "≥ 9"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "promotion_rules.new_version"))
    assert audit.after["version"] == 2 and audit.before["version"] == 1
    assert "Promotion rules: version 2." in client.get("/ladder").get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"junior_evaluations": "0"}, "Evaluations considered is a whole number from 1 to 12."),
    ({"mid_evaluations": ""}, "Evaluations considered is a whole number from 1 to 12."),
    ({"senior_mean_total_at_least": "101"}, "Enter a number from 0 to 100 with at most two decimals."),
    ({"junior_min_months": "-3"}, "Months in level is a whole number from 0 to 600, or blank for none."),
    ({"junior_each_total_at_least": "80.555"}, "Enter a number from 0 to 100 with at most two decimals."),
    ({"junior_each_total_at_least": ""}, "A promotion rule needs a bar on the total"),
    ({"demotion_each_total_below": ""}, "Enter a number from 0 to 100 with at most two decimals."),
    ({}, "These rules are the ones already in force."),
])
def test_bad_rules_are_refused_with_a_message(client, auth, world, changes, message):
    auth.login("admin")
    response = client.post("/ladder/rules", data={"csrf_token": csrf_token(client, "/ladder/rules"),
                                                  **rules_form(**changes)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PromotionRuleSet.id))) == 1


def test_check_rules_has_the_pure_rules_last_word(app, world):
    data = {"promotion": {"junior": {"evaluations": 2, "each_total_at_least": Decimal(80)},
                          "mid": {"evaluations": 3, "mean_total_at_least": Decimal(85)},
                          "senior": {"evaluations": 4, "mean_total_at_least": Decimal(88),
                                     "no_open_compliance_flag": True}},
            "demotion": {"evaluations": 2, "each_total_below": Decimal(60)}}
    checked = ladder.check_rules(data)
    rules, _demotion = rules_from_dict(checked)
    assert [r.min_months for r in rules] == [None, None, None]
    assert checked["promotion"][0]["each_total_at_least"] == "80"
