"""The broker's calendar: the business time zone, the business day, month arithmetic and whole years.

Pure rules: standard library only. The broker does business in China, so "today", a profile's validity
and a suitability check's date are China (Asia/Shanghai) dates, while moments are stored in UTC; this
module is the one place that turns one into the other.
"""
from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_today() -> date:
    """Today's date where the broker does business (China), the date profiles are valid on."""
    return datetime.now(BUSINESS_TZ).date()


def business_date(moment: datetime) -> date:
    """The business (China) date of an aware moment."""
    return moment.astimezone(BUSINESS_TZ).date()


def start_of_business_day(day: date) -> datetime:
    """The UTC moment the business day `day` (Asia/Shanghai) begins; the day ends where `day + 1` begins."""
    return datetime.combine(day, time.min, BUSINESS_TZ).astimezone(UTC)


def end_of_business_day(day: date) -> datetime:
    """The UTC moment the business day `day` (Asia/Shanghai) ends."""
    return start_of_business_day(day + timedelta(days=1))


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier when negative), or that month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def months_between(start: date, end: date) -> int:
    """Whole calendar months completed from ``start`` to ``end`` (ValueError if end is before start).

    A month is complete when ``end`` reaches start's day of the month, or when ``end`` is the last day of
    its month and that month is too short to hold start's day: 2024-01-31 → 2024-02-29 is 1 month,
    2024-01-31 → 2024-02-28 is 0, 2024-02-29 → 2025-02-28 is 12.
    """
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day and not _is_month_end(end):
        months -= 1
    return months


def whole_years(start: date, end: date) -> int:
    """Whole years (周岁) from `start` to `end`; negative when `end` comes first.

    The anniversary is reached when (month, day) is no earlier than the start's: someone born on 29 February
    turns a year older on 1 March in a year without a 29 February (28 February still comes before it).
    """
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))
