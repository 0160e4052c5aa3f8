"""Evaluation cycles over the API (so an HR system can feed and read them): create, open, score, close, results.

Admin and the manager's own supervisor write; the manager reads their own evaluation (scores once the cycle
is closed); compliance reads everything.
"""
from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from models import Evaluation, EvaluationCycle, EvaluationWeightSet, Manager, Team, User, db
from portal.access import allow, api_error, deny, supervised_team_ids
from portal.api import ApiInputError, bp, json_response, page_number, per_page
from portal.api.openapi import PAGE, _errors, _list_of, _ok
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
from portal.rules.evaluation import DIMENSIONS
from portal.unit_of_work import unit_of_work

READERS = ("rm", "supervisor", "compliance", "admin")
WRITERS = ("supervisor", "admin")
STATE_CODES = ("not_draft", "not_open", "cycle_closed", "cycle_not_open", "overlapping_cycle", "empty_scope",
               "no_weights")


def _number(value: Decimal | None):
    """A 0–100 total as a JSON number (2 decimals at most), or null."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def cycle_json(cycle: EvaluationCycle) -> dict:
    body = operations.cycle_snapshot(cycle)
    weight_set = db.session.get(EvaluationWeightSet, cycle.weight_set_id) if cycle.weight_set_id else None
    body.update(weight_set_version=weight_set.version if weight_set else None,
                opened_at=cycle.opened_at.isoformat() if cycle.opened_at else None,
                closed_at=cycle.closed_at.isoformat() if cycle.closed_at else None)
    return body


def evaluation_json(evaluation: Evaluation, cycle: EvaluationCycle, *, manager: Manager | None = None,
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
        "scored_at": evaluation.scored_at.isoformat() if evaluation.scored_at and visible else None,
        "updated_by": updated_by.username if updated_by else None,
        "updated_at": evaluation.updated_at.isoformat() if evaluation.updated_at else None,
    }
    if derived and visible:
        body["derived"] = evaluation.derived
    return body


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiInputError(_("The body must be a JSON object."))
    return body


@bp.get("/cycles")
@allow(*READERS)
@read_only
def list_cycles():
    """Cycles the caller may see, newest first (`?state=` filters)."""
    stmt = scope_cycles(select(EvaluationCycle), current_user)
    state = request.args.get("state")
    if state is not None:
        if state not in ("draft", "open", "closed"):
            raise ApiInputError(_("state must be draft, open or closed."), "state")
        stmt = stmt.where(EvaluationCycle.state == state)
    page, size = page_number(), per_page()
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc())
                              .limit(size).offset((page - 1) * size)).all()
    return {"items": [cycle_json(c) for c in rows], "page": page, "per_page": size, "total": total}


@bp.post("/cycles")
@allow(*WRITERS)
def create_cycle():
    """`{"name", "start", "end", "scope": {"team": CODE} | "all"}` → 201, the cycle in draft."""
    body = _body()
    scope = body.get("scope")
    team = None
    if isinstance(scope, dict) and set(scope) == {"team"} and isinstance(scope["team"], str):
        code = scope["team"].strip().upper()
        valid = 0 < len(code) <= 20 and not any(ch in operations.CONTROL_CHARACTERS for ch in code)
        team = db.session.scalar(select(Team).where(Team.code == code)) if valid else None
        if team is None:
            raise ApiInputError(_("No team has the code %(code)s.", code=scope["team"]), "scope", "unknown_team")
        if current_user.role != "admin" and team.id not in supervised_team_ids(current_user):
            deny("team", team.code, 403)
    elif scope == "all":
        if current_user.role != "admin":
            return api_error(403, "forbidden", _("Only an administrator creates a cycle over everyone."))
    else:
        raise ApiInputError(_('scope must be "all" or {"team": CODE}.'), "scope", "invalid_scope")
    with unit_of_work():
        start = operations.parse_day(body.get("start"), "start")
        end = operations.parse_day(body.get("end"), "end")
        cycle = operations.create_cycle(body.get("name"), start, end, team, current_user)
        return json_response(cycle_json(cycle), 201)


@bp.get("/cycles/<int:cycle_id>")
@allow(*READERS)
@read_only
def get_cycle(cycle_id: int):
    cycle = cycle_or_404(cycle_id, current_user)
    body = cycle_json(cycle)
    counts = db.session.execute(scope_evaluations(select(func.count(Evaluation.id), func.count(Evaluation.total))
                                                  .where(Evaluation.cycle_id == cycle.id), current_user)).one()
    body.update(evaluations=counts[0], scored=counts[1])
    return body


def _managed(cycle_id: int) -> EvaluationCycle:
    cycle = cycle_or_404(cycle_id, current_user)
    if not can_manage_cycle(current_user, cycle):
        deny("evaluation_cycle", cycle_id, 403)
    return cycle


@bp.post("/cycles/<int:cycle_id>/open")
@allow(*WRITERS)
def open_cycle(cycle_id: int):
    """draft → open: creates one evaluation per active manager in scope."""
    cycle = _managed(cycle_id)
    with unit_of_work(conflicts=True):
        created = operations.open_cycle(cycle, current_user)
        return {**cycle_json(cycle), "evaluations": created}


@bp.post("/cycles/<int:cycle_id>/close")
@allow(*WRITERS)
def close_cycle(cycle_id: int):
    """open → closed, then the promotion engine runs; 409 naming every unscored evaluation."""
    cycle = _managed(cycle_id)
    with unit_of_work(conflicts=True, answer_here=(operations.UnscoredError,)) as work:
        recommendations = operations.close_cycle(cycle, current_user)
        return {**cycle_json(cycle), "recommendations": recommendations}
    return api_error(409, "unscored", work.error.message,
                     unscored=[{"employee_no": no, "name": name} for no, name in work.error.unscored],
                     unscored_total=work.error.total)


@bp.get("/cycles/<int:cycle_id>/evaluations/<employee_no>")
@allow(*READERS)
@read_only
def get_evaluation(cycle_id: int, employee_no: str):
    """One evaluation with its version (send it back with a PUT for optimistic locking)."""
    cycle = cycle_or_404(cycle_id, current_user)
    evaluation = evaluation_or_404(cycle, employee_no, current_user)
    return evaluation_json(evaluation, cycle, derived=True)


@bp.put("/cycles/<int:cycle_id>/evaluations/<employee_no>")
@allow(*WRITERS)
def put_evaluation(cycle_id: int, employee_no: str):
    """`{"satisfaction", "kpi", "team", "competence", "comment", "version"?}` → the total and band computed."""
    cycle = cycle_or_404(cycle_id, current_user)
    evaluation = evaluation_or_404(cycle, employee_no, current_user)
    if evaluation.manager_id == current_user.manager_id or not can_score(current_user, evaluation.manager_id):
        deny("evaluation", f"{cycle_id}/{employee_no}", 403)
    body = _body()
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ApiInputError(_("version must be the whole number read with the evaluation."), "version",
                            "invalid_version")
    scores = {d: body.get(d) for d in DIMENSIONS}
    with unit_of_work(conflicts=STATE_CODES, answer_here=(operations.ConflictError,)) as work:
        operations.score_evaluation(evaluation, scores, body.get("comment"), current_user, expected_version=version)
        return evaluation_json(evaluation, cycle, derived=True)
    with unit_of_work():  # the refused attempt is kept in the audit log
        current = db.session.get(Evaluation, evaluation.id, populate_existing=True)
        operations.record_conflict(current, {**scores, "comment": body.get("comment")}, version, current_user)
    current = db.session.get(Evaluation, evaluation.id)
    return api_error(409, "conflict", work.error.message, current=evaluation_json(current, cycle),
                     changed_by=current.updated_by.username if current.updated_by else None,
                     changed_at=current.updated_at.isoformat() if current.updated_at else None)


@bp.get("/cycles/<int:cycle_id>/results")
@allow(*READERS)
@read_only
def results(cycle_id: int):
    """The cycle's evaluations the caller may see, with scores, totals, bands and the engine's recommendation."""
    cycle = cycle_or_404(cycle_id, current_user)
    page, size = page_number(), per_page()
    stmt = scope_evaluations(select(Evaluation, Manager, Team.code).join(Manager, Manager.id == Evaluation.manager_id)
                             .outerjoin(Team, Team.id == Evaluation.team_id)
                             .where(Evaluation.cycle_id == cycle.id), current_user)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Team.code, Manager.employee_no)
                              .limit(size).offset((page - 1) * size)).all()
    recommendations = operations.recommendations_for(cycle.id, [e.manager_id for e, _m, _t in rows]) \
        if cycle.state == "closed" else {}
    items = []
    for evaluation, manager, team_code in rows:
        item = evaluation_json(evaluation, cycle, manager=manager, team_code=team_code)
        rec = recommendations.get(evaluation.manager_id)
        item["recommendation"] = None if rec is None else {
            "recommendation": rec.recommendation, "target_level": rec.target_level,
            "computed_at": rec.computed_at.isoformat()}
        items.append(item)
    return {"cycle": cycle_json(cycle), "items": items, "page": page, "per_page": size, "total": total}


# --- OpenAPI ------------------------------------------------------------------------------------------
CYCLE_ID = {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}
EMPLOYEE_NO = {"name": "employee_no", "in": "path", "required": True, "schema": {"type": "string"}}
SCORE = {"type": "integer", "minimum": 0, "maximum": 100}
SCOPE = {"oneOf": [{"type": "string", "enum": ["all"]},
                   {"type": "object", "required": ["team"], "properties": {"team": {"type": "string"}}}]}

SCHEMAS: dict = {
    "Cycle": {"type": "object", "required": ["id", "name", "start", "end", "scope", "state"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"},
        "scope": SCOPE, "state": {"type": "string", "enum": ["draft", "open", "closed"]},
        "weight_set_version": {"type": "integer", "nullable": True},
        "opened_at": {"type": "string", "format": "date-time", "nullable": True},
        "closed_at": {"type": "string", "format": "date-time", "nullable": True},
        "evaluations": {"type": "integer"}, "scored": {"type": "integer"},
        "recommendations": {"type": "integer", "description": "on close: how many the promotion engine stored"}}},
    "Evaluation": {"type": "object", "required": ["employee_no", "scores", "total", "band", "version"], "properties": {
        "cycle_id": {"type": "integer"}, "employee_no": {"type": "string"}, "name": {"type": "string"},
        "level": {"type": "string", "description": "frozen when the cycle opened"},
        "team": {"type": "string", "nullable": True},
        "scores_visible": {"type": "boolean",
                           "description": "false for the person evaluated until the cycle is closed"},
        "scores": {"type": "object", "nullable": True, "properties": {
            "satisfaction": {**SCORE, "nullable": True}, "kpi": {**SCORE, "nullable": True},
            "team": {**SCORE, "nullable": True}, "competence": {**SCORE, "nullable": True}}},
        "total": {"type": "number", "nullable": True, "description": "weighted by the level's weights"},
        "band": {"type": "string", "nullable": True,
                 "enum": ["excellent", "good", "satisfactory", "needs_improvement", "unsatisfactory", None]},
        "comment": {"type": "string", "nullable": True}, "self_comment": {"type": "string", "nullable": True},
        "scored": {"type": "boolean"}, "version": {"type": "integer", "description": "for optimistic locking"},
        "scored_by": {"type": "string", "nullable": True},
        "scored_at": {"type": "string", "format": "date-time", "nullable": True},
        "updated_by": {"type": "string", "nullable": True},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True},
        "derived": {"type": "object", "nullable": True,
                    "description": "figures from the data (satisfaction, KPI with components) as last scored"},
        "recommendation": {"type": "object", "nullable": True, "properties": {
            "recommendation": {"type": "string", "enum": ["promote", "demote", "hold"]},
            "target_level": {"type": "string", "nullable": True},
            "computed_at": {"type": "string", "format": "date-time"}}}}},
}

PATHS: dict = {
    "/api/v1/cycles": {
        "get": {"summary": "Evaluation cycles the caller may see, newest first",
                "parameters": [{"name": "state", "in": "query",
                                "schema": {"type": "string", "enum": ["draft", "open", "closed"]}}, *PAGE],
                "responses": {**_ok(_list_of("#/components/schemas/Cycle")), **_errors(400, 401, 403)}},
        "post": {"summary": "Create a cycle in draft (admin: any scope; supervisor: one of their teams)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["name", "start", "end", "scope"],
                     "properties": {"name": {"type": "string", "maxLength": 100},
                                    "start": {"type": "string", "format": "date"},
                                    "end": {"type": "string", "format": "date"}, "scope": SCOPE}}}}},
                 "responses": {**_ok({"$ref": "#/components/schemas/Cycle"}, "Created", "201"),
                               **_errors(400, 401, 403)}}},
    "/api/v1/cycles/{cycle_id}": {"get": {
        "summary": "One cycle, with how many evaluations the caller sees and how many are scored",
        "parameters": [CYCLE_ID],
        "responses": {**_ok({"$ref": "#/components/schemas/Cycle"}), **_errors(401, 403, 404)}}},
    "/api/v1/cycles/{cycle_id}/open": {"post": {
        "summary": "Open a draft: one evaluation per active manager in scope; the weights in force are frozen",
        "parameters": [CYCLE_ID],
        "responses": {**_ok({"$ref": "#/components/schemas/Cycle"}), **_errors(401, 403, 404, 409)}}},
    "/api/v1/cycles/{cycle_id}/close": {"post": {
        "summary": "Close an open cycle (refused while any evaluation is unscored), then run the promotion rules",
        "parameters": [CYCLE_ID],
        "responses": {**_ok({"$ref": "#/components/schemas/Cycle"}), **_errors(401, 403, 404),
                      "409": {"description": "Unscored evaluations (error.unscored lists employee_no and name), "
                                             "or not open",
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
    "/api/v1/cycles/{cycle_id}/evaluations/{employee_no}": {
        "get": {"summary": "One evaluation, with its version",
                "parameters": [CYCLE_ID, EMPLOYEE_NO],
                "responses": {**_ok({"$ref": "#/components/schemas/Evaluation"}), **_errors(401, 403, 404)}},
        "put": {"summary": "Score an evaluation: the total and band are computed with the level's weights",
                "parameters": [CYCLE_ID, EMPLOYEE_NO],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["satisfaction", "kpi", "team", "competence"],
                    "properties": {"satisfaction": SCORE, "kpi": SCORE, "team": SCORE, "competence": SCORE,
                                   "comment": {"type": "string", "maxLength": 2000},
                                   "version": {"type": "integer",
                                               "description": "the version read; a different saved version "
                                                              "answers 409 conflict"}}}}}},
                "responses": {**_ok({"$ref": "#/components/schemas/Evaluation"}), **_errors(400, 401, 403, 404),
                              "409": {"description": "cycle_closed / cycle_not_open, or conflict (error.current "
                                                     "holds the saved evaluation, error.changed_by and changed_at "
                                                     "who saved it)",
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Error"}}}}}}},
    "/api/v1/cycles/{cycle_id}/results": {"get": {
        "summary": "The cycle's evaluations with scores, totals, bands and the promotion engine's recommendation "
                   "(a manager: their own, scores once closed)",
        "parameters": [CYCLE_ID, *PAGE],
        "responses": {**_ok({"type": "object", "required": ["cycle", "items", "page", "per_page", "total"],
                             "properties": {"cycle": {"$ref": "#/components/schemas/Cycle"},
                                            "items": {"type": "array",
                                                      "items": {"$ref": "#/components/schemas/Evaluation"}},
                                            "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                            "total": {"type": "integer"}}}),
                      **_errors(400, 401, 403, 404)}}},
}
