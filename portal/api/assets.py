"""Asset snapshots and monthly revenue over the API: JSON arrays of up to 10,000 rows, all or nothing.

A batch replaces the rows of the (client, date) / (client, month) pairs it carries, so a large
statistics date can arrive in several batches; the clients it touches are re-tiered at once.
"""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import allow, api_error
from portal.api import bp, json_response, refused_import
from portal.imports.assets import API_MAX_ROWS, ASSETS, REVENUE, ImportKind, ImportRejected, import_rows
from portal.json_input import load_json
from portal.unit_of_work import unit_of_work

IMPORTERS = ("admin", "compliance")


def _batch(kind: ImportKind):
    raw = request.get_data(cache=False)
    try:
        # Numbers are read as Decimal, never float: 0.1 must stay 0.1. Nesting and number range are
        # checked by the one JSON reader (JsonRefused answers 400 with its code).
        rows = load_json(raw, decimals=True, check_text=False)  # a NUL is named by its row
    except ValueError:  # JSONDecodeError, bad UTF-8
        return api_error(400, "invalid_json", _("The body is not valid JSON."))
    with unit_of_work(answer_here=(ImportRejected,)) as work:
        return json_response(import_rows(kind, rows, by_user=current_user).as_dict(), 201)
    return refused_import(work.error, API_MAX_ROWS, lambda p: {
        "index": p.line, "client_no": p.client_no, "field": p.field, "code": p.code, "message": p.message})


@bp.post("/asset-snapshots")
@allow(*IMPORTERS)
def import_asset_snapshots():
    """`[{"client_no", "date", "cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products"}]`"""
    return _batch(ASSETS)


@bp.post("/revenue-records")
@allow(*IMPORTERS)
def import_revenue_records():
    """`[{"client_no", "month", "net_commission", "other_income"}]`"""
    return _batch(REVENUE)


AMOUNT = {"oneOf": [{"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"}, {"type": "number", "minimum": 0}],
          "description": "yuan, at most 2 decimal places, not negative; a JSON number is read exactly"}
ROW_ERRORS = {"description": "Bad rows (nothing imported), or a body that is not a JSON array of rows",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportError"}}}}
TOO_MANY = {"description": f"More than {API_MAX_ROWS:,} rows",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _path(summary: str, row: str) -> dict:
    from portal.api.openapi import _errors, _ok

    return {"post": {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "array", "minItems": 1, "maxItems": API_MAX_ROWS,
            "items": {"$ref": f"#/components/schemas/{row}"}}}}},
        "responses": {**_ok({"$ref": "#/components/schemas/ImportResult"}, "Imported and re-tiered", "201"),
                      "400": ROW_ERRORS, **_errors(401, 403), "413": TOO_MANY}}}


PATHS: dict = {
    "/api/v1/asset-snapshots": _path(
        "Import asset snapshots (admin, compliance); each (client, date) carried replaces its earlier row, "
        "then those clients are re-tiered at those dates", "AssetSnapshotRow"),
    "/api/v1/revenue-records": _path(
        "Import monthly revenue (admin, compliance); each (client, month) carried replaces its earlier row, "
        "then those clients are re-tiered at every statistics date whose 12 months include the month",
        "RevenueRow"),
}
SCHEMAS: dict = {
    "AssetSnapshotRow": {
        "type": "object", "additionalProperties": False,
        "required": ["client_no", "date", *ASSETS.amounts],
        "properties": {"client_no": {"type": "string"},
                       "date": {"type": "string", "format": "date", "description": "statistics date, not after today"},
                       **{name: AMOUNT for name in ASSETS.amounts}}},
    "RevenueRow": {
        "type": "object", "additionalProperties": False,
        "required": ["client_no", "month", *REVENUE.amounts],
        "properties": {"client_no": {"type": "string"},
                       "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$",
                                 "description": "YYYY-MM, not after the current month"},
                       **{name: AMOUNT for name in REVENUE.amounts}}},
    "ImportResult": {
        "type": "object", "required": ["kind", "rows", "clients", "replaced", "retiered", "retier_dates"],
        "properties": {"kind": {"type": "string", "enum": ["assets", "revenue"]},
                       "rows": {"type": "integer"}, "clients": {"type": "integer"},
                       "dates": {"type": "array", "items": {"type": "string", "format": "date"}},
                       "months": {"type": "array", "items": {"type": "string"}},
                       "replaced": {"type": "integer", "description": "earlier rows of the same pairs replaced"},
                       "retiered": {"type": "integer", "description": "client tiers recomputed"},
                       "retier_dates": {"type": "array", "items": {"type": "string", "format": "date"}}}},
    "ImportError": {
        "type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string", "enum": ["invalid_rows", "invalid_json", "invalid_body",
                                                              "empty", "too_deeply_nested", "number_out_of_range",
                                                              "control_characters"]},
                           "field": {"type": "string"},
                           "message": {"type": "string"},
                           "rows": {"type": "array", "items": {
                               "type": "object", "required": ["index", "field", "message"],
                               "properties": {"index": {"type": "integer", "description": "from 0"},
                                              "client_no": {"type": "string", "nullable": True},
                                              "field": {"type": "string", "nullable": True},
                                              "code": {"type": "string"},
                                              "message": {"type": "string"}}}}}}}},
}
