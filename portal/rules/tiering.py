"""Value tiers (seed 第八条) and the twelve tier x risk-class cells mapped to service packages (seed 第六条).

Pure rules: standard library only. Money is Decimal throughout; a float is refused rather than rounded.
A client reaches a tier when either measure meets that tier's threshold (assets OR contribution), and
takes the best tier reached. `tier_case_sql` states the same rule as one SQL CASE expression so the
database can tier every client at a statistics date in a single statement.

Service packages are the three service grades of the seed's wealth account (玖天财富账户): we name them
Premier 尊享版, Advantage 优享版 and Essential 基础版, from the richest service to the basic one.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from portal.rules.calendar import add_months
from portal.rules.vocabulary import RISK_CLASSES, TIERS

PACKAGES = ("premier", "advantage", "essential")
PACKAGE_NAMES = {
    "premier": {"zh_CN": "尊享版", "en": "Premier"},
    "advantage": {"zh_CN": "优享版", "en": "Advantage"},
    "essential": {"zh_CN": "基础版", "en": "Essential"},
}
RISK_CLASS_NAMES = {
    "conservative": {"zh_CN": "保守型", "en": "Conservative"},
    "balanced": {"zh_CN": "稳健型", "en": "Balanced"},
    "aggressive": {"zh_CN": "进取型", "en": "Aggressive"},
}
_PACKAGE_OF_TIER = {1: "premier", 2: "advantage", 3: "essential", 4: "essential"}
DEFAULT_PACKAGE_OF_CELL = {
    (tier, risk_class): _PACKAGE_OF_TIER[tier] for tier in TIERS for risk_class in RISK_CLASSES
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


class ThresholdError(ValueError):
    """A set of tier thresholds is not a usable ladder; the message says why."""


@dataclass(frozen=True)
class TierThreshold:
    """The least total assets, or the least 12-month contribution, that reaches a tier (CNY)."""

    tier: int
    min_assets: Decimal
    min_contribution: Decimal


DEFAULT_THRESHOLDS = (
    TierThreshold(1, Decimal("5000000.00"), Decimal("50000.00")),
    TierThreshold(2, Decimal("1000000.00"), Decimal("10000.00")),
    TierThreshold(3, Decimal("100000.00"), Decimal("2000.00")),
    TierThreshold(4, Decimal("0.00"), Decimal("0.00")),
)


def _money(value: object, name: str) -> Decimal:
    # Floats are refused: 0.1 + 0.2 must never decide a client's tier.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite amount, not {amount}")
    return amount


def validate_thresholds(thresholds: Iterable[TierThreshold]) -> tuple[TierThreshold, ...]:
    """Check a threshold ladder and return it sorted by tier; raise ThresholdError if it is unusable."""
    ladder = tuple(sorted(thresholds, key=lambda t: t.tier))
    tiers = tuple(t.tier for t in ladder)
    if tiers != TIERS:
        raise ThresholdError(f"thresholds must give tiers 1, 2, 3 and 4 exactly once each, got {tiers}")
    for threshold in ladder:
        for name in ("min_assets", "min_contribution"):
            value = getattr(threshold, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ThresholdError(f"tier {threshold.tier} {name} must be a finite Decimal, got {value!r}")
            if value < 0:
                raise ThresholdError(f"tier {threshold.tier} {name} must not be negative, got {value}")
    for higher, lower in pairwise(ladder):
        for name in ("min_assets", "min_contribution"):
            if getattr(higher, name) <= getattr(lower, name):
                raise ThresholdError(
                    f"{name} must fall strictly from tier to tier, but tier {higher.tier} needs "
                    f"{getattr(higher, name)} and tier {lower.tier} needs {getattr(lower, name)}"
                )
    last = ladder[-1]
    if last.min_assets != 0 or last.min_contribution != 0:
        raise ThresholdError("tier 4 takes every remaining client, so its thresholds must both be 0")
    return ladder


def month_start(day: date) -> date:
    """The first day of `day`'s month (revenue records are keyed by it)."""
    return day.replace(day=1)


def contribution_window(day: date) -> tuple[date, date]:
    """The first and last month (first days) of the 12 calendar months ending with `day`'s month."""
    last = month_start(day)
    return add_months(last, -11), last


def tier_for(
    total_assets: Decimal, contribution_12m: Decimal, thresholds: Iterable[TierThreshold] = DEFAULT_THRESHOLDS
) -> int:
    """The best tier whose assets threshold or contribution threshold the client meets."""
    assets = _money(total_assets, "total_assets")
    contribution = _money(contribution_12m, "contribution_12m")
    for threshold in validate_thresholds(thresholds):
        if assets >= threshold.min_assets or contribution >= threshold.min_contribution:
            return threshold.tier
    # Only a negative amount on both measures gets here (e.g. a net rebate); it is still the lowest tier.
    return TIERS[-1]


def total_assets(
    cash: Decimal,
    a_shares: Decimal,
    b_shares: Decimal,
    funds: Decimal,
    warrants: Decimal,
    bonds: Decimal,
    collective_products: Decimal,
) -> Decimal:
    """Total assets at a statistics date: cash, A and B shares, funds, warrants, bonds, collective products."""
    parts = {
        "cash": cash,
        "a_shares": a_shares,
        "b_shares": b_shares,
        "funds": funds,
        "warrants": warrants,
        "bonds": bonds,
        "collective_products": collective_products,
    }
    return sum((_money(value, name) for name, value in parts.items()), Decimal(0))


def tier_case_sql(
    assets_col: str,
    contribution_col: str,
    thresholds: Iterable[TierThreshold] = DEFAULT_THRESHOLDS,
    param_prefix: str = "t",
) -> tuple[str, dict[str, Decimal]]:
    """A dialect-neutral SQL CASE expression giving each row's tier, with its named bind parameters."""
    # Column names are spliced into the SQL, so only plain or table-qualified identifiers are accepted.
    for name, column in (("assets_col", assets_col), ("contribution_col", contribution_col)):
        if not _IDENTIFIER.fullmatch(column):
            raise ValueError(f"{name} must be a column name such as snapshot.total_assets, not {column!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", param_prefix):
        raise ValueError(f"param_prefix must be an identifier, not {param_prefix!r}")
    ladder = validate_thresholds(thresholds)
    params: dict[str, Decimal] = {}
    branches = []
    # A NULL measure compares as unknown, i.e. "not met"; a row with neither measure falls to ELSE.
    for threshold in ladder[:-1]:
        assets_param = f"{param_prefix}{threshold.tier}_assets"
        contribution_param = f"{param_prefix}{threshold.tier}_contribution"
        params[assets_param] = threshold.min_assets
        params[contribution_param] = threshold.min_contribution
        branches.append(
            f"WHEN {assets_col} >= :{assets_param} OR {contribution_col} >= :{contribution_param} "
            f"THEN {threshold.tier}"
        )
    return f"CASE {' '.join(branches)} ELSE {ladder[-1].tier} END", params


def validate_package_of_cell(package_of_cell: Mapping[tuple[int, str], str]) -> None:
    """Raise ValueError unless every one of the twelve cells maps to a known package."""
    cells = {(tier, risk_class) for tier in TIERS for risk_class in RISK_CLASSES}
    missing = sorted(cells - set(package_of_cell))
    if missing:
        raise ValueError(f"cells without a service package: {missing}")
    extra = sorted(set(package_of_cell) - cells, key=repr)
    if extra:
        raise ValueError(f"unknown cells: {extra}")
    unknown = sorted({package for package in package_of_cell.values() if package not in PACKAGES})
    if unknown:
        raise ValueError(f"unknown service packages: {unknown}; packages are {', '.join(PACKAGES)}")


def package_for(
    tier: int, risk_class: str, package_of_cell: Mapping[tuple[int, str], str] = DEFAULT_PACKAGE_OF_CELL
) -> str:
    """The service package of a tier x risk-class cell."""
    try:
        return package_of_cell[(tier, risk_class)]
    except KeyError:
        raise ValueError(f"no service package for tier {tier!r} and risk class {risk_class!r}") from None
