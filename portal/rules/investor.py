"""Professional-investor criteria (SPEC Part B, "Investor category") checked against the figures held.

Pure rules: standard library and ``decimal`` only. A natural person qualifies as professional with
financial assets of at least 5,000,000 CNY, or an average annual income of at least 500,000 CNY over
three years, together with at least two years of investment experience. Each criterion is met, not met,
or has no data: the portal never guesses what it does not hold (it holds no income figures). Overall:
not met when experience is not met or both means are not met; met when experience and one means are
met; otherwise no data, and compliance decides on the client's evidence.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from portal.rules.calendar import add_months, whole_years

ASSET_THRESHOLD = Decimal(5000000)
INCOME_THRESHOLD = Decimal(500000)
EXPERIENCE_YEARS = 2
MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"


def assess(assets: tuple[Decimal, date | None] | None, opened_on: date | None,
          today: date) -> dict[str, Any]:
    """Each criterion with the figure held and met / not_met / no_data, plus the overall result.

    `assets` is (total assets, statistics date) of the newest snapshot, or None when none is held;
    experience counts from the account's opening date `opened_on`.
    """
    if assets is None:
        asset_check = {"status": NO_DATA, "value": None, "as_of": None}
    else:
        value, as_of = assets
        asset_check = {"status": MET if value >= ASSET_THRESHOLD else NOT_MET, "value": str(value),
                       "as_of": as_of.isoformat() if isinstance(as_of, date) else None}
    asset_check["threshold"] = str(ASSET_THRESHOLD)
    # The portal holds no income figures: the client brings evidence to the branch.
    income_check = {"status": NO_DATA, "value": None, "threshold": str(INCOME_THRESHOLD)}
    since = add_months(today, -12 * EXPERIENCE_YEARS)
    experience_check = {
        "status": MET if opened_on is not None and opened_on <= since else NOT_MET,
        "opened_on": opened_on.isoformat() if opened_on else None,
        "years": max(whole_years(opened_on, today), 0) if opened_on else 0,
        "required_years": EXPERIENCE_YEARS,
    }
    means = {asset_check["status"], income_check["status"]}
    if experience_check["status"] == NOT_MET or means == {NOT_MET}:
        overall = NOT_MET
    elif MET in means:
        overall = MET
    else:
        overall = NO_DATA
    return {"assets": asset_check, "income": income_check, "experience": experience_check, "overall": overall,
            "checked_on": today.isoformat()}
