"""The level ladder's versioned data: evaluation weights with rating bands, and promotion rules.

Neither is ever edited in place: a change is a new version (the newest is in force), so a cycle keeps
the weight set it opened with and a decision keeps the rule version that applied.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from models import EvaluationWeightSet, PromotionRuleSet, User, db
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import promotion as engine
from portal.rules.evaluation import BAND_CODES, DIMENSIONS, validate_bands, validate_weights
from portal.rules.vocabulary import LEVELS

NOTE_MAX = 200
MAX_EVALUATIONS = 12  # the most evaluations a rule may consider (three years of quarters)
MAX_MONTHS = 600
PROMOTION_FIELDS = ("min_months", "evaluations", "each_total_at_least", "mean_total_at_least", "min_dimension",
                    "each_kpi_at_least", "team_at_least", "no_open_compliance_flag")
THRESHOLD_FIELDS = ("each_total_at_least", "mean_total_at_least", "min_dimension", "each_kpi_at_least",
                    "team_at_least")
TRANSITIONS = tuple(zip(LEVELS, LEVELS[1:]))


def weights_in_force() -> EvaluationWeightSet | None:
    """The newest evaluation weight set (the migration loads version 1)."""
    return db.session.scalar(select(EvaluationWeightSet).order_by(EvaluationWeightSet.version.desc()).limit(1))


def rule_set_in_force() -> PromotionRuleSet | None:
    """The newest promotion rule set."""
    return db.session.scalar(select(PromotionRuleSet).order_by(PromotionRuleSet.version.desc()).limit(1))


def bands_of(weight_set: EvaluationWeightSet) -> tuple[tuple[Decimal, str], ...]:
    """A weight set's rating bands as (Decimal lowest total, code), highest first."""
    return tuple((Decimal(str(floor)), code) for floor, code in weight_set.bands)


def _note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise OperationError(_("The note may have at most %(n)d characters.", n=NOTE_MAX), "note")
    return note


def _whole(value: object, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OperationError(message, field, "out_of_range")
    return value


def _threshold(value: object, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not 0 <= number <= 100 or number != number.quantize(Decimal("0.01")):
        raise OperationError(_("Enter a number from 0 to 100 with at most two decimals."), field, "out_of_range")
    # 80, 80.0 and 80.00 are one bar; whole bars are stored without decimals.
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def check_weights(weights: Mapping[str, Mapping[str, object]]) -> dict[str, dict[str, int]]:
    """Every level's four weights, whole numbers 0–100 adding up to 100; field names are `<level>_<dimension>`."""
    clean: dict[str, dict[str, int]] = {}
    for level in LEVELS:
        given = weights.get(level) if isinstance(weights, Mapping) else None
        if not isinstance(given, Mapping):
            raise OperationError(_("Enter the four weights of every level."), f"{level}_{DIMENSIONS[0]}")
        row = {}
        for dimension in DIMENSIONS:
            row[dimension] = _whole(given.get(dimension), f"{level}_{dimension}", 0, 100,
                                    _("Each weight is a whole number from 0 to 100."))
        total = sum(row.values())
        if total != 100:
            raise OperationError(_("The weights of a level must add up to 100; these add up to %(total)d.",
                                   total=total), f"{level}_{DIMENSIONS[0]}", "weights_sum")
        validate_weights(row)  # the pure rule agrees
        clean[level] = row
    return clean


def check_bands(thresholds: Mapping[str, object]) -> list[tuple[Decimal, str]]:
    """The lowest total of each band but the last (which starts at 0), strictly decreasing."""
    bands: list[tuple[Decimal, str]] = []
    previous: Decimal | None = None
    for code in BAND_CODES[:-1]:
        value = _threshold(thresholds.get(code), f"band_{code}")
        if previous is not None and value >= previous:
            raise OperationError(_("Each band must start below the band above it."), f"band_{code}", "bands_order")
        if value <= 0:
            raise OperationError(_("Only the lowest band starts at 0."), f"band_{code}", "bands_order")
        bands.append((value, code))
        previous = value
    bands.append((Decimal(0), BAND_CODES[-1]))
    validate_bands(bands)
    return bands


def create_weight_set(weights: Mapping[str, Mapping[str, object]], band_thresholds: Mapping[str, object], *,
                      note: str | None, by: User | None) -> EvaluationWeightSet:
    """A new evaluation weight version (weights per level and rating bands); the newest is in force."""
    clean = check_weights(weights)
    bands = check_bands(band_thresholds)
    note = _note(note)
    current = weights_in_force()
    stored_bands = [[format(floor, "f"), code] for floor, code in bands]
    if current is not None and current.weights == clean and [list(b) for b in current.bands] == stored_bands:
        raise OperationError(_("These weights and bands are the ones already in force."), None, "unchanged")
    version = (db.session.scalar(select(func.max(EvaluationWeightSet.version))) or 0) + 1
    weight_set = EvaluationWeightSet(version=version, weights=clean, bands=stored_bands, note=note,
                                     created_by_id=by.id if by is not None else None)
    db.session.add(weight_set)
    db.session.flush()
    record("evaluation_weights.new_version", "evaluation_weight_set", version, actor=by,
           before={"version": current.version, "weights": current.weights, "bands": current.bands} if current else None,
           after={"version": version, "weights": clean, "bands": stored_bands, "note": note})
    return weight_set


def check_rules(data: Mapping[str, Any]) -> dict[str, Any]:
    """Form values → a rule version in `rules_to_dict` form, with a translated message naming the bad field.

    `data` has `promotion`: {from_level: {field: value}} for each transition and `demotion`:
    {"evaluations", "each_total_below"}. Blank thresholds (None) drop that clause.
    """
    promotion = []
    given = data.get("promotion") or {}
    for from_level, to_level in TRANSITIONS:
        row = given.get(from_level) or {}
        prefix = f"{from_level}_"
        months = row.get("min_months")
        rule: dict[str, Any] = {
            "from_level": from_level, "to_level": to_level,
            "min_months": None if months is None else _whole(
                months, prefix + "min_months", 0, MAX_MONTHS,
                _("Months in level is a whole number from 0 to %(n)d, or blank for none.", n=MAX_MONTHS)),
            "evaluations": _whole(row.get("evaluations"), prefix + "evaluations", 1, MAX_EVALUATIONS,
                                  _("Evaluations considered is a whole number from 1 to %(n)d.", n=MAX_EVALUATIONS)),
        }
        for name in THRESHOLD_FIELDS:
            value = row.get(name)
            rule[name] = None if value is None else format(_threshold(value, prefix + name), "f")
        rule["no_open_compliance_flag"] = bool(row.get("no_open_compliance_flag"))
        if rule["each_total_at_least"] is None and rule["mean_total_at_least"] is None:
            raise OperationError(_("A promotion rule needs a bar on the total: each total, or the mean total."),
                                 prefix + "each_total_at_least", "no_total_bar")
        promotion.append(rule)
    demotion = data.get("demotion") or {}
    result = {
        "promotion": promotion,
        "demotion": {
            "evaluations": _whole(demotion.get("evaluations"), "demotion_evaluations", 1, MAX_EVALUATIONS,
                                  _("Evaluations considered is a whole number from 1 to %(n)d.", n=MAX_EVALUATIONS)),
            "each_total_below": format(_threshold(demotion.get("each_total_below"), "demotion_each_total_below"), "f"),
        },
    }
    try:
        engine.rules_from_dict(result)  # the pure rules' own check has the last word
    except engine.RuleDataError as error:
        raise OperationError(_("These rules are not valid: %(detail)s", detail=str(error)), None, "invalid_rules") \
            from None
    return result


def create_rule_set(data: Mapping[str, Any], *, note: str | None, by: User | None) -> PromotionRuleSet:
    """A new promotion rule version; nominations and level changes keep the version that applied."""
    rules = check_rules(data)
    note = _note(note)
    current = rule_set_in_force()
    if current is not None and engine.rules_from_dict(current.rules) == engine.rules_from_dict(rules):
        raise OperationError(_("These rules are the ones already in force."), None, "unchanged")
    version = (db.session.scalar(select(func.max(PromotionRuleSet.version))) or 0) + 1
    rule_set = PromotionRuleSet(version=version, rules=rules, note=note, created_by_id=by.id if by else None)
    db.session.add(rule_set)
    db.session.flush()
    record("promotion_rules.new_version", "promotion_rule_set", version, actor=by,
           before={"version": current.version, "rules": current.rules} if current else None,
           after={"version": version, "rules": rules, "note": note})
    return rule_set


def rules_as_form_data(rules: Mapping[str, Any]) -> dict[str, Any]:
    """A stored rule version as flat form values (`<from_level>_<field>`, `demotion_<field>`)."""
    values: dict[str, Any] = {}
    for row in rules.get("promotion", []):
        for name in PROMOTION_FIELDS:
            value = row.get(name)
            values[f"{row['from_level']}_{name}"] = Decimal(value) if name in THRESHOLD_FIELDS and value else value
    demotion = rules.get("demotion", {})
    values["demotion_evaluations"] = demotion.get("evaluations")
    below = demotion.get("each_total_below")
    values["demotion_each_total_below"] = Decimal(below) if below is not None else None
    return values


def versions(model, limit: int = 50) -> list:
    """The latest versions of weights or rules, newest first, with their author."""
    return db.session.execute(
        select(model, User.display_name).outerjoin(User, User.id == model.created_by_id)
        .order_by(model.version.desc()).limit(limit)).all()
