"""GET /api/v1/suitability-matrix: the twelve cells and the no-profile column on a date, scoped to the caller.

Compliance and admin see every client, a manager their own book, a supervisor their team(s); a client's
token is refused (403). A bad or future date, or an unknown team or manager, is 400 with a code; a team
or manager outside the caller's scope is 404 (`not_found`, logged), as for any object not theirs.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user

from portal.access import allow
from portal.api import ApiInputError, bp
from portal.api.openapi import _errors, _ok
from portal.compliance.queries import FilterError, matrix, parse_as_of, resolve_scope
from portal.reads import read_only
from portal.rules.calendar import business_today
from portal.rules.vocabulary import RISK_CLASSES, TIERS


@bp.get("/suitability-matrix")
@allow("rm", "supervisor", "compliance", "admin")
@read_only
def suitability_matrix():
    today = business_today()
    try:
        day = parse_as_of(request.args.get("as_of"), today)
        scope = resolve_scope(current_user, request.args.get("branch"), request.args.get("team"),
                              request.args.get("manager"))
    except FilterError as error:
        raise ApiInputError(error.message, error.field, error.code) from None
    grid = matrix(current_user, scope, day, today)
    no_profile = grid.no_profile()
    return {
        "as_of": day.isoformat(),
        "cells": [{"tier": tier, "risk_class": risk_class, "clients": grid.cells[(tier, risk_class)].clients,
                   "assets": str(grid.cells[(tier, risk_class)].assets)}
                  for tier in TIERS for risk_class in RISK_CLASSES],
        "no_profile": {"clients": no_profile.clients, "assets": str(no_profile.assets)},
        "total_clients": grid.total.clients,
    }


MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "CNY, exact decimal"}
PATHS: dict = {
    "/api/v1/suitability-matrix": {"get": {
        "summary": "Clients and assets per tier × risk class, and with no valid profile, on a date "
                   "(compliance/admin: everyone; a manager: their book; a supervisor: their teams)",
        "parameters": [
            {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "today (Asia/Shanghai) by default; a future date is 400 future_date"},
            {"name": "team", "in": "query", "schema": {"type": "string"},
             "description": "team code; unknown: 400 unknown_team; outside the caller's scope: 404"},
            {"name": "manager", "in": "query", "schema": {"type": "string"},
             "description": "employee number; unknown: 400 unknown_manager; outside the caller's scope: 404"},
            {"name": "branch", "in": "query", "schema": {"type": "string"},
             "description": "branch code (or its name); unknown: 400 unknown_branch"},
        ],
        "responses": {**_ok({"$ref": "#/components/schemas/SuitabilityMatrix"}), **_errors(400, 401, 403, 404)}}},
}
SCHEMAS: dict = {
    "SuitabilityMatrix": {
        "type": "object", "required": ["as_of", "cells", "no_profile", "total_clients"],
        "properties": {
            "as_of": {"type": "string", "format": "date"},
            "cells": {"type": "array", "minItems": 12, "maxItems": 12, "items": {
                "type": "object", "required": ["tier", "risk_class", "clients", "assets"],
                "properties": {"tier": {"type": "integer", "minimum": 1, "maximum": 4},
                               "risk_class": {"type": "string", "enum": list(RISK_CLASSES)},
                               "clients": {"type": "integer", "minimum": 0}, "assets": MONEY}}},
            "no_profile": {"type": "object", "required": ["clients", "assets"],
                           "properties": {"clients": {"type": "integer", "minimum": 0}, "assets": MONEY},
                           "description": "no profile, or the profile in force had expired on as_of"},
            "total_clients": {"type": "integer", "minimum": 0},
        },
        "description": "A client with no tier yet counts in tier 4 with assets 0.",
    },
}
