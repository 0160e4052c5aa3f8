"""GET /api/v1/suitability-matrix: the twelve cells and the no-profile column on a date, scoped to the caller.

Compliance and admin see every client, a manager their own book, a supervisor their team(s); a client's
token is refused (403). A bad or future date, or an unknown team or manager, is 400 with a code; a team
or manager outside the caller's scope is 404 (`not_found`, logged), as for any object not theirs.
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask_login import current_user
from pydantic import Field

from portal.access import allow
from portal.api import ApiInputError, bp
from portal.api.spec import Answer, Day, Money, Query, described, operation, read_query, respond
from portal.compliance.queries import FilterError, matrix, parse_as_of, resolve_scope
from portal.reads import read_only
from portal.rules.calendar import business_today
from portal.rules.vocabulary import RISK_CLASSES, TIERS


class MatrixQuery(Query):
    """The date and the scope; the values are checked by the matrix page's own filters."""

    as_of: Annotated[str | None, described({"type": "string", "format": "date"})] = Field(
        None, description="today (Asia/Shanghai) by default; a future date is 400 future_date")
    team: str | None = Field(None, description="team code; unknown: 400 unknown_team; outside the caller's "
                                               "scope: 404")
    manager: str | None = Field(None, description="employee number; unknown: 400 unknown_manager; outside the "
                                                  "caller's scope: 404")
    branch: str | None = Field(None, description="branch code (or its name); unknown: 400 unknown_branch")


class Cell(Answer):
    tier: int = Field(ge=1, le=4)
    risk_class: Literal[RISK_CLASSES]
    clients: int = Field(ge=0)
    assets: Money


class Count(Answer):
    """No profile, or the profile in force had expired on as_of."""

    clients: int = Field(ge=0)
    assets: Money


class SuitabilityMatrix(Answer):
    """A client with no tier yet counts in tier 4 with assets 0."""

    as_of: Day
    cells: list[Cell] = Field(min_length=12, max_length=12)
    no_profile: Count
    total_clients: int = Field(ge=0)


@bp.get("/suitability-matrix")
@allow("rm", "supervisor", "compliance", "admin")
@read_only
@operation("Clients and assets per tier × risk class, and with no valid profile, on a date (compliance/admin: "
           "everyone; a manager: their book; a supervisor: their teams)", query=MatrixQuery,
           answer=SuitabilityMatrix, errors=(400, 401, 403, 404))
def suitability_matrix():
    query = read_query(MatrixQuery)
    today = business_today()
    try:
        day = parse_as_of(query.as_of, today)
        scope = resolve_scope(current_user, query.branch, query.team, query.manager)
    except FilterError as error:
        raise ApiInputError(error.message, error.field, error.code) from None
    grid = matrix(current_user, scope, day, today)
    no_profile = grid.no_profile()
    return respond(SuitabilityMatrix, {
        "as_of": day,
        "cells": [{"tier": tier, "risk_class": risk_class, "clients": grid.cells[(tier, risk_class)].clients,
                   "assets": grid.cells[(tier, risk_class)].assets}
                  for tier in TIERS for risk_class in RISK_CLASSES],
        "no_profile": {"clients": no_profile.clients, "assets": no_profile.assets},
        "total_clients": grid.total.clients,
    })
