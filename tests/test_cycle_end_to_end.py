"""A team's cycles from creation to close through the evaluation operations, then maker/checker over the web:
one promotion and one demotion recommended, nominated by the supervisor, approved by an admin."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Evaluation, EvaluationCycle, LevelChange, PromotionRecommendation, db
from portal.operations import evaluations as cycles
from portal.operations import promotions as operations
from portal.operations.errors import OperationError
from portal.rules.calendar import add_months
from tests.helpers import csrf_token, user
from tests.test_promotions import TODAY, set_level

pytestmark = pytest.mark.language("en")


def run_cycle(name, start, end, team, scores: dict[int, int], *, check_unscored: bool = False) -> EvaluationCycle:
    """Create, open, score every evaluation (one score for all four dimensions) and close one team cycle."""
    admin, supervisor = user("admin"), user("sup_a")
    cycle = cycles.create_cycle(name, start, end, team, admin)
    assert cycle.state == "draft"
    assert cycles.open_cycle(cycle, admin) == len(scores)
    evaluations = db.session.scalars(select(Evaluation).where(Evaluation.cycle_id == cycle.id)).all()
    for position, evaluation in enumerate(evaluations):
        if check_unscored and position == len(evaluations) - 1:
            with pytest.raises(OperationError):  # one evaluation still unscored: the cycle cannot close
                cycles.close_cycle(cycle, admin)
            db.session.rollback()
            evaluation = db.session.get(Evaluation, evaluation.id)
            cycle = db.session.get(EvaluationCycle, cycle.id)
        value = scores[evaluation.manager_id]
        cycles.score_evaluation(evaluation, dict.fromkeys(("satisfaction", "kpi", "team", "competence"), value),
                                "scored in the end-to-end test", supervisor)
        db.session.commit()
    stored = cycles.close_cycle(cycle, admin)
    db.session.commit()
    assert cycle.state == "closed" and stored == len(scores)
    return cycle


def test_a_team_cycle_from_creation_to_approved_level_changes(client, auth, world):
    team, strong, weak = world["a"]["team"], world["a"]["rm"], world["a"]["rm2"]
    set_level(strong, "junior", 20)
    set_level(weak, "mid", 30)
    db.session.commit()
    first_start, second_start = add_months(TODAY, -6), add_months(TODAY, -3)
    run_cycle("First half", first_start, second_start - timedelta(days=1), team, {strong.id: 88, weak.id: 55})
    second = run_cycle("Second half", second_start, TODAY - timedelta(days=1), team, {strong.id: 92, weak.id: 50},
                       check_unscored=True)

    # Closing ran the engine: one promotion and one demotion recommended from this cycle, rules recorded.
    rows = {row.manager_id: row for row in db.session.scalars(
        select(PromotionRecommendation).where(PromotionRecommendation.cycle_id == second.id))}
    assert (rows[strong.id].recommendation, rows[strong.id].target_level) == ("promote", "mid")
    assert (rows[weak.id].recommendation, rows[weak.id].target_level) == ("demote", "junior")
    assert second.rule_set_id == rows[strong.id].rule_set_id

    # The supervisor nominates both (maker).
    auth.login("sup_a")
    for employee_no, recommendation in (("RMA1", rows[strong.id]), ("RMA2", rows[weak.id])):
        page = client.get(f"/managers/{employee_no}/eligibility").get_data(as_text=True)
        assert "Second half" in page
        response = client.post(f"/managers/{employee_no}/nominate", data={
            "csrf_token": csrf_token(client, "/"), "recommendation_id": recommendation.id,
            "reason": f"Second half: {recommendation.recommendation}"})
        assert response.status_code == 302

    # An admin approves both (checker), with today as the effective date.
    auth.login("admin")
    assert "RMA1" in client.get("/nominations").get_data(as_text=True)
    for employee_no, manager in (("RMA1", strong), ("RMA2", weak)):
        nomination = operations.pending_nomination(manager.id)
        response = client.post(f"/managers/{employee_no}/nomination", data={
            "csrf_token": csrf_token(client, "/"), "nomination_id": nomination.id, "decision": "approve",
            "effective_date": TODAY.isoformat(), "reason": "Agreed"})
        assert response.status_code == 302

    db.session.expire_all()
    assert (strong.level, strong.level_since) == ("mid", TODAY)
    assert (weak.level, weak.level_since) == ("junior", TODAY)
    changes = {change.manager_id: change for change in db.session.scalars(
        select(LevelChange).where(LevelChange.kind.in_(("promotion", "demotion"))))}
    assert (changes[strong.id].kind, changes[strong.id].from_level, changes[strong.id].to_level) == (
        "promotion", "junior", "mid")
    assert (changes[weak.id].kind, changes[weak.id].to_level) == ("demotion", "junior")
    for change in changes.values():
        assert change.cycle_id == second.id and change.rule_set_id == second.rule_set_id
        assert change.proposed_by_id == user("sup_a").id and change.approved_by_id == user("admin").id
    history = client.get("/managers/RMA2/levels").get_data(as_text=True)
    assert 'data-kind="demotion"' in history and "Second half" in history and "version 1" in history
    # After the change, scores from the previous level no longer count.
    assert operations.recommendation_now(strong)[0].recommendation == "hold"
