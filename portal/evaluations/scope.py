"""Who may see and change which cycles, evaluations and targets (shared by the pages and the API).

- admin: everything; compliance: reads everything, changes nothing.
- supervisor: cycles over one of their teams or over everyone; manages (opens, closes, deletes) only their
  teams' cycles; scores the managers of their teams, never themself nor anyone heading a team (an
  administrator scores supervisors); sets targets for the same managers.
- rm (and a supervisor as someone evaluated): their own evaluations only.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, exists, or_, select

from models import Evaluation, EvaluationCycle, Manager, db
from portal.access import deny, supervised_team_ids
from portal.operations.evaluations import team_heads


def scope_cycles(stmt: Select, user) -> Select:
    """Narrow a query over EvaluationCycle to the cycles `user` may see."""
    if user.role in ("admin", "compliance"):
        return stmt
    own = exists().where(Evaluation.cycle_id == EvaluationCycle.id, Evaluation.manager_id == (user.manager_id or -1))
    if user.role == "supervisor":
        teams = supervised_team_ids(user) or [-1]
        return stmt.where(or_(EvaluationCycle.team_id.is_(None), EvaluationCycle.team_id.in_(teams), own))
    if user.role == "rm":
        return stmt.where(own)
    return stmt.where(False)


def cycle_or_404(cycle_id: int, user) -> EvaluationCycle:
    """The cycle if `user` may see it; 404 (the refusal logged) otherwise."""
    cycle = db.session.get(EvaluationCycle, cycle_id)
    if cycle is None:
        abort(404)
    if db.session.scalar(scope_cycles(select(EvaluationCycle.id).where(EvaluationCycle.id == cycle_id), user)) is None:
        deny("evaluation_cycle", cycle_id)
    return cycle


def can_manage_cycle(user, cycle: EvaluationCycle) -> bool:
    """Open, close or delete: an administrator, or the supervisor of the cycle's team."""
    if user.role == "admin":
        return True
    return user.role == "supervisor" and cycle.team_id is not None and cycle.team_id in supervised_team_ids(user)


def scorable_managers(user) -> Select | None:
    """The staff records `user` scores and sets targets for (a subquery); None means everyone (admin)."""
    if user.role == "admin":
        return None
    if user.role != "supervisor":
        return select(Manager.id).where(False)
    return select(Manager.id).where(Manager.team_id.in_(supervised_team_ids(user) or [-1]),
                                    Manager.id.not_in(team_heads()), Manager.id != (user.manager_id or -1))


def can_score(user, manager_id: int) -> bool:
    scope = scorable_managers(user)
    if scope is None:
        return True
    return db.session.scalar(scope.where(Manager.id == manager_id)) is not None


def scope_evaluations(stmt: Select, user) -> Select:
    """Narrow a query over Evaluation to the evaluations `user` may see (their own, or the ones they score)."""
    if user.role in ("admin", "compliance"):
        return stmt
    own = Evaluation.manager_id == (user.manager_id or -1)
    if user.role == "supervisor":
        return stmt.where(or_(own, Evaluation.manager_id.in_(scorable_managers(user))))
    if user.role == "rm":
        return stmt.where(own)
    return stmt.where(False)


def evaluation_or_404(cycle: EvaluationCycle, employee_no: str, user) -> Evaluation:
    """The cycle's evaluation of that employee if `user` may see it; 404 (logged) otherwise."""
    evaluation = db.session.scalar(select(Evaluation).join(Manager, Manager.id == Evaluation.manager_id)
                                   .where(Evaluation.cycle_id == cycle.id,
                                          Manager.employee_no == (employee_no or "").strip().upper()))
    if evaluation is None:
        abort(404)
    if db.session.scalar(scope_evaluations(select(Evaluation.id).where(Evaluation.id == evaluation.id), user)) is None:
        deny("evaluation", f"{cycle.id}/{employee_no}")
    return evaluation


def sees_scores(user, evaluation: Evaluation, cycle: EvaluationCycle) -> bool:
    """The person evaluated sees their scores once the cycle is closed; scorers and compliance always."""
    if evaluation.manager_id == user.manager_id and user.role != "admin":
        return cycle.state == "closed"
    return True
