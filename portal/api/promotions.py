"""Promotion eligibility over the API: the engine's answer for one manager, computed now."""
from __future__ import annotations

from flask_login import current_user

from portal.access import allow, deny, manager_or_404
from portal.api import bp, json_response
from portal.api.openapi import _errors, _ok
from portal.operations.promotions import is_supervisor_of, recommendation_now
from portal.rules.vocabulary import LEVELS


@bp.get("/managers/<employee_no>/eligibility")
@allow("admin", "supervisor", "rm")
def manager_eligibility(employee_no: str):
    """Admin, the manager's own supervisor, and the manager themself; anyone else 403 (role) or 404 (record)."""
    manager = manager_or_404(employee_no)  # rm: only themself; supervisor: only their teams
    if current_user.role == "supervisor" and not is_supervisor_of(current_user, manager):
        deny("manager", employee_no)  # their own staff record, seen through the team scope
    recommendation, _rules = recommendation_now(manager)
    return json_response({
        "employee_no": manager.employee_no,
        "level": manager.level,
        "recommendation": recommendation.recommendation,
        "target_level": recommendation.target_level,
        "clauses": [{"rule": clause.rule, "passed": clause.passed, "observed": clause.observed,
                     "required": clause.required} for clause in recommendation.clauses],
        "eligible_in_months": recommendation.eligible_in_months,
    })


LEVEL = {"type": "string", "enum": list(LEVELS)}

SCHEMAS: dict = {
    "EligibilityClause": {
        "type": "object", "required": ["rule", "passed", "observed", "required"],
        "properties": {
            "rule": {"type": "string", "description": "months_in_level, evaluations_available, each_total, "
                                                      "mean_total, min_dimension, each_kpi, team, no_compliance_flag, "
                                                      "demotion_totals, demotion_floor or promotion_rule"},
            "passed": {"type": "boolean"},
            "observed": {"description": "the figure the engine saw: a number, a decimal string, a level, or a list "
                                        "of them (one per evaluation considered, latest first)",
                         "nullable": True,
                         "oneOf": [{"type": "integer"}, {"type": "string"},
                                   {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}]},
            "required": {"type": "string", "description": "e.g. \"≥ 12\", \"< 60\", \"= 0\""},
        },
    },
    "Eligibility": {
        "type": "object",
        "required": ["employee_no", "level", "recommendation", "target_level", "clauses", "eligible_in_months"],
        "properties": {
            "employee_no": {"type": "string"},
            "level": LEVEL,
            "recommendation": {"type": "string", "enum": ["promote", "demote", "hold"]},
            "target_level": {**LEVEL, "nullable": True},
            "clauses": {"type": "array", "items": {"$ref": "#/components/schemas/EligibilityClause"}},
            "eligible_in_months": {"type": "integer", "nullable": True,
                                   "description": "set when only the time in the level is missing"},
        },
    },
}

PATHS: dict = {
    "/api/v1/managers/{employee_no}/eligibility": {
        "get": {
            "summary": "The promotion engine's answer for one manager, computed now under the rules in force",
            "description": "Admin, the manager's own supervisor, and the manager themself.",
            "parameters": [{"name": "employee_no", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok({"$ref": "#/components/schemas/Eligibility"}), **_errors(401, 403, 404)},
        },
    },
}
