"""Evaluation cycles over the API (so an HR system can feed and read them): create, open, score, close, results.

Admin and the manager's own supervisor write; the manager reads their own evaluation (scores once the cycle
is closed); compliance reads everything.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ConfigDict, Field
from sqlalchemy import func, select

from models import Evaluation as EvaluationRecord
from models import EvaluationCycle, EvaluationWeightSet, Manager, Team, User, db
from portal.access import allow, api_error, deny, supervised_team_ids
from portal.api import ApiInputError, Paged, bp, envelope
from portal.api.spec import (
    Answer,
    Body,
    Day,
    Response,
    Timestamp,
    described,
    operation,
    page_of,
    read_body,
    read_query,
    respond,
    shape,
)
from portal.evaluations.scope import (
    can_manage_cycle,
    can_score,
    cycle_or_404,
    evaluation_or_404,
    scope_cycles,
    scope_evaluations,
    sees_scores,
)
from portal.operations import evaluations as operations
from portal.reads import read_only
from portal.rules.evaluation import DEFAULT_BANDS, DIMENSIONS
from portal.unit_of_work import unit_of_work

READERS = ("rm", "supervisor", "compliance", "admin")
WRITERS = ("supervisor", "admin")
STATE_CODES = ("not_draft", "not_open", "cycle_closed", "cycle_not_open", "overlapping_cycle", "empty_scope",
               "no_weights")
STATES = ("draft", "open", "closed")
SCORE = {"type": "integer", "minimum": 0, "maximum": 100}


class TeamScope(Body):
    model_config = ConfigDict(extra="forbid")
    team: str


class Cycle(Answer):
    id: int
    name: str
    start: Day
    end: Day
    scope: Literal["all"] | TeamScope
    state: Literal[STATES]
    weight_set_version: int | None = None
    opened_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    evaluations: int = None
    scored: int = None
    recommendations: int = Field(None, description="on close: how many the promotion engine stored")


class NewCycle(Body):
    """The name and dates are checked by the cycle rules the page uses (portal/operations/evaluations.py)."""

    model_config = ConfigDict(json_schema_extra={"required": ["name", "start", "end", "scope"]})
    name: Annotated[Any, described({"type": "string", "maxLength": 100})] = None
    start: Annotated[Any, described({"type": "string", "format": "date"})] = None
    end: Annotated[Any, described({"type": "string", "format": "date"})] = None
    scope: Literal["all"] | TeamScope = None
    refusals = {"scope": (lambda: _('scope must be "all" or {"team": CODE}.'), "invalid_scope")}


class CyclesQuery(Paged):
    state: Literal[STATES] | None = None
    refusals = {**Paged.refusals, "state": (lambda: _("state must be draft, open or closed."), "invalid")}


class Scores(Answer):
    satisfaction: int | None = Field(ge=0, le=100)
    kpi: int | None = Field(ge=0, le=100)
    team: int | None = Field(ge=0, le=100)
    competence: int | None = Field(ge=0, le=100)


class Recommendation(Answer):
    recommendation: Literal["promote", "demote", "hold"]
    target_level: str | None
    computed_at: Timestamp


class Evaluation(Answer):
    cycle_id: int
    employee_no: str
    name: str
    level: str = Field(description="frozen when the cycle opened")
    team: str | None
    scores_visible: bool = Field(description="false for the person evaluated until the cycle is closed")
    scores: Scores | None
    total: int | float | None = Field(description="weighted by the level's weights")
    band: Annotated[str | None, described({"type": "string", "nullable": True,
                                           "enum": [code for _total, code in DEFAULT_BANDS] + [None]})]
    comment: str | None
    scored: bool
    self_comment: str | None
    version: int = Field(description="for optimistic locking")
    scored_by: str | None
    scored_at: Timestamp | None
    updated_by: str | None
    updated_at: Timestamp | None
    derived: dict | None = Field(None, description="figures from the data (satisfaction, KPI with components) as "
                                                   "last scored")
    recommendation: Recommendation | None = None


class Scoring(Body):
    """The scores and comment are checked by the scoring rules the page uses; `version` is read here."""

    model_config = ConfigDict(json_schema_extra={"required": list(DIMENSIONS)})
    satisfaction: Annotated[Any, described(SCORE)] = None
    kpi: Annotated[Any, described(SCORE)] = None
    team: Annotated[Any, described(SCORE)] = None
    competence: Annotated[Any, described(SCORE)] = None
    comment: Annotated[Any, described({"type": "string", "maxLength": 2000})] = None
    version: int | None = Field(None, description="the version read; a different saved version answers 409 "
                                                  "conflict")
    refusals = {"version": (lambda: _("version must be the whole number read with the evaluation."),
                            "invalid_version")}


class CycleResults(Answer):
    cycle: Cycle
    items: list[Evaluation]
    page: int
    per_page: int
    total: int


def _number(value: Decimal | None):
    """A 0–100 total as a JSON number (2 decimals at most), or null."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def cycle_json(cycle: EvaluationCycle) -> dict:
    body = operations.cycle_snapshot(cycle)
    weight_set = db.session.get(EvaluationWeightSet, cycle.weight_set_id) if cycle.weight_set_id else None
    body.update(weight_set_version=weight_set.version if weight_set else None, opened_at=cycle.opened_at,
                closed_at=cycle.closed_at)
    return body


def evaluation_json(evaluation: EvaluationRecord, cycle: EvaluationCycle, *, manager: Manager | None = None,
                    team_code: str | None = None, derived: bool = False) -> dict:
    """One evaluation; the person evaluated sees scores only once the cycle is closed."""
    manager = manager or db.session.get(Manager, evaluation.manager_id)
    if team_code is None and evaluation.team_id is not None:
        team_code = db.session.scalar(select(Team.code).where(Team.id == evaluation.team_id))
    visible = sees_scores(current_user, evaluation, cycle)
    updated_by = db.session.get(User, evaluation.updated_by_id) if evaluation.updated_by_id else None
    scored_by = db.session.get(User, evaluation.scored_by_id) if evaluation.scored_by_id else None
    body = {
        "cycle_id": cycle.id,
        "employee_no": manager.employee_no,
        "name": manager.name,
        "level": evaluation.level,
        "team": team_code,
        "scores_visible": visible,
        "scores": {d: getattr(evaluation, d) for d in DIMENSIONS} if visible else None,
        "total": _number(evaluation.total) if visible else None,
        "band": evaluation.band if visible else None,
        "comment": evaluation.comment if visible else None,
        "scored": evaluation.total is not None,
        "self_comment": evaluation.self_comment,
        "version": evaluation.version,
        "scored_by": scored_by.username if scored_by and visible else None,
        "scored_at": evaluation.scored_at if visible else None,
        "updated_by": updated_by.username if updated_by else None,
        "updated_at": evaluation.updated_at,
    }
    if derived and visible:
        body["derived"] = evaluation.derived
    return body


@bp.get("/cycles")
@allow(*READERS)
@read_only
@operation("Evaluation cycles the caller may see, newest first", query=CyclesQuery, answer=page_of(Cycle),
           errors=(400, 401, 403))
def list_cycles():
    """Cycles the caller may see, newest first (`?state=` filters)."""
    query = read_query(CyclesQuery)
    stmt = scope_cycles(select(EvaluationCycle), current_user)
    if query.state is not None:
        stmt = stmt.where(EvaluationCycle.state == query.state)
    return envelope(stmt.order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc()), cycle_json, Cycle,
                    query)


@bp.post("/cycles")
@allow(*WRITERS)
@operation("Create a cycle in draft (admin: any scope; supervisor: one of their teams)", body=NewCycle,
           answer=Cycle, status=201, answered="Created", errors=(400, 401, 403))
def create_cycle():
    """`{"name", "start", "end", "scope": {"team": CODE} | "all"}` → 201, the cycle in draft."""
    body = read_body(NewCycle)
    team = None
    if isinstance(body.scope, TeamScope):
        code = body.scope.team.strip().upper()
        valid = 0 < len(code) <= 20 and not any(ch in operations.CONTROL_CHARACTERS for ch in code)
        team = db.session.scalar(select(Team).where(Team.code == code)) if valid else None
        if team is None:
            raise ApiInputError(_("No team has the code %(code)s.", code=body.scope.team), "scope", "unknown_team")
        if current_user.role != "admin" and team.id not in supervised_team_ids(current_user):
            deny("team", team.code, 403)
    elif body.scope == "all":
        if current_user.role != "admin":
            return api_error(403, "forbidden", _("Only an administrator creates a cycle over everyone."))
    else:
        raise ApiInputError(_('scope must be "all" or {"team": CODE}.'), "scope", "invalid_scope")
    with unit_of_work():
        start = operations.parse_day(body.start, "start")
        end = operations.parse_day(body.end, "end")
        cycle = operations.create_cycle(body.name, start, end, team, current_user)
        return respond(Cycle, cycle_json(cycle), 201)


@bp.get("/cycles/<int:cycle_id>")
@allow(*READERS)
@read_only
@operation("One cycle, with how many evaluations the caller sees and how many are scored", answer=Cycle,
           errors=(401, 403, 404))
def get_cycle(cycle_id: int):
    cycle = cycle_or_404(cycle_id, current_user)
    body = cycle_json(cycle)
    counts = db.session.execute(scope_evaluations(
        select(func.count(EvaluationRecord.id), func.count(EvaluationRecord.total))
        .where(EvaluationRecord.cycle_id == cycle.id), current_user)).one()
    body.update(evaluations=counts[0], scored=counts[1])
    return respond(Cycle, body)


def _managed(cycle_id: int) -> EvaluationCycle:
    cycle = cycle_or_404(cycle_id, current_user)
    if not can_manage_cycle(current_user, cycle):
        deny("evaluation_cycle", cycle_id, 403)
    return cycle


@bp.post("/cycles/<int:cycle_id>/open")
@allow(*WRITERS)
@operation("Open a draft: one evaluation per active manager in scope; the weights in force are frozen",
           answer=Cycle, errors=(401, 403, 404, 409))
def open_cycle(cycle_id: int):
    """draft → open: creates one evaluation per active manager in scope."""
    cycle = _managed(cycle_id)
    with unit_of_work(conflicts=True):
        created = operations.open_cycle(cycle, current_user)
        return respond(Cycle, {**cycle_json(cycle), "evaluations": created})


@bp.post("/cycles/<int:cycle_id>/close")
@allow(*WRITERS)
@operation("Close an open cycle (refused while any evaluation is unscored), then run the promotion rules",
           answer=Cycle, errors=(401, 403, 404), responses={409: Response(
               "Unscored evaluations (error.unscored lists employee_no and name), or not open")})
def close_cycle(cycle_id: int):
    """open → closed, then the promotion engine runs; 409 naming every unscored evaluation."""
    cycle = _managed(cycle_id)
    with unit_of_work(conflicts=True, answer_here=(operations.UnscoredError,)) as work:
        recommendations = operations.close_cycle(cycle, current_user)
        return respond(Cycle, {**cycle_json(cycle), "recommendations": recommendations})
    return api_error(409, "unscored", work.error.message,
                     unscored=[{"employee_no": no, "name": name} for no, name in work.error.unscored],
                     unscored_total=work.error.total)


@bp.get("/cycles/<int:cycle_id>/evaluations/<employee_no>")
@allow(*READERS)
@read_only
@operation("One evaluation, with its version", answer=Evaluation, errors=(401, 403, 404))
def get_evaluation(cycle_id: int, employee_no: str):
    """One evaluation with its version (send it back with a PUT for optimistic locking)."""
    cycle = cycle_or_404(cycle_id, current_user)
    evaluation = evaluation_or_404(cycle, employee_no, current_user)
    return respond(Evaluation, evaluation_json(evaluation, cycle, derived=True))


@bp.put("/cycles/<int:cycle_id>/evaluations/<employee_no>")
@allow(*WRITERS)
@operation("Score an evaluation: the total and band are computed with the level's weights", body=Scoring,
           answer=Evaluation, errors=(400, 401, 403, 404), responses={409: Response(
               "cycle_closed / cycle_not_open, or conflict (error.current holds the saved evaluation, "
               "error.changed_by and changed_at who saved it)")})
def put_evaluation(cycle_id: int, employee_no: str):
    """`{"satisfaction", "kpi", "team", "competence", "comment", "version"?}` → the total and band computed."""
    cycle = cycle_or_404(cycle_id, current_user)
    evaluation = evaluation_or_404(cycle, employee_no, current_user)
    if evaluation.manager_id == current_user.manager_id or not can_score(current_user, evaluation.manager_id):
        deny("evaluation", f"{cycle_id}/{employee_no}", 403)
    body = read_body(Scoring)
    version = body.version
    scores = {d: getattr(body, d) for d in DIMENSIONS}
    with unit_of_work(conflicts=STATE_CODES, answer_here=(operations.ConflictError,)) as work:
        operations.score_evaluation(evaluation, scores, body.comment, current_user, expected_version=version)
        return respond(Evaluation, evaluation_json(evaluation, cycle, derived=True))
    with unit_of_work():  # the refused attempt is kept in the audit log
        current = db.session.get(EvaluationRecord, evaluation.id, populate_existing=True)
        operations.record_conflict(current, {**scores, "comment": body.comment}, version, current_user)
    current = db.session.get(EvaluationRecord, evaluation.id)
    return api_error(409, "conflict", work.error.message, current=shape(Evaluation, evaluation_json(current, cycle)),
                     changed_by=current.updated_by.username if current.updated_by else None,
                     changed_at=current.updated_at.isoformat() if current.updated_at else None)


@bp.get("/cycles/<int:cycle_id>/results")
@allow(*READERS)
@read_only
@operation("The cycle's evaluations with scores, totals, bands and the promotion engine's recommendation (a "
           "manager: their own, scores once closed)", query=Paged, answer=CycleResults,
           errors=(400, 401, 403, 404))
def results(cycle_id: int):
    """The cycle's evaluations the caller may see, with scores, totals, bands and the engine's recommendation."""
    cycle = cycle_or_404(cycle_id, current_user)
    query = read_query(Paged)
    stmt = scope_evaluations(select(EvaluationRecord, Manager, Team.code)
                             .join(Manager, Manager.id == EvaluationRecord.manager_id)
                             .outerjoin(Team, Team.id == EvaluationRecord.team_id)
                             .where(EvaluationRecord.cycle_id == cycle.id), current_user)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Team.code, Manager.employee_no)
                              .limit(query.size).offset(query.offset)).all()
    recommendations = operations.recommendations_for(cycle.id, [e.manager_id for e, _m, _t in rows]) \
        if cycle.state == "closed" else {}
    items = []
    for evaluation, manager, team_code in rows:
        item = evaluation_json(evaluation, cycle, manager=manager, team_code=team_code)
        rec = recommendations.get(evaluation.manager_id)
        item["recommendation"] = None if rec is None else {
            "recommendation": rec.recommendation, "target_level": rec.target_level,
            "computed_at": rec.computed_at}
        items.append(item)
    return respond(CycleResults, {"cycle": cycle_json(cycle), "items": items, "page": query.page,
                                  "per_page": query.size, "total": total})
