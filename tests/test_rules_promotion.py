"""Promotion engine (SPEC Part A): every clause and its edge, demotion, ordering, months, rule versions."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.rules.calendar import add_months, months_between
from portal.rules.promotion import (
    CLAUSE_CODES,
    DEFAULT_DEMOTION,
    DEFAULT_RULES,
    DemotionRule,
    EvaluationResult,
    PromotionRule,
    Recommendation,
    RuleDataError,
    recommend,
    rules_from_dict,
    rules_to_dict,
)


def ev(cycle_end: date, total: str, satisfaction: int = 90, kpi: int = 90, team: int = 90,
       competence: int = 90) -> EvaluationResult:
    """An evaluation with a given total; the dimension scores only matter to the clauses that read them."""
    scores = {"satisfaction": satisfaction, "kpi": kpi, "team": team, "competence": competence}
    return EvaluationResult(cycle_end, Decimal(total), scores)


def failed(result: Recommendation) -> list[str]:
    return [clause.rule for clause in result.clauses if not clause.passed]


def clause(result: Recommendation, rule: str):
    return next(c for c in result.clauses if c.rule == rule)


# --- months_between / add_months -------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "months"), [
    pytest.param(date(2024, 5, 15), date(2024, 5, 15), 0, id="same-day"),
    pytest.param(date(2024, 1, 15), date(2024, 2, 14), 0, id="day-before-anniversary"),
    pytest.param(date(2024, 1, 15), date(2024, 2, 15), 1, id="anniversary"),
    pytest.param(date(2023, 12, 15), date(2024, 1, 15), 1, id="across-year"),
    pytest.param(date(2023, 1, 1), date(2023, 12, 31), 11, id="almost-a-year"),
    pytest.param(date(2023, 1, 1), date(2024, 1, 1), 12, id="a-year"),
    pytest.param(date(2024, 1, 31), date(2024, 2, 28), 0, id="jan31-feb28-leap-not-month-end"),
    pytest.param(date(2024, 1, 31), date(2024, 2, 29), 1, id="jan31-feb29-leap-month-end"),
    pytest.param(date(2023, 1, 31), date(2023, 2, 28), 1, id="jan31-feb28-common-month-end"),
    pytest.param(date(2024, 1, 30), date(2024, 2, 29), 1, id="jan30-feb29-month-end"),
    pytest.param(date(2024, 3, 31), date(2024, 4, 30), 1, id="mar31-apr30"),
    pytest.param(date(2024, 3, 31), date(2024, 4, 29), 0, id="mar31-apr29"),
    pytest.param(date(2024, 2, 29), date(2024, 3, 28), 0, id="feb29-mar28"),
    pytest.param(date(2024, 2, 29), date(2024, 3, 29), 1, id="feb29-mar29"),
    pytest.param(date(2024, 2, 29), date(2025, 2, 27), 11, id="feb29-next-feb27"),
    pytest.param(date(2024, 2, 29), date(2025, 2, 28), 12, id="feb29-next-feb28-month-end"),
    pytest.param(date(2024, 2, 29), date(2028, 2, 29), 48, id="leap-to-leap"),
    pytest.param(date(2021, 1, 10), date(2024, 1, 9), 35, id="36-minus-a-day"),
])
def test_months_between(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months


def test_months_between_refuses_end_before_start() -> None:
    with pytest.raises(ValueError, match="before start"):
        months_between(date(2024, 3, 1), date(2024, 2, 29))


@pytest.mark.parametrize(("start", "months", "expected"), [
    pytest.param(date(2024, 5, 15), 0, date(2024, 5, 15), id="zero"),
    pytest.param(date(2024, 1, 31), 1, date(2024, 2, 29), id="clamp-leap-feb"),
    pytest.param(date(2023, 1, 31), 1, date(2023, 2, 28), id="clamp-common-feb"),
    pytest.param(date(2024, 2, 29), 12, date(2025, 2, 28), id="leap-day-plus-year"),
    pytest.param(date(2023, 11, 30), 3, date(2024, 2, 29), id="across-year"),
    pytest.param(date(2022, 1, 10), 24, date(2024, 1, 10), id="two-years"),
])
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize("months", [1, 11, 12, 13, 24, 36])
def test_add_months_is_the_first_day_months_between_reaches(months: int) -> None:
    start = date(2023, 1, 1)
    while start < date(2025, 1, 1):
        reached = add_months(start, months)
        assert months_between(start, reached) == months, start
        assert months_between(start, reached - timedelta(days=1)) == months - 1, start
        start += timedelta(days=1)


# --- default rules ---------------------------------------------------------------------------------------


def test_default_rules_are_the_spec_table() -> None:
    junior, mid, senior = DEFAULT_RULES
    assert (junior.from_level, junior.to_level, junior.min_months, junior.evaluations) == ("junior", "mid", 12, 2)
    assert (junior.each_total_at_least, junior.min_dimension) == (Decimal(80), Decimal(60))
    assert (mid.from_level, mid.to_level, mid.min_months, mid.evaluations) == ("mid", "senior", 24, 3)
    assert (mid.mean_total_at_least, mid.each_kpi_at_least, mid.team_at_least) == (Decimal(85), Decimal(85),
                                                                                    Decimal(75))
    assert (senior.from_level, senior.to_level, senior.min_months, senior.evaluations) == ("senior", "principal",
                                                                                            36, 4)
    assert (senior.mean_total_at_least, senior.team_at_least, senior.no_open_compliance_flag) == (
        Decimal(88), Decimal(85), True)
    assert (DEFAULT_DEMOTION.evaluations, DEFAULT_DEMOTION.each_total_below) == (2, Decimal(60))


# --- recommend: one table over every clause edge ---------------------------------------------------------

# junior since 2023-01-15, two half-year evaluations; 2024-01-15 is exactly 12 months.
J_SINCE = date(2023, 1, 15)
J_EVALS = [ev(date(2023, 6, 30), "85.00", competence=60), ev(date(2023, 12, 31), "82.00")]
# mid since 2022-01-10, 2024-01-10 is exactly 24 months; three quarterly evaluations.
M_SINCE = date(2022, 1, 10)
M_DATES = [date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31)]
M_EVALS = [ev(day, "85.00", kpi=85, team=75) for day in M_DATES]
# senior since 2021-01-10, 2024-01-10 is exactly 36 months; four evaluations.
S_SINCE = date(2021, 1, 10)
S_DATES = [date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31)]
S_EVALS = [ev(day, "88.00", team=85) for day in S_DATES]


def replace_last(evaluations: list[EvaluationResult], replacement: EvaluationResult) -> list[EvaluationResult]:
    return [*evaluations[:-1], replacement]


CASES = [
    # junior → mid: ≥ 12 months, last 2 each ≥ 80, no dimension < 60
    pytest.param("junior", J_SINCE, date(2024, 1, 15), J_EVALS, 0, "promote", "mid", [], None,
                 id="junior-12-months-promotes"),
    pytest.param("junior", J_SINCE, date(2024, 1, 14), J_EVALS, 0, "hold", None, ["months_in_level"], 1,
                 id="junior-11-months-eligible-in-1"),
    pytest.param("junior", J_SINCE, date(2023, 9, 1), [*J_EVALS[:1], ev(date(2023, 8, 31), "90")], 0, "hold", None,
                 ["months_in_level"], 5, id="junior-7-months-eligible-in-5"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15), replace_last(J_EVALS, ev(date(2023, 12, 31), "79.99")), 0,
                 "hold", None, ["each_total"], None, id="junior-total-79.99"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15), replace_last(J_EVALS, ev(date(2023, 12, 31), "80.00")), 0,
                 "promote", "mid", [], None, id="junior-total-80.00"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15),
                 replace_last(J_EVALS, ev(date(2023, 12, 31), "85.00", team=59)), 0, "hold", None,
                 ["min_dimension"], None, id="junior-dimension-59"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15), J_EVALS[1:], 0, "hold", None, ["evaluations_available"], None,
                 id="junior-one-evaluation"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15), [], 0, "hold", None, ["evaluations_available"], None,
                 id="junior-no-evaluation"),
    pytest.param("junior", J_SINCE, date(2024, 1, 14), replace_last(J_EVALS, ev(date(2023, 12, 31), "79.99")), 0,
                 "hold", None, ["months_in_level", "each_total"], None, id="junior-11-months-and-79.99-not-eligible"),
    pytest.param("junior", J_SINCE, date(2024, 1, 14), J_EVALS[1:], 0, "hold", None,
                 ["months_in_level", "evaluations_available"], None, id="junior-11-months-and-too-few-evaluations"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15), J_EVALS, 3, "promote", "mid", [], None,
                 id="junior-compliance-flag-not-in-rule"),
    # mid → senior: ≥ 24 months, last 3 mean ≥ 85, KPI ≥ 85 in each, team ≥ 75 in each
    pytest.param("mid", M_SINCE, date(2024, 1, 10), M_EVALS, 0, "promote", "senior", [], None,
                 id="mid-all-on-the-bar-promotes"),
    pytest.param("mid", M_SINCE, date(2024, 1, 9), M_EVALS, 0, "hold", None, ["months_in_level"], 1,
                 id="mid-23-months-eligible-in-1"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), replace_last(M_EVALS, ev(M_DATES[-1], "84.97", kpi=85, team=75)),
                 0, "hold", None, ["mean_total"], None, id="mid-mean-84.99"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), replace_last(M_EVALS, ev(M_DATES[-1], "84.99", kpi=85, team=75)),
                 0, "hold", None, ["mean_total"], None, id="mid-mean-84.9967-not-rounded-up"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), replace_last(M_EVALS, ev(M_DATES[-1], "99.00", kpi=84, team=75)),
                 0, "hold", None, ["each_kpi"], None, id="mid-kpi-84-in-one"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), replace_last(M_EVALS, ev(M_DATES[-1], "99.00", kpi=85, team=74)),
                 0, "hold", None, ["team"], None, id="mid-team-74-in-one"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), [ev(M_DATES[0], "70.00", kpi=85, team=75),
                                                      ev(M_DATES[1], "92.50", kpi=85, team=75),
                                                      ev(M_DATES[2], "92.50", kpi=85, team=75)],
                 0, "promote", "senior", [], None, id="mid-mean-not-each"),
    pytest.param("mid", M_SINCE, date(2024, 1, 9), replace_last(M_EVALS, ev(M_DATES[-1], "85.00", kpi=84, team=75)),
                 0, "hold", None, ["months_in_level", "each_kpi"], None, id="mid-23-months-and-kpi-not-eligible"),
    # senior → principal: ≥ 36 months, last 4 mean ≥ 88, team ≥ 85 in each, no open compliance flag
    pytest.param("senior", S_SINCE, date(2024, 1, 10), S_EVALS, 0, "promote", "principal", [], None,
                 id="senior-all-on-the-bar-promotes"),
    pytest.param("senior", S_SINCE, date(2024, 1, 10), S_EVALS, 1, "hold", None, ["no_compliance_flag"], None,
                 id="senior-compliance-flag-blocks"),
    pytest.param("senior", S_SINCE, date(2024, 1, 9), S_EVALS, 0, "hold", None, ["months_in_level"], 1,
                 id="senior-35-months-eligible-in-1"),
    pytest.param("senior", S_SINCE, date(2024, 1, 9), S_EVALS, 2, "hold", None,
                 ["months_in_level", "no_compliance_flag"], None, id="senior-35-months-and-flag-not-eligible"),
    pytest.param("senior", S_SINCE, date(2024, 1, 10), replace_last(S_EVALS, ev(S_DATES[-1], "95.00", team=84)), 0,
                 "hold", None, ["team"], None, id="senior-team-84"),
    pytest.param("senior", S_SINCE, date(2024, 1, 10), replace_last(S_EVALS, ev(S_DATES[-1], "87.96", team=85)), 0,
                 "hold", None, ["mean_total"], None, id="senior-mean-87.99"),
    pytest.param("senior", S_SINCE, date(2024, 1, 10), S_EVALS[1:], 0, "hold", None, ["evaluations_available"],
                 None, id="senior-three-of-four-evaluations"),
    # principal: the top of the ladder
    pytest.param("principal", S_SINCE, date(2024, 1, 10), S_EVALS, 0, "hold", None, ["promotion_rule"], None,
                 id="principal-has-no-promotion-rule"),
    # demotion: last 2 both < 60 → one level down, never below junior
    pytest.param("mid", M_SINCE, date(2024, 1, 10), [ev(M_DATES[1], "59.99"), ev(M_DATES[2], "40.00")], 0,
                 "demote", "junior", [], None, id="mid-both-below-60-demoted"),
    pytest.param("principal", S_SINCE, date(2024, 1, 10), [ev(S_DATES[2], "55.00"), ev(S_DATES[3], "58.00")], 0,
                 "demote", "senior", [], None, id="principal-demoted-to-senior"),
    pytest.param("senior", S_SINCE, date(2024, 1, 10), [ev(S_DATES[2], "55.00"), ev(S_DATES[3], "58.00")], 1,
                 "demote", "mid", [], None, id="senior-demoted-to-mid"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), [ev(M_DATES[1], "60.00"), ev(M_DATES[2], "40.00")], 0,
                 "hold", None, ["evaluations_available"], None, id="mid-60-is-not-below-60"),
    pytest.param("mid", M_SINCE, date(2024, 1, 10), [ev(M_DATES[2], "40.00")], 0,
                 "hold", None, ["evaluations_available"], None, id="mid-one-low-evaluation-not-enough"),
    pytest.param("junior", J_SINCE, date(2024, 1, 15), [ev(date(2023, 6, 30), "50"), ev(date(2023, 12, 31), "50")],
                 0, "hold", None, ["demotion_floor"], None, id="junior-floor-holds"),
]


@pytest.mark.parametrize(
    ("level", "since", "today", "evaluations", "flags", "outcome", "target", "failing", "eligible"), CASES)
def test_recommend(level: str, since: date, today: date, evaluations: list[EvaluationResult], flags: int,
                   outcome: str, target: str | None, failing: list[str], eligible: int | None) -> None:
    result = recommend(level, since, today, evaluations, flags)
    assert result.recommendation == outcome
    assert result.target_level == target
    assert failed(result) == failing
    assert result.eligible_in_months == eligible
    assert all(c.rule in CLAUSE_CODES for c in result.clauses)
    json.dumps(result.to_dict())  # the explanation is stored and served as JSON


# --- recommend: what each clause says ---------------------------------------------------------------------


def test_clause_text_reads_like_the_spec() -> None:
    result = recommend("junior", J_SINCE, date(2024, 3, 20), J_EVALS, 0)
    months = clause(result, "months_in_level")
    assert (months.observed, months.required, months.text) == (14, "≥ 12", "months in level 14 ≥ 12 ✓")
    assert clause(result, "evaluations_available").text == "evaluations available 2 ≥ 2 ✓"
    totals = clause(result, "each_total")
    assert totals.observed == ["82.00", "85.00"]  # latest first
    assert totals.text == "each total of the last 2 (82.00, 85.00) ≥ 80 ✓"
    lowest = clause(result, "min_dimension")
    assert (lowest.observed, lowest.text) == (60, "lowest dimension score of the last 2 (competence 60) ≥ 60 ✓")


def test_failing_clauses_show_the_figure_seen() -> None:
    evaluations = [ev(M_DATES[0], "84.97", kpi=90, team=80), ev(M_DATES[1], "85.00", kpi=84, team=74),
                   ev(M_DATES[2], "85.00", kpi=88, team=90)]
    result = recommend("mid", M_SINCE, date(2024, 1, 9), evaluations, 0)
    assert [(c.rule, c.passed, c.observed) for c in result.clauses] == [
        ("months_in_level", False, 23),
        ("evaluations_available", True, 3),
        ("mean_total", False, "84.99"),
        ("each_kpi", False, [88, 84, 90]),
        ("team", False, [90, 74, 80]),
    ]
    assert clause(result, "mean_total").text == "mean total of the last 3 84.99 ≥ 85 ✗"
    assert clause(result, "each_kpi").text == "KPI in each of the last 3 (88, 84, 90) ≥ 85 ✗"
    assert clause(result, "team").text == "team in each of the last 3 (90, 74, 80) ≥ 75 ✗"
    assert result.eligible_in_months is None


def test_mean_shown_truncated_never_looks_passed() -> None:
    result = recommend("mid", M_SINCE, date(2024, 1, 10),
                       replace_last(M_EVALS, ev(M_DATES[-1], "84.99", kpi=85, team=75)), 0)
    mean = clause(result, "mean_total")
    assert (mean.passed, mean.observed) == (False, "84.99")  # exact mean 84.9966…, not shown as 85.00


def test_compliance_clause() -> None:
    result = recommend("senior", S_SINCE, date(2024, 1, 10), S_EVALS, 1)
    flag = clause(result, "no_compliance_flag")
    assert (flag.passed, flag.observed, flag.required, flag.text) == (False, 1, "= 0", "open compliance flags 1 = 0 ✗")
    clean = clause(recommend("senior", S_SINCE, date(2024, 1, 10), S_EVALS, 0), "no_compliance_flag")
    assert clean.passed and clean.text == "open compliance flags 0 = 0 ✓"


def test_eligible_in_months_and_date() -> None:
    evaluations = [M_EVALS[0], ev(date(2023, 7, 31), "85", kpi=85, team=75),
                   ev(date(2023, 8, 31), "85", kpi=85, team=75)]
    result = recommend("mid", M_SINCE, date(2023, 9, 30), evaluations, 0)
    assert failed(result) == ["months_in_level"]
    assert (result.eligible_in_months, result.eligible_on) == (4, date(2024, 1, 10))
    assert result.to_dict()["eligible_on"] == "2024-01-10"


def test_demotion_clauses() -> None:
    result = recommend("mid", M_SINCE, date(2024, 1, 10), [ev(M_DATES[1], "59.99"), ev(M_DATES[2], "40.00")], 0)
    assert [(c.rule, c.passed, c.observed) for c in result.clauses] == [
        ("demotion_totals", True, ["40.00", "59.99"]),
        ("demotion_floor", True, "mid"),
    ]
    assert result.clauses[0].text == "each total of the last 2 (40.00, 59.99) < 60 ✓"


def test_demotion_floor_at_junior() -> None:
    result = recommend("junior", J_SINCE, date(2024, 1, 15),
                       [ev(date(2023, 6, 30), "50"), ev(date(2023, 12, 31), "59.99")], 0)
    assert (result.recommendation, result.target_level) == ("hold", None)
    floor = clause(result, "demotion_floor")
    assert (floor.passed, floor.observed, floor.required) == (False, "junior", "above junior")
    assert clause(result, "demotion_totals").passed


def test_principal_hold_explains_the_top() -> None:
    result = recommend("principal", S_SINCE, date(2024, 1, 10), S_EVALS, 0)
    assert [c.to_dict() for c in result.clauses] == [{
        "rule": "promotion_rule", "passed": False, "observed": "principal", "required": "a promotion rule",
        "text": "no promotion rule from principal ✗"}]


# --- recommend: which evaluations count --------------------------------------------------------------------


@pytest.mark.parametrize("order", [
    pytest.param((0, 1, 2), id="oldest-first"),
    pytest.param((2, 1, 0), id="latest-first"),
    pytest.param((1, 2, 0), id="shuffled"),
])
def test_latest_evaluations_are_taken_in_any_order(order: tuple[int, int, int]) -> None:
    history = [ev(date(2023, 3, 31), "40.00"), ev(date(2023, 6, 30), "85.00"), ev(date(2023, 12, 31), "90.00")]
    given = [history[i] for i in order]
    result = recommend("junior", date(2023, 1, 1), date(2024, 1, 1), given, 0)
    assert result.recommendation == "promote"
    assert clause(result, "each_total").observed == ["90.00", "85.00"]


@pytest.mark.parametrize("order", [pytest.param((0, 1, 2), id="oldest-first"), pytest.param((2, 0, 1), id="mixed")])
def test_a_bad_latest_evaluation_is_not_hidden_by_older_good_ones(order: tuple[int, int, int]) -> None:
    history = [ev(date(2023, 3, 31), "95.00"), ev(date(2023, 6, 30), "95.00"), ev(date(2023, 12, 31), "70.00")]
    result = recommend("junior", date(2023, 1, 1), date(2024, 1, 1), [history[i] for i in order], 0)
    assert failed(result) == ["each_total"]
    assert clause(result, "each_total").observed == ["70.00", "95.00"]


def test_demotion_reads_the_latest_two_only() -> None:
    history = [ev(date(2023, 3, 31), "40.00"), ev(date(2023, 6, 30), "45.00"), ev(date(2023, 9, 30), "75.00")]
    result = recommend("mid", M_SINCE, date(2024, 1, 10), list(reversed(history)), 0)
    assert result.recommendation == "hold"


@pytest.mark.parametrize(("in_level_only", "outcome"), [
    pytest.param(True, "hold", id="earlier-level-ignored"),
    pytest.param(False, "demote", id="everything-counted"),
])
def test_evaluations_before_the_level_change(in_level_only: bool, outcome: str) -> None:
    # Demoted to mid on 2024-01-01 for two bad cycles: those cycles must not demote the manager again.
    bad = [ev(date(2023, 6, 30), "50.00"), ev(date(2023, 12, 31), "55.00")]
    result = recommend("mid", date(2024, 1, 1), date(2024, 2, 1), bad, 0, in_level_only=in_level_only)
    assert result.recommendation == outcome


def test_cycle_ending_on_the_level_date_belongs_to_the_previous_level() -> None:
    evaluations = [ev(date(2023, 6, 30), "90"), ev(date(2024, 6, 30), "90")]
    result = recommend("junior", date(2023, 6, 30), date(2024, 7, 1), evaluations, 0)
    assert clause(result, "evaluations_available").observed == 1


# --- recommend: administrator rules ------------------------------------------------------------------------


def test_administrator_rules_are_used() -> None:
    lenient = (PromotionRule("junior", "mid", min_months=6, evaluations=1, each_total_at_least=Decimal("70.5")),)
    evaluations = [ev(date(2023, 6, 30), "70.50")]
    assert recommend("junior", J_SINCE, date(2023, 7, 15), evaluations, 0, rules=lenient).recommendation == "promote"
    assert recommend("junior", J_SINCE, date(2023, 7, 15), evaluations, 0).recommendation == "hold"
    harsh = DemotionRule(evaluations=1, each_total_below=Decimal(75))
    result = recommend("mid", M_SINCE, date(2024, 1, 10), [ev(M_DATES[0], "74.99")], 0, demotion=harsh)
    assert (result.recommendation, result.target_level) == ("demote", "junior")


def test_rule_without_tenure_bar() -> None:
    rules = (PromotionRule("junior", "mid", min_months=None, evaluations=1, each_total_at_least=Decimal(80)),)
    result = recommend("junior", J_SINCE, J_SINCE + timedelta(days=200), [ev(date(2023, 6, 30), "80")], 0, rules=rules)
    assert result.recommendation == "promote"
    assert [c.rule for c in result.clauses] == ["evaluations_available", "each_total"]


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"level": "chief"}, "unknown level", id="unknown-level"),
    pytest.param({"open_compliance_flags": -1}, "open compliance flags", id="negative-flags"),
    pytest.param({"open_compliance_flags": True}, "open compliance flags", id="bool-flags"),
    pytest.param({"today": date(2022, 12, 31)}, "before start", id="today-before-level-date"),
    pytest.param({"evaluations": [EvaluationResult(date(2023, 6, 30), Decimal(80), {"kpi": 80})]}, "no score for",
                 id="evaluation-missing-dimension"),
    pytest.param({"evaluations": [EvaluationResult(date(2023, 6, 30), 80.0, {})]}, "Decimal total",  # type: ignore
                 id="float-total"),
])
def test_recommend_rejects_bad_input(kwargs: dict, message: str) -> None:
    arguments = {"level": "junior", "level_since": J_SINCE, "today": date(2024, 1, 15), "evaluations": J_EVALS,
                 "open_compliance_flags": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        recommend(**arguments)


# --- rule versions as JSON ---------------------------------------------------------------------------------


def test_rules_round_trip_through_json() -> None:
    stored = json.dumps(rules_to_dict(DEFAULT_RULES, DEFAULT_DEMOTION))
    data = json.loads(stored)
    assert data["promotion"][1]["mean_total_at_least"] == "85"
    assert data["promotion"][0]["mean_total_at_least"] is None
    assert data["demotion"] == {"evaluations": 2, "each_total_below": "60"}
    assert rules_from_dict(data) == (DEFAULT_RULES, DEFAULT_DEMOTION)


def test_rules_keep_decimal_places() -> None:
    rules = (PromotionRule("mid", "senior", 18, 3, mean_total_at_least=Decimal("87.50")),)
    data = rules_to_dict(rules, DemotionRule(2, Decimal("59.5")))
    assert data["promotion"][0]["mean_total_at_least"] == "87.50"
    assert rules_from_dict(json.loads(json.dumps(data))) == (rules, DemotionRule(2, Decimal("59.5")))


def test_rules_from_hand_written_numbers() -> None:
    data = rules_to_dict()
    data["promotion"][0]["each_total_at_least"] = 82.5
    data["demotion"]["each_total_below"] = 55
    rules, demotion = rules_from_dict(data)
    assert rules[0].each_total_at_least == Decimal("82.5")
    assert demotion.each_total_below == Decimal(55)


def _broken(change) -> dict:
    data = rules_to_dict()
    change(data)
    return data


@pytest.mark.parametrize(("data", "message"), [
    pytest.param({"promotion": []}, "exactly the keys", id="no-demotion"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(bonus=1)), "unknown keys: bonus", id="unknown-key"),
    pytest.param(_broken(lambda d: d["promotion"][0].pop("evaluations")), "promotion rule 1", id="missing-key"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(to_level="senior")), "one level up", id="skips-a-level"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(from_level="chief")), "unknown level", id="unknown-level"),
    pytest.param(_broken(lambda d: d["promotion"].append(dict(d["promotion"][0]))), "more than one", id="duplicate"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(evaluations=0)), "evaluations", id="zero-evaluations"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(min_months=-1)), "min_months", id="negative-months"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(min_dimension="101")), "between 0 and 100",
                 id="threshold-above-100"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(min_dimension="sixty")), "must be a number",
                 id="not-a-number"),
    pytest.param(_broken(lambda d: d["promotion"][0].update(no_open_compliance_flag="yes")), "true or false",
                 id="flag-not-bool"),
    pytest.param(_broken(lambda d: d["promotion"].__setitem__(0, "junior")), "must be an object", id="not-an-object"),
    pytest.param(_broken(lambda d: d["demotion"].pop("evaluations")), "demotion rule", id="demotion-missing-key"),
    pytest.param(_broken(lambda d: d["demotion"].update(each_total_below=None)), "each_total_below",
                 id="demotion-no-threshold"),
])
def test_rules_from_dict_rejects_bad_versions(data: dict, message: str) -> None:
    with pytest.raises(RuleDataError, match=message):
        rules_from_dict(data)


def test_rule_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="one level up"):
        PromotionRule("junior", "principal", 12, 2)
