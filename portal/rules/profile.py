"""Risk-profile validity: how long a profile is in force, when it counts as expiring, and retake limits.

Pure rules: standard library only. A profile takes effect on a business date and is in force to the end
of `valid_until`, the same day `validity_months` later (a questionnaire version's setting). The dates
are business (China) dates; see `portal/rules/calendar.py`.
"""
from __future__ import annotations

from datetime import date, timedelta

from portal.rules.calendar import business_today

# A profile's status on a date; "expiring" is valid but within EXPIRING_DAYS of its last valid day.
PROFILE_STATUSES = ("valid", "expiring", "expired", "none")
EXPIRING_DAYS = 30
# A grade raised within this many days of the previous submission is flagged for compliance.
RETAKE_RAISE_DAYS = 30

# A questionnaire version's settings: their defaults, and the most an administrator may set.
DEFAULT_VALIDITY_MONTHS = 24
VALIDITY_MONTHS_MAX = 120
DEFAULT_RETAKES_PER_DAY = 3
RETAKES_PER_DAY_MAX = 20


def has_valid_profile(valid_until: date | None, today: date | None = None) -> bool:
    """A profile counts (valid or expiring) until the end of its last valid day."""
    return valid_until is not None and valid_until >= (today or business_today())


def profile_status(valid_until: date | None, today: date | None = None) -> str:
    """valid / expiring (within 30 days) / expired / none."""
    if valid_until is None:
        return "none"
    today = today or business_today()
    if valid_until < today:
        return "expired"
    if valid_until <= today + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"
