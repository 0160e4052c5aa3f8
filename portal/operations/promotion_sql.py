"""The promotion engine's decisions compiled to one SQL statement, for runs over many managers on PostgreSQL.

`portal.rules.promotion.recommend` is the engine: pure Python, table-tested clause by clause, and what every
single-manager reading uses (the eligibility API and page). Closing a cycle asks it about every manager at
once — ten thousand at a broker's scale — and answering that row by row in Python costs seconds. So the same
rule version, which is data, is compiled here into one INSERT … SELECT: a windowed query ranks each manager's
closed evaluations latest first (those earned in the current level — their cycle ends after the level's date —
are a prefix of that order, so they are ranked before being picked out, without joining every evaluation to
its manager), one GROUP BY takes the figures every clause reads (counts, least and greatest totals, sums, the
lowest dimension score), CASE expressions decide promote / demote / hold and the target level, and each row
stores, beside the answer, the facts it was decided on: the level and its date, the open compliance flags and
the ids of the evaluations considered, latest first (an integer array). The database never sends the
evaluations to Python and Python never loops. The clauses are worded on reading, by the pure engine from
those facts (`portal.operations.promotions.recommendation_detail`): one wording of every clause, in Python.

The two forms must agree exactly. `tests/test_promotion_sql.py` runs both over generated managers
(hypothesis: levels, tenure edges, totals at and around each bar, flags) and compares the answer, the target
and the worded clauses. Readings shared with the Python engine, and how they are kept here:
- months in level are whole calendar months (`months_between`), with today's year, month, day and whether
  today ends its month bound as constants; a level dated after today reads as 0 months;
- "the latest N" orders by the cycle's end date, then the cycle id, newest first (as `load_facts` does);
- a mean is compared as sum ≥ bar × N (exact).
"""
from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

from sqlalchemy import text

from models import db
from portal.rules import promotion as engine
from portal.rules.vocabulary import LEVELS


class _Params:
    """Bind parameters named p0, p1, … in the order the SQL uses them."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object, cast: str | None = None) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"CAST(:{name} AS {cast})" if cast else f":{name}"


def _promotes(rule: engine.PromotionRule, p: _Params) -> str:
    """SQL true when a manager at `rule.from_level` passes every clause of the rule (the pure engine's order)."""
    n = rule.evaluations
    enough = f"COALESCE(n_{n}, 0) >= {n}"
    passed = [enough]
    if rule.min_months is not None:
        passed.append(f"months >= {int(rule.min_months)}")
    if rule.each_total_at_least is not None:
        passed.append(f"min_total_{n} >= {p(rule.each_total_at_least, 'numeric')}")
    if rule.mean_total_at_least is not None:
        passed.append(f"sum_total_{n} >= {p(rule.mean_total_at_least, 'numeric')} * {n}")
    if rule.min_dimension is not None:
        passed.append(f"min_dimension_{n} >= {p(rule.min_dimension, 'numeric')}")
    if rule.each_kpi_at_least is not None:
        passed.append(f"min_kpi_{n} >= {p(rule.each_kpi_at_least, 'numeric')}")
    if rule.team_at_least is not None:
        passed.append(f"min_team_{n} >= {p(rule.team_at_least, 'numeric')}")
    if rule.no_open_compliance_flag:
        passed.append("open_flags = 0")
    return " AND ".join(f"COALESCE({clause}, false)" for clause in passed)


def insert_recommendations(*, rules: Sequence[engine.PromotionRule], demotion: engine.DemotionRule,
                           today: date, run_id: int, considered: int, scope_cycle_id: int | None = None,
                           manager_ids: Sequence[int] | None = None, scope_is_nearly_all: bool = False,
                           ) -> dict[str, int]:
    """Decide and store one recommendation per manager in scope under run `run_id`, in one statement.

    Each row keeps the answer and the facts the pure engine words it from (level date, open flags, the ids
    of the latest `considered` closed in-level evaluations, latest first). Returns the tally per answer.
    Scope, as in `load_facts`: `manager_ids`, else the managers evaluated in `scope_cycle_id`, else every
    active manager. The cycle `scope_cycle_id` counts as closed even before its state is written.
    `scope_is_nearly_all` (a cycle over everyone, or every active manager): every manager's evaluations are
    ranked and the scope applies to the answers only — cheaper than testing ten thousands of evaluations
    against it when it leaves out few managers; the answers are the same either way.
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
    needs: dict[int, set[str]] = {demotion.evaluations: {"n", "max_total"}}
    for rule in rules:
        wanted = needs.setdefault(rule.evaluations, set()) | {"n"}
        wanted |= {"min_total"} if rule.each_total_at_least is not None else set()
        wanted |= {"sum_total"} if rule.mean_total_at_least is not None else set()
        wanted |= {"min_dimension"} if rule.min_dimension is not None else set()
        wanted |= {"min_kpi"} if rule.each_kpi_at_least is not None else set()
        wanted |= {"min_team"} if rule.team_at_least is not None else set()
        needs[rule.evaluations] = wanted
    aggregates = {
        "n": "count(*)", "min_total": "min(total)", "max_total": "max(total)", "sum_total": "sum(total)",
        "min_kpi": "min(kpi)", "min_team": "min(team)",
        "min_dimension": "min(LEAST(satisfaction, kpi, team, competence))",
    }
    considered = max([int(considered), *needs])
    figures = [f"{aggregates[name]} FILTER (WHERE pos <= {n}) AS {name}_{n}"
               for n in sorted(needs) for name in aggregates if name in needs[n]]
    ranked_scope = "" if scope_is_nearly_all else "AND e.manager_id IN (SELECT * FROM scope)"
    # The ids of the evaluations considered, latest first, by position (no sort per manager): null where a
    # manager has fewer; `portal.operations.promotions.stored_facts` drops the nulls.
    positions = ", ".join(f"max(r.id) FILTER (WHERE pos = {i})" for i in range(1, considered + 1))
    last_day = calendar.monthrange(today.year, today.month)[1]
    months = (f"CASE WHEN m.level_since >= {p(today, 'date')} THEN 0 ELSE "
              f"({today.year} - EXTRACT(YEAR FROM m.level_since)::int) * 12 "
              f"+ ({today.month} - EXTRACT(MONTH FROM m.level_since)::int) "
              f"- CASE WHEN {today.day} < EXTRACT(DAY FROM m.level_since)::int "
              f"AND {'false' if today.day == last_day else 'true'} THEN 1 ELSE 0 END END")

    d = demotion.evaluations
    demotion_fires = f"COALESCE(n_{d}, 0) >= {d} AND max_total_{d} < {p(demotion.each_total_below, 'numeric')}"
    demote_target = "CASE level " + " ".join(
        f"WHEN {p(level, 'text')} THEN {p(LEVELS[i - 1], 'text')}" for i, level in enumerate(LEVELS) if i) + " END"
    decision, target = [], []
    for rule in rules:
        promote = _promotes(rule, p)
        level = p(rule.from_level, "text")
        decision.append(f"WHEN level = {level} THEN CASE WHEN {promote} THEN 'promote' ELSE 'hold' END")
        target.append(f"WHEN level = {level} AND ({promote}) THEN {p(rule.to_level, 'text')}")

    sql = f"""
WITH scope AS NOT MATERIALIZED ({scope}),
ranked AS (
    SELECT e.manager_id, e.id, e.total, e.satisfaction, e.kpi, e.team, e.competence, c.end_date,
           row_number() OVER (PARTITION BY e.manager_id ORDER BY c.end_date DESC, c.id DESC) AS pos
    FROM evaluations e
    JOIN evaluation_cycles c ON c.id = e.cycle_id
    WHERE {closed} AND e.total IS NOT NULL AND e.satisfaction IS NOT NULL AND e.kpi IS NOT NULL
      AND e.team IS NOT NULL AND e.competence IS NOT NULL {ranked_scope}
),
figures AS (
    SELECT r.manager_id, {', '.join(figures)}, ARRAY[{positions}] AS evaluation_ids
    FROM ranked r JOIN managers m ON m.id = r.manager_id
    WHERE pos <= {considered} AND r.end_date > m.level_since
    GROUP BY r.manager_id
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
    SELECT mid, level, level_since, open_flags, evaluation_ids,
        CASE WHEN {demotion_fires} THEN CASE WHEN level <> {p(LEVELS[0], 'text')} THEN 'demote' ELSE 'hold' END
             {' '.join(decision)} ELSE 'hold' END AS recommendation,
        CASE WHEN {demotion_fires} THEN {demote_target} {' '.join(target)} END AS target_level
    FROM facts
),
stored AS (
    INSERT INTO promotion_recommendations (run_id, manager_id, level, recommendation, target_level,
                                           level_since, open_flags, evaluation_ids)
    SELECT {p(run_id, 'integer')}, mid, level, recommendation, target_level, level_since, open_flags,
           COALESCE(evaluation_ids, CAST(ARRAY[] AS integer[]))
    FROM decided ORDER BY mid
    RETURNING recommendation
)
SELECT recommendation, count(*) FROM stored GROUP BY recommendation"""  # nosec B608 - spliced are constants, whole numbers from validated rules (int) and bind parameters' names; every value from data or rules is bound
    connection = db.session.connection()
    # Sorting tens of thousands of evaluations in memory; and hash joins: the planner, misjudging how many
    # evaluations the just-closed cycle's window holds, otherwise picks tens of thousands of index probes.
    # Both settings end with this statement (SET LOCAL … TO DEFAULT), not with the caller's transaction
    # (after an error the transaction is aborted and rolled back, which ends them too).
    connection.execute(text("SET LOCAL work_mem = '64MB'; SET LOCAL enable_nestloop = off"))  # one round trip
    tally = {answer: int(count) for answer, count in connection.execute(text(sql), p.values)}
    connection.execute(text("SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL work_mem TO DEFAULT"))
    return tally
