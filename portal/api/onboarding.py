"""Branches, the staff roster and the client master over the API: JSON arrays of up to 10,000 rows, all or nothing.

The same validation as the upload page and the CLI (portal/imports/onboarding.py); bad rows are named by
index (from 0), column and stable code; `?dry_run=1` checks and counts without writing.
"""
from __future__ import annotations

import hashlib

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import allow, api_error
from portal.api import bp, json_response, refused_import
from portal.imports import history
from portal.imports.onboarding import API_MAX_ROWS, BRANCHES, CLIENTS, STAFF, ImportRefused, Options, import_rows
from portal.json_input import load_json
from portal.rules.vocabulary import LEVELS
from portal.unit_of_work import unit_of_work

IMPORTERS = ("admin",)


def _flag(name: str) -> bool:
    return (request.args.get(name) or "").strip().lower() in ("1", "true", "yes")


def _batch(kind: str):
    raw = request.get_data(cache=False)
    sha256 = hashlib.sha256(raw).hexdigest()
    reassign_to = (request.args.get("reassign_to") or "").strip()[:20] or None if kind == "staff" else None
    options = Options(dry_run=_flag("dry_run"), reassign_to=reassign_to)
    try:
        # Nesting and number range are checked by the one JSON reader (JsonRefused answers 400 with its code);
        # control characters are left to the row checks, which name the row holding them.
        rows = load_json(raw, check_text=False)
    except ValueError:  # JSONDecodeError, bad UTF-8
        return api_error(400, "invalid_json", _("The body is not valid JSON."))
    with unit_of_work(commit=not options.dry_run, answer_here=(ImportRefused,)) as work:
        return json_response(import_rows(kind, rows, by_user=current_user, options=options,
                                         sha256=sha256).as_dict(), 200)
    refused = work.error
    if not options.dry_run:
        with unit_of_work():  # the refused import is kept in the import history
            history.record_refused(kind, "api", None, sha256, current_user, options.as_dict(), refused)
    return refused_import(refused, API_MAX_ROWS, lambda p: {
        "index": p.line, "key": p.key, "field": p.field, "code": p.code, "message": p.message})


@bp.post("/branches")
@allow(*IMPORTERS)
def import_branches_api():
    """`[{"code", "name", "name_en", "city"}]`"""
    return _batch("branches")


@bp.post("/staff")
@allow(*IMPORTERS)
def import_staff_api():
    """`[{"employee_no", "name", "branch", "team_code", "team_name", "team_head", "level", "level_since",
    "hire_date", "status", "email", "phone", "reassign_to"}]`"""
    return _batch("staff")


@bp.post("/clients")
@allow(*IMPORTERS)
def import_clients_api():
    """`[{"client_no", "name", "id_type", "id_number", "birth_date", "sex", "phone", "email", "branch",
    "opened_on", "manager_employee_no", "status", "closed_on"}]`"""
    return _batch("clients")


# --- the OpenAPI description ----------------------------------------------------------------------------

TEXT = {"type": "string", "nullable": True}
DATE = {"type": "string", "format": "date"}
DRY_RUN = {"name": "dry_run", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]},
           "description": "1: every check and the counts of what would change; nothing written"}


def _path(summary: str, row: str, extra_parameters: tuple = ()) -> dict:
    from portal.api.openapi import _errors, _ok

    return {"post": {
        "summary": summary,
        "parameters": [DRY_RUN, *extra_parameters],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "array", "minItems": 1, "maxItems": API_MAX_ROWS,
            "items": {"$ref": f"#/components/schemas/{row}"}}}}},
        "responses": {**_ok({"$ref": "#/components/schemas/OnboardingResult"}, "Imported (or, dry, counted)"),
                      "400": {"description": "Bad rows (nothing imported), or a body that is not a JSON array of rows",
                              "content": {"application/json": {"schema": {
                                  "$ref": "#/components/schemas/OnboardingError"}}}},
                      **_errors(401, 403),
                      "413": {"description": f"More than {API_MAX_ROWS:,} rows", "content": {"application/json": {
                          "schema": {"$ref": "#/components/schemas/Error"}}}}}}}


def _row(columns, required: tuple[str, ...], **types) -> dict:
    return {"type": "object", "additionalProperties": False, "required": list(required),
            "properties": {column.name: types.get(column.name, DATE if column.sql_type == "date" else TEXT)
                           for column in columns}}


PATHS: dict = {
    "/api/v1/branches": _path("Import branches (admin); upsert by code", "BranchRow"),
    "/api/v1/staff": _path(
        "Import the staff roster (admin); upsert by employee_no; teams created or renamed from the rows",
        "StaffRow", ({"name": "reassign_to", "in": "query", "schema": {"type": "string"},
                      "description": "employee number of an active staff member who takes the clients of "
                                     "everyone leaving in this batch whose row names no reassign_to"},)),
    "/api/v1/clients": _path("Import the client master (admin); upsert by client_no; a changed manager is a "
                             "reassignment, `closed` closes the account", "ClientRow"),
}
SCHEMAS: dict = {
    "BranchRow": _row(BRANCHES.columns, ("code", "name", "city")),
    "StaffRow": _row(STAFF.columns, ("employee_no", "name", "branch", "level", "level_since", "hire_date", "status"),
                     team_head={"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["yes", "no", ""]}],
                                "nullable": True},
                     level={"type": "string", "enum": list(LEVELS)},
                     status={"type": "string", "enum": ["active", "left"]},
                     reassign_to={**TEXT, "description": "a leaver's row only: the employee number of the active "
                                                         "staff member (in the database or this batch) who takes "
                                                         "their clients"}),
    "ClientRow": _row(CLIENTS.columns, ("client_no", "name", "id_type", "id_number", "birth_date", "sex", "branch",
                                        "opened_on", "status"),
                      id_type={"type": "string", "enum": ["resident_id", "passport", "hk_macau_permit",
                                                         "taiwan_permit", "foreign_permanent"]},
                      sex={"type": "string", "enum": ["M", "F"]},
                      status={"type": "string", "enum": ["open", "closed"]},
                      closed_on={**DATE, "nullable": True}),
    "OnboardingResult": {
        "type": "object", "required": ["created", "updated", "unchanged", "import_id"],
        "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"},
                       "unchanged": {"type": "integer"},
                       "reassigned": {"type": "integer", "description": "clients moved to another manager"},
                       "closed": {"type": "integer", "description": "accounts closed"},
                       "left": {"type": "integer", "description": "staff who left"},
                       "import_id": {"type": "integer", "nullable": True, "description": "null on a dry run"},
                       "dry_run": {"type": "boolean"}}},
    "OnboardingError": {
        "type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "rows": {"type": "array", "items": {
                               "type": "object", "required": ["index", "field", "code", "message"],
                               "properties": {"index": {"type": "integer", "nullable": True,
                                                        "description": "from 0"},
                                              "key": {"type": "string", "nullable": True},
                                              "field": {"type": "string", "nullable": True},
                                              "code": {"type": "string"},
                                              "message": {"type": "string"}}}}}}}},
}
