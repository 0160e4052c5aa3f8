"""The promotion engine wired to data, compliance flags, nominations (maker/checker) and level changes.

`run_engine` is what closing a cycle calls: one windowed query brings every manager's latest closed
evaluations, the pure `portal.rules.promotion.recommend` decides per manager, and the answers go in
as one bulk insert (COPY on PostgreSQL).
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.exc import IntegrityError

from models import (
    ComplianceFlag,
    Evaluation,
    EvaluationCycle,
    LevelChange,
    Manager,
    PromotionNomination,
    PromotionRecommendation,
    PromotionRuleSet,
    PromotionRun,
    Team,
    User,
    db,
    utcnow,
)
from portal import bulk
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import promotion as engine
from portal.rules.calendar import BUSINESS_TZ, business_today

NOTE_MAX = 1000
REASON_MAX = 1000


# --- the rules in force ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RulesInForce:
    """The newest promotion rule version, parsed."""

    rule_set: PromotionRuleSet
    rules: tuple[engine.PromotionRule, ...]
    demotion: engine.DemotionRule

    @property
    def considered(self) -> int:
        """How many of the latest evaluations any rule reads: the window the engine loads."""
        return max([rule.evaluations for rule in self.rules] + [self.demotion.evaluations])

    def rule_from(self, level: str) -> engine.PromotionRule | None:
        """The promotion rule out of `level`, if any."""
        return next((rule for rule in self.rules if rule.from_level == level), None)


def rules_in_force() -> RulesInForce:
    """The newest `promotion_rule_sets` row and its rules (the migration loads version 1)."""
    rule_set = db.session.scalar(select(PromotionRuleSet).order_by(PromotionRuleSet.version.desc()).limit(1))
    if rule_set is None:
        raise OperationError(_("No promotion rules are defined."), None, "no_rules")
    rules, demotion = engine.rules_from_dict(rule_set.rules)
    return RulesInForce(rule_set, rules, demotion)


# --- the engine over data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagerFacts:
    """What the engine reads about one manager."""

    manager_id: int
    level: str
    level_since: date
    evaluations: tuple[engine.EvaluationResult, ...]
    open_flags: int


def _scope(cycle: EvaluationCycle | None, manager_ids: Sequence[int] | None) -> Select | list[int]:
    """The managers a run covers, as a subquery (a cycle's, or every active one) or a list of ids."""
    if manager_ids is not None:
        return list(manager_ids)
    if cycle is not None:
        return select(Evaluation.manager_id).where(Evaluation.cycle_id == cycle.id)
    return select(Manager.id).where(Manager.status == "active")


def load_facts(*, cycle: EvaluationCycle | None = None, manager_ids: Sequence[int] | None = None,
               considered: int) -> list[ManagerFacts]:
    """Level, level date, open flags and the latest `considered` closed in-level evaluations of each manager.

    Three set-based queries whatever the number of managers; the evaluations come from one windowed query
    (ROW_NUMBER() OVER (PARTITION BY manager_id ORDER BY the cycle's end date DESC)). The cycle being
    closed counts as closed even if its state is not yet written.
    """
    scope = _scope(cycle, manager_ids)
    e, c, m = Evaluation.__table__, EvaluationCycle.__table__, Manager.__table__
    closed = c.c.state == "closed"
    if cycle is not None and cycle.id is not None:
        closed = or_(closed, c.c.id == cycle.id)
    position = func.row_number().over(partition_by=e.c.manager_id,
                                      order_by=(c.c.end_date.desc(), c.c.id.desc())).label("position")
    ranked = (
        select(e.c.manager_id, c.c.end_date, e.c.total, e.c.satisfaction, e.c.kpi, e.c.team, e.c.competence,
               position)
        .select_from(e.join(c, c.c.id == e.c.cycle_id).join(m, m.c.id == e.c.manager_id))
        # Only evaluations earned in the current level count (the rules' reading): filtered here, once.
        # A total without its four scores is not a scored evaluation.
        .where(closed, e.c.total.is_not(None), e.c.satisfaction.is_not(None), e.c.kpi.is_not(None),
               e.c.team.is_not(None), e.c.competence.is_not(None), e.c.manager_id.in_(scope),
               c.c.end_date > m.c.level_since)
        .subquery()
    )
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and (manager_ids is None or len(manager_ids) > 100):
        # A run over thousands of managers sorts tens of thousands of rows: in memory, not on disk.
        connection.execute(text("SET LOCAL work_mem = '64MB'"))
    history: dict[int, list[engine.EvaluationResult]] = defaultdict(list)
    rows = _fetch_all(connection, select(
        ranked.c.manager_id, ranked.c.end_date, ranked.c.total, ranked.c.satisfaction, ranked.c.kpi,
        ranked.c.team, ranked.c.competence).where(ranked.c.position <= considered))
    for manager_id, *evaluation in rows:
        history[manager_id].append(_result(*evaluation))
    flags = dict(connection.execute(
        select(ComplianceFlag.manager_id, func.count())
        .where(ComplianceFlag.closed_at.is_(None), ComplianceFlag.manager_id.in_(scope))
        .group_by(ComplianceFlag.manager_id)).all())
    managers = connection.execute(
        select(m.c.id, m.c.level, m.c.level_since).where(m.c.id.in_(scope)).order_by(m.c.id)).all()
    return [ManagerFacts(manager_id, level, level_since, tuple(history.get(manager_id, ())),
                         flags.get(manager_id, 0))
            for manager_id, level, level_since in managers]


def _result(end_date: date, total: Decimal, satisfaction: int, kpi: int, team: int,
            competence: int) -> engine.EvaluationResult:
    """One closed evaluation as the pure engine reads it."""
    return engine.EvaluationResult(end_date, total, {"satisfaction": satisfaction, "kpi": kpi, "team": team,
                                                     "competence": competence})


def _fetch_all(connection, stmt: Select) -> list[tuple]:
    """All rows of a read-only select. On PostgreSQL straight from the driver's cursor (psycopg already gives
    Decimal and date): SQLAlchemy's row processing costs more than the query for tens of thousands of rows."""
    if connection.dialect.name != "postgresql":
        return [tuple(row) for row in connection.execute(stmt).all()]
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()


def evaluate(facts: ManagerFacts, rules: RulesInForce, today: date) -> engine.Recommendation:
    """The pure engine for one manager (a level dated after today reads as 0 months in level)."""
    return engine.recommend(facts.level, facts.level_since, max(today, facts.level_since), facts.evaluations,
                            facts.open_flags, rules.rules, rules.demotion)


def detail_of(recommendation: engine.Recommendation) -> dict[str, Any]:
    """The stored JSON of a recommendation: Recommendation.to_dict without the English clause texts."""
    return {
        "recommendation": recommendation.recommendation,
        "target_level": recommendation.target_level,
        # Clause codes, figures and requirements: pages and exports word them in the reader's language.
        "clauses": [{"rule": c.rule, "passed": c.passed, "observed": c.observed, "required": c.required}
                    for c in recommendation.clauses],
        "eligible_in_months": recommendation.eligible_in_months,
        "eligible_on": recommendation.eligible_on.isoformat() if recommendation.eligible_on else None,
    }


RECOMMENDATION_COLUMNS = ("run_id", "manager_id", "level", "recommendation", "target_level", "detail")


def _bulk_insert_recommendations(rows: list[tuple]) -> None:
    """COPY on PostgreSQL; one executemany elsewhere. Rows follow RECOMMENDATION_COLUMNS."""
    if not rows:
        return
    if db.engine.dialect.name == "postgresql":
        # The columns' types are known: each line is one f-string (ids, codes, JSON text).
        bulk.copy_lines("promotion_recommendations", RECOMMENDATION_COLUMNS, (
            f"{run_id}\t{manager_id}\t{level}\t{answer}\t{bulk.NULL if target is None else target}\t"
            f"{bulk.copy_value(json.dumps(detail))}\n"
            for run_id, manager_id, level, answer, target, detail in rows))
        return
    bulk.write_rows("promotion_recommendations", RECOMMENDATION_COLUMNS, rows)


SQL_ENGINE_FROM = 50  # managers in a run from which PostgreSQL runs the compiled engine (promotion_sql)


def run_engine(*, cycle: EvaluationCycle | None = None, manager_ids: Sequence[int] | None = None, by=None,
               today: date | None = None, compiled: bool | None = None) -> int:
    """Recommend promote / demote / hold for the managers of `cycle` (or `manager_ids`, or every active one).

    Stores one PromotionRun (the cycle, the newest rule version, the business day, who ran it; a cycle's
    `rule_set_id` is set to that version) and one PromotionRecommendation per manager, writes one audit row,
    flushes, and returns the number stored. Called by closing a cycle, by the re-run button and by
    `flask run-promotions`.

    On PostgreSQL a run over a cycle, over everyone, or over SQL_ENGINE_FROM managers or more is one
    INSERT … SELECT of the same rules compiled to SQL (`portal.operations.promotion_sql`); elsewhere, and for
    a handful of managers, the pure engine runs per manager and stores its worded clauses; the compiled run
    stores the facts they are worded from (`recommendation_detail`). `compiled` forces either (the tests
    compare them).
    """
    today = today or business_today()
    rules = rules_in_force()
    cycle_id = cycle.id if cycle is not None else None
    run = PromotionRun(cycle_id=cycle_id, rule_set_id=rules.rule_set.id, as_of=today, computed_at=utcnow(),
                       run_by_id=by.id if by is not None else None)
    db.session.add(run)
    db.session.flush()
    if compiled is None:
        compiled = db.engine.dialect.name == "postgresql" and (
            manager_ids is None or len(manager_ids) >= SQL_ENGINE_FROM)
    if compiled:
        from portal.operations import promotion_sql

        counts = promotion_sql.insert_recommendations(
            rules=rules.rules, demotion=rules.demotion, today=today, run_id=run.id,
            considered=rules.considered, scope_cycle_id=cycle_id, manager_ids=manager_ids,
            scope_is_nearly_all=manager_ids is None and (cycle is None or cycle.team_id is None))
        tally = {answer: counts.get(answer, 0) for answer in (engine.PROMOTE, engine.DEMOTE, engine.HOLD)}
    else:
        facts = load_facts(cycle=cycle, manager_ids=manager_ids, considered=rules.considered)
        rows: list[tuple] = []
        tally = {engine.PROMOTE: 0, engine.DEMOTE: 0, engine.HOLD: 0}
        for fact in facts:
            answer = evaluate(fact, rules, today)
            tally[answer.recommendation] += 1
            rows.append((run.id, fact.manager_id, fact.level, answer.recommendation, answer.target_level,
                         detail_of(answer)))
        _bulk_insert_recommendations(rows)
    stored = sum(tally.values())
    if cycle is not None:
        cycle.rule_set_id = rules.rule_set.id
    object_type, object_id = ("cycle", cycle_id) if cycle is not None else ("promotion_engine", None)
    if cycle is None and manager_ids is not None and len(manager_ids) == 1:
        employee_no = db.session.scalar(select(Manager.employee_no).where(Manager.id == manager_ids[0]))
        object_type, object_id = "manager", employee_no
    record("promotion.engine_run", object_type, object_id, actor=by,
           after={"run": run.id, "rule_set_version": rules.rule_set.version, "managers": stored, **tally,
                  "as_of": today})
    db.session.flush()
    return stored


# --- reading one manager ---------------------------------------------------------------------------------


def recommendation_now(manager: Manager, today: date | None = None) -> tuple[engine.Recommendation, RulesInForce]:
    """The engine's answer for one manager as of today, computed and not stored (the API and the page)."""
    today = today or business_today()
    rules = rules_in_force()
    facts = load_facts(manager_ids=[manager.id], considered=rules.considered)
    if not facts:
        raise OperationError(_("No staff record found."), None, "not_found")
    return evaluate(facts[0], rules, today), rules


def latest_recommendation(manager_id: int) -> PromotionRecommendation | None:
    """The newest stored recommendation of a manager (the basis a nomination is made on)."""
    return db.session.scalar(
        select(PromotionRecommendation).where(PromotionRecommendation.manager_id == manager_id)
        .order_by(PromotionRecommendation.id.desc()).limit(1))


def _considered_ids(stored: PromotionRecommendation) -> list[int]:
    """The ids of the evaluations a compiled answer considered, latest first (the stored nulls dropped)."""
    return [int(i) for i in stored.evaluation_ids or [] if i is not None]


def stored_facts(stored: PromotionRecommendation) -> ManagerFacts:
    """The facts a recommendation decided in SQL was given, read back: the evaluations by their stored ids."""
    ids = _considered_ids(stored)
    rows = {row[0]: row[1:] for row in db.session.execute(
        select(Evaluation.id, EvaluationCycle.end_date, Evaluation.total, Evaluation.satisfaction, Evaluation.kpi,
               Evaluation.team, Evaluation.competence)
        .join(EvaluationCycle, EvaluationCycle.id == Evaluation.cycle_id).where(Evaluation.id.in_(ids)))} \
        if ids else {}
    evaluations = tuple(_result(*rows[i]) for i in ids if i in rows)
    return ManagerFacts(stored.manager_id, stored.level, stored.level_since, evaluations, stored.open_flags or 0)


def recommendation_detail(stored: PromotionRecommendation) -> dict[str, Any]:
    """The stored recommendation's clauses, figures and "eligible in N months", as `detail_of` words them.

    Runs decided in Python store them; runs decided in SQL store the facts, and the pure engine words them
    here from those facts, the run's rule version and its business day. The closed evaluations it reads are
    locked and rule versions are never edited, so the words are the run's. They must agree with the stored
    answer; a disagreement would be a defect of the compiled engine, and is logged as one.
    """
    if stored.detail is not None:
        return stored.detail
    run = stored.run
    rule_set = db.session.get(PromotionRuleSet, run.rule_set_id)
    rules, demotion = engine.rules_from_dict(rule_set.rules)
    facts = stored_facts(stored)
    answer = evaluate(facts, RulesInForce(rule_set, rules, demotion), run.as_of)
    if (answer.recommendation, answer.target_level) != (stored.recommendation, stored.target_level) \
            or len(facts.evaluations) != len(_considered_ids(stored)):
        current_app.logger.error("promotion recommendation %s: stored %s/%s, its facts give %s/%s",
                                 stored.id, stored.recommendation, stored.target_level, answer.recommendation,
                                 answer.target_level)
    return detail_of(answer)


def pending_nomination(manager_id: int) -> PromotionNomination | None:
    """The manager's pending nomination, if any (there is at most one)."""
    return db.session.scalar(select(PromotionNomination).where(PromotionNomination.manager_id == manager_id,
                                                               PromotionNomination.state == "pending"))


def is_supervisor_of(user: User, manager: Manager) -> bool:
    """True when `user` heads the manager's team (and is not that manager)."""
    if user is None or user.manager_id is None or manager.team_id is None or user.manager_id == manager.id:
        return False
    return db.session.scalar(select(Team.supervisor_id).where(Team.id == manager.team_id)) == user.manager_id


# --- compliance flags ----------------------------------------------------------------------------------

FLAG_KINDS = ("conduct_breach", "client_complaint", "regulatory_inquiry", "other")


def open_flag(manager: Manager, *, kind: str, note: str | None, by: User) -> ComplianceFlag:
    """Open a compliance flag on a staff record (admin or compliance); an open flag can block a promotion."""
    if by is None or by.role not in ("admin", "compliance"):
        raise OperationError(_("Only compliance or an administrator may open a compliance flag."), None, "forbidden")
    if kind not in FLAG_KINDS:
        raise OperationError(_("Choose the kind of flag."), "kind", "unknown_kind")
    note = (note or "").strip() or None
    if note is None:
        raise OperationError(_("Describe what the flag is about."), "note", "required")
    if len(note) > NOTE_MAX:
        raise OperationError(_("The note may have at most %(n)d characters.", n=NOTE_MAX), "note", "too_long")
    flag = ComplianceFlag(manager_id=manager.id, kind=kind, note=note, opened_by_id=by.id)
    db.session.add(flag)
    db.session.flush()
    record("compliance_flag.open", "manager", manager.employee_no, actor=by,
           after={"flag": flag.id, "kind": kind, "note": note})
    return flag


def close_flag(manager: Manager, flag_id: int, *, note: str | None, by: User) -> ComplianceFlag:
    """Close an open compliance flag of this staff record (admin or compliance)."""
    if by is None or by.role not in ("admin", "compliance"):
        raise OperationError(_("Only compliance or an administrator may close a compliance flag."), None, "forbidden")
    flag = db.session.get(ComplianceFlag, flag_id) if isinstance(flag_id, int) else None
    if flag is None or flag.manager_id != manager.id:
        raise OperationError(_("This staff record has no such flag."), None, "not_found")
    if flag.closed_at is not None:
        raise OperationError(_("This flag is already closed."), None, "already_closed")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise OperationError(_("The note may have at most %(n)d characters.", n=NOTE_MAX), "note", "too_long")
    flag.closed_at, flag.closed_by_id = utcnow(), by.id
    db.session.flush()
    record("compliance_flag.close", "manager", manager.employee_no, actor=by,
           before={"flag": flag.id, "kind": flag.kind, "open": True},
           after={"flag": flag.id, "open": False, "note": note})
    return flag


def flags_of(manager_id: int) -> list[ComplianceFlag]:
    """A staff record's compliance flags, open ones first, newest first."""
    return list(db.session.scalars(
        select(ComplianceFlag).where(ComplianceFlag.manager_id == manager_id)
        .order_by(ComplianceFlag.closed_at.is_not(None), ComplianceFlag.opened_at.desc()).limit(100)))


# --- nominations (maker) and decisions (checker) ----------------------------------------------------------


def _reason(reason: str | None, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OperationError(_("Give the reason."), field, "required")
    if len(reason) > REASON_MAX:
        raise OperationError(_("The reason may have at most %(n)d characters.", n=REASON_MAX), field, "too_long")
    return reason


def nominate(manager: Manager, *, recommendation_id: int | None, reason: str | None, by: User) -> PromotionNomination:
    """The maker: the manager's own supervisor (or an administrator) nominates from the latest recommendation.

    Refused for anyone else, for a recommendation that is not the latest or no longer matches the manager's
    level, for a hold, and while another nomination of the manager is pending.
    """
    if by is None or by.role not in ("supervisor", "admin"):
        raise OperationError(_("Only the manager's supervisor or an administrator may nominate."), None, "forbidden")
    if by.manager_id is not None and by.manager_id == manager.id:
        raise OperationError(_("Nobody may nominate themself."), None, "own_record")
    if by.role == "supervisor" and not is_supervisor_of(by, manager):
        raise OperationError(_("Only the supervisor of %(name)s's team may nominate them.", name=manager.name),
                             None, "forbidden")
    if manager.status != "active":
        raise OperationError(_("Only active staff can be nominated."), None, "inactive")
    reason = _reason(reason)
    latest = latest_recommendation(manager.id)
    if latest is None or latest.id != recommendation_id:
        raise OperationError(_("A newer recommendation exists for %(name)s; review it and nominate again.",
                               name=manager.name), None, "stale")
    if latest.recommendation not in ("promote", "demote"):
        raise OperationError(_("The engine recommends holding %(name)s at the current level; there is nothing to "
                               "nominate.", name=manager.name), None, "hold")
    if latest.level != manager.level:
        raise OperationError(_("The recommendation was made for another level; run the engine again."), None, "stale")
    if pending_nomination(manager.id) is not None:
        raise OperationError(_("%(name)s already has a pending nomination.", name=manager.name), None, "pending")
    nomination = PromotionNomination(
        manager_id=manager.id, kind=latest.recommendation, from_level=manager.level, to_level=latest.target_level,
        recommendation_id=latest.id, rule_set_id=latest.rule_set_id, cycle_id=latest.cycle_id, reason=reason,
        nominated_by_id=by.id, state="pending")
    try:
        with db.session.begin_nested():  # the partial unique index settles a race between two makers
            db.session.add(nomination)
            db.session.flush()
    except IntegrityError:
        raise OperationError(_("%(name)s already has a pending nomination.", name=manager.name), None,
                             "pending") from None
    record("promotion.nominate", "manager", manager.employee_no, actor=by,
           after={"nomination": nomination.id, "kind": nomination.kind, "from": nomination.from_level,
                  "to": nomination.to_level, "recommendation": latest.id, "rule_set": latest.rule_set_id,
                  "cycle": latest.cycle_id, "reason": reason})
    return nomination


def _locked(nomination_id: int) -> tuple[PromotionNomination, Manager]:
    """The nomination and its manager, re-read and locked (FOR UPDATE on PostgreSQL) for the decision."""
    nomination = db.session.execute(
        select(PromotionNomination).where(PromotionNomination.id == nomination_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
    manager = db.session.execute(
        select(Manager).where(Manager.id == nomination.manager_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
    return nomination, manager


def _check_checker(nomination: PromotionNomination, by: User) -> None:
    if by is None or by.role != "admin":
        raise OperationError(_("Only an administrator may decide a nomination."), None, "forbidden")
    if nomination.state != "pending":
        raise OperationError(_("This nomination has already been decided."), None, "already_decided")
    if nomination.nominated_by_id == by.id:
        raise OperationError(_("You made this nomination; another administrator must decide it."), None,
                             "own_nomination")
    if by.manager_id is not None and by.manager_id == nomination.manager_id:
        raise OperationError(_("Nobody may decide their own nomination."), None, "own_record")


def approve(nomination: PromotionNomination, *, effective_date: date | None, reason: str | None, by: User,
            today: date | None = None) -> LevelChange:
    """The checker approves: the level, its date and the level history change in this one transaction.

    Refused for a non-administrator, the nominator themself, a decided nomination, a manager whose level
    is no longer the nomination's starting level (stale), and an effective date before the nomination or
    after today (the level is written now).
    """
    today = today or business_today()
    nomination, manager = _locked(nomination.id)
    _check_checker(nomination, by)
    reason = _reason(reason)
    if manager.level != nomination.from_level:
        raise OperationError(_("%(name)s's level has changed since the nomination; it is stale and can only be "
                               "rejected.", name=manager.name), None, "stale")
    if effective_date is None:
        raise OperationError(_("Enter the effective date."), "effective_date", "required")
    nominated_on = nomination.nominated_at.astimezone(BUSINESS_TZ).date()
    if effective_date < nominated_on:
        raise OperationError(_("The effective date cannot be before the nomination (%(day)s).",
                               day=nominated_on.isoformat()), "effective_date", "before_nomination")
    if effective_date > today:
        raise OperationError(_("The level changes when it is approved: the effective date cannot be after today."),
                             "effective_date", "future_date")
    before = {"level": manager.level, "level_since": manager.level_since}
    manager.level, manager.level_since = nomination.to_level, effective_date
    change = LevelChange(
        manager_id=manager.id, kind="promotion" if nomination.kind == "promote" else "demotion",
        from_level=nomination.from_level, to_level=nomination.to_level, effective_date=effective_date,
        reason=nomination.reason, proposed_by_id=nomination.nominated_by_id, approved_by_id=by.id,
        nomination_id=nomination.id, cycle_id=nomination.cycle_id, rule_set_id=nomination.rule_set_id)
    db.session.add(change)
    nomination.state, nomination.decided_by_id, nomination.decided_at = "approved", by.id, utcnow()
    nomination.decision_reason, nomination.effective_date = reason, effective_date
    db.session.flush()
    record("promotion.approve", "manager", manager.employee_no, actor=by, before=before,
           after={"level": manager.level, "level_since": effective_date, "nomination": nomination.id,
                  "level_change": change.id, "rule_set": nomination.rule_set_id, "reason": reason})
    return change


def reject(nomination: PromotionNomination, *, reason: str | None, by: User) -> PromotionNomination:
    """The checker rejects with a reason; the manager's level stays."""
    nomination, manager = _locked(nomination.id)
    _check_checker(nomination, by)
    reason = _reason(reason)
    nomination.state, nomination.decided_by_id, nomination.decided_at = "rejected", by.id, utcnow()
    nomination.decision_reason = reason
    db.session.flush()
    record("promotion.reject", "manager", manager.employee_no, actor=by,
           after={"nomination": nomination.id, "kind": nomination.kind, "reason": reason})
    return nomination
