"""Value tiers, their SQL CASE twin, and the twelve tier x risk-class cells."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules.tiering import (
    DEFAULT_PACKAGE_OF_CELL,
    DEFAULT_THRESHOLDS,
    PACKAGE_NAMES,
    PACKAGES,
    RISK_CLASS_NAMES,
    ThresholdError,
    TierThreshold,
    package_for,
    tier_case_sql,
    tier_for,
    total_assets,
    validate_package_of_cell,
    validate_thresholds,
)
from portal.rules.vocabulary import RISK_CLASSES, TIERS

D = Decimal

# (total assets, 12-month contribution, tier) on the default thresholds.
EDGE_CASES = [
    # assets alone
    ("5000000.00", "0", 1),
    ("4999999.99", "0", 2),
    ("1000000.00", "0", 2),
    ("999999.99", "0", 3),
    ("100000.00", "0", 3),
    ("99999.99", "0", 4),
    ("0", "0", 4),
    # contribution alone
    ("0", "50000.00", 1),
    ("0", "49999.99", 2),
    ("0", "10000.00", 2),
    ("0", "9999.99", 3),
    ("0", "2000.00", 3),
    ("0", "1999.99", 4),
    # either measure reaches the tier; the better one wins
    ("5000000.00", "1999.99", 1),
    ("99999.99", "50000.00", 1),
    ("100000.00", "10000.00", 2),
    ("1000000.00", "2000.00", 2),
    ("4999999.99", "49999.99", 2),
    ("999999.99", "9999.99", 3),
    ("99999.99", "1999.99", 4),
    # sub-cent amounts are never rounded up into a tier
    ("4999999.999", "0", 2),
    ("0", "49999.999", 2),
    # negatives (an overdrawn or net-rebate month) stay in the lowest tier; huge amounts in the highest
    ("-10.00", "-0.01", 4),
    ("123456789012345.67", "0", 1),
]


@pytest.mark.parametrize(("assets", "contribution", "tier"), EDGE_CASES)
def test_tier_edges(assets, contribution, tier):
    assert tier_for(D(assets), D(contribution)) == tier
    assert tier_for(D(assets), D(contribution), DEFAULT_THRESHOLDS) == tier


def test_integers_are_accepted_as_whole_yuan():
    assert tier_for(5_000_000, 0) == 1
    assert tier_for(0, 1_999) == 4


@pytest.mark.parametrize(("assets", "contribution"), [(5000000.0, D(0)), (D(0), 50000.0), (D(0), "50000")])
def test_floats_and_strings_are_refused(assets, contribution):
    with pytest.raises(TypeError):
        tier_for(assets, contribution)


def test_nan_is_refused():
    with pytest.raises(ValueError):
        tier_for(D("NaN"), D(0))


def test_total_assets_is_the_exact_sum_of_its_parts():
    parts = {"cash": D("4999999.90"), "a_shares": D("0.04"), "b_shares": D("0.03"), "funds": D("0.01"),
             "warrants": D("0.01"), "bonds": D("0.01"), "collective_products": D("0.00")}
    total = total_assets(**parts)
    assert total == D("5000000.00")
    assert tier_for(total, D(0)) == 1
    # One cent short of the threshold is tier 2, however the parts add up.
    assert tier_for(total_assets(**dict(parts, bonds=D("0.00"))), D(0)) == 2


def test_total_assets_positional_and_exact():
    assert total_assets(D("0.1"), D("0.2"), D(0), D(0), D(0), D(0), D(0)) == D("0.3")
    assert total_assets(D(1), D(2), D(3), D(4), D(5), D(6), D(7)) == D(28)


def test_total_assets_refuses_floats():
    with pytest.raises(TypeError, match="warrants"):
        total_assets(D(0), D(0), D(0), D(0), 0.1, D(0), D(0))


# --- custom thresholds and their validation ------------------------------------------------------------

CUSTOM = (
    TierThreshold(4, D(0), D(0)),
    TierThreshold(3, D("50000"), D("1000")),
    TierThreshold(2, D("500000"), D("8000")),
    TierThreshold(1, D("3000000"), D("30000")),
)


def test_custom_thresholds_in_any_order():
    assert [t.tier for t in validate_thresholds(CUSTOM)] == [1, 2, 3, 4]
    assert tier_for(D("3000000"), D(0), CUSTOM) == 1
    assert tier_for(D("2999999.99"), D("7999.99"), CUSTOM) == 2
    assert tier_for(D("49999.99"), D("1000"), CUSTOM) == 3
    assert tier_for(D("49999.99"), D("999.99"), CUSTOM) == 4


def _replace(tier: int, **changes) -> tuple[TierThreshold, ...]:
    return tuple(replace(t, **changes) if t.tier == tier else t for t in DEFAULT_THRESHOLDS)


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        pytest.param(DEFAULT_THRESHOLDS[:3], "tiers 1, 2, 3 and 4", id="tier missing"),
        pytest.param(DEFAULT_THRESHOLDS + (TierThreshold(5, D(0), D(0)),), "tiers 1, 2, 3 and 4", id="tier 5"),
        pytest.param(DEFAULT_THRESHOLDS[:3] + (DEFAULT_THRESHOLDS[2],), "tiers 1, 2, 3 and 4", id="tier twice"),
        pytest.param(_replace(2, min_assets=1000000.0), "must be a finite Decimal", id="float"),
        pytest.param(_replace(2, min_assets=1000000), "must be a finite Decimal", id="int"),
        pytest.param(_replace(2, min_contribution=D("Infinity")), "must be a finite Decimal", id="infinity"),
        pytest.param(_replace(3, min_contribution=D("-1")), "must not be negative", id="negative"),
        pytest.param(_replace(2, min_assets=D("5000000.00")), "min_assets must fall strictly", id="assets equal"),
        pytest.param(_replace(3, min_assets=D("2000000")), "min_assets must fall strictly", id="assets rising"),
        pytest.param(_replace(1, min_contribution=D("10000.00")), "min_contribution must fall strictly",
                     id="contribution equal"),
        pytest.param(_replace(4, min_assets=D("0.01")), "must both be 0", id="tier 4 assets not 0"),
        pytest.param(_replace(4, min_contribution=D("0.01")), "must both be 0", id="tier 4 contribution not 0"),
    ],
)
def test_threshold_validation_errors(thresholds, message):
    with pytest.raises(ThresholdError, match=message):
        validate_thresholds(thresholds)
    with pytest.raises(ThresholdError):
        tier_for(D(0), D(0), thresholds)
    with pytest.raises(ThresholdError):
        tier_case_sql("assets", "contribution", thresholds)


def test_default_thresholds_are_valid():
    assert validate_thresholds(DEFAULT_THRESHOLDS) == DEFAULT_THRESHOLDS


# --- the CASE expression, evaluated by SQLite ----------------------------------------------------------


def test_case_sql_shape():
    sql, params = tier_case_sql("snap.total_assets", "snap.contribution_12m")
    assert sql.startswith("CASE WHEN snap.total_assets >= :t1_assets OR snap.contribution_12m >= :t1_contribution")
    assert sql.endswith("THEN 3 ELSE 4 END")
    assert params == {
        "t1_assets": D("5000000.00"), "t1_contribution": D("50000.00"),
        "t2_assets": D("1000000.00"), "t2_contribution": D("10000.00"),
        "t3_assets": D("100000.00"), "t3_contribution": D("2000.00"),
    }
    assert all(isinstance(value, Decimal) for value in params.values())


def test_case_sql_param_prefix():
    sql, params = tier_case_sql("a", "c", param_prefix="tier")
    assert ":tier1_assets" in sql and set(params) >= {"tier1_assets", "tier3_contribution"}


@pytest.mark.parametrize(
    ("assets_col", "contribution_col", "prefix"),
    [("assets; DROP TABLE client", "c", "t"), ("a", "c)", "t"), ("a", "1c", "t"), ("a.b.c", "c", "t"),
     ("a", "c", "t-")],
)
def test_case_sql_refuses_anything_but_identifiers(assets_col, contribution_col, prefix):
    with pytest.raises(ValueError):
        tier_case_sql(assets_col, contribution_col, param_prefix=prefix)


def _cents(amount: Decimal) -> int:
    cents = amount * 100
    assert cents == cents.to_integral_value(), "integer-cents comparison needs whole cents"
    return int(cents)


def _sqlite_tiers(rows, to_db, column_type: str, thresholds=DEFAULT_THRESHOLDS) -> list[int]:
    """Tier every (assets, contribution) row in one SQLite statement, with amounts stored via `to_db`."""
    sql, params = tier_case_sql("s.assets", "s.contribution", thresholds)
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(f"CREATE TABLE snapshot (id INTEGER PRIMARY KEY, assets {column_type}, "
                           f"contribution {column_type})")
        connection.executemany(
            "INSERT INTO snapshot (id, assets, contribution) VALUES (?, ?, ?)",
            [(i, None if a is None else to_db(a), None if c is None else to_db(c)) for i, (a, c) in enumerate(rows)],
        )
        bound = {name: to_db(value) for name, value in params.items()}
        return [tier for (tier,) in connection.execute(f"SELECT {sql} FROM snapshot AS s ORDER BY s.id", bound)]
    finally:
        connection.close()


WHOLE_CENT_CASES = [(D(a), D(c), t) for a, c, t in EDGE_CASES if D(a) * 100 % 1 == 0 and D(c) * 100 % 1 == 0]


def test_case_sql_in_integer_cents_matches_tier_for():
    rows = [(a, c) for a, c, _ in WHOLE_CENT_CASES]
    expected = [tier for _, _, tier in WHOLE_CENT_CASES]
    assert _sqlite_tiers(rows, _cents, "INTEGER") == [tier_for(a, c) for a, c in rows] == expected


def test_case_sql_on_numeric_columns_matches_tier_for():
    # Amounts go in as decimal text; NUMERIC affinity makes SQLite compare them as numbers.
    rows = [(a, c) for a, c, _ in WHOLE_CENT_CASES]
    assert _sqlite_tiers(rows, str, "NUMERIC") == [tier_for(a, c) for a, c in rows]


def test_case_sql_with_custom_thresholds():
    rows = [(D("3000000"), D(0)), (D("2999999.99"), D("7999.99")), (D("49999.99"), D("1000")),
            (D("49999.99"), D("999.99"))]
    assert _sqlite_tiers(rows, _cents, "INTEGER", CUSTOM) == [tier_for(a, c, CUSTOM) for a, c in rows] == [1, 2, 3, 4]


def test_case_sql_treats_a_missing_measure_as_not_met():
    rows = [(None, None), (None, D("50000.00")), (D("1000000.00"), None), (None, D("1999.99"))]
    assert _sqlite_tiers(rows, _cents, "INTEGER") == [4, 1, 2, 4]


@given(st.lists(st.tuples(st.integers(-10**6, 10**10), st.integers(-10**5, 10**8)), min_size=1, max_size=30))
def test_case_sql_agrees_with_tier_for_on_any_whole_cent_amounts(cents_rows):
    rows = [(D(a) / 100, D(c) / 100) for a, c in cents_rows]
    assert _sqlite_tiers(rows, _cents, "INTEGER") == [tier_for(a, c) for a, c in rows]


# --- the twelve cells and their names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "package"), [(1, "premier"), (2, "advantage"), (3, "essential"), (4, "essential")]
)
@pytest.mark.parametrize("risk_class", ["conservative", "balanced", "aggressive"])
def test_every_cell_has_its_default_package(tier, risk_class, package):
    assert DEFAULT_PACKAGE_OF_CELL[(tier, risk_class)] == package
    assert package_for(tier, risk_class) == package


def test_exactly_twelve_cells():
    assert len(DEFAULT_PACKAGE_OF_CELL) == 12
    assert set(DEFAULT_PACKAGE_OF_CELL) == {(t, r) for t in TIERS for r in RISK_CLASSES}
    validate_package_of_cell(DEFAULT_PACKAGE_OF_CELL)


def test_names_in_both_languages():
    assert set(PACKAGE_NAMES) == set(PACKAGES)
    assert set(RISK_CLASS_NAMES) == set(RISK_CLASSES)
    for names in list(PACKAGE_NAMES.values()) + list(RISK_CLASS_NAMES.values()):
        assert names["zh_CN"] and names["en"]
    assert [RISK_CLASS_NAMES[r]["zh_CN"] for r in RISK_CLASSES] == ["保守型", "稳健型", "进取型"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        pytest.param({k: v for k, v in DEFAULT_PACKAGE_OF_CELL.items() if k != (4, "balanced")},
                     "without a service package", id="cell missing"),
        pytest.param(DEFAULT_PACKAGE_OF_CELL | {(2, "balanced"): "platinum"}, "unknown service packages",
                     id="unknown package"),
        pytest.param(DEFAULT_PACKAGE_OF_CELL | {(5, "balanced"): "essential"}, "unknown cells", id="extra cell"),
    ],
)
def test_package_map_validation(mapping, message):
    with pytest.raises(ValueError, match=message):
        validate_package_of_cell(mapping)


def test_package_for_an_unknown_cell():
    with pytest.raises(ValueError, match="tier 5"):
        package_for(5, "balanced")
