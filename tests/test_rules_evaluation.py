"""Evaluation rules (SPEC Part A): weights, weighted totals, bands, stars, the derived KPI and level duties."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.rules.evaluation import (
    BAND_CODES,
    DEFAULT_BANDS,
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    LEVEL_DUTIES,
    KpiFigure,
    band_for,
    kpi_from_data,
    level_duties,
    satisfaction_from_ratings,
    stars_to_score,
    validate_bands,
    validate_weights,
    weighted_total,
)
from portal.rules.vocabulary import LEVELS


def weights(satisfaction: object, kpi: object, team: object, competence: object) -> dict:
    return {"satisfaction": satisfaction, "kpi": kpi, "team": team, "competence": competence}


# --- weights ---------------------------------------------------------------------------------------------


def test_default_weights_are_the_spec_defaults_and_valid() -> None:
    assert tuple(DEFAULT_WEIGHTS) == LEVELS
    as_rows = {level: tuple(DEFAULT_WEIGHTS[level][d] for d in DIMENSIONS) for level in LEVELS}
    assert as_rows == {
        "junior": (25, 35, 10, 30),
        "mid": (25, 40, 15, 20),
        "senior": (25, 40, 20, 15),
        "principal": (20, 35, 30, 15),
    }
    for level in LEVELS:
        validate_weights(DEFAULT_WEIGHTS[level])


@pytest.mark.parametrize("candidate", [
    pytest.param(weights(25, 25, 25, 25), id="even"),
    pytest.param(weights(100, 0, 0, 0), id="all-on-one"),
    pytest.param(weights(0, 0, 0, 100), id="all-on-last"),
])
def test_valid_weights(candidate: dict) -> None:
    validate_weights(candidate)


@pytest.mark.parametrize(("candidate", "message"), [
    pytest.param(weights(25, 25, 25, 24), "add up to 99", id="sum-99"),
    pytest.param(weights(25, 25, 25, 26), "add up to 101", id="sum-101"),
    pytest.param(weights(110, -10, 0, 0), "satisfaction must be between 0 and 100", id="above-100"),
    pytest.param(weights(50, 50, -1, 1), "team must be between 0 and 100", id="negative"),
    pytest.param(weights(25.0, 25, 25, 25), "satisfaction must be a whole number", id="float"),
    pytest.param(weights(25, "25", 25, 25), "kpi must be a whole number", id="string"),
    pytest.param(weights(25, 25, True, 49), "team must be a whole number", id="bool"),
    pytest.param(weights(Decimal(25), 25, 25, 25), "satisfaction must be a whole number", id="decimal"),
    pytest.param({"satisfaction": 50, "kpi": 50, "team": 0}, "competence is missing", id="missing"),
    pytest.param({**weights(25, 25, 25, 25), "charm": 0}, "unknown dimension", id="unknown"),
])
def test_invalid_weights(candidate: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_weights(candidate)


# --- weighted totals -------------------------------------------------------------------------------------

SCORES = {"satisfaction": 80, "kpi": 90, "team": 70, "competence": 60}


@pytest.mark.parametrize(("level", "expected"), [
    pytest.param("junior", Decimal("76.50"), id="junior-25/35/10/30"),
    pytest.param("mid", Decimal("78.50"), id="mid-25/40/15/20"),
    pytest.param("senior", Decimal("79.00"), id="senior-25/40/20/15"),
    pytest.param("principal", Decimal("77.50"), id="principal-20/35/30/15"),
])
def test_weighted_total_per_level_default_weights(level: str, expected: Decimal) -> None:
    total = weighted_total(SCORES, DEFAULT_WEIGHTS[level])
    assert total == expected
    assert str(total) == str(expected)


@pytest.mark.parametrize(("scores", "candidate", "expected"), [
    pytest.param(dict.fromkeys(DIMENSIONS, 80), DEFAULT_WEIGHTS["mid"], "80.00", id="whole-number-keeps-2-places"),
    pytest.param(dict.fromkeys(DIMENSIONS, 100), DEFAULT_WEIGHTS["junior"], "100.00", id="all-100"),
    pytest.param(dict.fromkeys(DIMENSIONS, 0), DEFAULT_WEIGHTS["junior"], "0.00", id="all-0"),
    pytest.param({"satisfaction": 1, "kpi": 2, "team": 3, "competence": 4}, weights(33, 33, 33, 1), "2.02",
                 id="odd-weights-exact-cents"),
    pytest.param({"satisfaction": 80, "kpi": 81, "team": 70, "competence": 82}, DEFAULT_WEIGHTS["junior"],
                 "79.95", id="cents"),
    pytest.param({"satisfaction": 99, "kpi": 0, "team": 0, "competence": 0}, weights(1, 33, 33, 33), "0.99",
                 id="one-percent-weight"),
])
def test_weighted_total_rounding_and_form(scores: dict, candidate: dict, expected: str) -> None:
    total = weighted_total(scores, candidate)
    assert str(total) == expected
    assert total.as_tuple().exponent == -2


@pytest.mark.parametrize(("scores", "message"), [
    pytest.param({**SCORES, "kpi": 101}, "kpi must be between 0 and 100", id="above-100"),
    pytest.param({**SCORES, "team": -1}, "team must be between 0 and 100", id="negative"),
    pytest.param({**SCORES, "competence": 80.5}, "competence must be a whole number", id="float"),
    pytest.param({**SCORES, "satisfaction": "80"}, "satisfaction must be a whole number", id="string"),
    pytest.param({**SCORES, "satisfaction": None}, "satisfaction must be a whole number", id="none"),
    pytest.param({**SCORES, "kpi": True}, "kpi must be a whole number", id="bool"),
    pytest.param({k: v for k, v in SCORES.items() if k != "team"}, "team is missing", id="missing"),
    pytest.param({**SCORES, "charm": 90}, "unknown dimension", id="unknown"),
])
def test_weighted_total_rejects_bad_scores(scores: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        weighted_total(scores, DEFAULT_WEIGHTS["junior"])


def test_weighted_total_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="add up to"):
        weighted_total(SCORES, weights(25, 25, 25, 20))


# --- bands -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "band"), [
    pytest.param(Decimal(100), "excellent", id="100"),
    pytest.param(Decimal("90.00"), "excellent", id="90"),
    pytest.param(Decimal("89.99"), "good", id="89.99"),
    pytest.param(Decimal(80), "good", id="80"),
    pytest.param(Decimal("79.99"), "satisfactory", id="79.99"),
    pytest.param(Decimal(70), "satisfactory", id="70"),
    pytest.param(Decimal("69.99"), "needs_improvement", id="69.99"),
    pytest.param(Decimal("60.00"), "needs_improvement", id="60"),
    pytest.param(Decimal("59.99"), "unsatisfactory", id="59.99"),
    pytest.param(Decimal(0), "unsatisfactory", id="0"),
    pytest.param(75, "satisfactory", id="int"),
])
def test_default_bands(total: Decimal, band: str) -> None:
    assert band_for(total) == band


def test_default_bands_are_data() -> None:
    assert tuple(code for _, code in DEFAULT_BANDS) == BAND_CODES
    validate_bands(DEFAULT_BANDS)


def test_band_for_with_administrator_bands() -> None:
    bands = ((Decimal("85.5"), "top"), (Decimal(50), "middle"), (Decimal(0), "bottom"))
    assert [band_for(Decimal(v), bands) for v in ("85.5", "85.49", "50", "49.99")] == ["top", "middle", "middle",
                                                                                         "bottom"]


@pytest.mark.parametrize("total", [
    pytest.param(Decimal("100.01"), id="above-100"),
    pytest.param(Decimal("-0.01"), id="negative"),
    pytest.param(80.0, id="float"),
    pytest.param("abc", id="text"),
])
def test_band_for_rejects_bad_totals(total: object) -> None:
    with pytest.raises(ValueError):
        band_for(total)  # type: ignore[arg-type]


@pytest.mark.parametrize(("bands", "message"), [
    pytest.param((), "at least one", id="empty"),
    pytest.param(((Decimal(50), "a"), (Decimal(60), "b"), (Decimal(0), "c")), "strictly decreasing", id="order"),
    pytest.param(((Decimal(50), "a"), (Decimal(10), "b")), "start at 0", id="no-floor"),
    pytest.param(((Decimal(50), "a"), (Decimal(0), "a")), "unique", id="duplicate-code"),
    pytest.param(((50, "a"), (Decimal(0), "b")), "Decimal threshold", id="int-threshold"),
    pytest.param(((Decimal(150), "a"), (Decimal(0), "b")), "between 0 and 100", id="above-100"),
])
def test_invalid_bands(bands: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_bands(bands)


# --- stars -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stars", "score"), [
    pytest.param(1, "0.00", id="1-star"),
    pytest.param(2, "25.00", id="2-stars"),
    pytest.param(3, "50.00", id="3-stars"),
    pytest.param(4, "75.00", id="4-stars"),
    pytest.param(5, "100.00", id="5-stars"),
    pytest.param(Decimal("4.5"), "87.50", id="4.5"),
    pytest.param(Decimal("3.333"), "58.33", id="round-down"),
    pytest.param(Decimal("1.0002"), "0.01", id="round-half-up"),
    pytest.param("4.2", "80.00", id="string"),
    pytest.param(4.2, "80.00", id="float-from-sql-avg"),
])
def test_stars_to_score(stars: object, score: str) -> None:
    assert str(stars_to_score(stars)) == score  # type: ignore[arg-type]


@pytest.mark.parametrize("stars", [
    pytest.param(Decimal("0.99"), id="below-1"),
    pytest.param(Decimal("5.01"), id="above-5"),
    pytest.param(0, id="zero"),
    pytest.param(float("nan"), id="nan"),
    pytest.param(True, id="bool"),
    pytest.param(None, id="none"),
])
def test_stars_out_of_range(stars: object) -> None:
    with pytest.raises(ValueError):
        stars_to_score(stars)  # type: ignore[arg-type]


@pytest.mark.parametrize(("ratings", "score"), [
    pytest.param([], None, id="no-ratings"),
    pytest.param([5], Decimal("100.00"), id="one-five"),
    pytest.param([5, 4, 4], Decimal("83.33"), id="mean-4.33"),
    pytest.param([1, 2], Decimal("12.50"), id="mean-1.5"),
])
def test_satisfaction_from_ratings(ratings: list, score: Decimal | None) -> None:
    assert satisfaction_from_ratings(ratings) == score


@pytest.mark.parametrize("ratings", [[0], [6], [4.5], [True]])
def test_satisfaction_rejects_bad_ratings(ratings: list) -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        satisfaction_from_ratings(ratings)


# --- derived KPI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("figures", [
    pytest.param({}, id="nothing"),
    pytest.param({"net_commission": Decimal(5000)}, id="achieved-without-target"),
    pytest.param({"net_commission_target": Decimal(5000)}, id="target-without-achieved"),
    pytest.param({"new_clients": 3, "new_clients_target": 0}, id="zero-target"),
    pytest.param({"asset_growth": Decimal(10), "asset_growth_target": Decimal(-5)}, id="negative-target"),
])
def test_kpi_no_data(figures: dict) -> None:
    assert kpi_from_data(**figures) is None


@pytest.mark.parametrize(("figures", "figure", "used", "capped"), [
    pytest.param({"net_commission": Decimal(8000), "net_commission_target": Decimal(10000)}, "80.00",
                 ("net_commission",), (), id="one-component"),
    pytest.param({"new_clients": 1, "new_clients_target": 3}, "33.33", ("new_clients",), (), id="third-rounds-down"),
    pytest.param({"new_clients": 2, "new_clients_target": 3}, "66.67", ("new_clients",), (), id="two-thirds-rounds-up"),
    pytest.param({"valid_profile_share": Decimal("0.5")}, "50.00", ("valid_profiles",), (), id="share-only"),
    pytest.param({"valid_profile_share": 1}, "100.00", ("valid_profiles",), (), id="share-whole-book"),
    pytest.param({"net_commission": Decimal(15000), "net_commission_target": Decimal(10000)}, "100.00",
                 ("net_commission",), ("net_commission",), id="cap-then-100"),
    pytest.param({"net_commission": Decimal(30000), "net_commission_target": Decimal(10000),
                  "new_clients": 5, "new_clients_target": 10}, "85.00",
                 ("net_commission", "new_clients"), ("net_commission",), id="cap-at-1.2-limits-compensation"),
    pytest.param({"net_commission": Decimal(12000), "net_commission_target": Decimal(10000),
                  "new_clients": 5, "new_clients_target": 10}, "85.00",
                 ("net_commission", "new_clients"), (), id="exactly-1.2-not-capped"),
    pytest.param({"asset_growth": Decimal(-200000), "asset_growth_target": Decimal(1000000),
                  "valid_profile_share": Decimal("0.8")}, "40.00",
                 ("asset_growth", "valid_profiles"), (), id="loss-counts-as-zero"),
    pytest.param({"net_commission": Decimal(9000), "net_commission_target": Decimal(10000),
                  "asset_growth": Decimal(1100000), "asset_growth_target": Decimal(1000000),
                  "new_clients": 8, "new_clients_target": 10, "valid_profile_share": Decimal("0.95")}, "93.75",
                 ("net_commission", "asset_growth", "new_clients", "valid_profiles"), (), id="all-four"),
    pytest.param({"net_commission": Decimal(9000), "net_commission_target": Decimal(10000),
                  "asset_growth": Decimal(1000000), "new_clients": 8, "new_clients_target": 10}, "85.00",
                 ("net_commission", "new_clients"), (), id="partial-missing-target-skipped"),
    pytest.param({"net_commission": "9000.50", "net_commission_target": 10000}, "90.01",
                 ("net_commission",), (), id="strings-and-ints"),
])
def test_kpi_from_data(figures: dict, figure: str, used: tuple, capped: tuple) -> None:
    result = kpi_from_data(**figures)
    assert isinstance(result, KpiFigure)
    assert str(result.figure) == figure
    assert tuple(component.code for component in result.components) == used
    assert tuple(component.code for component in result.components if component.capped) == capped
    assert set(result.skipped) | set(used) == {"net_commission", "asset_growth", "new_clients", "valid_profiles"}
    assert not set(result.skipped) & set(used)
    assert Decimal(0) <= result.figure <= Decimal(100)


def test_kpi_component_explains_itself() -> None:
    result = kpi_from_data(net_commission=Decimal(15000), net_commission_target=Decimal(10000),
                           valid_profile_share=Decimal("0.9"))
    assert result is not None
    commission, profiles = result.components
    assert (commission.achieved, commission.target, commission.ratio, commission.capped) == (
        Decimal(15000), Decimal(10000), Decimal("1.2000"), True)
    assert (profiles.achieved, profiles.target, profiles.ratio) == (Decimal("0.9"), None, Decimal("0.9000"))
    assert result.figure == Decimal("100.00")  # (1.2 + 0.9) / 2 = 1.05 → capped at 100
    assert result.skipped == ("asset_growth", "new_clients")


@pytest.mark.parametrize(("figures", "message"), [
    pytest.param({"valid_profile_share": Decimal("1.01")}, "between 0 and 1", id="share-above-1"),
    pytest.param({"valid_profile_share": Decimal("-0.1")}, "between 0 and 1", id="share-negative"),
    pytest.param({"net_commission": 9000.5, "net_commission_target": 10000}, "not a float", id="float-money"),
    pytest.param({"net_commission": "lots", "net_commission_target": 10000}, "must be a number", id="text"),
    pytest.param({"new_clients": True, "new_clients_target": 10}, "must be a number", id="bool"),
])
def test_kpi_rejects_bad_figures(figures: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kpi_from_data(**figures)


# --- level duties ----------------------------------------------------------------------------------------


def test_level_duties_cover_every_level_in_both_languages() -> None:
    assert tuple(LEVEL_DUTIES) == LEVELS
    for level in LEVELS:
        zh, en = LEVEL_DUTIES[level]["zh_CN"], LEVEL_DUTIES[level]["en"]
        assert set(zh) == set(en) == {"title", "description", "characteristics"}
        assert len(zh["characteristics"]) == len(en["characteristics"]) == 4
        assert all(isinstance(item, str) and item and "•" not in item for item in zh["characteristics"])
        assert all(item.isascii() for item in (en["title"], en["description"], *en["characteristics"]))


def test_level_duties_titles_follow_the_seed() -> None:
    assert [LEVEL_DUTIES[level]["zh_CN"]["title"] for level in LEVELS] == [
        "初级客户经理", "中级客户经理", "高级客户经理", "资深客户经理"]
    assert LEVEL_DUTIES["junior"]["zh_CN"]["description"].startswith("初级客户经理是刚刚加入中国银行的新手,")
    last = LEVEL_DUTIES["principal"]["zh_CN"]["characteristics"][-1]
    assert last == "需要不断学习和提升能力,以保持竞争力和适应银行业的发展"


@pytest.mark.parametrize(("locale", "title"), [
    pytest.param("zh_CN", "中级客户经理", id="zh_CN"),
    pytest.param("zh-Hans-CN", "中级客户经理", id="zh-Hans"),
    pytest.param("en", "Mid-level Relationship Manager", id="en"),
    pytest.param("fr", "Mid-level Relationship Manager", id="fallback-en"),
])
def test_level_duties_lookup(locale: str, title: str) -> None:
    assert level_duties("mid", locale)["title"] == title


def test_level_duties_unknown_level() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        level_duties("chief")
