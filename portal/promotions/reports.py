"""Report figures as set-based SQL: level distribution, score distribution, score trend, rates, calibration.

`team_ids` narrows every report to some teams (a supervisor's own); None means every team.
Evaluations are counted in the team they belonged to when the cycle opened (`evaluations.team_id`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, distinct, extract, func, literal, select

from models import Evaluation, EvaluationCycle, LevelChange, Manager, Team, db
from portal.rules.vocabulary import LEVELS

CENT = Decimal("0.01")
BINS = tuple(range(10))  # 0–9.99, 10–19.99, … 90–100


def _decimal(value: Any) -> Decimal | None:
    """A figure from SQL (Decimal on PostgreSQL, float on SQLite) as a 2-decimal Decimal."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def closed_cycles(team_ids: Sequence[int] | None = None, limit: int = 200) -> list:
    """Closed cycles, newest first (for a supervisor: the ones covering their teams or everyone)."""
    stmt = select(EvaluationCycle).where(EvaluationCycle.state == "closed")
    if team_ids is not None:
        stmt = stmt.where((EvaluationCycle.team_id.is_(None)) | EvaluationCycle.team_id.in_(team_ids))
    return list(db.session.scalars(stmt.order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc())
                                   .limit(limit)))


def teams(team_ids: Sequence[int] | None = None) -> list:
    """(id, code, name) of the teams a report may be narrowed to."""
    stmt = select(Team.id, Team.code, Team.name).order_by(Team.code)
    if team_ids is not None:
        stmt = stmt.where(Team.id.in_(team_ids))
    return db.session.execute(stmt).all()


# --- level distribution -----------------------------------------------------------------------------------


def level_distribution(team_ids: Sequence[int] | None = None) -> list[tuple[str, int]]:
    """Active staff per level, every level listed (zero included), in ladder order."""
    stmt = select(Manager.level, func.count()).where(Manager.status == "active").group_by(Manager.level)
    if team_ids is not None:
        stmt = stmt.where(Manager.team_id.in_(team_ids))
    counts = dict(db.session.execute(stmt).all())
    return [(level, counts.get(level, 0)) for level in LEVELS]


def level_by_team(team_ids: Sequence[int] | None = None, limit: int = 5000) -> list[tuple]:
    """(team code, team name, junior, mid, senior, principal, total) per team of active staff."""
    columns = [func.count().filter(Manager.level == level) for level in LEVELS]
    stmt = (select(Team.code, Team.name, *columns, func.count()).join(Manager, Manager.team_id == Team.id)
            .where(Manager.status == "active").group_by(Team.id, Team.code, Team.name).order_by(Team.code)
            .limit(limit))
    if team_ids is not None:
        stmt = stmt.where(Team.id.in_(team_ids))
    return [tuple(row) for row in db.session.execute(stmt).all()]


# --- score distribution --------------------------------------------------------------------------------


def _bin_of(total) -> Any:
    """The 10-point bin of a total (0–9); 100 falls in the last bin."""
    return case(*[(total >= bin_ * 10, bin_) for bin_ in reversed(BINS[1:])], else_=0)


def bin_label(bin_: int) -> str:
    """`0–9.99` … `90–100`."""
    return "90–100" if bin_ == 9 else f"{bin_ * 10}–{bin_ * 10 + 9}.99"


def score_distribution(cycle_id: int, team_ids: Sequence[int] | None = None) -> dict:
    """Per team of a cycle: counts per band and per 10-point bin, and the same for the whole selection."""
    e = Evaluation
    bin_ = _bin_of(e.total).label("bin")
    base = [e.cycle_id == cycle_id, e.total.is_not(None)]
    if team_ids is not None:
        base.append(e.team_id.in_(team_ids))
    by_bin = db.session.execute(select(e.team_id, bin_, func.count()).where(*base)
                                .group_by(e.team_id, bin_)).all()
    by_band = db.session.execute(select(e.team_id, e.band, func.count(), func.sum(e.total)).where(*base)
                                 .group_by(e.team_id, e.band)).all()
    names = {row.id: (row.code, row.name) for row in teams(None if team_ids is None else team_ids)}
    per_team: dict[int | None, dict] = defaultdict(lambda: {"bins": [0] * len(BINS), "bands": defaultdict(int),
                                                             "count": 0, "sum": Decimal(0)})
    overall = {"bins": [0] * len(BINS), "bands": defaultdict(int), "count": 0, "sum": Decimal(0)}
    for team_id, bin_value, count in by_bin:
        per_team[team_id]["bins"][int(bin_value)] += count
        overall["bins"][int(bin_value)] += count
    for team_id, band, count, total in by_band:
        for target in (per_team[team_id], overall):
            target["bands"][band] += count
            target["count"] += count
            target["sum"] += Decimal(str(total))
    rows = []
    for team_id, figures in per_team.items():
        code, name = names.get(team_id, ("—", "—"))
        rows.append({"team_id": team_id, "code": code, "name": name, **figures,
                     "mean": _decimal(figures["sum"] / figures["count"]) if figures["count"] else None})
    rows.sort(key=lambda row: row["code"])
    overall["mean"] = _decimal(overall["sum"] / overall["count"]) if overall["count"] else None
    return {"teams": rows, "overall": overall}


# --- score trend ---------------------------------------------------------------------------------------


def score_trend(manager_id: int, limit: int = 40) -> list:
    """A manager's totals per closed cycle, oldest first, beside the mean of their team in that cycle."""
    team_mean = (select(Evaluation.cycle_id, Evaluation.team_id, func.avg(Evaluation.total).label("mean"))
                 .where(Evaluation.total.is_not(None)).group_by(Evaluation.cycle_id, Evaluation.team_id).subquery())
    mine = Evaluation.__table__.alias("mine")
    stmt = (select(EvaluationCycle.name, EvaluationCycle.start_date, EvaluationCycle.end_date, mine.c.level,
                   mine.c.satisfaction, mine.c.kpi, mine.c.team, mine.c.competence, mine.c.total, mine.c.band,
                   team_mean.c.mean)
            .select_from(mine.join(EvaluationCycle, EvaluationCycle.id == mine.c.cycle_id)
                         .outerjoin(team_mean, and_(team_mean.c.cycle_id == mine.c.cycle_id,
                                                    team_mean.c.team_id == mine.c.team_id)))
            .where(mine.c.manager_id == manager_id, EvaluationCycle.state == "closed", mine.c.total.is_not(None))
            .order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc()).limit(limit))
    rows = db.session.execute(stmt).all()
    return [{**row._asdict(), "total": _decimal(row.total), "mean": _decimal(row.mean)} for row in reversed(rows)]


# --- promotion and demotion rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """Approved level changes against the managers evaluated, for one cycle or one year."""

    period: str
    evaluated: int
    promotions: int
    demotions: int

    @property
    def promotion_rate(self) -> Decimal | None:
        return _decimal(Decimal(self.promotions) * 100 / self.evaluated) if self.evaluated else None

    @property
    def demotion_rate(self) -> Decimal | None:
        return _decimal(Decimal(self.demotions) * 100 / self.evaluated) if self.evaluated else None


def _changes_scope(team_ids: Sequence[int] | None):
    conditions = [LevelChange.kind.in_(("promotion", "demotion"))]
    if team_ids is not None:
        conditions.append(LevelChange.manager_id.in_(select(Manager.id).where(Manager.team_id.in_(team_ids))))
    return conditions


def rates_per_cycle(team_ids: Sequence[int] | None = None, limit: int = 40) -> list[RateRow]:
    """Per closed cycle: managers evaluated, and promotions and demotions approved from that cycle."""
    evaluated = (select(Evaluation.cycle_id, func.count(distinct(Evaluation.manager_id)).label("n"))
                 .where(Evaluation.total.is_not(None)))
    if team_ids is not None:
        evaluated = evaluated.where(Evaluation.team_id.in_(team_ids))
    evaluated = evaluated.group_by(Evaluation.cycle_id).subquery()
    changes = (select(LevelChange.cycle_id,
                      func.count().filter(LevelChange.kind == "promotion").label("up"),
                      func.count().filter(LevelChange.kind == "demotion").label("down"))
               .where(*_changes_scope(team_ids), LevelChange.cycle_id.is_not(None))
               .group_by(LevelChange.cycle_id).subquery())
    rows = db.session.execute(
        select(EvaluationCycle.name, evaluated.c.n, func.coalesce(changes.c.up, 0), func.coalesce(changes.c.down, 0))
        .join(evaluated, evaluated.c.cycle_id == EvaluationCycle.id)
        .outerjoin(changes, changes.c.cycle_id == EvaluationCycle.id)
        .where(EvaluationCycle.state == "closed")
        .order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc()).limit(limit)).all()
    return [RateRow(name, n, up, down) for name, n, up, down in reversed(rows)]


def rates_per_year(team_ids: Sequence[int] | None = None) -> list[RateRow]:
    """Per calendar year: distinct managers evaluated in cycles ending that year, and changes effective that year."""
    year_of_cycle = extract("year", EvaluationCycle.end_date)
    evaluated_stmt = (select(year_of_cycle.label("year"), func.count(distinct(Evaluation.manager_id)))
                      .join(EvaluationCycle, EvaluationCycle.id == Evaluation.cycle_id)
                      .where(EvaluationCycle.state == "closed", Evaluation.total.is_not(None)))
    if team_ids is not None:
        evaluated_stmt = evaluated_stmt.where(Evaluation.team_id.in_(team_ids))
    evaluated = {int(year): n for year, n in db.session.execute(evaluated_stmt.group_by(year_of_cycle)).all()}
    year_of_change = extract("year", LevelChange.effective_date)
    changes = {int(year): (up, down) for year, up, down in db.session.execute(
        select(year_of_change, func.count().filter(LevelChange.kind == "promotion"),
               func.count().filter(LevelChange.kind == "demotion"))
        .where(*_changes_scope(team_ids)).group_by(year_of_change)).all()}
    years = sorted(set(evaluated) | set(changes))
    return [RateRow(str(year), evaluated.get(year, 0), *changes.get(year, (0, 0))) for year in years]


# --- calibration ---------------------------------------------------------------------------------------


def _quartile_positions(n, k: int):
    """1-based ranks around the k-th quartile (linear interpolation between them)."""
    low = 1 + ((n - 1) * k) // 4
    high = 1 + ((n - 1) * k + 3) // 4
    return low, high


def distribution_by(group, conditions: Sequence, *, joins=()) -> dict[Any, dict]:
    """Count, mean, min, quartiles and max of evaluation totals per group, in one windowed query.

    Only the ranks the quartiles need are brought back (at most 8 rows a group), whatever the group size.
    """
    scored = select(group.label("grp"), Evaluation.total.label("total")).select_from(Evaluation)
    for target, on in joins:
        scored = scored.outerjoin(target, on)
    scored = scored.where(Evaluation.total.is_not(None), *conditions).subquery()
    ranked = select(
        scored.c.grp, scored.c.total,
        func.row_number().over(partition_by=scored.c.grp, order_by=scored.c.total).label("rn"),
        func.count().over(partition_by=scored.c.grp).label("n"),
        func.sum(scored.c.total).over(partition_by=scored.c.grp).label("sum"),
    ).subquery()
    n = ranked.c.n
    wanted = [literal(1), n]
    for k in (1, 2, 3):
        wanted.extend(_quartile_positions(n, k))
    rows = db.session.execute(select(ranked.c.grp, ranked.c.n, ranked.c.sum, ranked.c.rn, ranked.c.total)
                              .where(ranked.c.rn.in_(wanted))).all()
    groups: dict[Any, dict] = {}
    for grp, count, total_sum, rank, total in rows:
        entry = groups.setdefault(grp, {"count": count, "sum": total_sum, "ranks": {}})
        entry["ranks"][rank] = Decimal(str(total))
    result = {}
    for grp, entry in groups.items():
        count, ranks = entry["count"], entry["ranks"]
        figures = {"count": count, "mean": _decimal(Decimal(str(entry["sum"])) / count),
                   "min": _decimal(ranks[1]), "max": _decimal(ranks[count])}
        for k, name in ((1, "q1"), (2, "median"), (3, "q3")):
            position = (count - 1) * k
            low = ranks[1 + position // 4]
            high = ranks[1 + (position + 3) // 4]
            figures[name] = _decimal(low + (high - low) * Decimal(position % 4) / 4)
        result[grp] = figures
    return result


def calibration(cycle_ids: Sequence[int], *, own_supervisor_id: int | None = None) -> list[dict]:
    """Each supervisor's distribution of the totals in their teams over the chosen cycles.

    With `own_supervisor_id` (a supervisor looking) the others are pooled into one anonymous row.
    """
    supervisor = Team.supervisor_id
    if own_supervisor_id is not None:
        group = case((supervisor == own_supervisor_id, supervisor), else_=-1)
    else:
        group = func.coalesce(supervisor, 0)
    # A supervisor's own evaluation is not one they gave: it is left out of their distribution.
    not_the_head = (Team.supervisor_id.is_(None)) | (Team.supervisor_id != Evaluation.manager_id)
    figures = distribution_by(group, [Evaluation.cycle_id.in_(cycle_ids), not_the_head],
                              joins=[(Team, Team.id == Evaluation.team_id)])
    names = dict(db.session.execute(select(Manager.id, Manager.name)
                                    .where(Manager.id.in_([key for key in figures if key and key > 0]))).all())
    teams_of = defaultdict(list)
    for supervisor_id, code in db.session.execute(select(Team.supervisor_id, Team.code)
                                                  .where(Team.supervisor_id.in_(list(names))).order_by(Team.code)):
        teams_of[supervisor_id].append(code)
    rows = []
    for key, values in figures.items():
        rows.append({"key": key, "name": names.get(key), "teams": ", ".join(teams_of.get(key, [])),
                     "others": key == -1, "no_supervisor": key == 0, **values})
    rows.sort(key=lambda row: (row["others"], row["no_supervisor"], row["name"] or ""))
    return rows


def overall_distribution(cycle_ids: Sequence[int]) -> dict | None:
    """The distribution of every total given by a supervisor over the chosen cycles (supervisors' own excluded)."""
    not_the_head = (Team.supervisor_id.is_(None)) | (Team.supervisor_id != Evaluation.manager_id)
    figures = distribution_by(literal(1), [Evaluation.cycle_id.in_(cycle_ids), not_the_head],
                              joins=[(Team, Team.id == Evaluation.team_id)])
    if not figures:
        return None
    return {"key": None, "name": None, "teams": "", "others": False, "no_supervisor": False, "everyone": True,
            **next(iter(figures.values()))}
