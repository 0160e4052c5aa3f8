"""The risk-tolerance questionnaire rules: definition validation, scaling, bands, caps and flags."""
from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules.questionnaire import (
    GROUPS,
    AnswerError,
    Bilingual,
    DefinitionError,
    allowed_product_levels,
    definition_to_dict,
    load_definition,
    load_definition_file,
    round_half_up,
    scale,
    score,
)
from portal.rules.vocabulary import CLASS_OF_GRADE, GRADES

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "questionnaire" / "default.json"
DEFAULT_DATA = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
DEFAULT = load_definition(DEFAULT_DATA)
BANDS = [
    {"grade": "C1", "min": 0, "max": 19},
    {"grade": "C2", "min": 20, "max": 39},
    {"grade": "C3", "min": 40, "max": 59},
    {"grade": "C4", "min": 60, "max": 79},
    {"grade": "C5", "min": 80, "max": 100},
]
SYNTHETIC_GROUPS = ["age", "age", "knowledge", "knowledge", "experience", "experience",
                    "financial", "financial", "preference", "preference", "preference", "preference"]


def text(label: str) -> dict[str, str]:
    return {"zh_CN": f"{label}（中文）", "en": label}


def synthetic(unit: int = 1, offset: int = 0) -> dict:
    """Twelve questions whose point ranges add up to 100 * unit, so every raw total 0..100*unit is reachable.

    q01 offers every step 0..10*unit; q02 is worth 10*unit and q03-q12 8*unit each, all or nothing.
    `offset` lifts every option's points, which the scaling must cancel out.
    """
    ranges = [None, 10 * unit] + [8 * unit] * 10
    questions = []
    for number, (group, top) in enumerate(zip(SYNTHETIC_GROUPS, ranges), start=1):
        qid = f"q{number:02d}"
        points = list(range(10 * unit + 1)) if top is None else [0, top]
        questions.append({
            "id": qid,
            "group": group,
            "text": text(f"Question {number}"),
            "options": [{"id": f"{qid}_{i}", "text": text(f"option {i}"), "points": p + offset}
                        for i, p in enumerate(points)],
        })
    return {"version": "test", "title": text("Synthetic"), "validity_months": 24, "questions": questions,
            "bands": copy.deepcopy(BANDS), "caps": [], "consistency_checks": []}


def synthetic_answers(data: dict, raw_above_min: int, keep_low: tuple[str, ...] = ()) -> dict[str, str]:
    """Answers to a synthetic definition whose raw total is exactly min_raw + raw_above_min.

    Questions in `keep_low` are answered with their lowest option (so a cap on it stays in force).
    """
    remaining = raw_above_min
    answers = {}
    # Take the all-or-nothing questions greedily, largest first; q01's fine steps then absorb the rest.
    for question in sorted(data["questions"][1:], key=lambda q: -(q["options"][-1]["points"])):
        low, high = question["options"]
        step = high["points"] - low["points"]
        take = step <= remaining and question["id"] not in keep_low
        answers[question["id"]] = high["id"] if take else low["id"]
        remaining -= step if take else 0
    first = data["questions"][0]
    base = first["options"][0]["points"]
    answers[first["id"]] = next(o["id"] for o in first["options"] if o["points"] - base == remaining)
    return answers


def default_answers(level: str = "high", **overrides: str) -> dict[str, str]:
    """Every question answered with its highest (or lowest) option, then the given overrides."""
    index = -1 if level == "high" else 0
    answers = {q.id: q.options[index].id for q in DEFAULT.questions}
    answers.update(overrides)
    return answers


# --- the shipped default questionnaire ---------------------------------------------------------------


def test_default_definition_loads_and_validates():
    definition = load_definition_file(DEFAULT_PATH)
    assert definition == DEFAULT
    assert definition.version == "2026.1"
    assert definition.validity_months == 24
    assert len(definition.questions) >= 14
    for group in GROUPS:
        assert sum(q.group == group for q in definition.questions) >= 2, group
    assert [(b.grade, b.min, b.max) for b in definition.bands] == [(b["grade"], b["min"], b["max"]) for b in BANDS]


def test_default_definition_has_the_options_the_caps_and_checks_rely_on():
    age = DEFAULT.question("q01")
    assert age.group == "age" and "65" in age.options[0].text.zh_CN and "65 and over" == age.options[0].text.en
    loss = DEFAULT.question("q16").option("q16a")
    assert loss.text.zh_CN == "不能承受任何本金损失"
    assert DEFAULT.question("q07").option("q07a").text.zh_CN == "没有任何投资经验"
    assert DEFAULT.question("q07").group == "experience"
    assert "追求高收益" in DEFAULT.question("q15").option("q15d").text.zh_CN
    caps = {cap.id: cap for cap in DEFAULT.caps}
    assert (caps["cannot_bear_loss"].max_grade, caps["cannot_bear_loss"].lowest_category) == ("C1", True)
    assert (caps["age_65_plus"].max_grade, caps["age_65_plus"].lowest_category) == ("C3", False)
    assert len(DEFAULT.consistency_checks) >= 2


def test_default_option_ids_follow_question_ids():
    for question in DEFAULT.questions:
        assert [o.id for o in question.options] == [f"{question.id}{chr(97 + i)}" for i in range(len(question.options))]


def test_definition_round_trips_through_its_dict_form():
    assert definition_to_dict(DEFAULT) == DEFAULT_DATA
    assert load_definition(definition_to_dict(DEFAULT)) == DEFAULT


@pytest.mark.parametrize(("level", "expected_score", "expected_grade"), [("low", 0, "C1"), ("high", 100, "C5")])
def test_extreme_answers_on_the_default_definition(level, expected_score, expected_grade):
    result = score(DEFAULT, default_answers(level))
    assert result.score == expected_score
    assert result.band_grade == expected_grade
    assert result.raw_points == (DEFAULT.min_points if level == "low" else DEFAULT.max_points)
    assert result.max_points == DEFAULT.max_points
    assert result.version == "2026.1"


def test_group_points_add_up_to_the_raw_total():
    result = score(DEFAULT, default_answers("high"))
    assert set(result.group_points) == set(GROUPS)
    assert sum(points for points, _ in result.group_points.values()) == result.raw_points
    assert all(points == top for points, top in result.group_points.values())


# --- scaling and bands -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 3])
@pytest.mark.parametrize(
    ("target", "grade"),
    [(0, "C1"), (19, "C1"), (20, "C2"), (39, "C2"), (40, "C3"), (59, "C3"), (60, "C4"), (79, "C4"),
     (80, "C5"), (100, "C5")],
)
def test_band_edges(target, grade, offset):
    data = synthetic(offset=offset)
    definition = load_definition(data)
    result = score(definition, synthetic_answers(data, target))
    assert result.score == target
    assert result.raw_points == target + 12 * offset
    assert (result.band_grade, result.grade) == (grade, grade)
    assert result.risk_class == CLASS_OF_GRADE[grade]
    assert result.caps_applied == () and result.flags == () and result.lowest_category is False


@pytest.mark.parametrize(
    ("raw_above_min", "expected_score", "grade"),
    [
        (37, 19, "C1"),  # 18.5 rounds up to 19
        (38, 19, "C1"),
        (39, 20, "C2"),  # 19.5 rounds up to 20
        (41, 21, "C2"),  # 20.5 rounds up to 21 (banker's rounding would give 20)
        (119, 60, "C4"),  # 59.5
        (159, 80, "C5"),  # 79.5
        (199, 100, "C5"),  # 99.5
    ],
)
def test_scaling_rounds_half_up(raw_above_min, expected_score, grade):
    data = synthetic(unit=2)
    result = score(load_definition(data), synthetic_answers(data, raw_above_min))
    assert (result.score, result.band_grade) == (expected_score, grade)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Fraction(0), 0), (Fraction(1, 2), 1), (Fraction(49, 2), 25), (Fraction(99, 2), 50), (Fraction(199, 2), 100),
     (Fraction(2, 3), 1), (Fraction(1, 3), 0)],
)
def test_round_half_up(value, expected):
    assert round_half_up(value) == expected


def test_scale_maps_the_minimum_to_0_and_the_maximum_to_100():
    assert (scale(18, 18, 98), scale(98, 18, 98), scale(58, 18, 98)) == (0, 100, 50)


# --- caps ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "band_grade", "grade", "caps", "lowest"),
    [
        pytest.param(default_answers("high"), "C5", "C5", (), False, id="no cap"),
        pytest.param(default_answers("high", q01="q01a"), "C5", "C3", ("age_65_plus",), False, id="65+ caps C5 to C3"),
        pytest.param(default_answers("high", q16="q16a"), "C5", "C1", ("cannot_bear_loss",), True,
                     id="cannot bear loss gives C1 and the lowest category"),
        pytest.param(default_answers("high", q01="q01a", q16="q16a"), "C5", "C1",
                     ("cannot_bear_loss", "age_65_plus"), True, id="both caps: the lower wins"),
        pytest.param(default_answers("low", q16="q16e"), "C1", "C1", ("age_65_plus",), False,
                     id="65+ cap does not raise a C1"),
        pytest.param(default_answers("low"), "C1", "C1", ("cannot_bear_loss", "age_65_plus"), True,
                     id="all lowest"),
        pytest.param(default_answers("high", q01="q01b"), "C5", "C5", (), False, id="56-64 is not capped"),
    ],
)
def test_caps(answers, band_grade, grade, caps, lowest):
    result = score(DEFAULT, answers)
    assert result.band_grade == band_grade
    assert result.grade == grade
    assert result.risk_class == CLASS_OF_GRADE[grade]
    assert result.caps_applied == caps
    assert result.lowest_category is lowest


@pytest.mark.parametrize(("target", "band_grade", "grade"), [(30, "C2", "C2"), (50, "C3", "C3"), (85, "C5", "C3")])
def test_a_cap_lowers_a_higher_grade_but_never_raises_a_lower_one(target, band_grade, grade):
    data = synthetic()
    data["caps"] = [{"id": "cap_c3", "when": {"question": "q12", "option": "q12_0"}, "max_grade": "C3",
                     "lowest_category": False, "text": text("cap")}]
    result = score(load_definition(data), synthetic_answers(data, target, keep_low=("q12",)))
    assert (result.score, result.band_grade, result.grade) == (target, band_grade, grade)
    assert result.caps_applied == ("cap_c3",)


# --- consistency checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "flags"),
    [
        pytest.param(default_answers("high"), (), id="consistent"),
        pytest.param(default_answers("low"), (), id="cautious throughout"),
        pytest.param(default_answers("high", q07="q07a"), ("no_experience_aggressive_goal",), id="no experience"),
        pytest.param(default_answers("high", q13="q13a"), ("short_horizon_aggressive_goal",), id="short horizon"),
        pytest.param(default_answers("high", q16="q16b"), ("small_loss_tolerance_aggressive_goal",),
                     id="small loss tolerance"),
        pytest.param(default_answers("high", q07="q07a", q15="q15c"), (), id="no experience, balanced goal"),
        pytest.param(default_answers("high", q07="q07a", q13="q13a"),
                     ("no_experience_aggressive_goal", "short_horizon_aggressive_goal"), id="two flags"),
    ],
)
def test_consistency_flags(answers, flags):
    result = score(DEFAULT, answers)
    assert result.flags == flags


def test_flags_do_not_change_the_grade():
    flagged = score(DEFAULT, default_answers("high", q07="q07a"))
    assert flagged.grade == flagged.band_grade == "C5"


# --- answer errors -------------------------------------------------------------------------------------


def _without(answers: dict[str, str], question_id: str) -> dict[str, str]:
    return {k: v for k, v in answers.items() if k != question_id}


@pytest.mark.parametrize(
    ("answers", "question_id", "code"),
    [
        pytest.param(_without(default_answers(), "q05"), "q05", "missing", id="missing answer"),
        pytest.param({}, "q01", "missing", id="nothing answered"),
        pytest.param(default_answers(q09=""), "q09", "missing", id="empty answer"),
        pytest.param(default_answers(q99="q99a"), "q99", "unknown_question", id="unknown question"),
        pytest.param(default_answers(q05="q06a"), "q05", "unknown_option", id="another question's option"),
        pytest.param(default_answers(q05="q05z"), "q05", "unknown_option", id="unknown option"),
    ],
)
def test_answer_errors_name_the_question(answers, question_id, code):
    with pytest.raises(AnswerError) as caught:
        score(DEFAULT, answers)
    assert caught.value.question_id == question_id
    assert caught.value.code == code
    assert question_id in caught.value.message
    assert question_id in str(caught.value)


# --- property: any complete answer set ----------------------------------------------------------------

ANY_ANSWERS = st.fixed_dictionaries({q.id: st.sampled_from([o.id for o in q.options]) for q in DEFAULT.questions})


@given(ANY_ANSWERS)
def test_any_complete_answer_set_scores_within_bounds(answers):
    result = score(DEFAULT, answers)
    assert 0 <= result.score <= 100
    assert result.raw_points == sum(DEFAULT.question(q).option(o).points for q, o in answers.items())
    assert sum(points for points, _ in result.group_points.values()) == result.raw_points
    band = next(b for b in DEFAULT.bands if b.grade == result.band_grade)
    assert band.min <= result.score <= band.max
    assert GRADES.index(result.grade) <= GRADES.index(result.band_grade)
    assert result.risk_class == CLASS_OF_GRADE[result.grade]
    assert result.lowest_category is (answers["q16"] == "q16a")
    if result.lowest_category:
        assert result.grade == "C1"


@given(ANY_ANSWERS, st.sampled_from([q.id for q in DEFAULT.questions]))
def test_a_higher_answer_never_lowers_the_score(answers, question_id):
    question = DEFAULT.question(question_id)
    raised = dict(answers, **{question_id: question.options[-1].id})
    assert score(DEFAULT, raised).score >= score(DEFAULT, answers).score


# --- product levels ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "lowest", "levels"),
    [
        ("C1", False, ("R1",)),
        ("C2", False, ("R1", "R2")),
        ("C3", False, ("R1", "R2", "R3")),
        ("C4", False, ("R1", "R2", "R3", "R4")),
        ("C5", False, ("R1", "R2", "R3", "R4", "R5")),
        ("C1", True, ("R1",)),
        ("C5", True, ("R1",)),
    ],
)
def test_allowed_product_levels(grade, lowest, levels):
    assert allowed_product_levels(grade, lowest) == levels


def test_allowed_product_levels_rejects_an_unknown_grade():
    with pytest.raises(ValueError, match="C6"):
        allowed_product_levels("C6", False)


def test_lowest_category_assessment_allows_only_r1():
    result = score(DEFAULT, default_answers("high", q16="q16a"))
    assert allowed_product_levels(result.grade, result.lowest_category) == ("R1",)


@pytest.mark.parametrize(("locale", "expected"), [("zh_CN", "中"), ("zh", "中"), ("en", "en"), (None, "en")])
def test_bilingual_picks_the_locale(locale, expected):
    assert Bilingual(zh_CN="中", en="en").get(locale) == expected


# --- definition validation -----------------------------------------------------------------------------


def _set(path: str, value):
    """A mutation that sets data[path] (dotted, with list indexes) to value."""

    def mutate(data: dict) -> None:
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str):
    def mutate(data: dict) -> None:
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return mutate


def _regroup(old: str, new: str):
    def mutate(data: dict) -> None:
        for question in data["questions"]:
            if question["group"] == old:
                question["group"] = new

    return mutate


def _swap_points(data: dict) -> None:
    options = data["questions"][2]["options"]
    options[0]["points"], options[1]["points"] = options[1]["points"], options[0]["points"]


def _truncate(data: dict) -> None:
    data["questions"] = data["questions"][:11]


def _add_check(when_all):
    def mutate(data: dict) -> None:
        data["consistency_checks"].append({"id": "extra", "when_all": when_all, "text": text("extra")})

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(_truncate, "at least 12 questions", id="too few questions"),
        pytest.param(_regroup("age", "knowledge"), "no question in group(s) age", id="group missing"),
        pytest.param(_set("questions.0.group", "lifestyle"), "unknown group 'lifestyle'", id="unknown group"),
        pytest.param(_set("questions.1.id", "q01"), "duplicate question ids q01", id="duplicate question"),
        pytest.param(_set("questions.0.options.1.id", "q01a"), "duplicate option ids q01a", id="duplicate option"),
        pytest.param(_swap_points, "strictly increasing points", id="points out of order"),
        pytest.param(_set("questions.2.options.1.points", 1), "strictly increasing points", id="equal points"),
        pytest.param(_set("questions.2.options.1.points", "2"), "points: expected an integer", id="points a string"),
        pytest.param(_set("questions.2.options.1.points", True), "points: expected an integer", id="points a bool"),
        pytest.param(_set("questions.2.options", [{"id": "x", "text": text("x"), "points": 1}]),
                     "at least 2 options", id="one option"),
        pytest.param(_set("bands.1.min", 21), "C2 starts at 21", id="band gap"),
        pytest.param(_set("bands.1.min", 19), "C2 starts at 19", id="band overlap"),
        pytest.param(_set("bands.0.min", 1), "C1 starts at 1", id="bands start above 0"),
        pytest.param(_set("bands.4.max", 99), "must end at 100", id="bands end below 100"),
        pytest.param(_set("bands.4.max", 101), "must end at 100", id="bands end above 100"),
        pytest.param(_set("bands.1.max", 10), "C2 ends (10) before it starts (20)", id="band inverted"),
        pytest.param(_set("bands.4.grade", "C6"), "one band per grade", id="unknown band grade"),
        pytest.param(_set("bands", BANDS[:4]), "one band per grade", id="band missing"),
        pytest.param(_set("caps.0.when.question", "q99"), "cap cannot_bear_loss: unknown question 'q99'",
                     id="cap unknown question"),
        pytest.param(_set("caps.0.when.option", "q15a"), "question 'q16' has no option 'q15a'",
                     id="cap unknown option"),
        pytest.param(_set("caps.0.max_grade", "C9"), "unknown max_grade 'C9'", id="cap unknown grade"),
        pytest.param(_set("caps.1.id", "cannot_bear_loss"), "duplicate cap ids", id="duplicate cap"),
        pytest.param(_set("consistency_checks.0.when_all.0.question", "q77"), "unknown question 'q77'",
                     id="check unknown question"),
        pytest.param(_set("consistency_checks.0.when_all.1.option", "q15z"), "has no option 'q15z'",
                     id="check unknown option"),
        pytest.param(_set("consistency_checks.0.when_all", []), "at least one condition", id="check empty"),
        pytest.param(_add_check([{"question": "q15", "option": "q15a"}, {"question": "q15", "option": "q15d"}]),
                     "names a question twice", id="check can never fire"),
        pytest.param(_set("consistency_checks.1.id", "no_experience_aggressive_goal"), "duplicate check ids",
                     id="duplicate check"),
        pytest.param(_delete("questions.0.text.en"), "questions[0].text: missing the en text", id="question en"),
        pytest.param(_set("questions.3.options.2.text.zh_CN", " "), "questions[3].options[2].text: missing the zh_CN",
                     id="option zh_CN blank"),
        pytest.param(_delete("caps.0.text.zh_CN"), "caps[0].text: missing the zh_CN text", id="cap text"),
        pytest.param(_delete("consistency_checks.0.text.en"), "consistency_checks[0].text: missing the en text",
                     id="check text"),
        pytest.param(_delete("title.en"), "title: missing the en text", id="title"),
        pytest.param(_delete("bands"), "missing 'bands'", id="no bands"),
        pytest.param(_set("validity_months", 0), "validity_months: must be at least 1", id="validity 0"),
        pytest.param(_set("version", " "), "version: must not be empty", id="blank version"),
    ],
)
def test_definition_validation_errors(mutate, message):
    data = copy.deepcopy(DEFAULT_DATA)
    mutate(data)
    with pytest.raises(DefinitionError) as caught:
        load_definition(data)
    assert message in str(caught.value)


def test_synthetic_definitions_are_valid():
    for unit, offset in [(1, 0), (1, 3), (2, 0)]:
        definition = load_definition(synthetic(unit, offset))
        assert definition.max_points - definition.min_points == 100 * unit
