"""Asset snapshots and monthly revenue over the API: JSON arrays of up to 10,000 rows, all or nothing.

A batch replaces the rows of the (client, date) / (client, month) pairs it carries, so a large
statistics date can arrive in several batches; the clients it touches are re-tiered at once.
"""
from __future__ import annotations

from typing import Literal

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ConfigDict, Field

from portal.access import allow, api_error
from portal.api import bp, refused_import
from portal.api.spec import Answer, Day, ErrorDetail, batch_import, operation, respond, row_model
from portal.imports.assets import API_MAX_ROWS, ASSETS, REVENUE, ImportKind, ImportRejected, import_rows
from portal.json_input import load_json
from portal.unit_of_work import unit_of_work

IMPORTERS = ("admin", "compliance")
AMOUNT = {"oneOf": [{"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"}, {"type": "number", "minimum": 0}],
          "description": "yuan, at most 2 decimal places, not negative; a JSON number is read exactly"}
AssetSnapshotRow = row_model("AssetSnapshotRow", {
    "client_no": {"type": "string"},
    "date": {"type": "string", "format": "date", "description": "statistics date, not after today"},
    **{name: AMOUNT for name in ASSETS.amounts}}, ASSETS.columns, "One client's assets at a statistics date.")
RevenueRow = row_model("RevenueRow", {
    "client_no": {"type": "string"},
    "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$",
              "description": "YYYY-MM, not after the current month"},
    **{name: AMOUNT for name in REVENUE.amounts}}, REVENUE.columns, "One client's revenue in a month.")


class ImportResult(Answer):
    kind: Literal["assets", "revenue"]
    rows: int
    clients: int
    dates: list[Day] = None
    months: list[str] = None
    replaced: int = Field(description="earlier rows of the same pairs replaced")
    retiered: int = Field(description="client tiers recomputed")
    retier_dates: list[Day]


class AssetBadRow(Answer):
    index: int = Field(description="from 0")
    client_no: str | None = None
    field: str | None
    code: str = None
    message: str


class ImportErrorDetail(ErrorDetail):
    code: Literal["invalid_rows", "invalid_json", "invalid_body", "empty", "too_deeply_nested", "number_out_of_range",
                  "control_characters"]
    rows: list[AssetBadRow] = None


class ImportError(Answer):  # noqa: A001 - the document's name for this answer
    model_config = ConfigDict(extra="forbid")
    error: ImportErrorDetail


def _batch(kind: ImportKind):
    raw = request.get_data(cache=False)
    try:
        # Numbers are read as Decimal, never float: 0.1 must stay 0.1. Nesting and number range are
        # checked by the one JSON reader (JsonRefused answers 400 with its code).
        rows = load_json(raw, decimals=True, check_text=False)  # a NUL is named by its row
    except ValueError:  # JSONDecodeError, bad UTF-8
        return api_error(400, "invalid_json", _("The body is not valid JSON."))
    with unit_of_work(answer_here=(ImportRejected,)) as work:
        return respond(ImportResult, import_rows(kind, rows, by_user=current_user).as_dict(), 201)
    return refused_import(work.error, API_MAX_ROWS, lambda p: {
        "index": p.line, "client_no": p.client_no, "field": p.field, "code": p.code, "message": p.message})


def _import_operation(summary: str, row) -> dict:
    return batch_import(summary, row, API_MAX_ROWS, answer=ImportResult, refusal=ImportError, status=201,
                        answered="Imported and re-tiered")


@bp.post("/asset-snapshots")
@allow(*IMPORTERS)
@operation(**_import_operation("Import asset snapshots (admin, compliance); each (client, date) carried replaces "
                               "its earlier row, then those clients are re-tiered at those dates", AssetSnapshotRow))
def import_asset_snapshots():
    """`[{"client_no", "date", "cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products"}]`"""
    return _batch(ASSETS)


@bp.post("/revenue-records")
@allow(*IMPORTERS)
@operation(**_import_operation("Import monthly revenue (admin, compliance); each (client, month) carried "
                               "replaces its earlier row, then those clients are re-tiered at every statistics date "
                               "whose 12 months include the month", RevenueRow))
def import_revenue_records():
    """`[{"client_no", "month", "net_commission", "other_income"}]`"""
    return _batch(REVENUE)
