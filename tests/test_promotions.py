"""The promotion engine over data, eligibility pages, compliance flags, nominations (maker/checker), level history."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    AuditEntry,
    ComplianceFlag,
    Evaluation,
    EvaluationCycle,
    LevelChange,
    Manager,
    PromotionNomination,
    PromotionRecommendation,
    PromotionRuleSet,
    db,
)
from portal.operations import promotions as operations
from portal.operations.errors import OperationError
from portal.rules.calendar import add_months, business_today
from portal.rules.evaluation import DEFAULT_WEIGHTS, band_for, weighted_total
from tests.helpers import csrf_token, user

pytestmark = pytest.mark.language("en")

TODAY = business_today()


# --- hand-built history (shared with the other promotion test modules) -----------------------------------


def closed_cycle(end: date, team=None, name: str | None = None, state: str = "closed") -> EvaluationCycle:
    """A cycle of one quarter ending on `end`, closed, over one team or everyone."""
    cycle = EvaluationCycle(name=name or f"Q ending {end.isoformat()}", start_date=end - timedelta(days=90),
                            end_date=end, team_id=team.id if team else None, state=state)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def evaluate(cycle: EvaluationCycle, manager: Manager, scores: dict | int, *, weights: dict | None = None,
             total: Decimal | None = None) -> Evaluation:
    """A scored evaluation; the total is the weighted sum (the level's default weights unless given)."""
    if isinstance(scores, int):
        scores = dict.fromkeys(("satisfaction", "kpi", "team", "competence"), scores)
    if total is None:
        total = weighted_total(scores, weights or DEFAULT_WEIGHTS[manager.level])
    evaluation = Evaluation(cycle_id=cycle.id, manager_id=manager.id, level=manager.level, team_id=manager.team_id,
                            total=total, band=band_for(total), **scores)
    db.session.add(evaluation)
    db.session.flush()
    return evaluation


def history(manager: Manager, scores: list, months_back: int = 2) -> list[EvaluationCycle]:
    """One closed cycle per score, the last ending `months_back` months ago, three months apart (oldest first)."""
    cycles = []
    for position, score in enumerate(scores):
        end = add_months(TODAY, -(months_back + 3 * (len(scores) - 1 - position)))
        cycle = closed_cycle(end, manager.team)
        evaluate(cycle, manager, score)
        cycles.append(cycle)
    return cycles


def set_level(m: Manager, level: str, months_ago: int) -> None:
    m.level, m.level_since = level, add_months(TODAY, -months_ago)
    db.session.flush()


def engine_for(m: Manager):
    operations.run_engine(manager_ids=[m.id])
    return operations.latest_recommendation(m.id)


# --- the engine over data: clause edges --------------------------------------------------------------------


@pytest.mark.parametrize("months, expected, eligible_in", [(11, "hold", 1), (12, "promote", None)])
def test_tenure_edge_eleven_against_twelve_months(app, world, months, expected, eligible_in):
    m = world["a"]["rm"]
    set_level(m, "junior", months)
    history(m, [85, 85], months_back=1)
    answer, _rules = operations.recommendation_now(m)
    assert answer.recommendation == expected
    assert answer.eligible_in_months == eligible_in
    tenure = next(c for c in answer.clauses if c.rule == "months_in_level")
    assert (tenure.observed, tenure.required, tenure.passed) == (months, "≥ 12", months >= 12)


@pytest.mark.parametrize("satisfaction, total, expected", [(79, "79.99", "hold"), (80, "80.00", "promote")])
def test_total_edge_79_99_against_80(app, world, satisfaction, total, expected):
    """Weights 1/99/0/0 make a stored total of 79.99 reachable from whole scores (79 and 80)."""
    m = world["a"]["rm"]
    set_level(m, "junior", 24)
    weights = {"satisfaction": 1, "kpi": 99, "team": 0, "competence": 0}
    for months_back in (4, 1):
        cycle = closed_cycle(add_months(TODAY, -months_back), m.team)
        scores = {"satisfaction": satisfaction, "kpi": 80, "team": 70, "competence": 70}
        evaluation = evaluate(cycle, m, scores, weights=weights)
        assert evaluation.total == Decimal(total)
    db.session.commit()
    answer, _rules = operations.recommendation_now(m)
    assert answer.recommendation == expected
    each = next(c for c in answer.clauses if c.rule == "each_total")
    assert each.observed == [total, total] and each.passed is (expected == "promote")


@pytest.mark.parametrize("level, expected, target", [("junior", "hold", None), ("mid", "demote", "junior"),
                                                     ("principal", "demote", "senior")])
def test_demotion_and_its_floor_at_junior(app, world, level, expected, target):
    m = world["a"]["rm"]
    set_level(m, level, 30)
    history(m, [55, 50])
    answer, _rules = operations.recommendation_now(m)
    assert (answer.recommendation, answer.target_level) == (expected, target)
    floor = next(c for c in answer.clauses if c.rule == "demotion_floor")
    assert floor.passed is (level != "junior")


@pytest.mark.parametrize("flag, expected", [(None, "promote"), ("open", "hold"), ("closed", "promote")])
def test_an_open_compliance_flag_blocks_principal(app, world, flag, expected):
    m = world["a"]["rm"]
    set_level(m, "senior", 40)
    history(m, [{"satisfaction": 90, "kpi": 90, "team": 90, "competence": 90}] * 4)
    if flag:
        raised = operations.open_flag(m, kind="conduct_breach", note="late disclosure", by=user("compliance"))
        if flag == "closed":
            operations.close_flag(m, raised.id, note="cleared", by=user("admin"))
    answer, _rules = operations.recommendation_now(m)
    assert answer.recommendation == expected
    clause = next(c for c in answer.clauses if c.rule == "no_compliance_flag")
    assert clause.observed == (1 if flag == "open" else 0)


def test_only_closed_in_level_evaluations_count_latest_first(app, world):
    m = world["a"]["rm"]
    set_level(m, "junior", 14)
    history(m, [90, 90])
    before_level = closed_cycle(add_months(TODAY, -15), m.team)  # ended before the level began
    evaluate(before_level, m, 20)
    still_open = closed_cycle(TODAY, m.team, state="open")
    evaluate(still_open, m, 20)
    answer, _rules = operations.recommendation_now(m)
    assert answer.recommendation == "promote"
    # The cycle being closed counts even before its state is written.
    assert operations.run_engine(cycle=still_open) == 1
    stored = operations.latest_recommendation(m.id)
    assert stored.cycle_id == still_open.id and stored.recommendation == "hold"
    assert still_open.rule_set_id == stored.rule_set_id


def test_run_engine_stores_one_row_per_manager_with_the_newest_rules(app, world):
    newest = db.session.scalar(select(func.max(PromotionRuleSet.id)))
    count = operations.run_engine()
    active = db.session.scalar(select(func.count(Manager.id)).where(Manager.status == "active"))
    assert count == active == 6
    rows = db.session.scalars(select(PromotionRecommendation)).all()
    assert len(rows) == 6 and {row.rule_set_id for row in rows} == {newest}
    assert all(row.cycle_id is None and operations.recommendation_detail(row)["clauses"] for row in rows)
    assert len({row.run_id for row in rows}) == 1 and rows[0].run.as_of == business_today()
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "promotion.engine_run"))
    assert audit.after["managers"] == 6 and audit.after["hold"] == 6


def test_run_engine_covers_a_cycles_managers_only(app, world):
    m = world["a"]["rm"]
    cycle = closed_cycle(add_months(TODAY, -1), m.team)
    evaluate(cycle, m, 70)
    evaluate(cycle, world["a"]["rm2"], 70)
    assert operations.run_engine(cycle=cycle) == 2
    assert operations.run_engine(manager_ids=[m.id]) == 1
    assert db.session.scalar(select(func.count(PromotionRecommendation.id))) == 3


# --- the eligibility page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("login, employee_no, status", [
    ("rm_a", "RMA1", 200), ("rm_a", "RMA2", 404), ("sup_a", "RMA1", 200), ("sup_a", "RMB1", 404),
    ("compliance", "RMB1", 200), ("admin", "RMB2", 200), ("client_a", "RMA1", 403),
])
def test_eligibility_page_is_scoped(client, auth, world, login, employee_no, status):
    auth.login(login)
    assert client.get(f"/managers/{employee_no}/eligibility").status_code == status


def test_eligibility_page_explains_every_clause_and_tenure_only(client, auth, world):
    m = world["a"]["rm"]
    set_level(m, "junior", 10)
    history(m, [85, 85], months_back=1)
    db.session.commit()
    auth.login("rm_a")
    page = client.get("/managers/RMA1/eligibility").get_data(as_text=True)
    assert "not stored" in page  # no run yet: computed now
    assert 'data-rule="months_in_level"' in page and "≥ 12" in page
    assert "eligible in 2 months" in page
    assert "Run the engine again now" not in page  # the manager may read, not run


def _eligible_manager_of_signed_in_supervisor(auth, world):
    """RMA1, junior for 20 months with two strong quarters, and their supervisor signed in."""
    m = world["a"]["rm"]
    set_level(m, "junior", 20)
    history(m, [88, 92])
    db.session.commit()
    auth.login("sup_a")
    return m


def test_supervisor_reruns_and_nominates_from_the_page(client, auth, world):
    m = _eligible_manager_of_signed_in_supervisor(auth, world)
    response = client.post("/managers/RMA1/eligibility/run", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    stored = operations.latest_recommendation(m.id)
    assert stored.recommendation == "promote" and stored.target_level == "mid"
    page = client.get("/managers/RMA1/eligibility").get_data(as_text=True)
    assert "Nominate for Promotion" in page
    token = csrf_token(client, "/managers/RMA1/eligibility")
    empty = client.post("/managers/RMA1/nominate", data={"csrf_token": token, "recommendation_id": stored.id,
                                                         "reason": "  "})
    assert empty.status_code == 400 and "Give the reason." in empty.get_data(as_text=True)
    done = client.post("/managers/RMA1/nominate", data={"csrf_token": token, "recommendation_id": stored.id,
                                                        "reason": "Two strong quarters"})
    assert done.status_code == 302
    nomination = operations.pending_nomination(m.id)
    assert (nomination.kind, nomination.from_level, nomination.to_level) == ("promote", "junior", "mid")
    assert nomination.recommendation_id == stored.id and nomination.rule_set_id == stored.rule_set_id
    assert nomination.nominated_by_id == user("sup_a").id


@pytest.mark.parametrize("login, path, status", [
    ("rm_a", "/managers/RMA1/eligibility/run", 403), ("rm_a", "/managers/RMA1/nominate", 403),
    ("sup_b", "/managers/RMA1/eligibility/run", 404), ("sup_b", "/managers/RMA1/nominate", 404),
    ("compliance", "/managers/RMA1/nominate", 403), ("sup_a", "/managers/RMA1/flags", 403),
])
def test_writes_are_refused_outside_the_role_or_team(client, auth, world, login, path, status):
    auth.login(login)
    response = client.post(path, data={"csrf_token": csrf_token(client, "/"), "reason": "x", "kind": "other",
                                       "note": "x"})
    assert response.status_code == status
    assert db.session.scalar(select(func.count(PromotionNomination.id))) == 0
    assert db.session.scalar(select(func.count(ComplianceFlag.id))) == 0


def test_compliance_opens_and_closes_a_flag_over_the_web(client, auth, world):
    auth.login("compliance")
    token = csrf_token(client, "/managers/RMA1/eligibility")
    missing = client.post("/managers/RMA1/flags", data={"csrf_token": token, "kind": "conduct_breach", "note": ""})
    assert missing.status_code == 400 and "Describe what the flag is about." in missing.get_data(as_text=True)
    assert client.post("/managers/RMA1/flags", data={"csrf_token": token, "kind": "conduct_breach",
                                                     "note": "Unsuitable sale"}).status_code == 302
    flag = db.session.scalar(select(ComplianceFlag))
    assert flag.closed_at is None and flag.opened_by_id == user("compliance").id
    assert "Unsuitable sale" in client.get("/managers/RMA1/eligibility").get_data(as_text=True)
    assert client.post("/managers/RMA1/flags/close", data={"csrf_token": token, "flag_id": flag.id,
                                                           "note": "resolved"}).status_code == 302
    db.session.refresh(flag)
    assert flag.closed_at is not None and flag.closed_by_id == user("compliance").id
    # A flag of someone else's record cannot be closed through this one.
    again = client.post("/managers/RMA2/flags/close", data={"csrf_token": token, "flag_id": flag.id})
    assert again.status_code == 302
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("compliance_flag.%"))).all()
    assert sorted(actions) == ["compliance_flag.close", "compliance_flag.open"]


# --- maker / checker ---------------------------------------------------------------------------------------


def promote_ready(m: Manager) -> PromotionRecommendation:
    set_level(m, "junior", 20)
    history(m, [88, 92])
    return engine_for(m)


def test_approval_writes_level_history_and_rule_version(app, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    nomination = operations.nominate(m, recommendation_id=recommendation.id, reason="Strong", by=user("sup_a"))
    change = operations.approve(nomination, effective_date=TODAY, reason="Agreed", by=user("admin"))
    db.session.commit()
    assert (m.level, m.level_since) == ("mid", TODAY)
    assert (change.kind, change.from_level, change.to_level, change.effective_date) == ("promotion", "junior", "mid",
                                                                                      TODAY)
    assert change.proposed_by_id == user("sup_a").id and change.approved_by_id == user("admin").id
    assert change.nomination_id == nomination.id and change.rule_set_id == recommendation.rule_set_id
    assert change.reason == "Strong"
    assert (nomination.state, nomination.decision_reason, nomination.effective_date) == ("approved", "Agreed", TODAY)
    kinds = db.session.scalars(select(LevelChange.kind).where(LevelChange.manager_id == m.id)
                               .order_by(LevelChange.id)).all()
    assert kinds == ["initial", "promotion"]
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "promotion.approve"))
    assert audit.before["level"] == "junior" and audit.after["level"] == "mid"
    # Scores earned at the old level no longer count at the new one.
    answer, _rules = operations.recommendation_now(m)
    assert answer.recommendation == "hold"


def test_an_admin_never_approves_their_own_nomination(app, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    nomination = operations.nominate(m, recommendation_id=recommendation.id, reason="x", by=user("admin"))
    with pytest.raises(OperationError) as refused:
        operations.approve(nomination, effective_date=TODAY, reason="self", by=user("admin"))
    assert refused.value.code == "own_nomination"
    with pytest.raises(OperationError):
        operations.reject(nomination, reason="self", by=user("admin"))
    assert m.level == "junior" and nomination.state == "pending"


def test_only_the_managers_supervisor_or_an_admin_nominates(app, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    for login, code in (("rm_a", "forbidden"), ("rm2_a", "forbidden"), ("sup_b", "forbidden"),
                        ("compliance", "forbidden")):
        with pytest.raises(OperationError) as refused:
            operations.nominate(m, recommendation_id=recommendation.id, reason="x", by=user(login))
        assert refused.value.code == code
    # A supervisor never nominates themself, even as a member of the team they head.
    sup = world["a"]["supervisor"]
    own = engine_for(sup)
    with pytest.raises(OperationError) as refused:
        operations.nominate(sup, recommendation_id=own.id, reason="x", by=user("sup_a"))
    assert refused.value.code == "own_record"


def test_one_pending_nomination_and_only_from_the_latest_promote_or_demote(app, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    operations.nominate(m, recommendation_id=recommendation.id, reason="x", by=user("sup_a"))
    with pytest.raises(OperationError) as refused:
        operations.nominate(m, recommendation_id=recommendation.id, reason="again", by=user("admin"))
    assert refused.value.code == "pending"
    newer = engine_for(world["a"]["rm2"])  # a hold
    with pytest.raises(OperationError) as refused:
        operations.nominate(world["a"]["rm2"], recommendation_id=newer.id, reason="x", by=user("sup_a"))
    assert refused.value.code == "hold"
    older = engine_for(m)
    operations.run_engine(manager_ids=[m.id])
    with pytest.raises(OperationError) as refused:
        operations.nominate(m, recommendation_id=older.id, reason="x", by=user("admin"))
    assert refused.value.code == "stale"


def test_a_stale_nomination_is_refused_at_approval(app, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    nomination = operations.nominate(m, recommendation_id=recommendation.id, reason="x", by=user("sup_a"))
    m.level = "mid"  # changed by some other route in between
    db.session.flush()
    with pytest.raises(OperationError) as refused:
        operations.approve(nomination, effective_date=TODAY, reason="ok", by=user("admin"))
    assert refused.value.code == "stale"
    operations.reject(nomination, reason="stale", by=user("admin"))
    assert nomination.state == "rejected"


def test_effective_date_bounds(app, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    nomination = operations.nominate(m, recommendation_id=recommendation.id, reason="x", by=user("sup_a"))
    for day, code in ((TODAY - timedelta(days=1), "before_nomination"), (TODAY + timedelta(days=1), "future_date"),
                      (None, "required")):
        with pytest.raises(OperationError) as refused:
            operations.approve(nomination, effective_date=day, reason="ok", by=user("admin"))
        assert refused.value.code == code and refused.value.field == "effective_date"
    with pytest.raises(OperationError) as refused:
        operations.approve(nomination, effective_date=TODAY, reason=" ", by=user("admin"))
    assert refused.value.field == "reason"
    assert m.level == "junior"


def test_demotion_nomination_approved(app, world):
    m = world["a"]["rm2"]  # mid
    set_level(m, "mid", 30)
    history(m, [50, 55])
    recommendation = engine_for(m)
    assert (recommendation.recommendation, recommendation.target_level) == ("demote", "junior")
    nomination = operations.nominate(m, recommendation_id=recommendation.id, reason="Two weak quarters",
                                     by=user("sup_a"))
    change = operations.approve(nomination, effective_date=TODAY, reason="Agreed", by=user("admin"))
    assert (m.level, change.kind, change.to_level) == ("junior", "demotion", "junior")


def test_the_checker_decides_over_the_web(client, auth, world, make):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    operations.nominate(m, recommendation_id=recommendation.id, reason="Ready", by=user("sup_a"))
    make.user("admin2", "admin")
    db.session.commit()
    nomination_id = operations.pending_nomination(m.id).id
    auth.login("sup_a")
    listing = client.get("/nominations").get_data(as_text=True)
    assert "RMA1" in listing
    assert client.post("/managers/RMA1/nomination", data={"csrf_token": csrf_token(client, "/")}).status_code == 403
    auth.login("sup_b")
    assert "RMA1" not in client.get("/nominations").get_data(as_text=True)
    assert client.get("/managers/RMA1/nomination").status_code == 404
    auth.login("admin")
    page = client.get("/managers/RMA1/nomination").get_data(as_text=True)
    assert "Record the decision" in page and "Ready" in page
    token = csrf_token(client, "/managers/RMA1/nomination")
    missing = client.post("/managers/RMA1/nomination", data={"csrf_token": token, "nomination_id": nomination_id,
                                                             "decision": "approve", "reason": "",
                                                             "effective_date": TODAY.isoformat()})
    assert missing.status_code == 400 and "Give the reason." in missing.get_data(as_text=True)
    done = client.post("/managers/RMA1/nomination", data={"csrf_token": token, "nomination_id": nomination_id,
                                                          "decision": "approve", "reason": "Fine",
                                                          "effective_date": TODAY.isoformat()})
    assert done.status_code == 302 and done.location.endswith("/managers/RMA1/levels")
    history_page = client.get("/managers/RMA1/levels").get_data(as_text=True)
    assert 'data-kind="promotion"' in history_page and "Ready" in history_page and "version 1" in history_page
    assert db.session.get(Manager, m.id).level == "mid"


def test_admin_who_nominated_is_refused_over_the_web(client, auth, world):
    m = world["a"]["rm"]
    recommendation = promote_ready(m)
    nomination = operations.nominate(m, recommendation_id=recommendation.id, reason="Mine", by=user("admin"))
    db.session.commit()
    auth.login("admin")
    page = client.get("/managers/RMA1/nomination").get_data(as_text=True)
    assert "another administrator must decide it" in page and "Record the decision" not in page
    response = client.post("/managers/RMA1/nomination", data={
        "csrf_token": csrf_token(client, "/"), "nomination_id": nomination.id, "decision": "approve",
        "reason": "Self", "effective_date": TODAY.isoformat()})
    assert response.status_code == 403
    assert "another administrator must decide it" in response.get_data(as_text=True)
    assert db.session.get(Manager, m.id).level == "junior"


# --- level history ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("login, employee_no, status", [
    ("rm_a", "RMA1", 200), ("rm_a", "RMB1", 404), ("sup_a", "RMA2", 200), ("sup_b", "RMA2", 404),
    ("compliance", "RMA1", 200), ("admin", "RMA1", 200), ("client_a", "RMA1", 403),
])
def test_level_history_is_scoped(client, auth, world, login, employee_no, status):
    auth.login(login)
    response = client.get(f"/managers/{employee_no}/levels")
    assert response.status_code == status
    if status == 200:
        assert 'data-kind="initial"' in response.get_data(as_text=True)


def test_create_manager_starts_the_level_history(app, world):
    rows = db.session.scalars(select(LevelChange).where(LevelChange.manager_id == world["a"]["rm2"].id)).all()
    assert [(r.kind, r.from_level, r.to_level, r.effective_date) for r in rows] == [
        ("initial", None, "mid", date(2022, 1, 1))]


# --- the command and the demo data ------------------------------------------------------------------------


def test_run_promotions_command(app, world, runner):
    result = runner.invoke(args=["run-promotions", "--employee-no", "rma1", "--employee-no", "RMB2"])
    assert result.exit_code == 0, result.output
    assert "stored 2 recommendations" in result.output
    assert db.session.scalar(select(func.count(PromotionRecommendation.id))) == 2
    unknown = runner.invoke(args=["run-promotions", "--employee-no", "NOBODY"])
    assert unknown.exit_code != 0 and "NOBODY" in unknown.output
    everyone = runner.invoke(args=["run-promotions"])
    assert everyone.exit_code == 0 and "stored 6 recommendations" in everyone.output


def test_demo_data_tells_the_promotion_story(app):
    from portal.demo import DemoPlan, seed

    seed(DemoPlan(clients=400, managers=30, today=TODAY))
    db.session.commit()
    cycles = db.session.scalars(select(EvaluationCycle).order_by(EvaluationCycle.end_date)).all()
    closed = [cycle for cycle in cycles if cycle.state == "closed"]
    assert len(closed) == 6 and all(cycle.team_id is None for cycle in closed)
    assert [cycle.state for cycle in cycles].count("open") == 1
    supervisor = user("supervisor")
    open_cycle = next(cycle for cycle in cycles if cycle.state == "open")
    assert open_cycle.team_id == supervisor.manager.team_id
    # Every staff record has a level history that starts with an initial grading.
    managers = db.session.scalar(select(func.count(Manager.id)))
    starts = db.session.scalar(select(func.count(LevelChange.id)).where(LevelChange.kind == "initial"))
    assert starts == managers
    # The engine ran at the last close: some promote, some demote; the demo supervisor's nomination waits.
    kinds = set(db.session.scalars(select(PromotionRecommendation.recommendation)
                                   .where(PromotionRecommendation.cycle_id == closed[-1].id)))
    assert {"promote", "hold"} <= kinds
    nomination = db.session.scalar(select(PromotionNomination).where(PromotionNomination.state == "pending"))
    assert nomination.nominated_by_id == supervisor.id
    assert nomination.manager.team_id == supervisor.manager.team_id
    assert operations.is_supervisor_of(supervisor, nomination.manager)
    # …and the demo admin may decide it.
    change = operations.approve(nomination, effective_date=TODAY, reason="demo", by=user("admin"))
    assert change.to_level == nomination.to_level


def test_a_refused_nomination_or_flag_close_shows_the_operations_reason(client, auth, world):
    """An operation's refusal is a ValueError too: it is shown as itself, not as an altered hidden field."""
    m = _eligible_manager_of_signed_in_supervisor(auth, world)
    client.post("/managers/RMA1/eligibility/run", data={"csrf_token": csrf_token(client, "/")})
    stored = operations.latest_recommendation(m.id)
    token = csrf_token(client, "/managers/RMA1/eligibility")
    form = {"csrf_token": token, "recommendation_id": stored.id, "reason": "Two strong quarters"}
    assert client.post("/managers/RMA1/nominate", data=form).status_code == 302
    again = client.post("/managers/RMA1/nominate", data=form)
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "already has a pending nomination" in page and "not sent completely" not in page
    altered = client.post("/managers/RMA1/nominate", data={**form, "recommendation_id": "x"})
    assert altered.status_code == 400 and "not sent completely" in altered.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PromotionNomination.id))) == 1
    auth.logout()
    auth.login("compliance")
    token = csrf_token(client, "/managers/RMA1/eligibility")
    client.post("/managers/RMA1/flags", data={"csrf_token": token, "kind": "conduct_breach", "note": "Sale"})
    flag = db.session.scalar(select(ComplianceFlag))
    close = {"csrf_token": token, "flag_id": flag.id, "note": "resolved"}
    assert client.post("/managers/RMA1/flags/close", data=close).status_code == 302
    closed_twice = client.post("/managers/RMA1/flags/close", data=close, follow_redirects=True)
    page = closed_twice.get_data(as_text=True)
    assert "This flag is already closed." in page and "not sent completely" not in page
