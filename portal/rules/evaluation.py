"""Relationship-manager evaluations: dimensions, weights, rating bands, derived figures and level duties.

Pure rules (standard library and ``decimal`` only): no Flask, no database. The defaults here are the
SPEC's *default* values; the portal stores the administrator's current values as data and passes them in.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DIMENSIONS: tuple[str, ...] = ("satisfaction", "kpi", "team", "competence")

# Percent per dimension, in DIMENSIONS order: satisfaction / KPI / team / competence.
DEFAULT_WEIGHTS: dict[str, dict[str, int]] = {
    "junior": {"satisfaction": 25, "kpi": 35, "team": 10, "competence": 30},
    "mid": {"satisfaction": 25, "kpi": 40, "team": 15, "competence": 20},
    "senior": {"satisfaction": 25, "kpi": 40, "team": 20, "competence": 15},
    "principal": {"satisfaction": 20, "kpi": 35, "team": 30, "competence": 15},
}

BAND_CODES: tuple[str, ...] = ("excellent", "good", "satisfactory", "needs_improvement", "unsatisfactory")

# (lowest total that reaches the band, band code), highest first; the last entry is the floor band.
DEFAULT_BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(90), "excellent"),
    (Decimal(80), "good"),
    (Decimal(70), "satisfactory"),
    (Decimal(60), "needs_improvement"),
    (Decimal(0), "unsatisfactory"),
)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# An over-achieved target counts for at most 120 %: one runaway figure cannot hide the others.
KPI_ATTAINMENT_CAP = Decimal("1.2")
KPI_COMPONENTS: tuple[str, ...] = ("net_commission", "asset_growth", "new_clients", "valid_profiles")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal(value: object, name: str) -> Decimal:
    """Turn an int, Decimal or numeric string into a finite Decimal; floats are refused (money is exact)."""
    result: Decimal | None = None
    if isinstance(value, Decimal):
        result = value
    elif _is_int(value):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            result = None
    elif isinstance(value, float):
        raise ValueError(f"{name} must be an integer or a Decimal, not a float")
    if result is None or not result.is_finite():
        raise ValueError(f"{name} must be a number, got {value!r}")
    return result


def _validate_per_dimension(values: Mapping[str, int], what: str) -> None:
    """The four dimensions present, each a whole number 0–100; errors name the dimension."""
    unknown = set(values) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimension in {what}s: {', '.join(sorted(unknown))}")
    for dimension in DIMENSIONS:
        if dimension not in values:
            raise ValueError(f"{what} for {dimension} is missing")
        value = values[dimension]
        if not _is_int(value):
            raise ValueError(f"{what} for {dimension} must be a whole number, got {value!r}")
        if not 0 <= value <= 100:
            raise ValueError(f"{what} for {dimension} must be between 0 and 100, got {value}")


def validate_weights(weights: Mapping[str, int]) -> None:
    """Raise ValueError unless the weights are the four dimensions as integers 0–100 adding up to 100."""
    _validate_per_dimension(weights, "weight")
    total = sum(weights[dimension] for dimension in DIMENSIONS)
    if total != 100:
        raise ValueError(f"weights must add up to 100, they add up to {total}")


def validate_scores(scores: Mapping[str, int]) -> None:
    """Raise ValueError, naming the dimension, unless every dimension has an integer score 0–100."""
    _validate_per_dimension(scores, "score")


def weighted_total(scores: Mapping[str, int], weights: Mapping[str, int]) -> Decimal:
    """Weighted sum of the four 0–100 scores, weights in percent, rounded half-up to 2 decimals."""
    validate_weights(weights)
    validate_scores(scores)
    raw = sum(Decimal(scores[d]) * Decimal(weights[d]) for d in DIMENSIONS) / HUNDRED
    # Integer scores and percent weights give whole cents already; quantize fixes the 2-decimal form.
    return raw.quantize(CENT, rounding=ROUND_HALF_UP)


def validate_bands(bands: Sequence[tuple[Decimal, str]]) -> None:
    """Raise ValueError unless bands are (Decimal threshold 0–100, code) pairs, highest first, ending at 0."""
    if not bands:
        raise ValueError("at least one rating band is needed")
    previous: Decimal | None = None
    for threshold, code in bands:
        if not isinstance(threshold, Decimal) or not threshold.is_finite() or not 0 <= threshold <= 100:
            raise ValueError(f"band {code!r} needs a Decimal threshold between 0 and 100, got {threshold!r}")
        if not isinstance(code, str) or not code:
            raise ValueError(f"band at {threshold} needs a code")
        if previous is not None and threshold >= previous:
            raise ValueError("band thresholds must be strictly decreasing")
        previous = threshold
    if bands[-1][0] != 0:
        raise ValueError("the lowest band must start at 0 so every total has a band")
    codes = [code for _, code in bands]
    if len(set(codes)) != len(codes):
        raise ValueError("band codes must be unique")


def band_for(total: Decimal | int, bands: Sequence[tuple[Decimal, str]] = DEFAULT_BANDS) -> str:
    """Rating band code of a total: the first band, highest first, whose threshold the total reaches."""
    value = _decimal(total, "total")
    if not 0 <= value <= 100:
        raise ValueError(f"total must be between 0 and 100, got {value}")
    for threshold, code in bands:
        if value >= threshold:
            return code
    return bands[-1][1]


def stars_to_score(mean_stars: Decimal | float | str) -> Decimal:
    """Map a mean service rating of 1–5 stars linearly to 0–100 (1 → 0, 3 → 50, 5 → 100), 2 decimals.

    Linear from 1 rather than ``stars × 20``: the worst possible rating must score 0, not 20.
    """
    # A mean from SQL AVG may arrive as a float; it is a rating, not money, so its repr is good enough.
    value = Decimal(repr(mean_stars)) if isinstance(mean_stars, float) else _decimal(mean_stars, "mean stars")
    if not value.is_finite() or not Decimal(1) <= value <= Decimal(5):
        raise ValueError(f"mean stars must be between 1 and 5, got {value}")
    return ((value - 1) * 25).quantize(CENT, rounding=ROUND_HALF_UP)


def satisfaction_from_ratings(ratings: Sequence[int]) -> Decimal | None:
    """Derived satisfaction score from individual 1–5 star ratings, or None when there are none."""
    if not ratings:
        return None
    for stars in ratings:
        if not _is_int(stars) or not 1 <= stars <= 5:
            raise ValueError(f"a rating must be a whole number of stars from 1 to 5, got {stars!r}")
    return stars_to_score(Decimal(sum(ratings)) / Decimal(len(ratings)))


@dataclass(frozen=True)
class KpiComponent:
    """One input of the derived KPI figure: what was achieved against what target, and the ratio counted."""

    code: str  # one of KPI_COMPONENTS
    achieved: Decimal
    target: Decimal | None  # None for the valid-profile share, whose target is the whole book (1)
    ratio: Decimal  # attainment counted, after the floor at 0 and the cap, 4 decimals
    capped: bool  # True when the attainment was above the cap and was cut to it


@dataclass(frozen=True)
class KpiFigure:
    """The derived KPI score (0–100) and the components it was computed from, for the UI to explain."""

    figure: Decimal
    components: tuple[KpiComponent, ...]
    skipped: tuple[str, ...]  # component codes without data (no target, or nothing achieved recorded)


def _attainment(code: str, achieved: object, target: object) -> tuple[KpiComponent, Decimal] | None:
    if target is None or achieved is None:
        return None
    target_value = _decimal(target, f"{code} target")
    if target_value <= 0:
        return None  # a zero or negative target has no attainment ratio; treat it as "no target set"
    achieved_value = _decimal(achieved, code)
    exact = max(achieved_value / target_value, Decimal(0))  # a loss counts as 0 %, not below
    counted = min(exact, KPI_ATTAINMENT_CAP)
    component = KpiComponent(code, achieved_value, target_value, counted.quantize(Decimal("0.0001"), ROUND_HALF_UP),
                             exact > KPI_ATTAINMENT_CAP)
    return component, counted


def kpi_from_data(
    *,
    net_commission: Decimal | int | None = None,
    net_commission_target: Decimal | int | None = None,
    asset_growth: Decimal | int | None = None,
    asset_growth_target: Decimal | int | None = None,
    new_clients: int | None = None,
    new_clients_target: int | None = None,
    valid_profile_share: Decimal | int | str | None = None,
) -> KpiFigure | None:
    """Derived KPI score from the book's figures against targets; None when no component has data.

    Each component with data counts its attainment ratio (achieved / target, floored at 0 and capped at
    1.2); the valid-profile share (0–1) counts as its own ratio. The figure is the equal-weight mean of the
    components present, × 100, capped at 100 and rounded half-up to 2 decimals. A component is skipped
    when its target is missing or not positive, or when its achieved figure is missing.
    """
    counted: list[Decimal] = []
    components: list[KpiComponent] = []
    skipped: list[str] = []
    for code, achieved, target in (
        ("net_commission", net_commission, net_commission_target),
        ("asset_growth", asset_growth, asset_growth_target),
        ("new_clients", new_clients, new_clients_target),
    ):
        found = _attainment(code, achieved, target)
        if found is None:
            skipped.append(code)
            continue
        components.append(found[0])
        counted.append(found[1])
    if valid_profile_share is None:
        skipped.append("valid_profiles")
    else:
        share = _decimal(valid_profile_share, "valid profile share")
        if not 0 <= share <= 1:
            raise ValueError(f"valid profile share must be between 0 and 1, got {share}")
        components.append(KpiComponent("valid_profiles", share, None, share.quantize(Decimal("0.0001"), ROUND_HALF_UP),
                                       False))
        counted.append(share)
    if not counted:
        return None
    mean = sum(counted, Decimal(0)) / Decimal(len(counted))
    figure = min(mean * HUNDRED, HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return KpiFigure(figure, tuple(components), tuple(skipped))


# Seed section 中国银行客户经理等级划分表 §2.1–2.4: the Chinese copied exactly (its ASCII punctuation
# included), the English a faithful translation.
LEVEL_DUTIES: dict[str, dict[str, dict[str, object]]] = {
    "junior": {
        "zh_CN": {
            "title": "初级客户经理",
            "description": (
                "初级客户经理是刚刚加入中国银行的新手,需要接受系统的培训和指导,熟悉银行各项业务和相关政策。"
                "初级客户经理主要负责辅助高级客户经理处理客户需求和解决问题,积累工作经验和技能。"
            ),
            "characteristics": (
                "在任职前需要通过一系列的考试和面试,入职后需要完成培训计划",
                "工作任务较为简单,主要是协助处理客户事务和支持团队工作",
                "需要具备良好的沟通能力和团队合作意识",
                "需要不断学习和提升能力,以便晋升到更高级别的客户经理",
            ),
        },
        "en": {
            "title": "Junior Relationship Manager",
            "description": (
                "A junior relationship manager is a newcomer who has just joined Bank of China, needs to receive "
                "systematic training and guidance, and must become familiar with all of the bank's lines of "
                "business and the related policies. A junior relationship manager is mainly responsible for "
                "assisting senior relationship managers in handling clients' needs and solving problems, building "
                "up work experience and skills."
            ),
            "characteristics": (
                ("Must pass a series of examinations and interviews before taking up the post, and complete a "
                 "training programme after joining"),
                "Tasks are relatively simple, mainly assisting with client matters and supporting the team's work",
                "Needs good communication skills and a sense of teamwork",
                "Needs to keep learning and improving in order to be promoted to a higher-level relationship manager",
            ),
        },
    },
    "mid": {
        "zh_CN": {
            "title": "中级客户经理",
            "description": "中级客户经理是有一定工作经验和业绩的客户经理,能够独立处理一般客户需求和问题。",
            "characteristics": (
                "需要具备较强的业务知识和技能,能够准确地理解客户需求和提供解决方案",
                "在与客户交流过程中能够主动发现问题和机会,并能够有效地与团队合作解决",
                "需要具备优秀的沟通和谈判能力,能够与客户建立良好的关系并达成合作",
                "需要不断学习和提升能力,以便晋升到更高级别的客户经理",
            ),
        },
        "en": {
            "title": "Mid-level Relationship Manager",
            "description": (
                "A mid-level relationship manager is a relationship manager with a certain amount of work "
                "experience and a performance record, able to handle general client needs and problems "
                "independently."
            ),
            "characteristics": (
                ("Needs fairly strong business knowledge and skills, able to understand clients' needs accurately "
                 "and provide solutions"),
                ("Able to spot problems and opportunities proactively when communicating with clients, and to work "
                 "effectively with the team to resolve them"),
                ("Needs excellent communication and negotiation skills, able to build good relationships with "
                 "clients and reach agreements to work together"),
                "Needs to keep learning and improving in order to be promoted to a higher-level relationship manager",
            ),
        },
    },
    "senior": {
        "zh_CN": {
            "title": "高级客户经理",
            "description": (
                "高级客户经理是在中级客户经理的基础上有更高的工作经验和绩效的客户经理,能够处理复杂的客户需求和问题。"
            ),
            "characteristics": (
                "需要具备全面的业务知识和技能,能够独立处理各种类型的客户需求和问题",
                "在与客户交流过程中能够准确判断客户需求和期望,并能够提供高质量的解决方案",
                "需要具备出色的领导和团队合作能力,能够带领团队达成目标和完成任务",
                "需要不断学习和提升能力,以便晋升到更高级别的客户经理或其他管理岗位",
            ),
        },
        "en": {
            "title": "Senior Relationship Manager",
            "description": (
                "A senior relationship manager is a relationship manager who, building on the mid level, has "
                "greater work experience and higher performance, able to handle complex client needs and problems."
            ),
            "characteristics": (
                ("Needs comprehensive business knowledge and skills, able to handle all types of client needs and "
                 "problems independently"),
                ("Able to judge clients' needs and expectations accurately when communicating with them, and to "
                 "provide high-quality solutions"),
                ("Needs outstanding leadership and teamwork skills, able to lead a team to reach its goals and "
                 "complete its tasks"),
                ("Needs to keep learning and improving in order to be promoted to a higher-level relationship "
                 "manager or to other management positions"),
            ),
        },
    },
    "principal": {
        "zh_CN": {
            "title": "资深客户经理",
            "description": (
                "资深客户经理是在高级客户经理的基础上有更多工作经验和卓越绩效的客户经理,"
                "能够处理最复杂和重要的客户需求和问题。"
            ),
            "characteristics": (
                "需要具备深入的专业知识和广泛的业务技能,能够解决各种复杂和特殊情况",
                "在与客户交流过程中能够准确洞察客户的需求和期望,并能够提供创新和个性化的解决方案",
                "需要具备卓越的领导和团队合作能力,能够带领团队应对市场变化和挑战",
                "需要不断学习和提升能力,以保持竞争力和适应银行业的发展",
            ),
        },
        "en": {
            "title": "Principal Relationship Manager",
            "description": (
                "A principal relationship manager is a relationship manager who, building on the senior level, "
                "has more work experience and outstanding performance, able to handle the most complex and "
                "important client needs and problems."
            ),
            "characteristics": (
                ("Needs in-depth professional knowledge and broad business skills, able to resolve all kinds of "
                 "complex and special situations"),
                ("Able to gain accurate insight into clients' needs and expectations when communicating with them, "
                 "and to provide innovative and personalised solutions"),
                ("Needs exceptional leadership and teamwork skills, able to lead a team through market changes and "
                 "challenges"),
                ("Needs to keep learning and improving in order to stay competitive and keep pace with the "
                 "development of the banking industry"),
            ),
        },
    },
}


def level_duties(level: str, locale: str = "en") -> dict[str, object]:
    """Title, description and characteristics of a level in a locale ("zh_CN" or "en"; "zh*" → zh_CN)."""
    if level not in LEVEL_DUTIES:
        raise ValueError(f"unknown level {level!r}")
    key = "zh_CN" if locale.lower().replace("-", "_").startswith("zh") else "en"
    return LEVEL_DUTIES[level][key]


def starting_score(figure: Decimal | str | int | None) -> int | None:
    """A data-derived figure (e.g. "66.67") as the whole 0–100 score offered to the scorer, half-up; None stays."""
    if figure is None:
        return None
    value = _decimal(figure, "figure").quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(min(max(value, Decimal(0)), HUNDRED))


def preview_total(raw_scores: Mapping[str, object], weights: Mapping[str, int],
                  bands: Sequence[tuple[Decimal, str]] = DEFAULT_BANDS) -> tuple[Decimal, str] | None:
    """The total and band that typed scores would give, or None while any is not a whole number 0–100."""
    scores = {}
    for d in DIMENSIONS:
        text = str(raw_scores.get(d) if raw_scores.get(d) is not None else "").strip()
        if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 100:
            return None
        scores[d] = int(text)
    total = weighted_total(scores, weights)
    return total, band_for(total, bands)
