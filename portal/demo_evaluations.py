"""Demo evaluation history: six closed quarters over everyone, targets, clients' ratings, the engine's answers,
level history, one pending nomination, and an open quarter for the demo team to score.

Written in bulk (COPY on PostgreSQL, executemany on SQLite; ratings and level history as INSERT … SELECT),
so 10,000 managers over six quarters add a few seconds. Scores follow a per-manager "form": most managers
are steady, some consistently strong (the engine recommends promoting them once long enough in the
level), a few weak (it recommends demoting them).
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, text

from models import (
    EvaluationCycle,
    EvaluationWeightSet,
    LevelChange,
    Manager,
    PromotionRuleSet,
    Team,
    User,
    db,
    utcnow,
)
from portal import bulk
from portal.operations import promotions
from portal.operations.errors import OperationError
from portal.rules.calendar import BUSINESS_TZ, add_months
from portal.rules.evaluation import DIMENSIONS, band_for
from portal.rules.vocabulary import LEVELS

HISTORY_QUARTERS = 6
RATING_SHARE = 20  # one client in 20 rates their manager each quarter
EVALUATION_COLUMNS = ("cycle_id", "manager_id", "level", "team_id", "satisfaction", "kpi", "team", "competence",
                      "total", "band", "scored_by_id", "scored_at", "updated_by_id", "updated_at", "version")
# Quarterly targets by level: net commission (CNY), asset growth (CNY), new clients.
TARGETS = {"junior": (30000, 2_000_000, 6), "mid": (60000, 5_000_000, 8), "senior": (120000, 10_000_000, 10),
           "principal": (200000, 20_000_000, 12)}
# How each dimension sits around a manager's form (KPI swings most, competence least).
DIMENSION_SPREAD = {"satisfaction": 6, "kpi": 9, "team": 6, "competence": 4}


def quarter_of(day: date) -> tuple[date, date]:
    """First and last day of the calendar quarter holding `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    return start, add_months(start, 3) - timedelta(days=1)


def quarter_name(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), BUSINESS_TZ).astimezone(UTC)


def _clip(value: float) -> int:
    return max(0, min(100, round(value)))


class Form:
    """A manager's scoring form: a mean level of performance and how much it varies by quarter."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def of(self, kind: str) -> float:
        if kind == "strong":
            return self.rng.uniform(88, 95)
        if kind == "weak":
            return self.rng.uniform(44, 54)
        return min(max(self.rng.gauss(76, 7), 58), 90)

    def scores(self, form: float, steady: bool = False) -> dict[str, int]:
        quarter = form + (self.rng.uniform(-1.5, 1.5) if steady else self.rng.gauss(0, 3))
        spread = 0.4 if steady else 1.0
        return {d: _clip(quarter + self.rng.gauss(0, DIMENSION_SPREAD[d] * spread)) for d in DIMENSIONS}


def _weighted(scores: dict[str, int], weights: dict[str, int]) -> Decimal:
    return Decimal(sum(scores[d] * weights[d] for d in DIMENSIONS)) / 100


def seed_evaluations(seed: int, today: date) -> dict:
    """Add the evaluation history and the pending nomination to a freshly seeded database; returns counts."""
    rng = random.Random(seed + 11)
    forms = Form(rng)
    weight_set = db.session.scalar(select(EvaluationWeightSet).order_by(EvaluationWeightSet.version.desc()).limit(1))
    rule_set = db.session.scalar(select(PromotionRuleSet).order_by(PromotionRuleSet.version.desc()).limit(1))
    bands = tuple((Decimal(str(floor)), code) for floor, code in weight_set.bands)
    users = dict(db.session.execute(select(User.username, User.id)
                                    .where(User.username.in_(("admin", "supervisor", "rm")))).all())
    demo_rm = db.session.scalar(select(User.manager_id).where(User.username == "rm"))
    demo_supervisor = db.session.scalar(select(User.manager_id).where(User.username == "supervisor"))
    demo_team = db.session.scalar(select(Team.id).where(Team.supervisor_id == demo_supervisor)) \
        if demo_supervisor else None

    staff = db.session.execute(select(Manager.id, Manager.level, Manager.level_since, Manager.hire_date,
                                      Manager.status, Manager.team_id).order_by(Manager.id)).all()
    kinds = {row.id: rng.choices(("steady", "strong", "weak"), weights=(84, 12, 4))[0] for row in staff}
    star, weak = _demo_story(staff, kinds, demo_team, demo_rm, demo_supervisor, today)
    staff = db.session.execute(select(Manager.id, Manager.level, Manager.level_since, Manager.hire_date,
                                      Manager.status, Manager.team_id).order_by(Manager.id)).all()
    form_of = {row.id: forms.of(kinds[row.id]) for row in staff}
    if star is not None:
        form_of[star] = 94.0  # clear of every bar, mid → senior's "KPI ≥ 85 in each" included
    if weak is not None:
        form_of[weak] = 48.0

    # Six closed quarters over everyone, oldest first, and the current quarter open for the demo team.
    current_start, current_end = quarter_of(today)
    starts = [add_months(current_start, -3 * back) for back in range(HISTORY_QUARTERS, 0, -1)]
    now = utcnow()
    cycles = []
    for start in starts:
        end = add_months(start, 3) - timedelta(days=1)
        cycles.append(EvaluationCycle(
            name=quarter_name(start), start_date=start, end_date=end, team_id=None, state="closed",
            weight_set_id=weight_set.id, rule_set_id=rule_set.id, created_by_id=users.get("admin"),
            created_at=_noon(start), opened_at=_noon(start), closed_at=_noon(end + timedelta(days=10)),
            closed_by_id=users.get("admin")))
    open_cycle = None
    if demo_team is not None:
        open_cycle = EvaluationCycle(
            name=quarter_name(current_start), start_date=current_start, end_date=current_end, team_id=demo_team,
            state="open", weight_set_id=weight_set.id, created_by_id=users.get("admin"), created_at=now,
            opened_at=now)
    db.session.add_all(cycles + ([open_cycle] if open_cycle else []))
    db.session.flush()

    replica = _skip_row_triggers()
    evaluations = []
    for cycle in cycles:
        scored_at = _noon(cycle.end_date + timedelta(days=5))
        for row in staff:
            if row.hire_date > cycle.start_date or row.status == "left":
                continue
            level = row.level
            if cycle.end_date <= row.level_since and LEVELS.index(level) > 0:
                level = LEVELS[LEVELS.index(level) - 1]  # reached the current level after this quarter
            scores = forms.scores(form_of[row.id], steady=row.id in (star, weak))
            total = _weighted(scores, weight_set.weights[level])
            scorer = users.get("supervisor") if row.team_id == demo_team and row.id != demo_supervisor else None
            evaluations.append((cycle.id, row.id, level, row.team_id, *(scores[d] for d in DIMENSIONS), total,
                                band_for(total, bands), scorer, scored_at, scorer, scored_at, 1))
    if open_cycle is not None:
        members = [row for row in staff if row.team_id == demo_team and row.status == "active"
                   and row.id != demo_supervisor]
        for row in members:
            evaluations.append((open_cycle.id, row.id, row.level, row.team_id, None, None, None, None, None, None,
                                None, None, None, None, 1))
    bulk.write_rows("evaluations", EVALUATION_COLUMNS, evaluations)
    targets = _targets([cycle.id for cycle in cycles] + ([open_cycle.id] if open_cycle else []), now)

    ratings = _ratings(cycles, open_cycle, today)
    level_changes = _level_history(cycles, rule_set.id, users.get("admin"), now)
    if replica:
        db.session.execute(text("SET LOCAL session_replication_role = origin"))

    # The engine's answers as of the last close, then the demo supervisor's nomination for the demo admin.
    recommended = promotions.run_engine(cycle=cycles[-1], today=today) if cycles else 0
    nominated = _nominate(star, users.get("supervisor"))
    return {"cycles": len(cycles) + (1 if open_cycle else 0), "evaluations": len(evaluations),
            "targets": targets, "ratings": ratings, "level_changes": level_changes,
            "recommendations": recommended, "nominations": nominated}


def _skip_row_triggers() -> bool:
    """As the main seed does: the rows are generated consistent, so a superuser skips the per-row foreign-key
    triggers for the bulk writes (until the transaction ends or the role is set back)."""
    if db.engine.dialect.name != "postgresql":
        return False
    if not db.session.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        return False
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    return True


def _demo_story(staff, kinds, demo_team, demo_rm, demo_supervisor, today) -> tuple[int | None, int | None]:
    """In the demo team: one strong manager long enough in the level to be promoted, one weak mid-level or above."""
    if demo_team is None:
        return None, None
    members = [row for row in staff if row.team_id == demo_team and row.id not in (demo_rm, demo_supervisor)
               and row.status == "active"]
    star = next((row for row in members if row.level in ("junior", "mid")), None)
    weak = next((row for row in members if row.level in ("mid", "senior", "principal")
                 and (star is None or row.id != star.id)), None)
    if star is not None:
        kinds[star.id] = "strong"
        since = add_months(today, -30)  # past the 24 months mid → senior asks, and well past junior's 12
        hire = min(star.hire_date, since)
        db.session.execute(text("UPDATE managers SET level_since = :since, hire_date = :hire WHERE id = :id"),
                           {"since": since, "hire": hire, "id": star.id})
    if weak is not None:
        kinds[weak.id] = "weak"
        since = add_months(today, -24)
        db.session.execute(text("UPDATE managers SET level_since = :since, hire_date = :hire WHERE id = :id"),
                           {"since": since, "hire": min(weak.hire_date, since), "id": weak.id})
    return (star.id if star else None), (weak.id if weak else None)


def _targets(cycle_ids: list[int], now: datetime) -> int:
    """Each evaluated manager's targets for each quarter, by level, within ±15 % (INSERT … SELECT)."""
    scale = "(85 + (e.manager_id * 7 + c.id * 3) % 31)"
    base = {name: "CASE e.level " + " ".join(f"WHEN '{level}' THEN {figures[position]}"
                                              for level, figures in TARGETS.items()) + " END"
            for position, name in enumerate(("commission", "growth", "clients"))}
    return db.session.execute(text(
        "INSERT INTO manager_targets (manager_id, period_start, period_end, net_commission, asset_growth, "  # nosec B608 - demo SQL built from constants in this module, values bound
        "new_clients, updated_at) "
        f"SELECT e.manager_id, c.start_date, c.end_date, {base['commission']} * {scale} / 100, "
        f"{base['growth']} / 1000 * {scale} / 100 * 1000, "
        f"CASE WHEN {base['clients']} * {scale} / 100 < 1 THEN 1 ELSE {base['clients']} * {scale} / 100 END, :now "
        "FROM evaluations e JOIN evaluation_cycles c ON c.id = e.cycle_id "
        f"WHERE c.id IN ({', '.join(str(int(i)) for i in cycle_ids)})"), {"now": now}).rowcount


def _ratings(cycles: list[EvaluationCycle], open_cycle: EvaluationCycle | None, today: date) -> int:
    """One client in RATING_SHARE rates their manager each quarter, with stars that follow the manager's service.

    INSERT … SELECT, one statement for the closed quarters: no client row passes through Python. In the
    open quarter the stars follow the manager's last closed quarter, and clients with a login are left to
    rate for themselves.
    """
    stars = ("CASE WHEN (e.satisfaction + (c.id * 13) % 21 - 10) / 25 + 1 > 5 THEN 5 "
             "WHEN (e.satisfaction + (c.id * 13) % 21 - 10) / 25 + 1 < 1 THEN 1 "
             "ELSE (e.satisfaction + (c.id * 13) % 21 - 10) / 25 + 1 END")
    # Client n rates in the closed quarter n mod RATING_SHARE (when there is one): one pass over the clients,
    # each joined to one evaluation, instead of every client against every quarter.
    params: dict = {"share": RATING_SHARE, "quarters": len(cycles)}
    cycle_of, rated_at = [], []
    for position, cycle in enumerate(cycles):
        cycle_of.append(f"WHEN {position} THEN {int(cycle.id)}")
        rated_at.append(f"WHEN {int(cycle.id)} THEN :rated_{position}")
        params[f"rated_{position}"] = _noon(cycle.end_date - timedelta(days=12))
    count = db.session.execute(text(
        "INSERT INTO service_ratings (client_id, manager_id, cycle_id, stars, rated_at) "  # nosec B608 - demo SQL built from constants in this module, values bound
        f"SELECT c.id, c.manager_id, e.cycle_id, {stars}, CASE e.cycle_id {' '.join(rated_at)} END "
        "FROM clients c JOIN evaluations e ON e.manager_id = c.manager_id "
        f"  AND e.cycle_id = CASE c.id % :share {' '.join(cycle_of)} END "
        "WHERE c.manager_id IS NOT NULL AND c.id % :share < :quarters"), params).rowcount
    if open_cycle is not None and cycles:
        rated_on = max(open_cycle.start_date, min(today - timedelta(days=1), open_cycle.end_date))
        count += db.session.execute(text(
            "INSERT INTO service_ratings (client_id, manager_id, cycle_id, stars, rated_at) "  # nosec B608 - demo SQL built from constants in this module, values bound
            f"SELECT c.id, c.manager_id, :open_id, {stars}, :rated_at "
            "FROM evaluations e JOIN clients c ON c.manager_id = e.manager_id "
            "WHERE e.cycle_id = :last_id AND (c.id + :open_id) % :share = 0 "
            "  AND c.manager_id IN (SELECT manager_id FROM evaluations WHERE cycle_id = :open_id) "
            "  AND c.id NOT IN (SELECT client_id FROM users WHERE client_id IS NOT NULL)"),
            {"open_id": open_cycle.id, "last_id": cycles[-1].id, "share": RATING_SHARE // 2,
             "rated_at": _noon(rated_on)}).rowcount
    return count


def _level_history(cycles: list[EvaluationCycle], rule_set_id: int, admin_id: int | None, now: datetime) -> int:
    """Every demo manager's level history: an initial grading, and a promotion for those who reached their
    level during the history quarters (graded one level lower at hire, promoted after the quarter before)."""
    fresh = "NOT EXISTS (SELECT 1 FROM level_changes x WHERE x.manager_id = m.id)"
    promoted = "m.level <> 'junior' AND m.level_since > :first_start AND m.level_since > m.hire_date"
    previous = ("CASE m.level WHEN 'mid' THEN 'junior' WHEN 'senior' THEN 'mid' WHEN 'principal' THEN 'senior' "
                "ELSE m.level END")
    params = {"now": now, "first_start": cycles[0].start_date}
    m = Manager.__table__.alias("m")
    rows = db.session.execute(select(m.c.id, m.c.level, m.c.level_since)  # typed dates, on SQLite too
                              .where(text(f"{fresh} AND {promoted}")), params).all()
    count = db.session.execute(text(
        "INSERT INTO level_changes (manager_id, kind, from_level, to_level, effective_date, created_at) "  # nosec B608 - demo SQL built from constants in this module, values bound
        f"SELECT m.id, 'initial', NULL, CASE WHEN {promoted} THEN {previous} ELSE m.level END, "
        f"CASE WHEN {promoted} THEN m.hire_date ELSE m.level_since END, :now FROM managers m WHERE {fresh}"),
        params).rowcount
    ends = sorted(cycle.end_date for cycle in cycles)
    cycle_of = {cycle.end_date: cycle.id for cycle in cycles}
    changes = []
    for manager_id, level, since in rows:
        before = [end for end in ends if end < since]
        changes.append({"manager_id": manager_id, "kind": "promotion", "from_level": LEVELS[LEVELS.index(level) - 1],
                        "to_level": level, "effective_date": since, "reason": "季度考核结果优秀，经审批晋升",
                        "approved_by_id": admin_id, "cycle_id": cycle_of[before[-1]] if before else None,
                        "rule_set_id": rule_set_id, "created_at": now})
    if changes:
        db.session.execute(insert(LevelChange.__table__), changes)
    return count + len(changes)


def _nominate(star: int | None, supervisor_user_id: int | None) -> int:
    """The demo supervisor nominates the demo team's strong manager from the engine's latest answer."""
    if star is None or supervisor_user_id is None:
        return 0
    manager = db.session.get(Manager, star)
    recommendation = promotions.latest_recommendation(star)
    if recommendation is None or recommendation.recommendation != "promote":
        return 0
    try:
        promotions.nominate(manager, recommendation_id=recommendation.id,
                            reason="连续多个季度考核优秀，业绩与团队贡献突出，建议晋升",
                            by=db.session.get(User, supervisor_user_id))
    except OperationError:
        return 0
    return 1

