"""Promotion and demotion of relationship managers as pure rules that explain themselves.

Rules are data (an administrator edits them; each decision stores the rule version that applied); the
engine, ``recommend``, only reads them. Standard library and ``decimal`` only: no Flask, no database.

Readings of the SPEC table chosen here:
- "team ≥ N" is checked in *each* considered evaluation, like "KPI ≥ 85 in each" beside it, so one
  weak cycle cannot hide behind a mean.
- "no dimension < 60" means every dimension score of every considered evaluation is ≥ 60.
- Only evaluations whose cycle ended *after* the manager entered the current level count (by default):
  scores earned at the previous level neither promote nor demote again at the new one.
- Thresholds compare exact values; a mean is shown truncated to 2 decimals, so a shown figure never
  appears to reach a bar the exact value misses (84.996 shows as 84.99, not 85.00).
- ``Clause.passed`` is True when the observed figure meets the clause's requirement. A rule applies when
  all its clauses pass; demotion clauses are listed only when the demotion rule's totals fire.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from portal.rules.calendar import add_months, months_between
from portal.rules.evaluation import DIMENSIONS
from portal.rules.vocabulary import LEVELS

PROMOTE = "promote"
DEMOTE = "demote"
HOLD = "hold"

CLAUSE_CODES: tuple[str, ...] = (
    "months_in_level", "evaluations_available", "each_total", "mean_total", "min_dimension", "each_kpi", "team",
    "no_compliance_flag", "demotion_totals", "demotion_floor", "promotion_rule",
)

_CENT = Decimal("0.01")


class RuleDataError(ValueError):
    """A promotion or demotion rule, or a stored rule version, is not valid."""

_DECIMAL_FIELDS = ("each_total_at_least", "mean_total_at_least", "min_dimension", "each_kpi_at_least", "team_at_least")


def _check_threshold(name: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 100:
        raise RuleDataError(f"{name} must be a Decimal between 0 and 100, got {value!r}")


def _check_count(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RuleDataError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")


@dataclass(frozen=True)
class PromotionRule:
    """One transition up the ladder: the bars a manager must clear over the latest evaluations."""

    from_level: str
    to_level: str
    min_months: int | None  # whole months in the current level; None → no tenure bar
    evaluations: int  # how many of the latest evaluations are considered
    each_total_at_least: Decimal | None = None
    mean_total_at_least: Decimal | None = None
    min_dimension: Decimal | None = None  # no dimension score below this, in any considered evaluation
    each_kpi_at_least: Decimal | None = None
    team_at_least: Decimal | None = None  # team score in each considered evaluation
    no_open_compliance_flag: bool = False

    def __post_init__(self) -> None:
        if self.from_level not in LEVELS or self.to_level not in LEVELS:
            raise RuleDataError(f"unknown level in rule {self.from_level!r} → {self.to_level!r}")
        if LEVELS.index(self.to_level) != LEVELS.index(self.from_level) + 1:
            raise RuleDataError(f"a promotion rule moves one level up, not {self.from_level} → {self.to_level}")
        if self.min_months is not None:
            _check_count("min_months", self.min_months, 0)
        _check_count("evaluations", self.evaluations, 1)
        for name in _DECIMAL_FIELDS:
            _check_threshold(name, getattr(self, name))
        if not isinstance(self.no_open_compliance_flag, bool):
            raise RuleDataError("no_open_compliance_flag must be true or false")


@dataclass(frozen=True)
class DemotionRule:
    """One level down when each of the latest ``evaluations`` totals is below ``each_total_below``."""

    evaluations: int = 2
    each_total_below: Decimal = Decimal(60)

    def __post_init__(self) -> None:
        _check_count("evaluations", self.evaluations, 1)
        if self.each_total_below is None:
            raise RuleDataError("each_total_below is required")
        _check_threshold("each_total_below", self.each_total_below)


DEFAULT_RULES: tuple[PromotionRule, ...] = (
    PromotionRule("junior", "mid", min_months=12, evaluations=2,
                  each_total_at_least=Decimal(80), min_dimension=Decimal(60)),
    PromotionRule("mid", "senior", min_months=24, evaluations=3,
                  mean_total_at_least=Decimal(85), each_kpi_at_least=Decimal(85), team_at_least=Decimal(75)),
    PromotionRule("senior", "principal", min_months=36, evaluations=4,
                  mean_total_at_least=Decimal(88), team_at_least=Decimal(85), no_open_compliance_flag=True),
)
DEFAULT_DEMOTION = DemotionRule(evaluations=2, each_total_below=Decimal(60))


@dataclass(frozen=True)
class EvaluationResult:
    """A scored evaluation as the engine sees it: when its cycle ended, its total and the four scores."""

    cycle_end: date
    total: Decimal
    scores: dict[str, int]


@dataclass(frozen=True)
class Clause:
    """One checked condition: its stable code, whether it passed, what was seen, what was required."""

    rule: str
    passed: bool
    observed: int | str | list[Any] | None
    required: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form of the clause."""
        return asdict(self)


@dataclass(frozen=True)
class Recommendation:
    """The engine's answer for one manager, with the clauses that led to it."""

    recommendation: str  # "promote" | "demote" | "hold"
    target_level: str | None
    clauses: tuple[Clause, ...]
    eligible_in_months: int | None = None  # set only when tenure is the one clause failing
    eligible_on: date | None = None  # the date tenure passes, alongside eligible_in_months

    @property
    def failed(self) -> tuple[Clause, ...]:
        """The clauses that did not pass."""
        return tuple(clause for clause in self.clauses if not clause.passed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, to store with the nomination and show in the UI."""
        return {
            "recommendation": self.recommendation,
            "target_level": self.target_level,
            "clauses": [clause.to_dict() for clause in self.clauses],
            "eligible_in_months": self.eligible_in_months,
            "eligible_on": self.eligible_on.isoformat() if self.eligible_on else None,
        }


# --- rule versions as JSON -----------------------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def rules_to_dict(
    rules: Sequence[PromotionRule] = DEFAULT_RULES, demotion: DemotionRule = DEFAULT_DEMOTION
) -> dict[str, Any]:
    """JSON-ready form of a rule version (Decimals as strings), the inverse of ``rules_from_dict``."""
    promotion = []
    for rule in rules:
        row: dict[str, Any] = {}
        for field in fields(rule):
            value = getattr(rule, field.name)
            row[field.name] = _decimal_text(value) if field.name in _DECIMAL_FIELDS else value
        promotion.append(row)
    return {
        "promotion": promotion,
        "demotion": {"evaluations": demotion.evaluations, "each_total_below": _decimal_text(demotion.each_total_below)},
    }


def _parse_decimal(name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise RuleDataError(f"{name} must be a number written as a string, got {value!r}")
    try:
        # A float can only come from hand-written JSON; its repr is the number the author typed.
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise RuleDataError(f"{name} must be a number, got {value!r}") from None


def rules_from_dict(data: Mapping[str, Any]) -> tuple[tuple[PromotionRule, ...], DemotionRule]:
    """Rebuild (promotion rules, demotion rule) from ``rules_to_dict`` output; ValueError on bad data."""
    if not isinstance(data, Mapping) or set(data) != {"promotion", "demotion"}:
        raise RuleDataError("a rule version needs exactly the keys 'promotion' and 'demotion'")
    known = {field.name for field in fields(PromotionRule)}
    rules: list[PromotionRule] = []
    for position, row in enumerate(data["promotion"], start=1):
        if not isinstance(row, Mapping):
            raise RuleDataError(f"promotion rule {position} must be an object")
        unknown = set(row) - known
        if unknown:
            raise RuleDataError(f"promotion rule {position} has unknown keys: {', '.join(sorted(unknown))}")
        values = {key: _parse_decimal(key, value) if key in _DECIMAL_FIELDS else value for key, value in row.items()}
        try:
            rules.append(PromotionRule(**values))
        except TypeError as error:  # a required key is missing
            raise RuleDataError(f"promotion rule {position}: {error}") from None
    demotion_data = data["demotion"]
    if not isinstance(demotion_data, Mapping) or set(demotion_data) != {"evaluations", "each_total_below"}:
        raise RuleDataError("the demotion rule needs exactly the keys 'evaluations' and 'each_total_below'")
    demotion = DemotionRule(
        evaluations=demotion_data["evaluations"],
        each_total_below=_parse_decimal("each_total_below", demotion_data["each_total_below"]),
    )
    validate_rules(rules, demotion)
    return tuple(rules), demotion


def validate_rules(rules: Sequence[PromotionRule], demotion: DemotionRule) -> None:
    """Raise ValueError unless there is at most one promotion rule per level and a demotion rule is given."""
    seen: set[str] = set()
    for rule in rules:
        if rule.from_level in seen:
            raise RuleDataError(f"more than one promotion rule from {rule.from_level}")
        seen.add(rule.from_level)
    if not isinstance(demotion, DemotionRule):
        raise RuleDataError("a demotion rule is needed")


# --- the engine ---------------------------------------------------------------------------------------


def _mark(passed: bool) -> str:
    return "✓" if passed else "✗"


def _shown(value: Decimal) -> str:
    """Two decimals, truncated: for thresholds on the 0.01 grid, shown ≥ bar exactly when value ≥ bar."""
    return str(value.quantize(_CENT, rounding=ROUND_DOWN))


def _bar(threshold: Decimal) -> str:
    return format(threshold, "f")


def _clause(rule: str, passed: bool, observed: Any, required: str, label: str, shown: str) -> Clause:
    return Clause(rule, passed, observed, required, f"{label} {shown} {required} {_mark(passed)}")


def _latest(evaluations: Sequence[EvaluationResult], count: int) -> list[EvaluationResult]:
    # Stable sort: of two evaluations with the same cycle end, the one listed first counts as later.
    return sorted(evaluations, key=lambda evaluation: evaluation.cycle_end, reverse=True)[:count]


def _promotion_clauses(
    rule: PromotionRule, months: int, evaluations: Sequence[EvaluationResult], open_flags: int
) -> list[Clause]:
    clauses: list[Clause] = []
    if rule.min_months is not None:
        required = f"≥ {rule.min_months}"
        clauses.append(_clause("months_in_level", months >= rule.min_months, months, required,
                               "months in level", str(months)))
    considered = _latest(evaluations, rule.evaluations)
    enough = len(considered) >= rule.evaluations
    clauses.append(_clause("evaluations_available", enough, len(considered), f"≥ {rule.evaluations}",
                           "evaluations available", str(len(considered))))
    if enough:
        last = f"the last {rule.evaluations}"
        totals = [evaluation.total for evaluation in considered]
        if rule.each_total_at_least is not None:
            bar = rule.each_total_at_least
            shown = [_shown(total) for total in totals]
            clauses.append(_clause("each_total", all(total >= bar for total in totals), shown, f"≥ {_bar(bar)}",
                                   f"each total of {last}", f"({', '.join(shown)})"))
        if rule.mean_total_at_least is not None:
            bar = rule.mean_total_at_least
            mean = sum(totals, Decimal(0)) / Decimal(len(totals))
            clauses.append(_clause("mean_total", mean >= bar, _shown(mean), f"≥ {_bar(bar)}",
                                   f"mean total of {last}", _shown(mean)))
        if rule.min_dimension is not None:
            bar = rule.min_dimension
            lowest, dimension = min((evaluation.scores[d], d) for evaluation in considered for d in DIMENSIONS)
            clauses.append(_clause("min_dimension", lowest >= bar, lowest, f"≥ {_bar(bar)}",
                                   f"lowest dimension score of {last}", f"({dimension} {lowest})"))
        for code, dimension, bar, label in (
            ("each_kpi", "kpi", rule.each_kpi_at_least, "KPI"),
            ("team", "team", rule.team_at_least, "team"),
        ):
            if bar is None:
                continue
            scores = [evaluation.scores[dimension] for evaluation in considered]
            clauses.append(_clause(code, all(score >= bar for score in scores), scores, f"≥ {_bar(bar)}",
                                   f"{label} in each of {last}", f"({', '.join(str(score) for score in scores)})"))
    if rule.no_open_compliance_flag:
        clauses.append(_clause("no_compliance_flag", open_flags == 0, open_flags, "= 0",
                               "open compliance flags", str(open_flags)))
    return clauses


def _check_evaluation(evaluation: EvaluationResult) -> None:
    if not isinstance(evaluation.total, Decimal) or not evaluation.total.is_finite():
        raise ValueError(f"evaluation of {evaluation.cycle_end} needs a Decimal total")
    missing = [dimension for dimension in DIMENSIONS if dimension not in evaluation.scores]
    if missing:
        raise ValueError(f"evaluation of {evaluation.cycle_end} has no score for {', '.join(missing)}")


def recommend(
    level: str,
    level_since: date,
    today: date,
    evaluations: Sequence[EvaluationResult],
    open_compliance_flags: int,
    rules: Sequence[PromotionRule] = DEFAULT_RULES,
    demotion: DemotionRule = DEFAULT_DEMOTION,
    *,
    in_level_only: bool = True,
) -> Recommendation:
    """Promote, demote or hold one manager, with every clause checked and the figure it saw.

    Demotion is checked first; at the lowest level it turns into a hold. Evaluations may come in any
    order; the latest by cycle end are taken. With ``in_level_only`` (the default) evaluations whose cycle
    ended on or before ``level_since`` are ignored. ValueError when ``today`` is before ``level_since`` or
    an input is malformed.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if type(open_compliance_flags) is not int or open_compliance_flags < 0:
        raise ValueError(f"open compliance flags must be a whole number ≥ 0, got {open_compliance_flags!r}")
    months = months_between(level_since, today)
    for evaluation in evaluations:
        _check_evaluation(evaluation)
    if in_level_only:
        evaluations = [evaluation for evaluation in evaluations if evaluation.cycle_end > level_since]

    # Demotion first: it fires when each of the latest N totals is below the bar.
    recent = _latest(evaluations, demotion.evaluations)
    if len(recent) >= demotion.evaluations and all(e.total < demotion.each_total_below for e in recent):
        shown = [_shown(evaluation.total) for evaluation in recent]
        totals_clause = _clause("demotion_totals", True, shown, f"< {_bar(demotion.each_total_below)}",
                                f"each total of the last {demotion.evaluations}", f"({', '.join(shown)})")
        index = LEVELS.index(level)
        above_floor = index > 0
        floor_clause = _clause("demotion_floor", above_floor, level, f"above {LEVELS[0]}", "level", level)
        if above_floor:
            return Recommendation(DEMOTE, LEVELS[index - 1], (totals_clause, floor_clause))
        return Recommendation(HOLD, None, (totals_clause, floor_clause))

    rule = next((candidate for candidate in rules if candidate.from_level == level), None)
    if rule is None:
        clause = Clause("promotion_rule", False, level, "a promotion rule", f"no promotion rule from {level} ✗")
        return Recommendation(HOLD, None, (clause,))

    clauses = tuple(_promotion_clauses(rule, months, evaluations, open_compliance_flags))
    failed = [clause for clause in clauses if not clause.passed]
    if not failed:
        return Recommendation(PROMOTE, rule.to_level, clauses)
    if [clause.rule for clause in failed] == ["months_in_level"] and rule.min_months is not None:
        return Recommendation(HOLD, None, clauses, eligible_in_months=rule.min_months - months,
                              eligible_on=add_months(level_since, rule.min_months))
    return Recommendation(HOLD, None, clauses)
