"""The promotion engine compiled to one SQL statement, for runs over many managers on PostgreSQL.

`portal.rules.promotion.recommend` is the engine: pure Python, table-tested clause by clause, and what every
single-manager reading uses (the eligibility API and page). Closing a cycle asks it about every manager at
once — ten thousand at a broker's scale — and answering that row by row in Python costs seconds. So the same
rule version, which is data, is compiled here into one INSERT … SELECT: a windowed query ranks each manager's
closed in-level evaluations, one GROUP BY takes the figures every clause reads (counts, least and greatest
totals, sums, the lowest dimension score, the lists shown), CASE expressions decide, and `json_build_object`
writes the same clause list `portal.operations.promotions.detail_of` stores: rule code, pass/fail, the figure
observed and the requirement. The database never sends the evaluations to Python and Python never loops.

The two forms must agree exactly. `tests/test_promotion_sql.py` runs both over generated managers
(hypothesis: levels, tenure edges, totals at and around each bar, flags) and compares the stored detail.
Readings shared with the Python engine, and how they are kept here:
- months in level are whole calendar months (`months_between`), with today's year, month, day and whether
  today ends its month bound as constants; a level dated after today reads as 0 months;
- "the latest N" orders by the cycle's end date, then the cycle id, newest first (as `load_facts` does);
- a mean is compared as sum ≥ bar × N (exact), and shown truncated to 2 decimals (`trunc`), like `_shown`;
- `eligible_on` is `level_since + N months`, which PostgreSQL clamps to a shorter month's end, like
  `add_months`.
"""
from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text

from models import db
from portal.rules import promotion as engine
from portal.rules.evaluation import LEVELS


class _Params:
    """Bind parameters named p0, p1, … in the order the SQL uses them."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object, cast: str | None = None) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"CAST(:{name} AS {cast})" if cast else f":{name}"


def _clause(p: _Params, rule: str, passed: str, observed: str, required: str) -> str:
    return (f"json_build_object('rule', {p(rule, 'text')}, 'passed', ({passed}), 'observed', {observed}, "
            f"'required', {p(required, 'text')})")


def _bar(value: Decimal) -> str:
    return format(value, "f")


def _promotion_detail(p: _Params, rule: engine.PromotionRule) -> tuple[str, str, str, str]:
    """(decision, clauses JSON, eligible_in_months, eligible_on) SQL for a manager at `rule.from_level`."""
    n = rule.evaluations
    enough = f"COALESCE(n_{n}, 0) >= {n}"
    head: list[tuple[str, str]] = []  # (passed, clause) always listed
    if rule.min_months is not None:
        months_ok = f"months >= {int(rule.min_months)}"
        head.append((months_ok, _clause(p, "months_in_level", months_ok, "months", f"≥ {rule.min_months}")))
    head.append((enough, _clause(p, "evaluations_available", enough, f"COALESCE(n_{n}, 0)", f"≥ {n}")))
    inner: list[tuple[str, str]] = []  # listed only with enough evaluations
    if rule.each_total_at_least is not None:
        bar = p(rule.each_total_at_least, "numeric")
        passed = f"min_total_{n} >= {bar}"
        inner.append((passed, _clause(p, "each_total", passed, f"totals_{n}", f"≥ {_bar(rule.each_total_at_least)}")))
    if rule.mean_total_at_least is not None:
        bar = p(rule.mean_total_at_least, "numeric")
        passed = f"sum_total_{n} >= {bar} * {n}"
        inner.append((passed, _clause(p, "mean_total", passed, f"to_json(trunc(sum_total_{n} / {n}, 2)::text)",
                                      f"≥ {_bar(rule.mean_total_at_least)}")))
    if rule.min_dimension is not None:
        bar = p(rule.min_dimension, "numeric")
        passed = f"min_dimension_{n} >= {bar}"
        inner.append((passed, _clause(p, "min_dimension", passed, f"min_dimension_{n}",
                                      f"≥ {_bar(rule.min_dimension)}")))
    for code, column, threshold in (("each_kpi", "kpi", rule.each_kpi_at_least), ("team", "team", rule.team_at_least)):
        if threshold is None:
            continue
        bar = p(threshold, "numeric")
        passed = f"min_{column}_{n} >= {bar}"
        inner.append((passed, _clause(p, code, passed, f"{column}s_{n}", f"≥ {_bar(threshold)}")))
    tail: list[tuple[str, str]] = []
    if rule.no_open_compliance_flag:
        tail.append(("open_flags = 0", _clause(p, "no_compliance_flag", "open_flags = 0", "open_flags", "= 0")))

    def array(parts: list[tuple[str, str]]) -> str:
        return f"json_build_array({', '.join(clause for _, clause in parts)})"

    clauses = f"CASE WHEN {enough} THEN {array(head + inner + tail)} ELSE {array(head + tail)} END"
    others = [passed for passed, _ in head + inner + tail if not passed.startswith("months >=")]
    all_pass = " AND ".join(f"COALESCE({passed}, false)" for passed, _ in head + inner + tail)
    promote = f"({enough}) AND {all_pass}"
    if rule.min_months is None:
        return promote, clauses, "NULL::int", "NULL::text"
    # "Eligible in N months" only when tenure is the one clause failing.
    only_tenure = (f"months < {int(rule.min_months)} AND ({enough}) AND "
                   + " AND ".join(f"COALESCE({passed}, false)" for passed in others))
    eligible_in = f"CASE WHEN {only_tenure} THEN {int(rule.min_months)} - months END"
    eligible_on = (f"CASE WHEN {only_tenure} THEN to_char(level_since + make_interval(months => "
                   f"{int(rule.min_months)}), 'YYYY-MM-DD') END")
    return promote, clauses, eligible_in, eligible_on


def insert_recommendations(*, rules: Sequence[engine.PromotionRule], demotion: engine.DemotionRule,
                           today: date, cycle_id: int | None, rule_set_id: int, computed_at: datetime,
                           scope_cycle_id: int | None = None, manager_ids: Sequence[int] | None = None,
                           ) -> dict[str, int]:
    """Decide and store one recommendation per manager in scope, in one statement; returns the tally.

    Scope, as in `load_facts`: `manager_ids`, else the managers evaluated in `scope_cycle_id`, else every
    active manager. The cycle `scope_cycle_id` counts as closed even before its state is written.
    """
    p = _Params()
    if manager_ids is not None:
        scope = f"SELECT unnest({p(list(manager_ids), 'integer[]')})"
    elif scope_cycle_id is not None:
        scope = f"SELECT manager_id FROM evaluations WHERE cycle_id = {p(scope_cycle_id, 'integer')}"  # nosec B608 - a bind parameter's name is spliced, the id is bound
    else:
        scope = "SELECT id FROM managers WHERE status = 'active'"
    closed = "c.state = 'closed'"
    if scope_cycle_id is not None:
        closed = f"({closed} OR c.id = {p(scope_cycle_id, 'integer')})"
    # Per window size, only the figures some clause reads (each is an aggregate over ten thousand managers).
    needs: dict[int, set[str]] = {demotion.evaluations: {"n", "max_total", "totals"}}
    for rule in rules:
        wanted = needs.setdefault(rule.evaluations, set()) | {"n"}
        wanted |= {"min_total", "totals"} if rule.each_total_at_least is not None else set()
        wanted |= {"sum_total"} if rule.mean_total_at_least is not None else set()
        wanted |= {"min_dimension"} if rule.min_dimension is not None else set()
        wanted |= {"min_kpi", "kpis"} if rule.each_kpi_at_least is not None else set()
        wanted |= {"min_team", "teams"} if rule.team_at_least is not None else set()
        needs[rule.evaluations] = wanted
    aggregates = {
        "n": "count(*)", "min_total": "min(total)", "max_total": "max(total)", "sum_total": "sum(total)",
        "totals": "json_agg(trunc(total, 2)::text ORDER BY pos)", "min_kpi": "min(kpi)",
        "kpis": "json_agg(kpi ORDER BY pos)", "min_team": "min(team)", "teams": "json_agg(team ORDER BY pos)",
        "min_dimension": "min(LEAST(satisfaction, kpi, team, competence))",
    }
    windows = sorted(needs)
    figures = [f"{aggregates[name]} FILTER (WHERE pos <= {n}) AS {name}_{n}"
               for n in windows for name in aggregates if name in needs[n]]
    last_day = calendar.monthrange(today.year, today.month)[1]
    months = (f"CASE WHEN m.level_since >= {p(today, 'date')} THEN 0 ELSE "
              f"({today.year} - EXTRACT(YEAR FROM m.level_since)::int) * 12 "
              f"+ ({today.month} - EXTRACT(MONTH FROM m.level_since)::int) "
              f"- CASE WHEN {today.day} < EXTRACT(DAY FROM m.level_since)::int "
              f"AND {'false' if today.day == last_day else 'true'} THEN 1 ELSE 0 END END")

    d = demotion.evaluations
    demotion_fires = f"COALESCE(n_{d}, 0) >= {d} AND max_total_{d} < {p(demotion.each_total_below, 'numeric')}"
    totals_clause = _clause(p, "demotion_totals", "true", f"totals_{d}", f"< {_bar(demotion.each_total_below)}")
    floor_clause = _clause(p, "demotion_floor", f"level <> {p(LEVELS[0], 'text')}", "to_json(level)",
                           f"above {LEVELS[0]}")
    demote_target = "CASE level " + " ".join(
        f"WHEN {p(level, 'text')} THEN {p(LEVELS[i - 1], 'text')}" for i, level in enumerate(LEVELS) if i) + " END"

    decision, target, clauses, eligible_in, eligible_on = [], [], [], [], []
    for rule in rules:
        promote, rule_clauses, in_months, on_day = _promotion_detail(p, rule)
        level = p(rule.from_level, "text")
        decision.append(f"WHEN level = {level} THEN CASE WHEN {promote} THEN 'promote' ELSE 'hold' END")
        target.append(f"WHEN level = {level} AND ({promote}) THEN {p(rule.to_level, 'text')}")
        clauses.append(f"WHEN level = {level} THEN {rule_clauses}")
        eligible_in.append(f"WHEN level = {level} THEN {in_months}")
        eligible_on.append(f"WHEN level = {level} THEN {on_day}")
    no_rule = _clause(p, "promotion_rule", "false", "to_json(level)", "a promotion rule")

    sql = f"""
WITH scope AS NOT MATERIALIZED ({scope}),
ranked AS (
    SELECT e.manager_id, e.total, e.satisfaction, e.kpi, e.team, e.competence,
           row_number() OVER (PARTITION BY e.manager_id ORDER BY c.end_date DESC, c.id DESC) AS pos
    FROM evaluations e
    JOIN evaluation_cycles c ON c.id = e.cycle_id
    JOIN managers m ON m.id = e.manager_id
    WHERE {closed} AND e.total IS NOT NULL AND e.satisfaction IS NOT NULL AND e.kpi IS NOT NULL
      AND e.team IS NOT NULL AND e.competence IS NOT NULL AND c.end_date > m.level_since
      AND e.manager_id IN (SELECT * FROM scope)
),
figures AS (
    SELECT manager_id, {', '.join(figures)}
    FROM ranked WHERE pos <= {max(windows)} GROUP BY manager_id
),
flags AS (
    SELECT manager_id, count(*) AS open_flags FROM compliance_flags
    WHERE closed_at IS NULL AND manager_id IN (SELECT * FROM scope) GROUP BY manager_id
),
facts AS (
    SELECT m.id AS mid, m.level, m.level_since, COALESCE(fl.open_flags, 0) AS open_flags,
           {months} AS months, f.*
    FROM managers m
    LEFT JOIN figures f ON f.manager_id = m.id
    LEFT JOIN flags fl ON fl.manager_id = m.id
    WHERE m.id IN (SELECT * FROM scope)
),
decided AS (
    SELECT mid, level,
        CASE WHEN {demotion_fires} THEN CASE WHEN level <> {p(LEVELS[0], 'text')} THEN 'demote' ELSE 'hold' END
             {' '.join(decision)} ELSE 'hold' END AS recommendation,
        CASE WHEN {demotion_fires} THEN {demote_target} {' '.join(target)} END AS target_level,
        CASE WHEN {demotion_fires} THEN json_build_array({totals_clause}, {floor_clause})
             {' '.join(clauses)} ELSE json_build_array({no_rule}) END AS clauses,
        CASE WHEN {demotion_fires} THEN NULL::int {' '.join(eligible_in)} END AS eligible_in_months,
        CASE WHEN {demotion_fires} THEN NULL::text {' '.join(eligible_on)} END AS eligible_on
    FROM facts
),
stored AS (
    INSERT INTO promotion_recommendations (manager_id, cycle_id, rule_set_id, level, recommendation,
                                           target_level, detail, computed_at)
    SELECT mid, {p(cycle_id, 'integer')}, {p(rule_set_id, 'integer')}, level, recommendation, target_level,
           json_build_object('recommendation', recommendation, 'target_level', target_level, 'clauses', clauses,
                             'eligible_in_months', eligible_in_months, 'eligible_on', eligible_on),
           {p(computed_at, 'timestamptz')}
    FROM decided ORDER BY mid
    RETURNING recommendation
)
SELECT recommendation, count(*) FROM stored GROUP BY recommendation"""  # nosec B608 - spliced are constants, whole numbers from validated rules (int) and bind parameters' names; every value from data or rules is bound
    connection = db.session.connection()
    # Sorting tens of thousands of evaluations in memory; and hash joins: the planner, misjudging how many
    # evaluations the just-closed cycle's window holds, otherwise picks tens of thousands of index probes.
    # Both settings end with this statement (SET LOCAL … TO DEFAULT), not with the caller's transaction
    # (after an error the transaction is aborted and rolled back, which ends them too).
    connection.execute(text("SET LOCAL work_mem = '64MB'"))
    connection.execute(text("SET LOCAL enable_nestloop = off"))
    tally = {answer: int(count) for answer, count in connection.execute(text(sql), p.values)}
    connection.execute(text("SET LOCAL enable_nestloop TO DEFAULT"))
    connection.execute(text("SET LOCAL work_mem TO DEFAULT"))
    return tally
