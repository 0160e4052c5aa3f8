"""Impact previews of rule changes over the API: what saving would do, computed now, nothing written."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from portal.access import allow
from portal.api import ApiInputError, bp
from portal.operations.previews import ladder_values, preview_thresholds

AMOUNT = {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$", "description": "yuan, at most 2 decimals"}


@bp.post("/tier-thresholds/preview")
@allow("admin", "compliance")
def tier_thresholds_preview():
    """The tier transitions the proposed thresholds would cause at the latest statistics date."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "thresholds" not in body:
        raise ApiInputError(_('The body must be {"thresholds": [{"tier": 1, "min_assets": "...", '
                              '"min_contribution": "..."}, ...]}.'), "thresholds", "invalid_thresholds")
    preview = preview_thresholds(ladder_values(body["thresholds"]), with_packages=False)  # OperationError: 400
    return {
        "as_of": preview.as_of.isoformat() if preview.as_of else None,
        "total_clients": preview.total_clients,
        "moved": preview.moved,
        "transitions": [{"from_tier": t.source, "to_tier": t.target, "clients": t.clients, "assets": str(t.assets)}
                        for t in preview.transitions if t.clients],
    }


PATHS: dict = {
    "/api/v1/tier-thresholds/preview": {"post": {
        "summary": "Preview new tier thresholds (admin, compliance): the tier transitions they would cause at the "
                   "latest statistics date, computed by the re-tier's own SQL; nothing is saved",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["thresholds"],
            "properties": {"thresholds": {"type": "array", "minItems": 4, "maxItems": 4,
                                          "items": {"$ref": "#/components/schemas/TierThreshold"}}}}}}},
        "responses": {"200": {"description": "The transitions", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/TierPreview"}}}},
            **{str(code): {"description": text, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"}}}} for code, text in (
                (400, "A bad ladder, with the page's message"), (401, "No valid bearer token"),
                (403, "Not allowed for this role"))}}}},
}
SCHEMAS: dict = {
    "TierThreshold": {"type": "object", "required": ["tier", "min_assets", "min_contribution"],
                      "properties": {"tier": {"type": "integer", "minimum": 1, "maximum": 4},
                                     "min_assets": AMOUNT, "min_contribution": AMOUNT}},
    "TierPreview": {
        "type": "object", "required": ["as_of", "total_clients", "moved", "transitions"],
        "properties": {
            "as_of": {"type": "string", "format": "date", "nullable": True,
                      "description": "the latest statistics date (null: no asset snapshot is held)"},
            "total_clients": {"type": "integer", "description": "clients holding a snapshot at that date"},
            "moved": {"type": "integer", "description": "clients whose tier would change"},
            "transitions": {"type": "array", "items": {
                "type": "object", "required": ["from_tier", "to_tier", "clients", "assets"],
                "properties": {"from_tier": {"type": "integer", "nullable": True,
                                             "description": "the tier held at the date (null: none yet)"},
                               "to_tier": {"type": "integer"}, "clients": {"type": "integer"},
                               "assets": {"type": "string", "format": "decimal"}}}}}},
}
