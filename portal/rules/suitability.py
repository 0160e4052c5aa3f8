"""Product suitability (证券期货投资者适当性管理办法): may this client take this product, and on what terms?

Pure rules: standard library only. The check takes the product's risk level (R1–R5) and what the
client's suitability file says on the business date, and answers `allowed`, `warning` (a special risk
warning the client must confirm before the sale goes ahead) or `refused`, with the reasons as stable
codes and the figures they saw, plus the extra-care prompt for clients aged 65 and over on R4–R5.

The SPEC, and the edge cases it leaves open, decided here:
- Grade Cn may take products up to Rn; above Rn is a special risk warning (never a refusal on its own).
- No valid profile (none, or expired on the business date) → refused, for every client: the
  suitability file must exist before any product is recommended or sold, professionals included.
- The lowest risk-tolerance category may take R1 only (as the questionnaire's result page tells the
  client); anything above is refused outright, with no warning route. This flag also outranks the
  professional category: the client's own answer that they cannot bear any loss stands.
- A professional investor (with a valid profile) may take any risk level: allowed, no warning.
- The extra-care prompt (age ≥ 65 and R4–R5) never changes the outcome; it rides along with it.
- Age is in whole years on the business date; someone born on 29 February turns a year older on
  1 March in a common year.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portal.rules.calendar import whole_years
from portal.rules.vocabulary import GRADES, INVESTOR_CATEGORIES, RISK_LEVELS, level_name, max_level_of

OUTCOMES = ("allowed", "warning", "refused")
ELDERLY_AGE = 65
ELDERLY_LEVELS = (4, 5)

# Stable reason codes, stored with each record and translated where they are shown.
NO_VALID_PROFILE = "no_valid_profile"
LOWEST_CATEGORY = "lowest_category_above_level"
ABOVE_TOLERANCE = "above_risk_tolerance"
WITHIN_TOLERANCE = "within_risk_tolerance"
PROFESSIONAL = "professional_investor"
ELDERLY = "elderly_extra_care"
REASON_CODES = (NO_VALID_PROFILE, LOWEST_CATEGORY, ABOVE_TOLERANCE, WITHIN_TOLERANCE, PROFESSIONAL, ELDERLY)


@dataclass(frozen=True)
class SuitabilityCheck:
    """The outcome of one check, why, and whether the extra-care prompt applies."""

    outcome: str
    reasons: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    elderly_prompt: bool = False
    # The highest product risk level the client's file allows without a warning (None: no valid profile).
    max_level: int | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason["code"] for reason in self.reasons)


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day` (0 before the first birthday; never negative)."""
    if day < birth_date:
        raise ValueError(f"{day} is before the birth date {birth_date}")
    return whole_years(birth_date, day)


def elderly_prompt(age: int, product_level: int) -> bool:
    """The extra-care prompt: a client aged 65 or over taking an R4 or R5 product."""
    return age >= ELDERLY_AGE and product_level in ELDERLY_LEVELS


def _validate(product_level: Any, grade: Any, lowest_category: Any, investor_category: Any, age: Any) -> None:
    if isinstance(product_level, bool) or not isinstance(product_level, int) or product_level not in RISK_LEVELS:
        raise ValueError(f"product risk level must be an integer 1 to 5, not {product_level!r}")
    if grade is not None and grade not in GRADES:
        raise ValueError(f"grade must be one of {', '.join(GRADES)} or None, not {grade!r}")
    if not isinstance(lowest_category, bool):
        raise ValueError(f"lowest_category must be True or False, not {lowest_category!r}")
    if investor_category not in INVESTOR_CATEGORIES:
        raise ValueError(f"investor category must be ordinary or professional, not {investor_category!r}")
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 150:
        raise ValueError(f"age must be a whole number of years from 0 to 150, not {age!r}")


def check(product_level: int, grade: str | None, *, lowest_category: bool = False,
          investor_category: str = "ordinary", age: int) -> SuitabilityCheck:
    """Check one product against one client's suitability file as of the business date.

    `grade` is the grade of the profile valid on that date, or None when there is none (never
    assessed, or expired); `lowest_category` is that profile's flag.
    """
    _validate(product_level, grade, lowest_category, investor_category, age)
    level = level_name(product_level)
    prompt = elderly_prompt(age, product_level)
    extra = ({"code": ELDERLY, "age": age, "product_level": level},) if prompt else ()
    if grade is None:
        return SuitabilityCheck("refused", ({"code": NO_VALID_PROFILE, "product_level": level},) + extra, prompt)
    max_level = max_level_of(grade, lowest_category)
    figures = {"grade": grade, "product_level": level, "max_level": level_name(max_level)}
    if lowest_category and product_level > max_level:
        return SuitabilityCheck("refused", ({"code": LOWEST_CATEGORY, **figures},) + extra, prompt, max_level)
    if investor_category == "professional":
        return SuitabilityCheck("allowed", ({"code": PROFESSIONAL, **figures},) + extra, prompt, max_level)
    if product_level > max_level:
        return SuitabilityCheck("warning", ({"code": ABOVE_TOLERANCE, **figures},) + extra, prompt, max_level)
    return SuitabilityCheck("allowed", ({"code": WITHIN_TOLERANCE, **figures},) + extra, prompt, max_level)
