"""Product suitability: the pure check, table-tested on every outcome and boundary."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules.suitability import (
    ABOVE_TOLERANCE,
    ELDERLY,
    LOWEST_CATEGORY,
    NO_VALID_PROFILE,
    PROFESSIONAL,
    WITHIN_TOLERANCE,
    age_on,
    check,
    elderly_prompt,
)
from portal.rules.vocabulary import GRADES, max_level_of

# (product level, grade, lowest category, investor category, age) → (outcome, reason codes, elderly prompt)
CASES = [
    # Cn takes up to Rn: the boundary on each side, for every grade
    (1, "C1", False, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    (2, "C1", False, "ordinary", 40, "warning", (ABOVE_TOLERANCE,), False),
    (2, "C2", False, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    (3, "C2", False, "ordinary", 40, "warning", (ABOVE_TOLERANCE,), False),
    (3, "C3", False, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    (4, "C3", False, "ordinary", 40, "warning", (ABOVE_TOLERANCE,), False),
    (5, "C3", False, "ordinary", 40, "warning", (ABOVE_TOLERANCE,), False),
    (4, "C4", False, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    (5, "C4", False, "ordinary", 40, "warning", (ABOVE_TOLERANCE,), False),
    (5, "C5", False, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    (1, "C5", False, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    # the lowest risk-tolerance category: R1 only, anything above refused outright
    (1, "C1", True, "ordinary", 40, "allowed", (WITHIN_TOLERANCE,), False),
    (2, "C1", True, "ordinary", 40, "refused", (LOWEST_CATEGORY,), False),
    (5, "C1", True, "ordinary", 40, "refused", (LOWEST_CATEGORY,), False),
    (2, "C2", True, "ordinary", 40, "refused", (LOWEST_CATEGORY,), False),  # the flag, not the grade, decides
    # no valid profile: refused, whatever the product
    (1, None, False, "ordinary", 40, "refused", (NO_VALID_PROFILE,), False),
    (5, None, False, "ordinary", 40, "refused", (NO_VALID_PROFILE,), False),
    # professional investors take any level, but still need a valid file; the lowest category still binds
    (5, "C1", False, "professional", 40, "allowed", (PROFESSIONAL,), False),
    (5, "C3", False, "professional", 40, "allowed", (PROFESSIONAL,), False),
    (1, None, False, "professional", 40, "refused", (NO_VALID_PROFILE,), False),
    (5, None, False, "professional", 40, "refused", (NO_VALID_PROFILE,), False),
    (2, "C1", True, "professional", 40, "refused", (LOWEST_CATEGORY,), False),
    (1, "C1", True, "professional", 40, "allowed", (PROFESSIONAL,), False),
    # the extra-care prompt: 65 and over, R4–R5; it never changes the outcome
    (4, "C3", False, "ordinary", 65, "warning", (ABOVE_TOLERANCE, ELDERLY), True),
    (4, "C3", False, "ordinary", 64, "warning", (ABOVE_TOLERANCE,), False),
    (3, "C3", False, "ordinary", 65, "allowed", (WITHIN_TOLERANCE,), False),
    (3, "C3", False, "ordinary", 64, "allowed", (WITHIN_TOLERANCE,), False),
    (4, "C4", False, "ordinary", 65, "allowed", (WITHIN_TOLERANCE, ELDERLY), True),
    (5, "C5", False, "ordinary", 90, "allowed", (WITHIN_TOLERANCE, ELDERLY), True),
    (5, "C2", False, "professional", 70, "allowed", (PROFESSIONAL, ELDERLY), True),
    (4, None, False, "ordinary", 80, "refused", (NO_VALID_PROFILE, ELDERLY), True),
    (4, "C1", True, "ordinary", 66, "refused", (LOWEST_CATEGORY, ELDERLY), True),
]


@pytest.mark.parametrize("level, grade, lowest, category, age, outcome, codes, prompt", CASES)
def test_check(level, grade, lowest, category, age, outcome, codes, prompt):
    result = check(level, grade, lowest_category=lowest, investor_category=category, age=age)
    assert (result.outcome, result.codes, result.elderly_prompt) == (outcome, codes, prompt)


def test_reasons_carry_the_figures():
    result = check(4, "C3", investor_category="ordinary", age=66)
    assert result.reasons == (
        {"code": ABOVE_TOLERANCE, "grade": "C3", "product_level": "R4", "max_level": "R3"},
        {"code": ELDERLY, "age": 66, "product_level": "R4"},
    )
    assert result.max_level == 3
    lowest = check(3, "C1", lowest_category=True, age=30)
    assert lowest.reasons[0] == {"code": LOWEST_CATEGORY, "grade": "C1", "product_level": "R3", "max_level": "R1"}
    assert check(2, None, age=30).reasons == ({"code": NO_VALID_PROFILE, "product_level": "R2"},)
    assert check(2, None, age=30).max_level is None


@pytest.mark.parametrize("birth, day, age", [
    (date(1961, 6, 15), date(2026, 6, 15), 65),  # the 65th birthday itself
    (date(1961, 6, 15), date(2026, 6, 14), 64),  # the day before
    (date(1961, 6, 15), date(2026, 12, 31), 65),
    (date(1960, 2, 29), date(2025, 2, 28), 64),  # a 29 February birthday in a common year: 1 March
    (date(1960, 2, 29), date(2025, 3, 1), 65),
    (date(1960, 2, 29), date(2024, 2, 29), 64),
    (date(2000, 1, 1), date(2000, 1, 1), 0),
])
def test_age_on(birth, day, age):
    assert age_on(birth, day) == age


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


@pytest.mark.parametrize("kwargs", [
    {"product_level": 0}, {"product_level": 6}, {"product_level": True}, {"product_level": "R3"},
    {"product_level": 3.0}, {"grade": "C6"}, {"grade": "c3"}, {"grade": ""}, {"lowest_category": None},
    {"investor_category": "retail"}, {"age": -1}, {"age": 200}, {"age": 65.5}, {"age": True},
])
def test_bad_input_is_refused(kwargs):
    args = {"product_level": 3, "grade": "C3", "lowest_category": False, "investor_category": "ordinary", "age": 40}
    args.update(kwargs)
    level = args.pop("product_level")
    grade = args.pop("grade")
    with pytest.raises(ValueError):
        check(level, grade, **args)


def test_max_level_and_prompt_helpers():
    assert [max_level_of(g) for g in GRADES] == [1, 2, 3, 4, 5]
    assert max_level_of("C4", lowest_category=True) == 1
    with pytest.raises(ValueError):
        max_level_of("R3")
    assert elderly_prompt(65, 4) and elderly_prompt(65, 5) and not elderly_prompt(65, 3)
    assert not elderly_prompt(64, 5)


@given(level=st.integers(1, 5), grade=st.sampled_from((None, *GRADES)), lowest=st.booleans(),
       category=st.sampled_from(("ordinary", "professional")), age=st.integers(18, 110))
def test_properties(level, grade, lowest, category, age):
    result = check(level, grade, lowest_category=lowest, investor_category=category, age=age)
    # a refusal only ever comes from a missing file or the lowest category
    if result.outcome == "refused":
        assert grade is None or (lowest and level > 1)
    # a warning only for an ordinary investor above their grade
    if result.outcome == "warning":
        assert category == "ordinary" and grade is not None and level > int(grade[1]) and not lowest
    # within one's grade, with a valid file and not barred by the lowest category, is always allowed
    if grade is not None and level <= int(grade[1]) and not (lowest and level > 1):
        assert result.outcome == "allowed"
    assert result.elderly_prompt == (age >= 65 and level >= 4)
    assert (ELDERLY in result.codes) == result.elderly_prompt
