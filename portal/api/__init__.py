"""The JSON API, /api/v1: bearer tokens, the pages' policies, one error shape, one list envelope.

Each view declares its models with `operation` (portal/api/spec.py); the OpenAPI document is made from them.
"""
from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import Select, func, select

from models import db
from portal.access import api_error
from portal.api.spec import ApiInputError, Query, page_of, respond
from portal.operations.errors import OperationError
from portal.pagination import MAX_PAGE

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 100


@bp.errorhandler(ApiInputError)
def _bad_input(error: ApiInputError):
    extra = {"field": error.field} if error.field else {}
    return api_error(error.status, error.code, error.message, **extra)


@bp.errorhandler(OperationError)
def _refused(error: OperationError):
    """An operation's refusal outside a unit of work (a check that writes nothing): 400 like bad input."""
    return _bad_input(ApiInputError(error.message, error.field, error.code))


class Paged(Query):
    """`?page=` (from 1) and `?per_page=` (1–100; the portal's page size when left out) of a list."""

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int | None = Field(None, ge=1, le=MAX_PER_PAGE, description="the portal's page size by default")
    refusals = {"page": (lambda: _("page must be a positive whole number."), "invalid"),
                "per_page": (lambda: _("per_page must be a whole number from 1 to %(n)d.", n=MAX_PER_PAGE),
                             "invalid")}

    @property
    def size(self) -> int:
        return self.per_page or current_app.config["PER_PAGE"]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def envelope(stmt: Select, serialise, item, paged: Paged):
    """The answer `{"items", "page", "per_page", "total"}` for a select of ORM rows, each `item` shaped."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(paged.size).offset(paged.offset)).all()
    return respond(page_of(item), {"items": [serialise(row) for row in rows], "page": paged.page,
                                   "per_page": paged.size, "total": total})


def refused_import(refused, max_rows: int, row):
    """The answer to a refused import (asset or onboarding): 413 past the row limit, 400 with the file's one
    problem, or 400 `invalid_rows` naming every bad row as `row(problem)` gives it."""
    if refused.code == "too_many_rows":
        return api_error(413, "too_many_rows", refused.message, max_rows=max_rows)
    if not refused.problems:
        return api_error(400, refused.code, refused.message)
    return api_error(400, "invalid_rows", refused.message, rows=[row(p) for p in refused.problems])


from portal.api import (  # noqa: E402,F401  (routes register on import)
    assets,
    credit,
    evaluations,
    followups,
    matrix,
    onboarding,
    openapi,
    people,
    previews,
    promotions,
    risk,
)
