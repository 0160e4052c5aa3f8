"""Deny by default: every view declares who may use it, and object checks scope every query.

`@allow("rm", "supervisor")` names the roles; `@public` marks a view anyone may open.
A view with neither is refused for everyone (and a test walks the url_map to catch it).
"""
from __future__ import annotations

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select

from models import Client, Manager, Team, db
from portal.audit import record_now

PUBLIC = "public"
# Endpoints Flask itself registers.
BUILTIN_PUBLIC = {"static"}


def allow(*roles: str):
    """Declare the roles that may call this view."""
    def decorate(view):
        view.access_policy = frozenset(roles)
        return view
    return decorate


def public(view):
    """Declare a view open to anyone, signed in or not."""
    view.access_policy = PUBLIC
    return view


def policy_of(endpoint: str):
    if endpoint in BUILTIN_PUBLIC:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def enforce_policy():
    """before_request: refuse any endpoint without a policy, and any role the policy does not name."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handlers answer
        return None
    policy = policy_of(endpoint)
    if policy == PUBLIC:
        return None
    if policy is None:
        current_app.logger.error("endpoint %s has no access policy; refused", endpoint)
        record_now("access.refused", "endpoint", endpoint, after={"reason": "no policy"})
        return _refuse(403)
    if not current_user.is_authenticated:
        if is_api_request():
            return api_error(401, "unauthorized", _("A valid bearer token is required."))
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    if current_user.role not in policy:
        record_now("access.refused", "endpoint", endpoint, after={"path": request.path, "method": request.method})
        return _refuse(403)
    return None


def _refuse(status: int):
    if is_api_request():
        return api_error(status, "forbidden", _("You may not use this resource."))
    abort(status)


def deny(object_type: str, object_id, status: int = 404):
    """Refuse an object that is not the caller's: logged, then 404 (its existence is not confirmed)."""
    record_now("access.refused", object_type, object_id, after={"path": request.path, "method": request.method})
    abort(status)


# --- object scopes -----------------------------------------------------------------------------

def supervised_team_ids(user) -> list[int]:
    """Teams the user heads (a supervisor may head more than one)."""
    if user.manager_id is None:
        return []
    if "supervised_team_ids" not in g:
        g.supervised_team_ids = list(db.session.scalars(select(Team.id).where(Team.supervisor_id == user.manager_id)))
    return g.supervised_team_ids


def scope_clients(stmt: Select, user) -> Select:
    """Narrow a query over Client to what `user` may see."""
    if user.role in ("admin", "compliance"):
        return stmt
    if user.role == "client":
        return stmt.where(Client.id == (user.client_id or -1))
    if user.role == "rm":
        return stmt.where(Client.manager_id == (user.manager_id or -1))
    if user.role == "supervisor":
        team_managers = select(Manager.id).where(Manager.team_id.in_(supervised_team_ids(user) or [-1]))
        return stmt.where(Client.manager_id.in_(team_managers))
    return stmt.where(False)


def scope_managers(stmt: Select, user) -> Select:
    """Narrow a query over Manager to the staff records `user` may see."""
    if user.role in ("admin", "compliance"):
        return stmt
    if user.role == "supervisor":
        return stmt.where(Manager.team_id.in_(supervised_team_ids(user) or [-1]))
    if user.role == "rm":
        return stmt.where(Manager.id == (user.manager_id or -1))
    return stmt.where(False)


def can_see_client(user, client: Client) -> bool:
    stmt = scope_clients(select(Client.id).where(Client.id == client.id), user)
    return db.session.scalar(stmt) is not None


def can_see_manager(user, manager: Manager) -> bool:
    stmt = scope_managers(select(Manager.id).where(Manager.id == manager.id), user)
    return db.session.scalar(stmt) is not None


def client_or_404(client_no: str, user=None) -> Client:
    """The client with this number if `user` may see it; 404 (logged) otherwise."""
    user = user or current_user
    client = db.session.scalar(select(Client).where(Client.client_no == client_no))
    if client is None:
        abort(404)
    if not can_see_client(user, client):
        deny("client", client_no)
    return client


def manager_or_404(employee_no: str, user=None) -> Manager:
    user = user or current_user
    manager = db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))
    if manager is None:
        abort(404)
    if not can_see_manager(user, manager):
        deny("manager", employee_no)
    return manager
