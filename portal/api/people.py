"""/me, /managers, /clients: who is who, scoped to the caller."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from models import Client, Manager, Team, db
from portal.access import allow, client_or_404, scope_clients, scope_managers
from portal.api import ApiInputError, bp, envelope
from portal.clients.queries import book_query, managers_query

ALL_ROLES = ("client", "rm", "supervisor", "compliance", "admin")


def manager_json(manager: Manager) -> dict:
    team = manager.team
    supervisor = team.supervisor if team else None
    return {
        "employee_no": manager.employee_no,
        "name": manager.name,
        "level": manager.level,
        "level_since": manager.level_since.isoformat(),
        "team": team.code if team else None,
        "supervisor": supervisor.employee_no if supervisor else None,
        "status": manager.status,
    }


def _money(amount) -> str | None:
    """An amount as an exact decimal string with two places ("1234.50"), or None."""
    return None if amount is None else str(Decimal(amount).quantize(Decimal("0.01")))


def client_json(client: Client, full: bool = False) -> dict:
    """A client as the API shows it: the ID number masked unless the caller is the client."""
    body = {
        "client_no": client.client_no,
        "name": client.name,
        "manager": client.manager.employee_no if client.manager else None,
        "id_type": client.id_type,
        "id_number_masked": client.masked_id,
    }
    if full:
        from portal.operations.packages import package_for_client
        from portal.rules.profile import profile_status

        body.update(
            birth_date=client.birth_date.isoformat(),
            branch=client.branch.name,
            opened_on=client.opened_on.isoformat(),
            phone=client.phone,
            risk_class=client.risk_class,
            grade=client.risk_grade,
            lowest_category=client.lowest_category,
            profile_status=profile_status(client.profile_valid_until),
            profile_valid_until=client.profile_valid_until.isoformat() if client.profile_valid_until else None,
            investor_category=client.investor_category,
            asset_tier=client.asset_tier,
            total_assets=_money(client.total_assets),
            contribution_12m=_money(client.contribution_12m),
            service_package=package_for_client(client).code,
        )
        if current_user.role == "client":
            body["id_number"] = client.id_number
    return body


@bp.get("/me")
@allow(*ALL_ROLES)
def me():
    user = current_user
    body = {"username": user.username, "display_name": user.display_name, "role": user.role,
            "preferred_language": user.preferred_language, "manager": None, "client": None}
    if user.manager:
        body["manager"] = manager_json(user.manager)
    if user.client:
        body["client"] = client_json(user.client)
    return body


@bp.get("/managers")
@allow("rm", "supervisor", "compliance", "admin")
def managers():
    team_code = request.args.get("team")
    team_id = None
    if team_code:
        team = db.session.scalar(select(Team).where(Team.code == team_code.strip().upper()))
        if team is None:
            raise ApiInputError(_("No team has the code %(code)s.", code=team_code), "team", "unknown_team")
        team_id = team.id
    stmt = scope_managers(managers_query(team_id), current_user)
    return envelope(stmt, manager_json)


@bp.get("/clients")
@allow(*ALL_ROLES)
def clients():
    manager_no = request.args.get("manager")
    manager_id = None
    if manager_no:
        manager = db.session.scalar(select(Manager).where(Manager.employee_no == manager_no.strip()))
        if manager is None:
            raise ApiInputError(_("No staff record has the employee number %(no)s.", no=manager_no), "manager",
                                "unknown_manager")
        manager_id = manager.id
    q = (request.args.get("q") or "")[:50]
    stmt = scope_clients(book_query(manager_id, q, "client_no"), current_user)
    return envelope(stmt, client_json)


@bp.get("/clients/<client_no>")
@allow(*ALL_ROLES)
def client(client_no: str):
    found = client_or_404(client_no)
    if found is None:  # pragma: no cover - client_or_404 aborts
        abort(404)
    return client_json(found, full=True)
