"""The promotion engine compiled to SQL (`portal.operations.promotion_sql`) answers exactly as the pure engine.

PostgreSQL only (the compiled form runs there). Hypothesis builds populations of managers — every level,
tenures on and around each month bar (month ends included), evaluations with totals and scores on and around
each bar, cycles sharing an end date, an open cycle and cycles before the level date (both ignored), open and
closed compliance flags — and rule versions (tenure bars or none, windows of 1 to 4, each bar optional, a level
without a rule). Both engines run over the same rows; every stored recommendation, target and clause list
must be the same.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from models import (
    ComplianceFlag,
    Evaluation,
    EvaluationCycle,
    Manager,
    PromotionRecommendation,
    PromotionRuleSet,
    PromotionRun,
    db,
)
from portal.operations import promotion_sql
from portal.operations import promotions as operations
from portal.rules import promotion as engine
from portal.rules.calendar import add_months
from portal.rules.vocabulary import LEVELS
from tests.databases import postgres_url, require_postgres


@pytest.fixture(params=["postgresql"])
def backend(request):
    """This module runs on PostgreSQL only (without it, the test is skipped by its marker below)."""
    return request.param


pytestmark = pytest.mark.skipif(not postgres_url() and not require_postgres(),
                                reason="TEST_DATABASE_URL is not set: the compiled engine runs on PostgreSQL only")

TODAYS = (date(2026, 11, 28), date(2026, 11, 30), date(2026, 2, 28), date(2024, 2, 29), date(2026, 3, 31),
          date(2026, 1, 30))
TOTALS = tuple(Decimal(t) for t in ("45.50", "59.99", "60.00", "74.99", "79.99", "80.00", "84.99", "85.00", "85.01",
                                     "87.99", "88.00", "90.00", "100.00"))
SCORES = (0, 59, 60, 74, 75, 84, 85, 86, 100)
BARS = tuple(Decimal(b) for b in ("60", "75", "79.99", "80", "84.5", "85", "88"))

evaluation = st.tuples(st.integers(0, 7), st.sampled_from(TOTALS), st.sampled_from(SCORES), st.sampled_from(SCORES),
                       st.sampled_from(SCORES), st.sampled_from(SCORES))
manager = st.fixed_dictionaries({
    "level": st.sampled_from(LEVELS),
    "months": st.sampled_from((-1, 0, 1, 11, 12, 13, 23, 24, 25, 35, 36, 37, 60)),
    "days": st.sampled_from((-1, 0, 1)),
    "month_end_start": st.booleans(),
    "evaluations": st.lists(evaluation, max_size=6, unique_by=lambda e: e[0]),
    "open_flags": st.integers(0, 2),
    "closed_flag": st.booleans(),
})


@st.composite
def rule_versions(draw):
    rules = []
    for from_level, to_level in zip(LEVELS, LEVELS[1:]):
        if draw(st.integers(0, 5)) == 0:
            continue  # no rule from this level
        optional = st.one_of(st.none(), st.sampled_from(BARS))
        rules.append(engine.PromotionRule(
            from_level, to_level, min_months=draw(st.sampled_from((None, 0, 6, 12, 24, 36))),
            evaluations=draw(st.integers(1, 4)), each_total_at_least=draw(optional),
            mean_total_at_least=draw(optional), min_dimension=draw(optional), each_kpi_at_least=draw(optional),
            team_at_least=draw(optional), no_open_compliance_flag=draw(st.booleans())))
    demotion = engine.DemotionRule(evaluations=draw(st.integers(1, 3)),
                                   each_total_below=draw(st.sampled_from(BARS[:3])))
    return tuple(rules), demotion


RULES = st.one_of(st.just((engine.DEFAULT_RULES, engine.DEFAULT_DEMOTION)), rule_versions())


def _population(today: date, managers: list[dict]) -> list[int]:
    """The managers, eight cycles (one open, two ending the same day) and their evaluations and flags."""
    ends = [add_months(today, -back) for back in (1, 4, 4, 7, 10, 13, 16)] + [add_months(today, -2)]
    cycles = []
    for index, end in enumerate(ends):
        cycle = EvaluationCycle(name=f"P{index}", start_date=end - timedelta(days=90), end_date=end,
                                state="open" if index == 7 else "closed")
        db.session.add(cycle)
        cycles.append(cycle)
    db.session.flush()
    ids = []
    for number, spec in enumerate(managers):
        since = add_months(today, -spec["months"]) + timedelta(days=spec["days"])
        if spec["month_end_start"]:
            since = add_months(date(since.year, since.month, 1), 1) - timedelta(days=1)
        row = Manager(employee_no=f"SQL{number:04d}", name=f"经理{number}", level=spec["level"], level_since=since,
                      hire_date=date(2010, 1, 1), status="active")
        db.session.add(row)
        db.session.flush()
        ids.append(row.id)
        for cycle_index, total, satisfaction, kpi, team, competence in spec["evaluations"]:
            db.session.add(Evaluation(cycle_id=cycles[cycle_index].id, manager_id=row.id, level=spec["level"],
                                      satisfaction=satisfaction, kpi=kpi, team=team, competence=competence,
                                      total=total, band="x"))
        for _ in range(spec["open_flags"]):
            db.session.add(ComplianceFlag(manager_id=row.id, kind="other", note="open"))
        if spec["closed_flag"]:
            db.session.add(ComplianceFlag(manager_id=row.id, kind="other", note="closed",
                                          closed_at=datetime(2026, 1, 1, tzinfo=UTC)))
    db.session.flush()
    return ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(today=st.sampled_from(TODAYS), managers=st.lists(manager, min_size=1, max_size=12), version=RULES,
       nearly_all=st.booleans(), left_out=st.integers(0, 3))
def test_compiled_engine_answers_as_the_pure_engine(app, today, managers, version, nearly_all, left_out):
    """Generated managers and rule versions: the compiled run stores the pure engine's answer and target, the
    very facts `load_facts` gives the pure engine, and reads back the pure engine's worded clauses — whether
    the scope narrows the ranking or only the answers (`scope_is_nearly_all`), with managers left out of it."""
    rules, demotion = version
    savepoint = db.session.begin_nested()
    try:
        everyone = _population(today, managers)
        ids = everyone[:len(everyone) - min(left_out, len(everyone) - 1)]  # the rest are evaluated, not in scope
        newest = db.session.scalar(select(db.func.max(PromotionRuleSet.version)))
        rule_set = PromotionRuleSet(version=newest + 1, rules=engine.rules_to_dict(rules, demotion), note="generated")
        db.session.add(rule_set)
        db.session.flush()
        run = PromotionRun(rule_set_id=rule_set.id, as_of=today)
        db.session.add(run)
        db.session.flush()
        considered = max([rule.evaluations for rule in rules] + [demotion.evaluations])
        tally = promotion_sql.insert_recommendations(rules=rules, demotion=demotion, today=today, run_id=run.id,
                                                     considered=considered, manager_ids=ids,
                                                     scope_is_nearly_all=nearly_all)
        stored = {row.manager_id: row for row in db.session.scalars(
            select(PromotionRecommendation).where(PromotionRecommendation.run_id == run.id))}
        facts = operations.load_facts(manager_ids=ids, considered=considered)
        assert len(facts) == len(ids) == len(stored) == sum(tally.values())
        for fact in facts:
            answer = engine.recommend(fact.level, fact.level_since, max(today, fact.level_since), fact.evaluations,
                                      fact.open_flags, rules, demotion)
            row = stored[fact.manager_id]
            assert (row.recommendation, row.target_level, row.level) == (
                answer.recommendation, answer.target_level, fact.level), (fact, rules, demotion)
            assert row.detail is None
            assert operations.stored_facts(row) == fact, (fact, rules, demotion)
            assert operations.recommendation_detail(row) == operations.detail_of(answer), (fact, rules, demotion)
    finally:
        savepoint.rollback()


def test_closing_a_cycle_stores_what_the_pure_engine_says(app):
    """The real close on PostgreSQL (the compiled path) against the pure engine run on the same rows afterwards."""
    today = date(2026, 11, 28)
    ids = _population(today, [
        {"level": "junior", "months": 13, "days": 0, "month_end_start": False, "open_flags": 0,
         "closed_flag": False, "evaluations": [(0, Decimal("80.00"), 60, 80, 80, 80), (1, Decimal("81.00"), 70, 80, 80, 80)]},
        {"level": "mid", "months": 30, "days": 0, "month_end_start": False, "open_flags": 0, "closed_flag": False,
         "evaluations": [(0, Decimal("50.00"), 50, 50, 50, 50), (1, Decimal("55.00"), 50, 50, 50, 50)]},
        {"level": "junior", "months": 11, "days": 0, "month_end_start": False, "open_flags": 0,
         "closed_flag": False, "evaluations": [(0, Decimal("90.00"), 90, 90, 90, 90), (3, Decimal("90.00"), 90, 90, 90, 90)]},
    ])
    rules = operations.rules_in_force()
    operations.run_engine(manager_ids=ids, today=today, compiled=True)
    compiled = {row.manager_id: row for row in db.session.scalars(
        select(PromotionRecommendation).where(PromotionRecommendation.manager_id.in_(ids)))}
    db.session.execute(delete(PromotionRecommendation).where(PromotionRecommendation.manager_id.in_(ids)))
    operations.run_engine(manager_ids=ids, today=today, compiled=False)
    pure = {row.manager_id: row for row in db.session.scalars(
        select(PromotionRecommendation).where(PromotionRecommendation.manager_id.in_(ids)))}
    assert [compiled[i].recommendation for i in ids] == ["promote", "demote", "hold"]
    assert operations.recommendation_detail(compiled[ids[2]])["eligible_in_months"] == 1
    for manager_id in ids:
        assert compiled[manager_id].detail is None and pure[manager_id].detail is not None
        assert (compiled[manager_id].recommendation, compiled[manager_id].target_level,
                operations.recommendation_detail(compiled[manager_id]), compiled[manager_id].rule_set_id) == (
            pure[manager_id].recommendation, pure[manager_id].target_level, pure[manager_id].detail,
            rules.rule_set.id)
