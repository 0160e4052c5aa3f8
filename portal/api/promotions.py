"""Promotion eligibility over the API: the engine's answer for one manager, computed now."""
from __future__ import annotations

from typing import Annotated, Literal

from flask_login import current_user
from pydantic import Field

from portal.access import allow, deny, manager_or_404
from portal.api import bp
from portal.api.spec import Answer, described, operation, respond
from portal.operations.promotions import is_supervisor_of, recommendation_now
from portal.rules.vocabulary import LEVELS

OBSERVED = {"description": "the figure the engine saw: a number, a decimal string, a level, or a list of them (one "
                           "per evaluation considered, latest first)",
            "nullable": True,
            "oneOf": [{"type": "integer"}, {"type": "string"},
                      {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}]}


class EligibilityClause(Answer):
    rule: str = Field(description="months_in_level, evaluations_available, each_total, mean_total, min_dimension, "
                                  "each_kpi, team, no_compliance_flag, demotion_totals, demotion_floor or "
                                  "promotion_rule")
    passed: bool
    observed: Annotated[int | str | list[int | str] | None, described(OBSERVED)]
    required: str = Field(description='e.g. "≥ 12", "< 60", "= 0"')


class Eligibility(Answer):
    employee_no: str
    level: Literal[LEVELS]
    recommendation: Literal["promote", "demote", "hold"]
    target_level: Literal[LEVELS] | None
    clauses: list[EligibilityClause]
    eligible_in_months: int | None = Field(description="set when only the time in the level is missing")


@bp.get("/managers/<employee_no>/eligibility")
@allow("admin", "supervisor", "rm")
@operation("The promotion engine's answer for one manager, computed now under the rules in force",
           description="Admin, the manager's own supervisor, and the manager themself.", answer=Eligibility,
           errors=(401, 403, 404))
def manager_eligibility(employee_no: str):
    """Admin, the manager's own supervisor, and the manager themself; anyone else 403 (role) or 404 (record)."""
    manager = manager_or_404(employee_no)  # rm: only themself; supervisor: only their teams
    if current_user.role == "supervisor" and not is_supervisor_of(current_user, manager):
        deny("manager", employee_no)  # their own staff record, seen through the team scope
    recommendation, _rules = recommendation_now(manager)
    return respond(Eligibility, {
        "employee_no": manager.employee_no,
        "level": manager.level,
        "recommendation": recommendation.recommendation,
        "target_level": recommendation.target_level,
        "clauses": [{"rule": clause.rule, "passed": clause.passed, "observed": clause.observed,
                     "required": clause.required} for clause in recommendation.clauses],
        "eligible_in_months": recommendation.eligible_in_months,
    })
