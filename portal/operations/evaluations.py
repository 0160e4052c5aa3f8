"""Evaluation cycles (draft → open → closed), scoring with derived figures and optimistic locking,
managers' self-assessments, and clients' service ratings of their manager.

Who is evaluated: when a cycle opens, every active staff record in its scope gets one evaluation
(one INSERT … SELECT), freezing the manager's level and team; the cycle freezes the weight set in
force. A team cycle covers the team's managers but not the staff who head a team: supervisors are
evaluated in a cycle over everyone, and scored by an administrator.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from models import (
    AssetSnapshot,
    Client,
    Evaluation,
    EvaluationCycle,
    EvaluationWeightSet,
    Manager,
    ManagerTarget,
    PromotionRecommendation,
    PromotionRun,
    RevenueRecord,
    ServiceRating,
    Team,
    db,
    utcnow,
)
from portal.audit import record
from portal.labels import DIMENSION
from portal.operations.errors import OperationError
from portal.rules import evaluation as rules
from portal.rules.calendar import end_of_business_day, start_of_business_day

NAME_MAX = 100
COMMENT_MAX = 2000
RATING_COMMENT_MAX = 1000
# A cycle is a quarter, a half-year or a year: at most a leap year long.
MAX_CYCLE_DAYS = 366
# How many unscored evaluations a refusal to close names; the total is always given.
UNSCORED_LISTED = 100
RECENT_COMMENTS = 10


class UnscoredError(OperationError):
    """Closing refused: `unscored` lists (employee_no, name) of evaluations without a total."""

    def __init__(self, unscored: list[tuple[str, str]], total: int):
        names = ", ".join(f"{no} {name}" for no, name in unscored[:20])
        more = total - min(len(unscored), 20)
        message = _("The cycle cannot close: %(n)d evaluations are not scored yet: %(names)s.", n=total, names=names)
        if more > 0:
            message = _("The cycle cannot close: %(n)d evaluations are not scored yet: %(names)s and %(more)d more.",
                        n=total, names=names, more=more)
        super().__init__(message, None, "unscored")
        self.unscored = unscored
        self.total = total


class ConflictError(OperationError):
    """Someone saved the evaluation since the form was loaded: `evaluation` holds what is saved now."""

    def __init__(self, evaluation: Evaluation):
        self.evaluation = evaluation
        self.changed_by = changed_by_name(evaluation)
        self.changed_at = evaluation.updated_at
        when = format_datetime(self.changed_at, "medium") if self.changed_at else "—"
        super().__init__(_("%(who)s saved this evaluation at %(when)s, after you opened it. Your values were not "
                           "saved; compare them with the saved ones and save again to replace them.",
                           who=self.changed_by, when=when), None, "conflict")


# C0 controls other than tab and line breaks: no comment needs them, and PostgreSQL refuses NUL in text.
CONTROL_CHARACTERS = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"} | {"\x7f"}


def clean_text(value: Any, limit: int, field: str, label: str) -> str | None:
    """Optional free text: stripped, None when empty; OperationError when not text, too long or with controls."""
    if value is not None and not isinstance(value, str):
        raise OperationError(_("%(label)s must be text.", label=label), field, "invalid_text")
    value = (value or "").strip() or None
    if value is None:
        return None
    if len(value) > limit:
        raise OperationError(_("%(label)s may have at most %(n)d characters.", label=label, n=limit), field,
                             "text_too_long")
    if any(ch in CONTROL_CHARACTERS for ch in value):
        raise OperationError(_("%(label)s contains control characters.", label=label), field, "invalid_text")
    return value


def changed_by_name(evaluation: Evaluation) -> str:
    user = evaluation.updated_by
    return f"{user.display_name} ({user.username})" if user is not None else _("someone")


# --- dates and weights ------------------------------------------------------------------------------

def parse_day(raw: Any, field: str) -> date:
    """A YYYY-MM-DD date from a form or a JSON body."""
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and raw.strip():
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise OperationError(_("Enter the date as YYYY-MM-DD."), field, "invalid_date")


def period_bounds_utc(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants the business days start..end cover (China time), as UTC: [from, to)."""
    return start_of_business_day(start), end_of_business_day(end)


def weight_set_in_force() -> EvaluationWeightSet:
    """The newest version of the evaluation weights and bands."""
    weight_set = db.session.scalar(select(EvaluationWeightSet).order_by(EvaluationWeightSet.version.desc()).limit(1))
    if weight_set is None:
        raise OperationError(_("No evaluation weights are defined; an administrator must set them first."), None,
                             "no_weights")
    return weight_set


def bands_of(weight_set: EvaluationWeightSet) -> tuple[tuple[Decimal, str], ...]:
    """The weight set's rating bands as (Decimal lowest total, code), highest first."""
    return tuple((Decimal(str(floor)), str(code)) for floor, code in weight_set.bands)


def weights_of(weight_set: EvaluationWeightSet, level: str) -> dict[str, int]:
    """The percent weight of each dimension for a level in a weight set."""
    return {dimension: int(weight_set.weights[level][dimension]) for dimension in rules.DIMENSIONS}


def cycle_weight_set(cycle: EvaluationCycle) -> EvaluationWeightSet:
    """The weights frozen when the cycle opened (the set in force for a cycle not opened yet)."""
    if cycle.weight_set_id is not None:
        return db.session.get(EvaluationWeightSet, cycle.weight_set_id)
    return weight_set_in_force()


# --- cycles ---------------------------------------------------------------------------------------

def state_label(state: str) -> str:
    """A cycle state in the user's language, for messages."""
    return {"draft": _("in draft"), "open": _("open"), "closed": _("closed")}.get(state, state)


def cycle_snapshot(cycle: EvaluationCycle) -> dict:
    """A cycle as the audit log and the API show it."""
    team = db.session.get(Team, cycle.team_id) if cycle.team_id is not None else None
    return {"id": cycle.id, "name": cycle.name, "start": cycle.start_date.isoformat(),
            "end": cycle.end_date.isoformat(), "scope": {"team": team.code} if team else "all",
            "state": cycle.state}


def create_cycle(name: Any, start: date, end: date, team: Team | None, by_user) -> EvaluationCycle:
    """A new cycle in draft over one team (or everyone when `team` is None)."""
    name = clean_text(name, NAME_MAX, "name", _("The name"))
    if name is None:
        raise OperationError(_("Enter a name for the cycle."), "name", "invalid_name")
    if end < start:
        raise OperationError(_("The end date cannot be before the start date."), "end", "invalid_period")
    if (end - start).days + 1 > MAX_CYCLE_DAYS:
        raise OperationError(_("A cycle covers at most a year (%(n)d days).", n=MAX_CYCLE_DAYS), "end",
                             "invalid_period")
    cycle = EvaluationCycle(name=name, start_date=start, end_date=end, team_id=team.id if team else None,
                            state="draft", created_by_id=by_user.id if by_user is not None else None)
    db.session.add(cycle)
    db.session.flush()
    record("cycle.create", "evaluation_cycle", cycle.id, after=cycle_snapshot(cycle), actor=by_user)
    return cycle


def team_heads():
    """Staff records heading a team (a subquery): they are scored by an administrator only."""
    return select(Team.supervisor_id).where(Team.supervisor_id.is_not(None))


def member_conditions(cycle: EvaluationCycle) -> list:
    """Which staff records a cycle evaluates when it opens: active, in scope (team heads only in a cycle over all)."""
    conditions = [Manager.status == "active"]
    if cycle.team_id is not None:
        conditions += [Manager.team_id == cycle.team_id, Manager.id.not_in(team_heads())]
    return conditions


def _overlapping_open_cycle(cycle: EvaluationCycle) -> EvaluationCycle | None:
    same_people = (or_(EvaluationCycle.team_id.is_(None), EvaluationCycle.team_id == cycle.team_id)
                   if cycle.team_id is not None else literal(True))
    return db.session.scalar(select(EvaluationCycle).where(
        EvaluationCycle.state == "open", EvaluationCycle.id != cycle.id, same_people,
        EvaluationCycle.start_date <= cycle.end_date, EvaluationCycle.end_date >= cycle.start_date,
    ).order_by(EvaluationCycle.id).limit(1))


def open_cycle(cycle: EvaluationCycle, by_user) -> int:
    """draft → open: one evaluation per staff record in scope (set-based), weights frozen. Returns how many."""
    if cycle.state != "draft":
        raise OperationError(_("Only a cycle in draft can be opened; this one is %(state)s.",
                               state=state_label(cycle.state)), None, "not_draft")
    other = _overlapping_open_cycle(cycle)
    if other is not None:
        raise OperationError(_("The open cycle %(name)s covers the same people over overlapping dates; close it "
                               "before opening this one.", name=other.name), None, "overlapping_cycle")
    weight_set = weight_set_in_force()
    count = db.session.scalar(select(func.count(Manager.id)).where(*member_conditions(cycle)))
    if not count:
        raise OperationError(_("Nobody is in this cycle's scope: there is no active manager to evaluate."), None,
                             "empty_scope")
    now = utcnow()
    changed = db.session.execute(
        update(EvaluationCycle).where(EvaluationCycle.id == cycle.id, EvaluationCycle.state == "draft")
        .values(state="open", opened_at=now, weight_set_id=weight_set.id)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:  # opened by someone else in between
        raise OperationError(_("Only a cycle in draft can be opened."), None, "not_draft")
    source = (select(literal(cycle.id), Manager.id, Manager.level, Manager.team_id, literal(1))
              .where(*member_conditions(cycle)))
    db.session.execute(insert(Evaluation).from_select(
        ["cycle_id", "manager_id", "level", "team_id", "version"], source))
    db.session.refresh(cycle)
    created = db.session.scalar(select(func.count(Evaluation.id)).where(Evaluation.cycle_id == cycle.id))
    record("cycle.open", "evaluation_cycle", cycle.id, before={"state": "draft"},
           after={"state": "open", "evaluations": created, "weight_set": weight_set.version}, actor=by_user)
    return created


def delete_cycle(cycle: EvaluationCycle, by_user) -> None:
    """Delete a cycle in draft; an open or closed cycle is never deleted."""
    if cycle.state != "draft":
        raise OperationError(_("Only a cycle in draft can be deleted; an open or closed cycle is kept."), None,
                             "not_draft")
    snapshot = cycle_snapshot(cycle)
    deleted = db.session.execute(delete(EvaluationCycle).where(EvaluationCycle.id == cycle.id,
                                                               EvaluationCycle.state == "draft")
                                 .execution_options(synchronize_session=False)).rowcount
    if deleted != 1:
        raise OperationError(_("Only a cycle in draft can be deleted; an open or closed cycle is kept."), None,
                             "not_draft")
    db.session.expunge(cycle)
    record("cycle.delete", "evaluation_cycle", snapshot["id"], before=snapshot, actor=by_user)


def unscored(cycle: EvaluationCycle, limit: int = UNSCORED_LISTED) -> tuple[list[tuple[str, str]], int]:
    """Evaluations of the cycle without a total: up to `limit` (employee_no, name), and how many in all."""
    condition = and_(Evaluation.cycle_id == cycle.id, Evaluation.total.is_(None))
    total = db.session.scalar(select(func.count(Evaluation.id)).where(condition)) or 0
    rows = db.session.execute(select(Manager.employee_no, Manager.name).join(Evaluation,
                                                                             Evaluation.manager_id == Manager.id)
                              .where(condition).order_by(Manager.employee_no).limit(limit)).all() if total else []
    return [(row.employee_no, row.name) for row in rows], total


def close_cycle(cycle: EvaluationCycle, by_user) -> int:
    """open → closed (one UPDATE, refused while any evaluation is unscored), then the promotion engine runs.

    Returns how many recommendations the engine stored.
    """
    from portal.operations import promotions  # imported at call time: the two modules stay independent

    if cycle.state != "open":
        raise OperationError(_("Only an open cycle can be closed; this one is %(state)s.",
                               state=state_label(cycle.state)), None, "not_open")
    # The UPDATE itself refuses while any evaluation is unscored; which ones is asked only then.
    no_unscored = ~exists().where(Evaluation.cycle_id == cycle.id, Evaluation.total.is_(None))
    changed = db.session.execute(
        update(EvaluationCycle).where(EvaluationCycle.id == cycle.id, EvaluationCycle.state == "open", no_unscored)
        .values(state="closed", closed_at=utcnow(), closed_by_id=by_user.id if by_user is not None else None)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:  # closed, or an evaluation changed, in between
        listed, total = unscored(cycle)
        if total:
            raise UnscoredError(listed, total)
        raise OperationError(_("Only an open cycle can be closed."), None, "not_open")
    db.session.refresh(cycle)
    recommendations = promotions.run_engine(cycle=cycle, by=by_user)
    # Every evaluation is scored and the engine answers once per evaluated manager: the two counts are one.
    record("cycle.close", "evaluation_cycle", cycle.id, before={"state": "open"},
           after={"state": "closed", "evaluations": recommendations, "recommendations": recommendations,
                  "rule_set": cycle.rule_set_id}, actor=by_user)
    return recommendations


def recommendations_for(cycle_id: int, manager_ids: list[int]) -> dict[int, PromotionRecommendation]:
    """The promotion engine's latest recommendation from this cycle's runs (its close, re-runs), per manager."""
    if not manager_ids:
        return {}
    latest = (select(func.max(PromotionRecommendation.id))
              .join(PromotionRun, PromotionRun.id == PromotionRecommendation.run_id)
              .where(PromotionRun.cycle_id == cycle_id, PromotionRecommendation.manager_id.in_(manager_ids))
              .group_by(PromotionRecommendation.manager_id))
    rows = db.session.scalars(select(PromotionRecommendation).where(PromotionRecommendation.id.in_(latest)))
    return {row.manager_id: row for row in rows}


# --- derived figures --------------------------------------------------------------------------------

def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(rules.CENT))


def satisfaction_figures(manager_id: int, cycle: EvaluationCycle) -> dict:
    """The manager's service ratings in the cycle (given in it, or dated within its period) → 0–100."""
    begin, finish = period_bounds_utc(cycle.start_date, cycle.end_date)
    in_cycle = and_(ServiceRating.manager_id == manager_id,
                    or_(ServiceRating.cycle_id == cycle.id,
                        and_(ServiceRating.rated_at >= begin, ServiceRating.rated_at < finish)))
    by_stars = {int(stars): int(n) for stars, n in db.session.execute(
        select(ServiceRating.stars, func.count(ServiceRating.id)).where(in_cycle).group_by(ServiceRating.stars))}
    count = sum(by_stars.values())
    figure = mean = None
    if count:
        mean_exact = Decimal(sum(stars * n for stars, n in by_stars.items())) / Decimal(count)
        figure = rules.stars_to_score(mean_exact)
        mean = mean_exact.quantize(rules.CENT)
    comments = db.session.execute(
        select(ServiceRating.stars, ServiceRating.comment, ServiceRating.rated_at)
        .where(in_cycle, ServiceRating.comment.is_not(None))
        .order_by(ServiceRating.rated_at.desc()).limit(RECENT_COMMENTS)).all() if count else []
    return {"figure": None if figure is None else str(figure), "ratings": count,
            "mean_stars": None if mean is None else str(mean),
            "by_stars": {str(stars): by_stars.get(stars, 0) for stars in range(1, 6)},
            "comments": [{"stars": row.stars, "comment": row.comment, "rated_at": row.rated_at.isoformat()}
                         for row in comments]}


def _book_totals(manager_id: int, start: date, end: date) -> tuple[tuple[date | None, Decimal | None], ...]:
    """The book's total assets at its latest statistics date on or before `start`, and on or before `end`."""
    book = select(Client.id).where(Client.manager_id == manager_id)

    def latest(day: date):
        return (select(func.max(AssetSnapshot.stat_date))
                .where(AssetSnapshot.client_id.in_(book), AssetSnapshot.stat_date <= day).scalar_subquery())

    start_date, end_date = db.session.execute(select(latest(start), latest(end))).one()
    dates = [day for day in (start_date, end_date) if day is not None]
    totals = dict(db.session.execute(
        select(AssetSnapshot.stat_date, func.sum(AssetSnapshot.total_assets))
        .where(AssetSnapshot.client_id.in_(book), AssetSnapshot.stat_date.in_(dates))
        .group_by(AssetSnapshot.stat_date)).all()) if dates else {}
    return tuple((day, Decimal(totals[day]) if day is not None else None) for day in (start_date, end_date))


def target_for(manager_id: int, start: date, end: date) -> ManagerTarget | None:
    """The manager's targets for exactly this period, if any were set."""
    return db.session.scalar(select(ManagerTarget).where(ManagerTarget.manager_id == manager_id,
                                                         ManagerTarget.period_start == start,
                                                         ManagerTarget.period_end == end))


def kpi_figures(manager_id: int, cycle: EvaluationCycle) -> dict:
    """The book's figures for the cycle's period against the manager's targets for it, and the KPI they give.

    Net commission: the current book's revenue records for the months overlapping the period. Asset
    growth: the book's total at its latest statistics date on or before the end, minus on or before the
    start. New clients: accounts opened in the period. Valid profiles: the book's share whose current
    profile is valid at the period's end.
    """
    start, end = cycle.start_date, cycle.end_date
    book = select(Client.id).where(Client.manager_id == manager_id)
    month_from = start.replace(day=1)
    revenue_rows, net_commission = db.session.execute(
        select(func.count(RevenueRecord.id), func.sum(RevenueRecord.net_commission))
        .where(RevenueRecord.client_id.in_(book), RevenueRecord.month >= month_from,
               RevenueRecord.month <= end)).one()
    net_commission = Decimal(net_commission) if revenue_rows else None
    (start_date, start_total), (end_date, end_total) = _book_totals(manager_id, start, end)
    growth = end_total - start_total if start_total is not None and end_total is not None else None
    book_size, new_clients, valid = db.session.execute(
        select(func.count(Client.id),
               func.count(Client.id).filter(Client.opened_on.between(start, end)),
               func.count(Client.id).filter(Client.profile_valid_until >= end))
        .where(Client.manager_id == manager_id)).one()
    share = (Decimal(valid) / Decimal(book_size)).quantize(Decimal("0.0001")) if book_size else None
    target = target_for(manager_id, start, end)
    figure = rules.kpi_from_data(
        net_commission=net_commission, net_commission_target=target.net_commission if target else None,
        asset_growth=growth, asset_growth_target=target.asset_growth if target else None,
        new_clients=new_clients, new_clients_target=target.new_clients if target else None,
        valid_profile_share=Decimal(valid) / Decimal(book_size) if book_size else None)
    components = {}
    if figure is not None:
        components = {c.code: {"ratio": str(c.ratio), "capped": c.capped} for c in figure.components}
    return {
        "figure": None if figure is None else str(figure.figure),
        "target": None if target is None else {"net_commission": _money(target.net_commission),
                                               "asset_growth": _money(target.asset_growth),
                                               "new_clients": target.new_clients},
        "net_commission": {"achieved": _money(net_commission), "months_from": month_from.isoformat(),
                           "records": revenue_rows, **components.get("net_commission", {})},
        "asset_growth": {"achieved": _money(growth), "start_date": start_date and start_date.isoformat(),
                         "start_total": _money(start_total), "end_date": end_date and end_date.isoformat(),
                         "end_total": _money(end_total), **components.get("asset_growth", {})},
        "new_clients": {"achieved": new_clients, **components.get("new_clients", {})},
        "valid_profiles": {"valid": valid, "book": book_size, "share": None if share is None else str(share),
                           **components.get("valid_profiles", {})},
        "skipped": list(figure.skipped) if figure is not None else list(rules.KPI_COMPONENTS),
    }


def derived_figures(manager_id: int, cycle: EvaluationCycle) -> dict:
    """Every figure the data gives for the manager in the cycle, JSON-ready (stored with the scores)."""
    return {"satisfaction": satisfaction_figures(manager_id, cycle), "kpi": kpi_figures(manager_id, cycle),
            "computed_at": utcnow().isoformat(timespec="seconds")}


# --- scoring ----------------------------------------------------------------------------------------

def evaluation_snapshot(evaluation: Evaluation) -> dict:
    return {"satisfaction": evaluation.satisfaction, "kpi": evaluation.kpi, "team": evaluation.team,
            "competence": evaluation.competence, "total": evaluation.total, "band": evaluation.band,
            "comment": evaluation.comment, "version": evaluation.version}


def check_scores(raw: Mapping[str, Any]) -> dict[str, int]:
    """The four scores as whole numbers 0–100; OperationError names the first bad dimension."""
    names = DIMENSION
    scores: dict[str, int] = {}
    for dimension in rules.DIMENSIONS:
        value = raw.get(dimension)
        if value is None or value == "":
            raise OperationError(_("%(dimension)s: enter a score.", dimension=names[dimension]), dimension,
                                 "missing_score")
        if isinstance(value, bool) or not isinstance(value, int):
            raise OperationError(_("%(dimension)s: the score must be a whole number from 0 to 100.",
                                   dimension=names[dimension]), dimension, "invalid_score")
        if not 0 <= value <= 100:
            raise OperationError(_("%(dimension)s: the score must be from 0 to 100.", dimension=names[dimension]),
                                 dimension, "invalid_score")
        scores[dimension] = value
    rules.validate_scores(scores)
    return scores


def _lock_open_cycle(evaluation: Evaluation) -> None:
    """Refuse unless the cycle is open; the shared row lock makes a concurrent close wait for this save."""
    state = db.session.scalar(select(EvaluationCycle.state).where(EvaluationCycle.id == evaluation.cycle_id)
                              .with_for_update(read=True))
    if state != "open":
        raise OperationError(_("The cycle is closed: its evaluations are locked.") if state == "closed" else
                             _("The cycle is not open yet: evaluations cannot be changed."), None,
                             "cycle_closed" if state == "closed" else "cycle_not_open")


def _flush_or_conflict(evaluation: Evaluation) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(Evaluation, evaluation.id, populate_existing=True)
        raise ConflictError(fresh) from None


def score_evaluation(evaluation: Evaluation, raw_scores: Mapping[str, Any], comment: Any, by_user, *,
                     expected_version: int | None = None) -> Evaluation:
    """Store the four scores, the computed total and band, and the derived figures beside them.

    `expected_version` is the version the form was loaded with: a different saved version means someone
    else saved in between, and ConflictError tells who (nothing is written). Without it the save goes on
    top of whatever is saved, but a save racing it still fails with ConflictError, never silently.
    """
    _lock_open_cycle(evaluation)
    scores = check_scores(raw_scores)
    comment = clean_text(comment, COMMENT_MAX, "comment", _("The comment"))
    if expected_version is not None and expected_version != evaluation.version:
        raise ConflictError(evaluation)
    cycle = db.session.get(EvaluationCycle, evaluation.cycle_id)
    weight_set = cycle_weight_set(cycle)
    total = rules.weighted_total(scores, weights_of(weight_set, evaluation.level))
    band = rules.band_for(total, bands_of(weight_set))
    derived = derived_figures(evaluation.manager_id, cycle)  # before any change: its queries would autoflush
    before = evaluation_snapshot(evaluation)
    now = utcnow()
    for dimension, value in scores.items():
        setattr(evaluation, dimension, value)
    evaluation.total, evaluation.band, evaluation.comment = total, band, comment
    evaluation.derived = derived
    evaluation.scored_by_id = evaluation.updated_by_id = by_user.id if by_user is not None else None
    evaluation.scored_at = evaluation.updated_at = now
    _flush_or_conflict(evaluation)
    manager_no = db.session.scalar(select(Manager.employee_no).where(Manager.id == evaluation.manager_id))
    record("evaluation.score", "evaluation", evaluation.id, before=before,
           after={**evaluation_snapshot(evaluation), "cycle": cycle.id, "employee_no": manager_no,
                  "weight_set": weight_set.version}, actor=by_user)
    return evaluation


def record_conflict(evaluation: Evaluation, typed: Mapping[str, Any], expected_version: int | None, by_user) -> None:
    """Keep a refused save's values in the audit log, so nothing typed is lost even if never saved again."""
    record("evaluation.score_conflict", "evaluation", evaluation.id, before=evaluation_snapshot(evaluation),
           after={"typed": dict(typed), "expected_version": expected_version}, outcome="failed", actor=by_user)


def save_self_assessment(evaluation: Evaluation, text: Any, by_user) -> Evaluation:
    """The manager's own comment on their evaluation, while the cycle is open."""
    _lock_open_cycle(evaluation)
    text = clean_text(text, COMMENT_MAX, "self_comment", _("The self-assessment"))
    before = evaluation.self_comment
    evaluation.self_comment = text
    evaluation.updated_by_id = by_user.id if by_user is not None else None
    evaluation.updated_at = utcnow()
    _flush_or_conflict(evaluation)
    record("evaluation.self_assessment", "evaluation", evaluation.id, before={"self_comment": before},
           after={"self_comment": text, "version": evaluation.version}, actor=by_user)
    return evaluation


# --- clients' service ratings ----------------------------------------------------------------------------

def rating_cycle_for(client: Client) -> EvaluationCycle | None:
    """The open cycle evaluating the client's manager that the client has not rated in yet (earliest end first)."""
    if client.manager_id is None:
        return None
    rated = select(ServiceRating.id).where(ServiceRating.client_id == client.id,
                                           ServiceRating.cycle_id == EvaluationCycle.id)
    return db.session.scalar(
        select(EvaluationCycle).join(Evaluation, Evaluation.cycle_id == EvaluationCycle.id)
        .where(EvaluationCycle.state == "open", Evaluation.manager_id == client.manager_id, ~exists(rated))
        .order_by(EvaluationCycle.end_date, EvaluationCycle.id).limit(1))


def rate_manager(client: Client, cycle_id: Any, stars: Any, comment: Any, by_user) -> ServiceRating:
    """A client's 1–5 star rating of their current manager in an open cycle: at most one per cycle."""
    if isinstance(stars, str) and stars.strip().isdigit():
        stars = int(stars.strip())
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise OperationError(_("Choose from 1 to 5 stars."), "stars", "invalid_stars")
    comment = clean_text(comment, RATING_COMMENT_MAX, "comment", _("The comment"))
    if client.manager_id is None:
        raise OperationError(_("No manager is assigned to you, so there is no one to rate."), None, "no_manager")
    known = isinstance(cycle_id, int) and not isinstance(cycle_id, bool) and 0 < cycle_id < 2**31
    cycle = db.session.get(EvaluationCycle, cycle_id) if known else None
    covered = cycle is not None and cycle.state == "open" and db.session.scalar(
        select(Evaluation.id).where(Evaluation.cycle_id == cycle.id, Evaluation.manager_id == client.manager_id))
    if not covered:
        raise OperationError(_("Ratings for this evaluation period are not open (any more)."), None,
                             "no_open_cycle")
    if db.session.scalar(select(ServiceRating.id).where(ServiceRating.client_id == client.id,
                                                        ServiceRating.cycle_id == cycle.id)) is not None:
        raise OperationError(_("You have already rated your manager's service in this evaluation period; "
                               "each period takes one rating."), None, "already_rated")
    rating = ServiceRating(client_id=client.id, manager_id=client.manager_id, cycle_id=cycle.id, stars=stars,
                           comment=comment)
    try:
        with db.session.begin_nested():
            db.session.add(rating)
            db.session.flush()
    except IntegrityError:  # a second submission racing the first
        raise OperationError(_("You have already rated your manager's service in this evaluation period; "
                               "each period takes one rating."), None, "already_rated") from None
    record("rating.create", "client", client.client_no,
           after={"rating": rating.id, "cycle": cycle.id, "manager_id": client.manager_id, "stars": stars,
                  "comment": comment}, actor=by_user)
    return rating


def ratings_query(client: Client):
    """The client's ratings, newest first, with the manager rated and the cycle."""
    return (select(ServiceRating.stars, ServiceRating.comment, ServiceRating.rated_at,
                   Manager.name.label("manager_name"), EvaluationCycle.name.label("cycle_name"))
            .join(Manager, Manager.id == ServiceRating.manager_id)
            .join(EvaluationCycle, EvaluationCycle.id == ServiceRating.cycle_id)
            .where(ServiceRating.client_id == client.id)
            .order_by(ServiceRating.rated_at.desc(), ServiceRating.id.desc()))


@dataclass
class RatingCard:
    """What the client's home page shows: the cycle to rate in (if any) and the latest ratings."""

    cycle: EvaluationCycle | None
    recent: list


def rating_card(client: Client, recent: int = 5) -> RatingCard:
    return RatingCard(rating_cycle_for(client), db.session.execute(ratings_query(client).limit(recent)).all())
