"""The domain's words: the codes the SPEC names, in their order, defined once for rules, models and pages.

Pure rules: standard library only. Models build their CHECK constraints from these tuples, rules validate
against them and pages list them in this order; labels for people live in `portal/formatting.py`.
"""
from __future__ import annotations

# --- clients: risk tolerance (seed 第五条) and product risk (证券期货投资者适当性管理办法) ---------------

# Risk-tolerance grades, lowest to highest.
GRADES: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5")
# The three risk classes the tier x class grid and the service packages use, and the class of each grade.
RISK_CLASSES: tuple[str, ...] = ("conservative", "balanced", "aggressive")
CLASS_OF_GRADE: dict[str, str] = {
    "C1": "conservative",
    "C2": "conservative",
    "C3": "balanced",
    "C4": "aggressive",
    "C5": "aggressive",
}
# Product risk levels: stored as 1–5, named R1–R5.
RISK_LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
PRODUCT_LEVELS: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R5")
# The lowest risk-tolerance category may take only the lowest-risk products.
LOWEST_CATEGORY_MAX_LEVEL = 1

INVESTOR_CATEGORIES: tuple[str, ...] = ("ordinary", "professional")
# How a client confirms a questionnaire result or a special risk warning: on screen, or on signed paper.
CONFIRMATION_METHODS: tuple[str, ...] = ("client", "paper")

# --- clients: value tiers (seed 第八条), best first ----------------------------------------------------

TIERS: tuple[int, ...] = (1, 2, 3, 4)

# --- relationship managers: the level ladder, lowest first -----------------------------------------------

LEVELS: tuple[str, ...] = ("junior", "mid", "senior", "principal")


def level_name(level: int) -> str:
    """A product risk level's name: 1 → "R1"."""
    return f"R{level}"


def max_level_of(grade: str, lowest_category: bool = False) -> int:
    """The highest product risk level a grade takes: Cn takes up to Rn; the lowest category R1 only."""
    if grade not in GRADES:
        raise ValueError(f"unknown grade {grade!r}; grades are {', '.join(GRADES)}")
    return LOWEST_CATEGORY_MAX_LEVEL if lowest_category else GRADES.index(grade) + 1
