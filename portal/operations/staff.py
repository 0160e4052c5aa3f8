"""Teams and staff records: create, move between teams."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from models import STAFF_STATUSES, LevelChange, Manager, Team, db
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules.vocabulary import LEVELS

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,19}$")


def manager_snapshot(manager: Manager) -> dict:
    return {
        "employee_no": manager.employee_no, "name": manager.name, "level": manager.level,
        "level_since": manager.level_since, "hire_date": manager.hire_date, "status": manager.status,
        "team": manager.team.code if manager.team else None,
    }


def team_by_code(code: str | None, field: str = "team") -> Team | None:
    if not code:
        return None
    team = db.session.scalar(select(Team).where(Team.code == code.strip().upper()))
    if team is None:
        raise OperationError(_("No team has the code %(code)s.", code=code), field)
    return team


def manager_by_employee_no(employee_no: str | None, field: str = "employee_no") -> Manager | None:
    if not employee_no:
        return None
    manager = db.session.scalar(select(Manager).where(Manager.employee_no == employee_no.strip()))
    if manager is None:
        raise OperationError(_("No staff record has the employee number %(no)s.", no=employee_no), field)
    return manager


def create_team(code: str, name: str, supervisor_employee_no: str | None = None) -> Team:
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise OperationError(_("A team code is 2–20 capital letters, digits, dash or underscore."), "code")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise OperationError(_("Enter a team name of at most 100 characters."), "name")
    if db.session.scalar(select(Team.id).where(Team.code == code)) is not None:
        raise OperationError(_("The team code %(code)s is already taken.", code=code), "code")
    supervisor = manager_by_employee_no(supervisor_employee_no, "supervisor")
    team = Team(code=code, name=name, supervisor=supervisor)
    db.session.add(team)
    db.session.flush()
    if supervisor is not None and supervisor.team_id is None:
        supervisor.team = team
    record("team.create", "team", code, after={"code": code, "name": name,
                                                 "supervisor": supervisor.employee_no if supervisor else None})
    return team


def create_manager(employee_no: str, name: str, level: str, level_since: date, hire_date: date,
                   team_code: str | None = None, status: str = "active") -> Manager:
    employee_no = (employee_no or "").strip().upper()
    if not CODE_RE.match(employee_no):
        raise OperationError(_("An employee number is 2–20 capital letters, digits, dash or underscore."),
                             "employee_no")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise OperationError(_("Enter a name of at most 100 characters."), "name")
    if level not in LEVELS:
        raise OperationError(_("Unknown level."), "level")
    if status not in STAFF_STATUSES:
        raise OperationError(_("Unknown status."), "status")
    if hire_date is None or level_since is None:
        raise OperationError(_("Enter the hire date and the date the level was reached."), "hire_date")
    if hire_date > date.today():
        raise OperationError(_("The hire date cannot be in the future."), "hire_date")
    if level_since < hire_date:
        raise OperationError(_("The level cannot have been reached before the hire date."), "level_since")
    if level_since > date.today():
        raise OperationError(_("The level date cannot be in the future."), "level_since")
    if db.session.scalar(select(Manager.id).where(Manager.employee_no == employee_no)) is not None:
        raise OperationError(_("The employee number %(no)s is already taken.", no=employee_no), "employee_no")
    team = team_by_code(team_code)
    manager = Manager(employee_no=employee_no, name=name, level=level, level_since=level_since,
                      hire_date=hire_date, status=status, team=team)
    db.session.add(manager)
    db.session.flush()
    # The level history starts with the level the record was created with.
    db.session.add(LevelChange(manager_id=manager.id, kind="initial", to_level=level, effective_date=level_since))
    record("manager.create", "manager", employee_no, after=manager_snapshot(manager))
    return manager


def move_manager(manager: Manager, team: Team) -> None:
    """Move a staff record to another team; their client book moves with them."""
    if manager.team_id == team.id:
        raise OperationError(_("%(name)s is already in team %(code)s.", name=manager.name, code=team.code), "team")
    if db.session.scalar(select(Team.id).where(Team.supervisor_id == manager.id)) is not None:
        raise OperationError(_("A team's supervisor cannot be moved; name another supervisor first."), "team")
    before = manager_snapshot(manager)
    manager.team = team
    db.session.flush()
    record("manager.move", "manager", manager.employee_no, before=before, after=manager_snapshot(manager))
