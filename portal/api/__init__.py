"""The JSON API, /api/v1: bearer tokens, the pages' policies, one error shape, one list envelope."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from models import db
from portal.access import api_error
from portal.operations.errors import OperationError
from portal.pagination import MAX_PAGE

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 100


class ApiInputError(Exception):
    """Bad input to the API: answered 400 (409 for a state conflict) with the field and the message."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.code, self.status = message, field, code, status


@bp.errorhandler(ApiInputError)
def _bad_input(error: ApiInputError):
    extra = {"field": error.field} if error.field else {}
    return api_error(error.status, error.code, error.message, **extra)


@bp.errorhandler(OperationError)
def _refused(error: OperationError):
    """An operation's refusal outside a unit of work (a check that writes nothing): 400 like bad input."""
    return _bad_input(ApiInputError(error.message, error.field, error.code))


def page_number() -> int:
    raw = request.args.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        raise ApiInputError(_("page must be a positive whole number."), "page") from None
    if page < 1 or page > MAX_PAGE:
        raise ApiInputError(_("page must be a positive whole number."), "page")
    return page


def per_page() -> int:
    raw = request.args.get("per_page")
    if raw is None:
        return current_app.config["PER_PAGE"]
    try:
        value = int(raw)
    except ValueError:
        raise ApiInputError(_("per_page must be a whole number from 1 to %(n)d.", n=MAX_PER_PAGE), "per_page") from None
    if not 1 <= value <= MAX_PER_PAGE:
        raise ApiInputError(_("per_page must be a whole number from 1 to %(n)d.", n=MAX_PER_PAGE), "per_page")
    return value


def envelope(stmt: Select, serialise) -> dict:
    """`{"items", "page", "per_page", "total"}` for a select of ORM rows."""
    page, size = page_number(), per_page()
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(size).offset((page - 1) * size)).all()
    return {"items": [serialise(row) for row in rows], "page": page, "per_page": size, "total": total}


def refused_import(refused, max_rows: int, row):
    """The answer to a refused import (asset or onboarding): 413 past the row limit, 400 with the file's one
    problem, or 400 `invalid_rows` naming every bad row as `row(problem)` gives it."""
    if refused.code == "too_many_rows":
        return api_error(413, "too_many_rows", refused.message, max_rows=max_rows)
    if not refused.problems:
        return api_error(400, refused.code, refused.message)
    return api_error(400, "invalid_rows", refused.message, rows=[row(p) for p in refused.problems])


def json_response(body, status: int = 200):
    return jsonify(body), status


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
