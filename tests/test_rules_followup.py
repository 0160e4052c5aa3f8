"""Follow-up grades A-E and their cadence (SPEC Part C)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules.followup import (
    BUCKETS,
    CADENCES,
    DEFINITIONS,
    GRADES,
    Cadence,
    bucket,
    cadence,
    definition,
    is_overdue,
    next_due,
)


def test_grades_definitions_and_cadences_cover_each_other() -> None:
    assert GRADES == ("A", "B", "C", "D", "E")
    assert tuple(DEFINITIONS) == GRADES
    assert tuple(CADENCES) == GRADES
    assert "1 month" in DEFINITIONS["A"]
    assert "3 months" in DEFINITIONS["B"]
    assert "6 months" in DEFINITIONS["C"]
    assert "Potential need" in DEFINITIONS["D"]
    assert "dead" in DEFINITIONS["E"]
    assert definition("E") == DEFINITIONS["E"]
    assert [cadence(grade) for grade in GRADES] == [
        Cadence(days=1),
        Cadence(days=7),
        Cadence(days=15),
        Cadence(days=30),
        Cadence(years=1),
    ]


@pytest.mark.parametrize(
    ("grade", "logged_on", "due"),
    [
        ("A", date(2026, 3, 10), date(2026, 3, 11)),
        ("A", date(2026, 12, 31), date(2027, 1, 1)),
        ("A", date(2027, 2, 28), date(2027, 3, 1)),
        ("A", date(2028, 2, 28), date(2028, 2, 29)),
        ("A", date(2028, 2, 29), date(2028, 3, 1)),
        ("B", date(2026, 3, 10), date(2026, 3, 17)),
        ("B", date(2026, 12, 28), date(2027, 1, 4)),
        ("C", date(2026, 1, 20), date(2026, 2, 4)),
        ("C", date(2027, 2, 20), date(2027, 3, 7)),
        ("C", date(2028, 2, 20), date(2028, 3, 6)),
        ("D", date(2026, 1, 31), date(2026, 3, 2)),
        ("D", date(2028, 1, 31), date(2028, 3, 1)),
        ("D", date(2026, 12, 15), date(2027, 1, 14)),
        ("E", date(2026, 3, 10), date(2027, 3, 10)),
        ("E", date(2026, 12, 31), date(2027, 12, 31)),
        ("E", date(2027, 2, 28), date(2028, 2, 28)),
        ("E", date(2027, 3, 1), date(2028, 3, 1)),
        ("E", date(2028, 2, 29), date(2029, 2, 28)),
        ("E", date(2028, 3, 1), date(2029, 3, 1)),
    ],
    ids=[
        "A next day",
        "A over new year",
        "A 2027-02-28 to March",
        "A 2028-02-28 to leap day",
        "A leap day to March",
        "B a week",
        "B over new year",
        "C within a month",
        "C over February 2027",
        "C over February 2028",
        "D Jan 31 + 30 days",
        "D Jan 31 + 30 days leap year",
        "D over new year",
        "E same day next year",
        "E new year's eve",
        "E 28 Feb before leap year",
        "E 1 March before leap year",
        "E leap day to 28 Feb",
        "E 1 March after leap day",
    ],
)
def test_next_due(grade: str, logged_on: date, due: date) -> None:
    assert next_due(grade, logged_on) == due


@pytest.mark.parametrize(
    "grade", ["F", "a", "", " A", None, 1], ids=["F", "lowercase", "empty", "space", "None", "int"]
)
def test_unknown_grade_is_a_value_error(grade: object) -> None:
    with pytest.raises(ValueError, match="unknown follow-up grade"):
        next_due(grade, date(2026, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        definition(grade)  # type: ignore[arg-type]


def test_datetimes_are_refused() -> None:
    with pytest.raises(TypeError):
        next_due("A", datetime(2026, 1, 1, 12, 0))
    with pytest.raises(TypeError):
        bucket(date(2026, 1, 1), datetime(2026, 1, 1))


TODAY = date(2026, 1, 28)


@pytest.mark.parametrize(
    ("due", "expected", "overdue"),
    [
        (TODAY - timedelta(days=365), "overdue", True),
        (TODAY - timedelta(days=1), "overdue", True),
        (TODAY, "today", False),
        (TODAY + timedelta(days=1), "this_week", False),
        (TODAY + timedelta(days=4), "this_week", False),
        (TODAY + timedelta(days=7), "this_week", False),
        (TODAY + timedelta(days=8), "later", False),
        (TODAY + timedelta(days=400), "later", False),
    ],
    ids=["a year ago", "yesterday", "today", "tomorrow", "over month end", "in 7 days", "in 8 days", "next year"],
)
def test_bucket_edges(due: date, expected: str, overdue: bool) -> None:
    assert bucket(due, TODAY) == expected
    assert is_overdue(due, TODAY) is overdue


@given(st.sampled_from(GRADES), st.dates(min_value=date(1901, 1, 1), max_value=date(9000, 12, 31)))
def test_next_due_is_in_the_future_and_never_overdue_when_logged(grade: str, logged_on: date) -> None:
    due = next_due(grade, logged_on)
    assert logged_on < due <= logged_on + timedelta(days=366)
    assert bucket(due, logged_on) in BUCKETS
    assert not is_overdue(due, logged_on)
    assert is_overdue(due, due + timedelta(days=1))
    assert bucket(due, due) == "today"


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9000, 12, 31)))
def test_yearly_cadence_keeps_month_and_day(logged_on: date) -> None:
    due = next_due("E", logged_on)
    assert due.year == logged_on.year + 1
    if (logged_on.month, logged_on.day) == (2, 29):
        assert (due.month, due.day) == (2, 28)
    else:
        assert (due.month, due.day) == (logged_on.month, logged_on.day)
