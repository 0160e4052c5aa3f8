"""Branches, the staff roster and the client master over the API: JSON arrays of up to 10,000 rows, all or nothing.

The same validation as the upload page and the CLI (portal/imports/onboarding.py); bad rows are named by
index (from 0), column and stable code; `?dry_run=1` checks and counts without writing.
"""
from __future__ import annotations

import hashlib
from typing import Annotated

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from portal.access import allow, api_error
from portal.api import bp, refused_import
from portal.api.spec import (
    Answer,
    ErrorDetail,
    Query,
    batch_import,
    described,
    operation,
    read_query,
    respond,
    row_model,
)
from portal.imports import history
from portal.imports.onboarding import API_MAX_ROWS, BRANCHES, CLIENTS, STAFF, ImportRefused, Kind, Options, import_rows
from portal.json_input import load_json
from portal.rules.vocabulary import LEVELS
from portal.unit_of_work import unit_of_work

IMPORTERS = ("admin",)
TEXT = {"type": "string", "nullable": True}
DATE = {"type": "string", "format": "date"}


def _row(name: str, kind: Kind, doc: str, **types) -> type:
    """A row of `kind` as its column table describes it: dates as dates, any other column as text."""
    columns = {column.name: types.get(column.name, DATE if column.sql_type == "date" else
                                      {**TEXT, "maxLength": column.length} if column.length else TEXT)
               for column in kind.columns}
    return row_model(name, columns, [column.name for column in kind.columns if column.required], doc)


BranchRow = _row("BranchRow", BRANCHES, "A branch; upserted by code.")
StaffRow = _row("StaffRow", STAFF, "A staff record; upserted by employee_no.",
                team_head={"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["yes", "no", ""]}],
                           "nullable": True},
                level={"type": "string", "enum": list(LEVELS)},
                status={"type": "string", "enum": ["active", "left"]},
                reassign_to={**TEXT, "maxLength": 20, "description": "a leaver's row only: the employee number of "
                                                                     "the active staff member (in the database or "
                                                                     "this batch) who takes their clients"})
ClientRow = _row("ClientRow", CLIENTS, "A client of the master; upserted by client_no.",
                 id_type={"type": "string", "enum": ["resident_id", "passport", "hk_macau_permit", "taiwan_permit",
                                                     "foreign_permanent"]},
                 sex={"type": "string", "enum": ["M", "F"]},
                 status={"type": "string", "enum": ["open", "closed"]},
                 closed_on={**DATE, "nullable": True})


class ImportQuery(Query):
    """Read as the upload page reads its check box: `1`, `true` or `yes` is on."""

    dry_run: Annotated[str | None, described({"type": "string", "enum": ["0", "1"]})] = Field(
        None, description="1: every check and the counts of what would change; nothing written")

    @property
    def dry(self) -> bool:
        return (self.dry_run or "").strip().lower() in ("1", "true", "yes")


class StaffImportQuery(ImportQuery):
    reassign_to: str | None = Field(None, description="employee number of an active staff member who takes the "
                                                      "clients of everyone leaving in this batch whose row names "
                                                      "no reassign_to")


class OnboardingResult(Answer):
    created: int
    updated: int
    unchanged: int
    reassigned: int = Field(None, description="clients moved to another manager")
    closed: int = Field(None, description="accounts closed")
    left: int = Field(None, description="staff who left")
    missing: int = Field(None, description="a full import: records the file leaves out")
    missing_keys: list[str] = None
    import_id: int | None = Field(description="null on a dry run")
    dry_run: bool = None


class OnboardingBadRow(Answer):
    index: int | None = Field(description="from 0")
    key: str | None = None
    field: str | None
    code: str
    message: str


class OnboardingErrorDetail(ErrorDetail):
    rows: list[OnboardingBadRow] = None


class OnboardingError(Answer):
    error: OnboardingErrorDetail


def _batch(kind: str):
    """The rows are read by the import (portal/imports/onboarding.py), which names every bad one."""
    query = read_query(StaffImportQuery if kind == "staff" else ImportQuery)
    raw = request.get_data(cache=False)
    sha256 = hashlib.sha256(raw).hexdigest()
    reassign_to = (query.reassign_to or "").strip()[:20] or None if kind == "staff" else None
    options = Options(dry_run=query.dry, reassign_to=reassign_to)
    try:
        # Nesting and number range are checked by the one JSON reader (JsonRefused answers 400 with its code);
        # control characters are left to the row checks, which name the row holding them.
        rows = load_json(raw, check_text=False)
    except ValueError:  # JSONDecodeError, bad UTF-8
        return api_error(400, "invalid_json", _("The body is not valid JSON."))
    with unit_of_work(commit=not options.dry_run, answer_here=(ImportRefused,)) as work:
        return respond(OnboardingResult, import_rows(kind, rows, by_user=current_user, options=options,
                                                     sha256=sha256).as_dict())
    refused = work.error
    if not options.dry_run:
        with unit_of_work():  # the refused import is kept in the import history
            history.record_refused(kind, "api", None, sha256, current_user, options.as_dict(), refused)
    return refused_import(refused, API_MAX_ROWS, lambda p: {
        "index": p.line, "key": p.key, "field": p.field, "code": p.code, "message": p.message})


def _import_operation(summary: str, row, query=ImportQuery) -> dict:
    return batch_import(summary, row, API_MAX_ROWS, answer=OnboardingResult, refusal=OnboardingError, query=query,
                        answered="Imported (or, dry, counted)")


@bp.post("/branches")
@allow(*IMPORTERS)
@operation(**_import_operation("Import branches (admin); upsert by code", BranchRow))
def import_branches_api():
    """`[{"code", "name", "name_en", "city"}]`"""
    return _batch("branches")


@bp.post("/staff")
@allow(*IMPORTERS)
@operation(**_import_operation("Import the staff roster (admin); upsert by employee_no; teams created or renamed "
                               "from the rows", StaffRow, StaffImportQuery))
def import_staff_api():
    """`[{"employee_no", "name", "branch", "team_code", "team_name", "team_head", "level", "level_since",
    "hire_date", "status", "email", "phone", "reassign_to"}]`"""
    return _batch("staff")


@bp.post("/clients")
@allow(*IMPORTERS)
@operation(**_import_operation("Import the client master (admin); upsert by client_no; a changed manager is a "
                               "reassignment, `closed` closes the account", ClientRow))
def import_clients_api():
    """`[{"client_no", "name", "id_type", "id_number", "birth_date", "sex", "phone", "email", "branch",
    "opened_on", "manager_employee_no", "status", "closed_on"}]`"""
    return _batch("clients")
