"""The business calendar, profile validity and the professional-investor criteria as pure rules."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.rules import investor
from portal.rules.calendar import add_months, business_date, end_of_business_day, start_of_business_day, whole_years
from portal.rules.profile import has_valid_profile, profile_status
from portal.rules.vocabulary import GRADES, PRODUCT_LEVELS, RISK_LEVELS, level_name, max_level_of


def test_a_business_day_runs_from_midnight_to_midnight_china_time():
    assert start_of_business_day(date(2026, 3, 1)) == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end_of_business_day(date(2026, 3, 1)) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert business_date(datetime(2026, 2, 28, 16, 0, tzinfo=UTC)) == date(2026, 3, 1)
    assert business_date(datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC)) == date(2026, 2, 28)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2024, 2, 29), -24, date(2022, 2, 28)),
    (date(2026, 1, 15), -1, date(2025, 12, 15)),
    (date(2026, 12, 31), 0, date(2026, 12, 31)),
])
def test_add_months_keeps_the_day_or_takes_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("start", "end", "years"), [
    (date(2000, 2, 29), date(2001, 2, 28), 0),
    (date(2000, 2, 29), date(2001, 3, 1), 1),
    (date(1961, 12, 3), date(2026, 12, 3), 65),
    (date(2026, 1, 2), date(2026, 1, 1), -1),
])
def test_whole_years(start, end, years):
    assert whole_years(start, end) == years


@pytest.mark.parametrize(("valid_until", "status"), [
    (None, "none"),
    (date(2026, 5, 31), "expired"),
    (date(2026, 6, 1), "expiring"),
    (date(2026, 7, 1), "expiring"),
    (date(2026, 7, 2), "valid"),
])
def test_profile_status_and_validity(valid_until, status):
    today = date(2026, 6, 1)
    assert profile_status(valid_until, today) == status
    assert has_valid_profile(valid_until, today) == (status in ("valid", "expiring"))


def test_cn_takes_up_to_rn():
    assert [PRODUCT_LEVELS[max_level_of(grade) - 1] for grade in GRADES] == list(PRODUCT_LEVELS)
    assert [level_name(level) for level in RISK_LEVELS] == list(PRODUCT_LEVELS)
    assert max_level_of("C5", lowest_category=True) == 1


@pytest.mark.parametrize(("assets", "opened_on", "overall"), [
    ((Decimal("5000000"), date(2026, 5, 31)), date(2024, 6, 1), "met"),
    ((Decimal("4999999.99"), date(2026, 5, 31)), date(2024, 6, 1), "no_data"),  # income may still qualify
    ((Decimal("5000000"), date(2026, 5, 31)), date(2024, 6, 2), "not_met"),  # a day short of two years
    (None, date(2020, 1, 1), "no_data"),
    (None, None, "not_met"),
])
def test_professional_investor_criteria(assets, opened_on, overall):
    checks = investor.assess(assets, opened_on, date(2026, 6, 1))
    assert checks["overall"] == overall
    assert checks["assets"]["threshold"] == "5000000" and checks["income"]["status"] == "no_data"
