"""Evaluation cycles: states and refusals, who may do what, scoring with derived figures, optimistic locking."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    AssetSnapshot,
    AuditEntry,
    Client,
    Evaluation,
    EvaluationCycle,
    EvaluationWeightSet,
    Manager,
    ManagerTarget,
    RevenueRecord,
    ServiceRating,
    db,
)
from portal.operations import evaluations as ops
from portal.operations.errors import OperationError
from portal.rules.evaluation import kpi_from_data, satisfaction_from_ratings
from tests.helpers import csrf_token, manager, post_form, team, user

pytestmark = pytest.mark.language("en")

Q1 = (date(2026, 1, 1), date(2026, 3, 31))
SCORES = {"satisfaction": 80, "kpi": 70, "team": 90, "competence": 60}  # junior 25/35/10/30 → 71.50


def evaluation_of(cycle, employee_no):
    return db.session.scalar(select(Evaluation).join(Manager, Manager.id == Evaluation.manager_id)
                             .where(Evaluation.cycle_id == cycle.id, Manager.employee_no == employee_no))


def new_cycle(scope="TEAMA", period=Q1, name="2026 Q1", opened=True, by="admin"):
    cycle = ops.create_cycle(name, period[0], period[1], team(scope) if scope != "all" else None, user(by))
    if opened:
        ops.open_cycle(cycle, user(by))
    db.session.commit()
    return cycle


def score_all(cycle, by="admin", scores=SCORES):
    for evaluation in db.session.scalars(select(Evaluation).where(Evaluation.cycle_id == cycle.id)).all():
        ops.score_evaluation(evaluation, scores, None, user(by))
    db.session.commit()


def audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def post(client, path, data=None, page="/cycles"):
    return post_form(client, path, data, page)


# --- cycles: the operations --------------------------------------------------------------------------

def test_opening_a_team_cycle_creates_one_evaluation_per_active_manager_and_freezes_level_team_weights(app, world,
                                                                                                     make):
    left = make.manager(team("TEAMA"), employee_no="RMA9", status="left")
    db.session.commit()
    cycle = new_cycle(opened=False)
    assert cycle.state == "draft" and cycle.weight_set_id is None
    assert db.session.scalar(select(func.count(Evaluation.id))) == 0
    created = ops.open_cycle(cycle, user("admin"))
    db.session.commit()
    rows = db.session.execute(select(Manager.employee_no, Evaluation.level, Evaluation.team_id, Evaluation.version)
                              .join(Manager, Manager.id == Evaluation.manager_id)
                              .where(Evaluation.cycle_id == cycle.id).order_by(Manager.employee_no)).all()
    # The team's head (SUPA) is not in a team cycle; the manager who left is not either.
    assert created == 2 and [r[0] for r in rows] == ["RMA1", "RMA2"]
    assert [(r.level, r.team_id, r.version) for r in rows] == [("junior", team("TEAMA").id, 1),
                                                               ("mid", team("TEAMA").id, 1)]
    newest = db.session.scalar(select(EvaluationWeightSet).order_by(EvaluationWeightSet.version.desc()))
    assert cycle.state == "open" and cycle.weight_set_id == newest.id and cycle.opened_at is not None
    assert left.id not in {r.manager_id for r in db.session.scalars(select(Evaluation))}
    entries = audit("cycle.open")
    assert entries[-1].after == {"state": "open", "evaluations": 2, "weight_set": newest.version}


def test_a_level_change_after_opening_does_not_change_the_frozen_level(app, world):
    cycle = new_cycle()
    manager("RMA1").level = "senior"
    db.session.commit()
    evaluation = evaluation_of(cycle, "RMA1")
    ops.score_evaluation(evaluation, SCORES, None, user("admin"))
    assert evaluation.level == "junior" and evaluation.total == Decimal("71.50")  # junior weights


def test_a_cycle_over_everyone_includes_supervisors(app, world):
    cycle = new_cycle("all")
    numbers = set(db.session.scalars(select(Manager.employee_no).join(Evaluation, Evaluation.manager_id == Manager.id)
                                     .where(Evaluation.cycle_id == cycle.id)))
    assert numbers == {"SUPA", "RMA1", "RMA2", "SUPB", "RMB1", "RMB2"}


@pytest.mark.parametrize("name, start, end, field", [
    ("", date(2026, 1, 1), date(2026, 3, 31), "name"),
    ("x" * 101, date(2026, 1, 1), date(2026, 3, 31), "name"),
    ("Q1", date(2026, 3, 31), date(2026, 1, 1), "end"),
    ("Too long", date(2026, 1, 1), date(2027, 1, 2), "end"),
])
def test_bad_cycles_are_refused(app, world, name, start, end, field):
    with pytest.raises(OperationError) as raised:
        ops.create_cycle(name, start, end, None, user("admin"))
    assert raised.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(EvaluationCycle.id))) == 0


def test_state_transitions_and_refusals(app, world):
    cycle = new_cycle(opened=False)
    with pytest.raises(OperationError) as raised:
        ops.close_cycle(cycle, user("admin"))
    assert raised.value.code == "not_open"
    ops.open_cycle(cycle, user("admin"))
    with pytest.raises(OperationError) as raised:
        ops.open_cycle(cycle, user("admin"))
    assert raised.value.code == "not_draft"
    with pytest.raises(OperationError) as raised:
        ops.delete_cycle(cycle, user("admin"))
    assert raised.value.code == "not_draft"
    score_all(cycle)
    ops.close_cycle(cycle, user("admin"))
    db.session.commit()
    assert cycle.state == "closed" and cycle.closed_at is not None and cycle.closed_by_id == user("admin").id
    for action in (ops.open_cycle, ops.close_cycle, ops.delete_cycle):
        with pytest.raises(OperationError):
            action(cycle, user("admin"))
    with pytest.raises(OperationError) as raised:
        ops.score_evaluation(evaluation_of(cycle, "RMA1"), SCORES, None, user("admin"))
    assert raised.value.code == "cycle_closed"
    with pytest.raises(OperationError) as raised:
        ops.save_self_assessment(evaluation_of(cycle, "RMA1"), "late", user("rm_a"))
    assert raised.value.code == "cycle_closed"


def test_a_draft_can_be_deleted_and_is_audited(app, world):
    cycle = new_cycle(opened=False)
    cycle_id = cycle.id
    ops.delete_cycle(cycle, user("admin"))
    db.session.commit()
    assert db.session.get(EvaluationCycle, cycle_id) is None
    assert audit("cycle.delete")[-1].before["name"] == "2026 Q1"


def test_closing_is_refused_while_any_evaluation_is_unscored_and_names_them(app, world):
    cycle = new_cycle()
    ops.score_evaluation(evaluation_of(cycle, "RMA1"), SCORES, None, user("admin"))
    db.session.commit()
    with pytest.raises(ops.UnscoredError) as raised:
        ops.close_cycle(cycle, user("admin"))
    assert raised.value.unscored == [("RMA2", manager("RMA2").name)] and raised.value.total == 1
    assert "RMA2" in raised.value.message and manager("RMA2").name in raised.value.message
    db.session.rollback()
    assert db.session.get(EvaluationCycle, cycle.id).state == "open"


def test_closing_runs_the_promotion_engine_and_is_audited(app, world, monkeypatch):
    from portal.operations import promotions

    calls = []
    real = promotions.run_engine

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(promotions, "run_engine", spy)
    cycle = new_cycle()
    score_all(cycle)
    stored = ops.close_cycle(cycle, user("admin"))
    db.session.commit()
    assert len(calls) == 1 and calls[0]["cycle"].id == cycle.id and calls[0]["cycle"].state == "closed"
    assert stored == 2
    assert audit("cycle.close")[-1].after["recommendations"] == 2


def test_an_overlapping_open_cycle_over_the_same_people_is_refused(app, world):
    new_cycle("TEAMA")
    other_team = new_cycle("TEAMB", name="B Q1")  # another team: allowed
    assert other_team.state == "open"
    everyone = new_cycle("all", name="All Q1", opened=False)
    with pytest.raises(OperationError) as raised:
        ops.open_cycle(everyone, user("admin"))
    assert raised.value.code == "overlapping_cycle"
    db.session.rollback()
    later = new_cycle("TEAMA", period=(date(2026, 4, 1), date(2026, 6, 30)), name="Q2")
    assert later.state == "open"


def test_opening_an_empty_scope_is_refused(app, world, make):
    empty = make.team("EMPTY")
    db.session.commit()
    cycle = ops.create_cycle("Empty", *Q1, empty, user("admin"))
    with pytest.raises(OperationError) as raised:
        ops.open_cycle(cycle, user("admin"))
    assert raised.value.code == "empty_scope"


# --- cycles: the pages and who may use them -------------------------------------------------------------

def test_supervisor_creates_opens_and_closes_a_cycle_for_their_team(client, auth, world):
    auth.login("sup_a")
    form = client.get("/cycles/new").get_data(as_text=True)
    assert 'value="TEAMA"' in form and 'value="TEAMB"' not in form and 'value="all"' not in form
    response = post(client, "/cycles/new", {"name": "2026 Q1", "start": "2026-01-01", "end": "2026-03-31",
                                            "scope": "TEAMA"}, "/cycles/new")
    assert response.status_code == 302
    cycle = db.session.scalar(select(EvaluationCycle))
    assert (cycle.name, cycle.team_id, cycle.state, cycle.created_by_id) == ("2026 Q1", team("TEAMA").id, "draft",
                                                                           user("sup_a").id)
    assert post(client, f"/cycles/{cycle.id}/open").status_code == 302
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert 'data-employee="RMA1"' in page and 'data-employee="RMA2"' in page
    refused = post(client, f"/cycles/{cycle.id}/close")
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert 'id="unscored-error"' in html and "RMA1" in html and manager("RMA2").name in html
    db.session.expire_all()
    score_all(db.session.get(EvaluationCycle, cycle.id))
    assert post(client, f"/cycles/{cycle.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(EvaluationCycle, cycle.id).state == "closed"


def test_a_supervisor_cannot_create_a_cycle_for_another_team_or_everyone(client, auth, world):
    auth.login("sup_a")
    for scope in ("TEAMB", "all"):
        response = post(client, "/cycles/new", {"name": "x", "start": "2026-01-01", "end": "2026-03-31",
                                                "scope": scope}, "/cycles/new")
        assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(EvaluationCycle.id))) == 0


def test_bad_dates_on_the_create_form_show_a_message(client, auth, world):
    auth.login("admin")
    response = post(client, "/cycles/new", {"name": "Q", "start": "2026-03-31", "end": "2026-01-01",
                                            "scope": "all"}, "/cycles/new")
    assert response.status_code == 400
    assert "The end date cannot be before the start date." in response.get_data(as_text=True)


def test_admin_creates_a_cycle_over_everyone_and_only_admin_opens_it(client, auth, world):
    cycle = new_cycle("all", opened=False)
    auth.login("sup_a")
    assert client.get(f"/cycles/{cycle.id}").status_code == 200  # visible to every supervisor
    assert post(client, f"/cycles/{cycle.id}/open").status_code == 403
    assert post(client, f"/cycles/{cycle.id}/delete").status_code == 403
    auth.login("admin")
    assert post(client, f"/cycles/{cycle.id}/open").status_code == 302
    db.session.expire_all()
    assert db.session.get(EvaluationCycle, cycle.id).state == "open"


def test_another_teams_cycle_is_not_found(client, auth, world):
    cycle = new_cycle("TEAMA")
    auth.login("sup_b")
    assert client.get(f"/cycles/{cycle.id}").status_code == 404
    assert post(client, f"/cycles/{cycle.id}/close").status_code == 404
    assert client.get(f"/cycles/{cycle.id}/evaluations/RMA1").status_code == 404
    assert "TEAMA" not in client.get("/cycles").get_data(as_text=True)


def test_delete_page_action_for_draft_and_refusal_for_open(client, auth, world):
    draft = new_cycle(opened=False)
    opened = new_cycle("TEAMB", name="B")
    auth.login("admin")
    assert post(client, f"/cycles/{draft.id}/delete").status_code == 302
    refused = post(client, f"/cycles/{opened.id}/delete")
    assert refused.status_code == 409 and "Only a cycle in draft can be deleted" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EvaluationCycle, draft.id) is None and db.session.get(EvaluationCycle, opened.id)


def test_compliance_reads_but_changes_nothing(client, auth, world):
    cycle = new_cycle()
    auth.login("compliance")
    assert client.get("/cycles").status_code == 200
    assert client.get(f"/cycles/{cycle.id}").status_code == 200
    page = client.get(f"/cycles/{cycle.id}/evaluations/RMA1")
    assert page.status_code == 200 and 'id="score-form"' not in page.get_data(as_text=True)
    assert post(client, f"/cycles/{cycle.id}/close").status_code == 403
    assert post(client, f"/cycles/{cycle.id}/evaluations/RMA1", dict(SCORES)).status_code == 403


# --- scoring page ------------------------------------------------------------------------------------

def score_form(client, cycle, employee_no, scores=SCORES, comment="ok", version=None):
    page = client.get(f"/cycles/{cycle.id}/evaluations/{employee_no}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    if version is None:
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    return {"csrf_token": token, **{k: str(v) for k, v in scores.items()}, "comment": comment, "version": version}


def test_supervisor_scores_a_manager_and_sees_total_and_band(client, auth, world):
    cycle = new_cycle()
    auth.login("sup_a")
    data = score_form(client, cycle, "RMA1")
    response = client.post(f"/cycles/{cycle.id}/evaluations/RMA1", data=data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="total">71.50<' in page and 'data-band="satisfactory"' in page
    evaluation = evaluation_of(cycle, "RMA1")
    assert (evaluation.total, evaluation.band, evaluation.comment) == (Decimal("71.50"), "satisfactory", "ok")
    assert evaluation.scored_by_id == user("sup_a").id and evaluation.version == 2
    assert evaluation.derived["satisfaction"]["figure"] is None and "kpi" in evaluation.derived
    entry = audit("evaluation.score")[-1]
    assert entry.after["total"] == "71.50" and entry.after["employee_no"] == "RMA1" and entry.before["total"] is None


def test_the_total_uses_the_weights_of_the_level(client, auth, world):
    cycle = new_cycle()
    ops.score_evaluation(evaluation_of(cycle, "RMA2"), {"satisfaction": 90, "kpi": 85, "team": 70, "competence": 95},
                         None, user("admin"))
    # mid 25/40/15/20: 22.5 + 34 + 10.5 + 19 = 86.00
    assert evaluation_of(cycle, "RMA2").total == Decimal("86.00") and evaluation_of(cycle, "RMA2").band == "good"


@pytest.mark.parametrize("field, value", [("satisfaction", "101"), ("kpi", "-1"), ("team", "12.5"),
                                          ("competence", "abc"), ("kpi", ""), ("team", "１２")])
def test_a_score_that_is_not_a_whole_number_0_to_100_is_refused(client, auth, world, field, value):
    cycle = new_cycle()
    auth.login("sup_a")
    data = score_form(client, cycle, "RMA1")
    data[field] = value
    response = client.post(f"/cycles/{cycle.id}/evaluations/RMA1", data=data)
    assert response.status_code == 400
    assert "Enter a whole number from 0 to 100." in response.get_data(as_text=True)
    assert evaluation_of(cycle, "RMA1").total is None and evaluation_of(cycle, "RMA1").version == 1


def test_a_too_long_comment_is_refused(client, auth, world):
    cycle = new_cycle()
    auth.login("sup_a")
    data = score_form(client, cycle, "RMA1", comment="x" * 2001)
    assert client.post(f"/cycles/{cycle.id}/evaluations/RMA1", data=data).status_code == 400
    assert evaluation_of(cycle, "RMA1").total is None


def test_a_closed_cycle_is_read_only_and_refuses_a_post(client, auth, world):
    cycle = new_cycle()
    auth.login("sup_a")
    data = score_form(client, cycle, "RMA1")
    score_all(cycle)
    ops.close_cycle(cycle, user("admin"))
    db.session.commit()
    page = client.get(f"/cycles/{cycle.id}/evaluations/RMA1").get_data(as_text=True)
    assert 'id="score-form"' not in page and 'id="locked"' in page
    response = client.post(f"/cycles/{cycle.id}/evaluations/RMA1", data={**data, "kpi": "10"})
    assert response.status_code == 409 and "The cycle is closed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert evaluation_of(cycle, "RMA1").kpi == 70


def test_scorers_scope(client, auth, world):
    everyone = new_cycle("all")
    auth.login("sup_a")
    listed = client.get(f"/cycles/{everyone.id}").get_data(as_text=True)
    assert 'data-employee="RMA1"' in listed and 'data-employee="RMB1"' not in listed
    assert client.get(f"/cycles/{everyone.id}/evaluations/RMB1").status_code == 404  # another team
    # A supervisor never scores themself: an administrator scores supervisors.
    own = client.get(f"/cycles/{everyone.id}/evaluations/SUPA").get_data(as_text=True)
    assert 'id="score-form"' not in own and 'id="self-form"' in own
    data = score_form(client, everyone, "RMA1")
    assert client.post(f"/cycles/{everyone.id}/evaluations/SUPA", data=data).status_code == 403
    auth.login("admin")
    data = score_form(client, everyone, "SUPA", scores={"satisfaction": 90, "kpi": 90, "team": 90, "competence": 90})
    assert client.post(f"/cycles/{everyone.id}/evaluations/SUPA", data=data).status_code == 302
    assert evaluation_of(everyone, "SUPA").total == Decimal("90.00")


def test_a_manager_sees_their_own_evaluation_scores_only_after_close_and_adds_a_self_assessment(client, auth, world):
    cycle = new_cycle()
    score_all(cycle)
    auth.login("rm_a")
    assert client.get(f"/cycles/{cycle.id}/evaluations/RMA2").status_code == 404  # a colleague's
    page = client.get(f"/cycles/{cycle.id}/evaluations/RMA1").get_data(as_text=True)
    assert 'id="scores-hidden"' in page and "71.50" not in page and 'id="derived"' not in page
    response = client.post(f"/cycles/{cycle.id}/evaluations/RMA1/self", data={
        "csrf_token": csrf_token(client, f"/cycles/{cycle.id}/evaluations/RMA1"), "self_comment": "我完成了培训"})
    assert response.status_code == 302
    assert evaluation_of(cycle, "RMA1").self_comment == "我完成了培训"
    assert audit("evaluation.self_assessment")[-1].after["self_comment"] == "我完成了培训"
    assert client.post(f"/cycles/{cycle.id}/evaluations/RMA1", data=score_form(client, cycle, "RMA1",
                                                                               version="1")).status_code == 403
    mine = client.get("/my/evaluations").get_data(as_text=True)
    assert f'data-cycle="{cycle.id}"' in mine and "71.50" not in mine
    ops.close_cycle(db.session.get(EvaluationCycle, cycle.id), user("admin"))
    db.session.commit()
    page = client.get(f"/cycles/{cycle.id}/evaluations/RMA1").get_data(as_text=True)
    assert 'id="total">71.50<' in page and 'id="self-form"' not in page and "我完成了培训" in page
    assert "71.50" in client.get("/my/evaluations").get_data(as_text=True)
    late = client.post(f"/cycles/{cycle.id}/evaluations/RMA1/self", data={
        "csrf_token": csrf_token(client, "/my/evaluations"), "self_comment": "late"})
    assert late.status_code == 409
    assert evaluation_of(cycle, "RMA1").self_comment == "我完成了培训"


def test_the_scorer_sees_the_self_assessment(client, auth, world):
    cycle = new_cycle()
    ops.save_self_assessment(evaluation_of(cycle, "RMA1"), "自评内容", user("rm_a"))
    db.session.commit()
    auth.login("sup_a")
    assert "自评内容" in client.get(f"/cycles/{cycle.id}/evaluations/RMA1").get_data(as_text=True)


# --- derived figures ------------------------------------------------------------------------------------

def _china(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def book_data(world, make):
    """RMA1's book for 2026 Q1, with figures chosen so every derived value can be worked out by hand."""
    rma1 = manager("RMA1")
    ca1, ca2 = (db.session.scalar(select(Client).where(Client.client_no == no)) for no in ("CA0001", "CA0002"))
    new = make.client(rma1, client_no="CA0009")
    new.opened_on = date(2026, 2, 10)  # a new client in the period
    ca3 = db.session.scalar(select(Client).where(Client.client_no == "CA0003"))  # RMA2's: never counted
    ca1.profile_valid_until = date(2027, 1, 1)  # valid at the period's end
    ca2.profile_valid_until = date(2026, 3, 30)  # expired the day before the end
    for c, month, amount in [(ca1, date(2025, 12, 1), "999.00"), (ca1, date(2026, 1, 1), "1000.00"),
                             (ca1, date(2026, 3, 1), "500.50"), (ca2, date(2026, 2, 1), "250.25"),
                             (ca1, date(2026, 4, 1), "888.00"), (ca3, date(2026, 1, 1), "7777.00")]:
        db.session.add(RevenueRecord(client_id=c.id, month=month, net_commission=Decimal(amount),
                                     other_income=Decimal(0)))
    zero = {part: Decimal(0) for part in ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds")}
    for c, day, total in [(ca1, date(2025, 12, 31), "100000"), (ca2, date(2025, 12, 31), "50000"),
                          (ca1, date(2026, 3, 31), "130000"), (ca2, date(2026, 3, 31), "45000"),
                          (new, date(2026, 3, 31), "20000"), (ca1, date(2026, 4, 30), "999999"),
                          (ca3, date(2026, 3, 31), "5000000")]:
        db.session.add(AssetSnapshot(client_id=c.id, stat_date=day, collective_products=Decimal(total),
                                     total_assets=Decimal(total), **zero))
    db.session.add(ManagerTarget(manager_id=rma1.id, period_start=Q1[0], period_end=Q1[1],
                                 net_commission=Decimal("2000.00"), asset_growth=Decimal("50000.00"), new_clients=2))
    db.session.commit()
    cycle = new_cycle()
    earlier = new_cycle(period=(date(2025, 10, 1), date(2025, 12, 31)), name="2025 Q4", opened=False)
    later = new_cycle(period=(date(2026, 4, 1), date(2026, 6, 30)), name="2026 Q2", opened=False)
    # In the period (China time): 5, 4, 2 stars; just outside it on either side: 1 and 1.
    for c, in_cycle, stars, at in [(ca1, cycle, 5, _china(date(2026, 1, 15), 10)),
                                   (ca2, cycle, 4, _china(date(2026, 2, 1), 9)),
                                   (new, cycle, 2, _china(date(2026, 3, 31), 23, 59)),
                                   (ca1, earlier, 1, _china(date(2025, 12, 31), 23, 30)),
                                   (ca1, later, 1, _china(date(2026, 4, 1), 0, 30)),
                                   (ca3, cycle, 5, _china(date(2026, 2, 2), 9))]:  # RMA2's client rates RMA2
        db.session.add(ServiceRating(client_id=c.id, manager_id=c.manager_id, cycle_id=in_cycle.id, stars=stars,
                                     rated_at=at, comment="服务很好" if stars == 5 else None))
    db.session.commit()
    return cycle


def test_derived_satisfaction_is_the_mean_of_the_periods_ratings(app, book_data):
    figures = ops.satisfaction_figures(manager("RMA1").id, book_data)
    assert figures["ratings"] == 3 and figures["by_stars"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert figures["mean_stars"] == "3.67"
    assert Decimal(figures["figure"]) == satisfaction_from_ratings([5, 4, 2]) == Decimal("66.67")
    assert figures["comments"][0]["comment"] == "服务很好"


def test_derived_kpi_against_hand_computed_values(app, book_data):
    kpi = ops.kpi_figures(manager("RMA1").id, book_data)
    assert kpi["net_commission"]["achieved"] == "1750.75"  # 1000.00 + 500.50 + 250.25
    assert kpi["asset_growth"] == {**kpi["asset_growth"], "achieved": "45000.00", "start_date": "2025-12-31",
                                   "start_total": "150000.00", "end_date": "2026-03-31", "end_total": "195000.00"}
    assert kpi["new_clients"]["achieved"] == 1
    assert kpi["valid_profiles"]["valid"] == 1 and kpi["valid_profiles"]["book"] == 3
    assert kpi["target"] == {"net_commission": "2000.00", "asset_growth": "50000.00", "new_clients": 2}
    # (0.875375 + 0.9 + 0.5 + 1/3) / 4 × 100 = 65.2177… → 65.22
    assert kpi["figure"] == "65.22"
    expected = kpi_from_data(net_commission=Decimal("1750.75"), net_commission_target=2000,
                             asset_growth=Decimal("45000"), asset_growth_target=50000, new_clients=1,
                             new_clients_target=2, valid_profile_share=Decimal(1) / Decimal(3))
    assert Decimal(kpi["figure"]) == expected.figure
    assert kpi["net_commission"]["ratio"] == "0.8754" and kpi["new_clients"]["ratio"] == "0.5000"
    assert kpi["skipped"] == []


def test_without_a_target_for_the_period_only_the_valid_profile_share_counts(app, book_data):
    db.session.execute(update(ManagerTarget).values(period_end=date(2026, 3, 30)))  # not the cycle's period
    kpi = ops.kpi_figures(manager("RMA1").id, book_data)
    assert kpi["target"] is None and kpi["figure"] == "33.33"
    assert set(kpi["skipped"]) == {"net_commission", "asset_growth", "new_clients"}


def test_no_data_at_all(app, world):
    cycle = new_cycle()
    rma2 = manager("RMA2")
    db.session.execute(update(Client).where(Client.manager_id == rma2.id).values(manager_id=None))
    figures = ops.derived_figures(rma2.id, cycle)
    assert figures["satisfaction"]["figure"] is None and figures["kpi"]["figure"] is None
    assert figures["kpi"]["net_commission"]["achieved"] is None and figures["kpi"]["asset_growth"]["achieved"] is None


def test_the_scoring_page_shows_the_derived_figures_and_no_data(client, auth, book_data):
    auth.login("sup_a")
    page = client.get(f"/cycles/{book_data.id}/evaluations/RMA1").get_data(as_text=True)
    satisfaction = page.split('id="derived-satisfaction"')[1].split('id="derived-kpi"')[0]
    assert "66.67" in satisfaction and "3 client ratings" in satisfaction
    kpi = page.split('id="derived-kpi"')[1].split("</section>")[0]
    assert "65.22" in kpi and "1,750.75" in kpi and "45,000.00" in kpi and "2,000.00" in kpi
    assert "1 of 3" in kpi and "87.5 %" in kpi
    other = client.get(f"/cycles/{book_data.id}/evaluations/RMA2").get_data(as_text=True)
    assert 'id="no-target"' in other and "no data" in other


def test_saving_stores_the_derived_figures(app, book_data):
    evaluation = evaluation_of(book_data, "RMA1")
    ops.score_evaluation(evaluation, SCORES, "", user("sup_a"))
    db.session.commit()
    assert evaluation.derived["satisfaction"]["figure"] == "66.67" and evaluation.derived["kpi"]["figure"] == "65.22"
    assert evaluation.comment is None


# --- optimistic locking -----------------------------------------------------------------------------------

def test_the_second_of_two_saves_of_the_same_version_is_told_who_changed_it(app, world):
    cycle = new_cycle()
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    from tests.helpers import Auth

    Auth(first).login("sup_a")
    Auth(second).login("admin")
    first_data = score_form(first, cycle, "RMA1", comment="first")
    second_data = score_form(second, cycle, "RMA1", scores={"satisfaction": 95, "kpi": 95, "team": 95,
                                                             "competence": 95}, comment="second")
    assert first_data["version"] == second_data["version"] == "1"
    assert first.post(f"/cycles/{cycle.id}/evaluations/RMA1", data=first_data).status_code == 302
    refused = second.post(f"/cycles/{cycle.id}/evaluations/RMA1", data=second_data)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert 'id="conflict"' in html and "Sup_A (sup_a)" in html
    assert re.search(r'name="satisfaction"[^>]*value="95"', html)  # what they typed stays in the form
    assert re.search(r'name="version"[^>]*value="2"', html)  # saving again goes on top
    assert "Saved now: <strong>80</strong>" in html  # the saved value beside the field
    db.session.expire_all()
    evaluation = evaluation_of(cycle, "RMA1")
    assert (evaluation.satisfaction, evaluation.comment, evaluation.version) == (80, "first", 2)
    conflict = audit("evaluation.score_conflict")[-1]
    assert conflict.outcome == "failed" and conflict.after["typed"]["satisfaction"] == 95
    assert conflict.actor_username == "admin" and conflict.before["version"] == 2
    # Save again on top: both sets of values are in the audit log.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    again = second.post(f"/cycles/{cycle.id}/evaluations/RMA1", data={**second_data, "csrf_token": token,
                                                                       "version": "2"})
    assert again.status_code == 302
    db.session.expire_all()
    assert evaluation_of(cycle, "RMA1").satisfaction == 95 and evaluation_of(cycle, "RMA1").version == 3
    scored = audit("evaluation.score")
    assert [e.after["satisfaction"] for e in scored] == [80, 95] and [e.actor_username for e in scored] == \
        ["sup_a", "admin"]


@pytest.mark.commits  # a second Session on its own connection
def test_a_save_racing_another_session_is_a_conflict_not_a_lost_update(app, world):
    """Two sessions load version 1; the other commits first; this one's UPDATE … WHERE version = 1 fails."""
    cycle = new_cycle()
    mine = evaluation_of(cycle, "RMA1")
    assert mine.version == 1
    db.session.commit()  # end the read so the other connection can write (SQLite)
    mine = evaluation_of(cycle, "RMA1")
    with Session(db.engine) as other:
        theirs = other.get(Evaluation, mine.id)
        theirs.satisfaction, theirs.updated_by_id, theirs.updated_at = 10, user("admin").id, datetime.now(UTC)
        other.commit()
    with pytest.raises(ops.ConflictError) as raised:
        ops.score_evaluation(mine, SCORES, None, user("sup_a"))  # no expected version: the race itself
    assert raised.value.evaluation.version == 2 and raised.value.evaluation.satisfaction == 10
    assert "admin" in raised.value.message
    db.session.rollback()
    assert evaluation_of(cycle, "RMA1").satisfaction == 10


def test_a_stale_expected_version_is_refused_by_the_operation(app, world):
    cycle = new_cycle()
    evaluation = evaluation_of(cycle, "RMA1")
    ops.score_evaluation(evaluation, SCORES, None, user("sup_a"), expected_version=1)
    db.session.commit()
    with pytest.raises(ops.ConflictError) as raised:
        ops.score_evaluation(evaluation, SCORES, None, user("admin"), expected_version=1)
    assert raised.value.changed_by.endswith("(sup_a)")


# --- bad input of any kind ---------------------------------------------------------------------------------

FUZZ_TEXT = st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "0", "100", "101", "-0", "1e2", "٣", "\x00",
                                                             "99999999999999999999", "50.0", "NaN"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.fixed_dictionaries({}, optional={d: FUZZ_TEXT for d in (*SCORES, "comment", "version")}))
def test_fuzzed_score_forms_never_fail_and_never_half_save(client, auth, world, data):
    cycle = db.session.scalar(select(EvaluationCycle)) or new_cycle()
    auth.login("sup_a")
    response = client.post(f"/cycles/{cycle.id}/evaluations/RMA1",
                           data={"csrf_token": csrf_token(client, "/cycles"), **data})
    assert response.status_code in (302, 400, 409), response.status_code
    db.session.expire_all()
    evaluation = evaluation_of(cycle, "RMA1")
    if response.status_code == 302:
        assert all(isinstance(getattr(evaluation, d), int) and 0 <= getattr(evaluation, d) <= 100 for d in SCORES)
    scores = [getattr(evaluation, d) for d in SCORES]
    assert (evaluation.total is None) == (None in scores)  # never a total without its four scores
