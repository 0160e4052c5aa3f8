"""Impact previews of rule changes over the API: what saving would do, computed now, nothing written."""
from __future__ import annotations

from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import BeforeValidator, ConfigDict, Field

from portal.access import allow
from portal.api import bp
from portal.api.spec import Answer, Body, Day, Money, described, operation, read_body, respond
from portal.operations.previews import ladder_values, preview_thresholds

# The amounts are checked by the tier ladder's own rules, the same as on the thresholds page.
AMOUNT = Annotated[Any, described({"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$",
                                   "description": "yuan, at most 2 decimals"})]


class TierThreshold(Body):
    model_config = ConfigDict(json_schema_extra={"required": ["tier", "min_assets", "min_contribution"]})
    tier: int = Field(ge=1, le=4)
    min_assets: AMOUNT = None
    min_contribution: AMOUNT = None


def _ladder(thresholds):
    ladder_values(thresholds)  # a list of each tier once, or the page's refusal (OperationError)
    return thresholds


class Thresholds(Body):
    """`{"thresholds": [{"tier": 1, "min_assets": "...", "min_contribution": "..."}, ...]}`"""

    thresholds: Annotated[list[TierThreshold], Field(min_length=4, max_length=4), BeforeValidator(_ladder)]
    shape = (lambda: _('The body must be {"thresholds": [{"tier": 1, "min_assets": "...", '
                       '"min_contribution": "..."}, ...]}.'), "thresholds", "invalid_thresholds")


class Transition(Answer):
    from_tier: int | None = Field(description="the tier held at the date (null: none yet)")
    to_tier: int
    clients: int
    assets: Money


class TierPreview(Answer):
    as_of: Day | None = Field(description="the latest statistics date (null: no asset snapshot is held)")
    total_clients: int = Field(description="clients holding a snapshot at that date")
    moved: int = Field(description="clients whose tier would change")
    transitions: list[Transition]


@bp.post("/tier-thresholds/preview")
@allow("admin", "compliance")
@operation("Preview new tier thresholds (admin, compliance): the tier transitions they would cause at the latest "
           "statistics date, computed by the re-tier's own SQL; nothing is saved", body=Thresholds,
           answer=TierPreview, answered="The transitions", errors=(400, 401, 403))
def tier_thresholds_preview():
    """The tier transitions the proposed thresholds would cause at the latest statistics date."""
    body = read_body(Thresholds)
    ladder = ladder_values([item.model_dump() for item in body.thresholds])
    preview = preview_thresholds(ladder, with_packages=False)  # OperationError: 400
    return respond(TierPreview, {
        "as_of": preview.as_of,
        "total_clients": preview.total_clients,
        "moved": preview.moved,
        "transitions": [{"from_tier": t.source, "to_tier": t.target, "clients": t.clients, "assets": t.assets}
                        for t in preview.transitions if t.clients],
    })
