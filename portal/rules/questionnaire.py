"""Risk-tolerance questionnaire: the definition as data, its validation, and scoring (seed 第五条).

Pure rules: standard library only, no Flask and no database. A definition is a plain dict (as stored in
`data/questionnaire/*.json` or a questionnaire-version row); `load_definition` turns it into frozen
dataclasses and `score` turns one set of answers into an `Assessment`.

Scaling: score = round-half-up((raw - min_raw) / (max_raw - min_raw) * 100), where min_raw and max_raw
are the sums of every question's lowest and highest option points. All-lowest answers give 0 and
all-highest give 100 whatever points the lowest options carry; the arithmetic is exact (Fraction).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

from portal.rules.calendar import whole_years
from portal.rules.vocabulary import CLASS_OF_GRADE, GRADES, PRODUCT_LEVELS, max_level_of

LANGUAGES = ("zh_CN", "en")
GROUPS = ("age", "knowledge", "experience", "financial", "preference")
MIN_QUESTIONS = 12
SCORE_MIN = 0
SCORE_MAX = 100


class DefinitionError(ValueError):
    """A questionnaire definition is malformed or inconsistent; the message says where and why."""


class AnswerError(ValueError):
    """An answer set does not fit the definition; `question_id` names the question at fault."""

    def __init__(self, question_id: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{question_id}: {message}")
        self.question_id = question_id
        self.message = message
        # "missing", "unknown_question" or "unknown_option": lets a view pick a translated message.
        self.code = code


@dataclass(frozen=True)
class Bilingual:
    """A text in every language the portal speaks."""

    zh_CN: str
    en: str

    def get(self, locale: str | None) -> str:
        """The text for a locale such as "zh_CN", "zh" or "en"; English for anything else."""
        return self.zh_CN if locale and str(locale).lower().startswith("zh") else self.en

    def to_dict(self) -> dict[str, str]:
        """The text as the {"zh_CN": ..., "en": ...} dict the definition stores."""
        return {"zh_CN": self.zh_CN, "en": self.en}


@dataclass(frozen=True)
class Option:
    """One answer a question offers, with the points it carries."""

    id: str
    text: Bilingual
    points: int
    # On the age question only: the ages (in whole years, inclusive) this option stands for; None is open-ended.
    min_age: int | None = None
    max_age: int | None = None

    @property
    def has_age_range(self) -> bool:
        return self.min_age is not None or self.max_age is not None

    def holds_age(self, age: int) -> bool:
        """True when `age` lies in this option's age range."""
        return self.has_age_range and (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age)


@dataclass(frozen=True)
class Question:
    """One question in one indicator group; options are stored in order of increasing points."""

    id: str
    group: str
    text: Bilingual
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option | None:
        """The option with this id, or None."""
        return next((option for option in self.options if option.id == option_id), None)

    @property
    def min_points(self) -> int:
        """Points of the lowest option."""
        return min(option.points for option in self.options)

    @property
    def max_points(self) -> int:
        """Points of the highest option."""
        return max(option.points for option in self.options)


@dataclass(frozen=True)
class Band:
    """A closed range of scaled scores [min, max] that gives one grade."""

    grade: str
    min: int
    max: int


@dataclass(frozen=True)
class Condition:
    """A condition that holds when the answer to `question` is `option`."""

    question: str
    option: str


@dataclass(frozen=True)
class Cap:
    """An answer that caps the grade at `max_grade` and may mark the lowest risk-tolerance category."""

    id: str
    when: Condition
    max_grade: str
    lowest_category: bool
    text: Bilingual


@dataclass(frozen=True)
class ConsistencyCheck:
    """A combination of answers that contradict each other, flagged for the manager to review."""

    id: str
    when_all: tuple[Condition, ...]
    text: Bilingual


@dataclass(frozen=True)
class Questionnaire:
    """One version of the questionnaire: questions, bands, caps and consistency checks."""

    version: str
    title: Bilingual
    validity_months: int
    questions: tuple[Question, ...]
    bands: tuple[Band, ...]
    caps: tuple[Cap, ...]
    consistency_checks: tuple[ConsistencyCheck, ...]

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((question for question in self.questions if question.id == question_id), None)

    @property
    def min_points(self) -> int:
        """Raw points when every answer is the lowest option."""
        return sum(question.min_points for question in self.questions)

    @property
    def max_points(self) -> int:
        """Raw points when every answer is the highest option."""
        return sum(question.max_points for question in self.questions)

    @property
    def age_question(self) -> Question | None:
        """The question whose options carry age ranges: answered from the birth date on file, never asked."""
        return next((q for q in self.questions if any(o.has_age_range for o in q.options)), None)


@dataclass(frozen=True)
class Assessment:
    """The result of scoring one complete answer set against one questionnaire version."""

    raw_points: int
    max_points: int
    group_points: dict[str, tuple[int, int]]
    score: int
    band_grade: str
    grade: str
    risk_class: str
    lowest_category: bool
    caps_applied: tuple[str, ...]
    flags: tuple[str, ...]
    min_points: int
    version: str


# --- loading -------------------------------------------------------------------------------------------


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    # bool is an int in Python; points and bounds must not silently accept true/false.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise DefinitionError(f"{where}: expected {what}, got {value!r}")
    return value


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise DefinitionError(f"{where}: missing {key!r}")
    return data[key]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    return _expect(value, Mapping, where, "an object")


def _list(value: Any, where: str) -> list[Any]:
    return list(_expect(value, (list, tuple), where, "a list"))


def _text(value: Any, where: str) -> Bilingual:
    value = _mapping(value, where)
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise DefinitionError(f"{where}: missing the {language} text")
    return Bilingual(zh_CN=value["zh_CN"], en=value["en"])


def _condition(value: Any, where: str) -> Condition:
    value = _mapping(value, where)
    return Condition(
        question=_expect(_field(value, "question", where), str, f"{where}.question", "a question id"),
        option=_expect(_field(value, "option", where), str, f"{where}.option", "an option id"),
    )


def _age(value: Any, where: str) -> int | None:
    if value is None:
        return None
    age = _expect(value, int, where, "a whole number of years")
    if age < 0:
        raise DefinitionError(f"{where}: must not be negative, got {age}")
    return age


def _option(value: Any, where: str) -> Option:
    value = _mapping(value, where)
    return Option(
        id=_expect(_field(value, "id", where), str, f"{where}.id", "a string id"),
        text=_text(_field(value, "text", where), f"{where}.text"),
        points=_expect(_field(value, "points", where), int, f"{where}.points", "an integer"),
        min_age=_age(value.get("min_age"), f"{where}.min_age"),
        max_age=_age(value.get("max_age"), f"{where}.max_age"),
    )


def _question(value: Any, where: str) -> Question:
    value = _mapping(value, where)
    options = _list(_field(value, "options", where), f"{where}.options")
    return Question(
        id=_expect(_field(value, "id", where), str, f"{where}.id", "a string id"),
        group=_expect(_field(value, "group", where), str, f"{where}.group", "a group name"),
        text=_text(_field(value, "text", where), f"{where}.text"),
        options=tuple(_option(option, f"{where}.options[{i}]") for i, option in enumerate(options)),
    )


def _band(value: Any, where: str) -> Band:
    value = _mapping(value, where)
    return Band(
        grade=_expect(_field(value, "grade", where), str, f"{where}.grade", "a grade"),
        min=_expect(_field(value, "min", where), int, f"{where}.min", "an integer"),
        max=_expect(_field(value, "max", where), int, f"{where}.max", "an integer"),
    )


def _cap(value: Any, where: str) -> Cap:
    value = _mapping(value, where)
    return Cap(
        id=_expect(_field(value, "id", where), str, f"{where}.id", "a string id"),
        when=_condition(_field(value, "when", where), f"{where}.when"),
        max_grade=_expect(_field(value, "max_grade", where), str, f"{where}.max_grade", "a grade"),
        lowest_category=_expect(value.get("lowest_category", False), bool, f"{where}.lowest_category", "true or false"),
        text=_text(_field(value, "text", where), f"{where}.text"),
    )


def _check(value: Any, where: str) -> ConsistencyCheck:
    value = _mapping(value, where)
    conditions = _list(_field(value, "when_all", where), f"{where}.when_all")
    return ConsistencyCheck(
        id=_expect(_field(value, "id", where), str, f"{where}.id", "a string id"),
        when_all=tuple(_condition(c, f"{where}.when_all[{i}]") for i, c in enumerate(conditions)),
        text=_text(_field(value, "text", where), f"{where}.text"),
    )


def load_definition(data: Mapping[str, Any]) -> Questionnaire:
    """Build a validated Questionnaire from its dict form; raise DefinitionError saying what is wrong."""
    data = _mapping(data, "definition")
    version = _expect(_field(data, "version", "definition"), str, "version", "a version string")
    questions = _list(_field(data, "questions", "definition"), "questions")
    bands = _list(_field(data, "bands", "definition"), "bands")
    caps = _list(data.get("caps", []), "caps")
    checks = _list(data.get("consistency_checks", []), "consistency_checks")
    definition = Questionnaire(
        version=version,
        title=_text(_field(data, "title", "definition"), "title"),
        validity_months=_expect(_field(data, "validity_months", "definition"), int, "validity_months", "an integer"),
        questions=tuple(_question(q, f"questions[{i}]") for i, q in enumerate(questions)),
        bands=tuple(_band(b, f"bands[{i}]") for i, b in enumerate(bands)),
        caps=tuple(_cap(c, f"caps[{i}]") for i, c in enumerate(caps)),
        consistency_checks=tuple(_check(c, f"consistency_checks[{i}]") for i, c in enumerate(checks)),
    )
    validate_definition(definition)
    return definition


def load_definition_file(path: str | Path) -> Questionnaire:
    """Read a definition from a UTF-8 JSON file and load it."""
    with open(path, encoding="utf-8") as handle:
        return load_definition(json.load(handle))


def _option_dict(option: Option) -> dict[str, Any]:
    data: dict[str, Any] = {"id": option.id, "text": option.text.to_dict(), "points": option.points}
    if option.min_age is not None:
        data["min_age"] = option.min_age
    if option.max_age is not None:
        data["max_age"] = option.max_age
    return data


def definition_to_dict(definition: Questionnaire) -> dict[str, Any]:
    """The dict form of a definition, the inverse of load_definition (for storing a version as JSON)."""

    def condition(c: Condition) -> dict[str, str]:
        return {"question": c.question, "option": c.option}

    return {
        "version": definition.version,
        "title": definition.title.to_dict(),
        "validity_months": definition.validity_months,
        "questions": [
            {
                "id": q.id,
                "group": q.group,
                "text": q.text.to_dict(),
                "options": [_option_dict(o) for o in q.options],
            }
            for q in definition.questions
        ],
        "bands": [{"grade": b.grade, "min": b.min, "max": b.max} for b in definition.bands],
        "caps": [
            {
                "id": c.id,
                "when": condition(c.when),
                "max_grade": c.max_grade,
                "lowest_category": c.lowest_category,
                "text": c.text.to_dict(),
            }
            for c in definition.caps
        ],
        "consistency_checks": [
            {"id": k.id, "when_all": [condition(c) for c in k.when_all], "text": k.text.to_dict()}
            for k in definition.consistency_checks
        ],
    }


# --- validation ----------------------------------------------------------------------------------------


def _duplicates(ids: list[str]) -> list[str]:
    return sorted(i for i, count in Counter(ids).items() if count > 1)


def _check_condition(definition: Questionnaire, condition: Condition, where: str) -> None:
    question = definition.question(condition.question)
    if question is None:
        raise DefinitionError(f"{where}: unknown question {condition.question!r}")
    if question.option(condition.option) is None:
        raise DefinitionError(f"{where}: question {condition.question!r} has no option {condition.option!r}")


def _validate_questions(definition: Questionnaire) -> None:
    if len(definition.questions) < MIN_QUESTIONS:
        raise DefinitionError(
            f"questions: at least {MIN_QUESTIONS} questions are required, found {len(definition.questions)}"
        )
    duplicated = _duplicates([q.id for q in definition.questions])
    if duplicated:
        raise DefinitionError(f"questions: duplicate question ids {', '.join(duplicated)}")
    for question in definition.questions:
        where = f"question {question.id}"
        if not question.id.strip():
            raise DefinitionError("questions: a question has an empty id")
        if question.group not in GROUPS:
            raise DefinitionError(f"{where}: unknown group {question.group!r}; groups are {', '.join(GROUPS)}")
        if len(question.options) < 2:
            raise DefinitionError(f"{where}: at least 2 options are required")
        duplicated = _duplicates([o.id for o in question.options])
        if duplicated:
            raise DefinitionError(f"{where}: duplicate option ids {', '.join(duplicated)}")
        for previous, option in pairwise(question.options):
            if option.points <= previous.points:
                raise DefinitionError(
                    f"{where}: options must be in order of strictly increasing points, "
                    f"but {option.id} ({option.points}) follows {previous.id} ({previous.points})"
                )
    missing = [group for group in GROUPS if not any(q.group == group for q in definition.questions)]
    if missing:
        raise DefinitionError(f"questions: no question in group(s) {', '.join(missing)}")
    _validate_age_question(definition)


def _validate_age_question(definition: Questionnaire) -> None:
    """At most one question carries age ranges; it is in the age group and its ranges never overlap."""
    with_ages = [q for q in definition.questions if any(o.has_age_range for o in q.options)]
    if len(with_ages) > 1:
        raise DefinitionError(f"questions: only one question may carry age ranges, found "
                              f"{', '.join(q.id for q in with_ages)}")
    if not with_ages:
        return
    question = with_ages[0]
    where = f"question {question.id}"
    if question.group != "age":
        raise DefinitionError(f"{where}: only a question of the age group may carry age ranges")
    ranges = []
    for option in question.options:
        if not option.has_age_range:
            raise DefinitionError(f"{where}: option {option.id} has no age range, but the question's other options do")
        low = option.min_age if option.min_age is not None else 0
        high = option.max_age if option.max_age is not None else math.inf
        if high < low:
            raise DefinitionError(f"{where}: option {option.id} ends ({option.max_age}) before it starts "
                                  f"({option.min_age})")
        ranges.append((low, high, option.id))
    ranges.sort()
    for (_low, high, first), (low, _high, second) in pairwise(ranges):
        if low <= high:
            raise DefinitionError(f"{where}: the age ranges of options {first} and {second} overlap")


def _validate_bands(bands: tuple[Band, ...]) -> None:
    grades = tuple(band.grade for band in bands)
    if grades != GRADES:
        raise DefinitionError(f"bands: expected one band per grade in the order {', '.join(GRADES)}, got {grades}")
    expected_min = SCORE_MIN
    for band in bands:
        if band.min != expected_min:
            raise DefinitionError(
                f"bands: {band.grade} starts at {band.min} but must start at {expected_min} "
                f"so that the bands cover {SCORE_MIN}-{SCORE_MAX} without gaps or overlaps"
            )
        if band.max < band.min:
            raise DefinitionError(f"bands: {band.grade} ends ({band.max}) before it starts ({band.min})")
        expected_min = band.max + 1
    if bands[-1].max != SCORE_MAX:
        raise DefinitionError(f"bands: the last band must end at {SCORE_MAX}, not {bands[-1].max}")


def validate_definition(definition: Questionnaire) -> None:
    """Raise DefinitionError unless the definition is complete and self-consistent."""
    if not definition.version.strip():
        raise DefinitionError("version: must not be empty")
    if definition.validity_months < 1:
        raise DefinitionError(f"validity_months: must be at least 1, got {definition.validity_months}")
    _validate_questions(definition)
    _validate_bands(definition.bands)
    duplicated = _duplicates([c.id for c in definition.caps])
    if duplicated:
        raise DefinitionError(f"caps: duplicate cap ids {', '.join(duplicated)}")
    for cap in definition.caps:
        _check_condition(definition, cap.when, f"cap {cap.id}")
        if cap.max_grade not in GRADES:
            raise DefinitionError(f"cap {cap.id}: unknown max_grade {cap.max_grade!r}")
    duplicated = _duplicates([k.id for k in definition.consistency_checks])
    if duplicated:
        raise DefinitionError(f"consistency_checks: duplicate check ids {', '.join(duplicated)}")
    for check in definition.consistency_checks:
        where = f"consistency check {check.id}"
        if not check.when_all:
            raise DefinitionError(f"{where}: when_all must list at least one condition")
        for condition in check.when_all:
            _check_condition(definition, condition, where)
        asked = [c.question for c in check.when_all]
        if len(set(asked)) != len(asked):
            raise DefinitionError(f"{where}: names a question twice, so it could never fire")


# --- scoring -------------------------------------------------------------------------------------------


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves away from zero for non-negatives (19.5 -> 20, 20.5 -> 21)."""
    return math.floor(value + Fraction(1, 2))


def scale(raw_points: int, min_points: int, max_points: int) -> int:
    """Scale raw points to 0-100: round-half-up((raw - min) / (max - min) * 100)."""
    return round_half_up(Fraction(100 * (raw_points - min_points), max_points - min_points))


def grade_for_score(bands: tuple[Band, ...], score: int) -> str:
    """The grade whose band holds this scaled score."""
    for band in bands:
        if band.min <= score <= band.max:
            return band.grade
    raise ValueError(f"score {score} lies outside every band")


def risk_class_of(grade: str) -> str:
    """The seed's three-way class (conservative, balanced, aggressive) of a grade C1-C5."""
    return CLASS_OF_GRADE[grade]


def lower_grade(first: str, second: str) -> str:
    """The lower (more cautious) of two grades."""
    return min(first, second, key=GRADES.index)


def _chosen_options(definition: Questionnaire, answers: Mapping[str, str]) -> dict[str, Option]:
    for question_id in answers:
        if definition.question(question_id) is None:
            raise AnswerError(str(question_id), f"question {question_id} is not part of this questionnaire",
                              "unknown_question")
    chosen: dict[str, Option] = {}
    for question in definition.questions:
        if question.id not in answers or answers[question.id] in (None, ""):
            raise AnswerError(question.id, f"question {question.id} has not been answered", "missing")
        option = question.option(answers[question.id]) if isinstance(answers[question.id], str) else None
        if option is None:
            raise AnswerError(
                question.id, f"{answers[question.id]!r} is not an option of question {question.id}", "unknown_option"
            )
        chosen[question.id] = option
    return chosen


def score(definition: Questionnaire, answers: Mapping[str, str]) -> Assessment:
    """Score a complete answer set (question id -> option id); raise AnswerError for a bad or missing answer."""
    chosen = _chosen_options(definition, answers)
    group_points: dict[str, tuple[int, int]] = {}
    for group in GROUPS:
        in_group = [q for q in definition.questions if q.group == group]
        group_points[group] = (sum(chosen[q.id].points for q in in_group), sum(q.max_points for q in in_group))
    raw_points = sum(option.points for option in chosen.values())
    min_points, max_points = definition.min_points, definition.max_points
    scaled = scale(raw_points, min_points, max_points)
    band_grade = grade_for_score(definition.bands, scaled)

    def holds(condition: Condition) -> bool:
        return chosen[condition.question].id == condition.option

    caps = [cap for cap in definition.caps if holds(cap.when)]
    grade = band_grade
    for cap in caps:
        grade = lower_grade(grade, cap.max_grade)
    return Assessment(
        raw_points=raw_points,
        max_points=max_points,
        group_points=group_points,
        score=scaled,
        band_grade=band_grade,
        grade=grade,
        risk_class=CLASS_OF_GRADE[grade],
        lowest_category=any(cap.lowest_category for cap in caps),
        caps_applied=tuple(cap.id for cap in caps),
        flags=tuple(check.id for check in definition.consistency_checks if all(map(holds, check.when_all))),
        min_points=min_points,
        version=definition.version,
    )


def age_answer(definition: Questionnaire, birth_date: date | None, day: date) -> tuple[str, str] | None:
    """(question id, option id) of the age question for someone born on `birth_date`, answered on `day`.

    None when the version has no age ranges, no birth date is held, or no option covers the age: the
    question is then asked as any other.
    """
    question = definition.age_question
    if question is None or birth_date is None:
        return None
    age = whole_years(birth_date, day)
    option = next((o for o in question.options if o.holds_age(age)), None)
    return (question.id, option.id) if option is not None else None


def allowed_product_levels(grade: str, lowest_category: bool = False) -> tuple[str, ...]:
    """Product risk levels a grade may take: Cn takes R1..Rn; the lowest category only R1."""
    return PRODUCT_LEVELS[:max_level_of(grade, lowest_category)]
