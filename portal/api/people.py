"""/me, /managers, /clients: who is who, scoped to the caller."""
from __future__ import annotations

from typing import Literal

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select

from models import Client as ClientRecord
from models import Manager as ManagerRecord
from models import Team, db
from portal.access import allow, client_or_404, scope_clients, scope_managers
from portal.api import ApiInputError, Paged, bp, envelope
from portal.api.spec import Answer, Day, Money, operation, page_of, read_query, respond
from portal.clients.queries import book_query, managers_query
from portal.rules.profile import PROFILE_STATUSES
from portal.rules.tiering import PACKAGES
from portal.rules.vocabulary import INVESTOR_CATEGORIES, LEVELS, RISK_CLASSES

ALL_ROLES = ("client", "rm", "supervisor", "compliance", "admin")


class Manager(Answer):
    employee_no: str
    name: str
    level: Literal[LEVELS]
    level_since: Day
    team: str | None
    supervisor: str | None
    status: str


class Client(Answer):
    """A client; the fields after `id_number_masked` are on one client's own answer, not in lists."""

    client_no: str
    name: str
    manager: str | None
    id_type: str
    id_number_masked: str
    id_number: str = Field(None, description="only to the client")
    birth_date: Day = None
    branch: str = None
    opened_on: Day = None
    phone: str | None = None
    risk_class: Literal[RISK_CLASSES] | None = None
    grade: str | None = None
    lowest_category: bool = None
    profile_status: Literal[PROFILE_STATUSES] = None
    profile_valid_until: Day | None = None
    investor_category: Literal[INVESTOR_CATEGORIES] = None
    asset_tier: int | None = Field(None, ge=1, le=4, description="null before the first asset snapshot")
    total_assets: Money | None = None
    contribution_12m: Money | None = None
    service_package: Literal[PACKAGES] | None = Field(
        None, description="the package of the client's tier x risk-class cell; null without a valid profile or an "
                          "asset tier")


class Me(Answer):
    username: str
    display_name: str
    role: str
    preferred_language: str | None
    manager: Manager | None
    client: Client | None


class ManagersQuery(Paged):
    team: str | None = None


class ClientsQuery(Paged):
    manager: str | None = None
    q: str | None = None


def manager_json(manager: ManagerRecord) -> dict:
    team = manager.team
    supervisor = team.supervisor if team else None
    return {
        "employee_no": manager.employee_no,
        "name": manager.name,
        "level": manager.level,
        "level_since": manager.level_since,
        "team": team.code if team else None,
        "supervisor": supervisor.employee_no if supervisor else None,
        "status": manager.status,
    }


def client_json(client: ClientRecord, full: bool = False) -> dict:
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
            birth_date=client.birth_date,
            branch=client.branch.name,
            opened_on=client.opened_on,
            phone=client.phone,
            risk_class=client.risk_class,
            grade=client.risk_grade,
            lowest_category=client.lowest_category,
            profile_status=profile_status(client.profile_valid_until),
            profile_valid_until=client.profile_valid_until,
            investor_category=client.investor_category,
            asset_tier=client.asset_tier,
            total_assets=client.total_assets,
            contribution_12m=client.contribution_12m,
            service_package=package_for_client(client).code,
        )
        if current_user.role == "client":
            body["id_number"] = client.id_number
    return body


@bp.get("/me")
@allow(*ALL_ROLES)
@operation("The caller", answer=Me, errors=(401,))
def me():
    user = current_user
    body = {"username": user.username, "display_name": user.display_name, "role": user.role,
            "preferred_language": user.preferred_language, "manager": None, "client": None}
    if user.manager:
        body["manager"] = manager_json(user.manager)
    if user.client:
        body["client"] = client_json(user.client)
    return respond(Me, body)


@bp.get("/managers")
@allow("rm", "supervisor", "compliance", "admin")
@operation("Staff records the caller may see", query=ManagersQuery, answer=page_of(Manager), errors=(400, 401, 403))
def managers():
    query = read_query(ManagersQuery)
    team_id = None
    if query.team:
        team = db.session.scalar(select(Team).where(Team.code == query.team.strip().upper()))
        if team is None:
            raise ApiInputError(_("No team has the code %(code)s.", code=query.team), "team", "unknown_team")
        team_id = team.id
    stmt = scope_managers(managers_query(team_id), current_user)
    return envelope(stmt, manager_json, Manager, query)


@bp.get("/clients")
@allow(*ALL_ROLES)
@operation("Clients the caller may see (a manager: exactly their book; a client: themself)", query=ClientsQuery,
           answer=page_of(Client), errors=(400, 401))
def clients():
    query = read_query(ClientsQuery)
    manager_id = None
    if query.manager:
        manager = db.session.scalar(select(ManagerRecord).where(ManagerRecord.employee_no == query.manager.strip()))
        if manager is None:
            raise ApiInputError(_("No staff record has the employee number %(no)s.", no=query.manager), "manager",
                                "unknown_manager")
        manager_id = manager.id
    stmt = scope_clients(book_query(manager_id, (query.q or "")[:50], "client_no"), current_user)
    return envelope(stmt, client_json, Client, query)


@bp.get("/clients/<client_no>")
@allow(*ALL_ROLES)
@operation("One client", answer=Client, errors=(401, 404))
def client(client_no: str):
    found = client_or_404(client_no)
    if found is None:  # pragma: no cover - client_or_404 aborts
        abort(404)
    return respond(Client, client_json(found, full=True))
