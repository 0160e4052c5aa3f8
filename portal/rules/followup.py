"""Follow-up grades A-E and their cadence (SPEC Part C, seed section 客户等级划分).

A manager logs a follow-up with a new grade; the grade's cadence sets the next due date. Pure rules:
standard library only.

Readings of the specification:

- Cadences are counted from the day the follow-up is logged: A 1 day, B 7 days, C 15 days, D 30 days
  (plain day counts, so 31 January + 30 days is 2 March, or 1 March in a leap year).
- E is yearly as a calendar year: the same month and day next year. 29 February has no such day in
  the next year, so it falls on 28 February (the last day of that February, never spilling into March).
- A follow-up is overdue from the day after its due date; on the due date it is "today".
- Dates are calendar dates (``datetime.date``), not datetimes: the caller picks the day in the user's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType

GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")

DEFINITIONS: Mapping[str, str] = MappingProxyType(
    {
        "A": "Clear need; a deal is expected within 1 month.",
        "B": "Clear need; a deal is expected within 3 months.",
        "C": "Clear need; a deal is expected within 6 months.",
        "D": "Potential need, or a clear need but no deal expected within 6 months.",
        "E": 'No need and no chance of a deal (a "dead" client).',
    }
)

BUCKETS: tuple[str, ...] = ("overdue", "today", "this_week", "later")
THIS_WEEK_DAYS = 7


@dataclass(frozen=True)
class Cadence:
    """How long after a follow-up the next one is due: a number of days or of calendar years."""

    days: int = 0
    years: int = 0

    def after(self, day: date) -> date:
        """The due date this cadence sets for a follow-up logged on ``day``."""
        return _add_years(day, self.years) + timedelta(days=self.days)


CADENCES: Mapping[str, Cadence] = MappingProxyType(
    {
        "A": Cadence(days=1),
        "B": Cadence(days=7),
        "C": Cadence(days=15),
        "D": Cadence(days=30),
        "E": Cadence(years=1),
    }
)


def _add_years(day: date, years: int) -> date:
    if years == 0:
        return day
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # 29 February in a year without one: the last day of that February.
        return day.replace(year=day.year + years, day=28)


def _calendar_day(value: date, name: str) -> date:
    # datetime is a date subclass; refusing it keeps the UTC-versus-local day choice with the caller.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, got {type(value).__name__}")
    return value


def check_grade(grade: str) -> str:
    """Return ``grade`` if it is one of A-E, else raise ValueError."""
    if not isinstance(grade, str) or grade not in GRADES:
        raise ValueError(f"unknown follow-up grade {grade!r}; expected one of {', '.join(GRADES)}")
    return grade


def cadence(grade: str) -> Cadence:
    """The follow-up cadence of a grade."""
    return CADENCES[check_grade(grade)]


def definition(grade: str) -> str:
    """The English definition of a grade."""
    return DEFINITIONS[check_grade(grade)]


def next_due(grade: str, logged_on: date) -> date:
    """The date the next follow-up is due after one logged on ``logged_on`` with ``grade``."""
    return cadence(grade).after(_calendar_day(logged_on, "logged_on"))


def is_overdue(next_due: date, today: date) -> bool:
    """Whether a follow-up due on ``next_due`` is overdue on ``today`` (due date already past)."""
    return _calendar_day(next_due, "next_due") < _calendar_day(today, "today")


def bucket(next_due: date, today: date) -> str:
    """Dashboard bucket of a due date: overdue, today, this_week (the next 7 days) or later."""
    due = _calendar_day(next_due, "next_due")
    today = _calendar_day(today, "today")
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    if due <= today + timedelta(days=THIS_WEEK_DAYS):
        return "this_week"
    return "later"
