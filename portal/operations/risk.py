"""Risk assessments: submit, confirm, put a profile in force, and look profiles up on any date."""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import (
    AssessmentConfirmation,
    Client,
    QuestionnaireVersion,
    RiskAssessment,
    RiskProfile,
    db,
    utcnow,
)
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import questionnaire as rules
from portal.rules.calendar import add_months, business_date, business_today, start_of_business_day
from portal.rules.profile import EXPIRING_DAYS, RETAKE_RAISE_DAYS
from portal.rules.vocabulary import GRADES


def status_filter(status: str, today: date | None = None):
    """A WHERE clause on Client for a profile status (indexed with manager_id)."""
    today = today or business_today()
    column = Client.profile_valid_until
    return {
        "none": column.is_(None),
        "expired": column < today,
        "expiring": column.between(today, today + timedelta(days=EXPIRING_DAYS)),
        "valid": column > today + timedelta(days=EXPIRING_DAYS),
    }[status]


# --- questionnaire versions ----------------------------------------------------------------------

def active_version() -> QuestionnaireVersion:
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    if version is None:
        raise OperationError(_("No questionnaire is active. Please ask an administrator to publish one."),
                             code="no_active_questionnaire")
    return version


# Parsed published versions, per process: {(database, id, label, published at): definition}.
_PUBLISHED: dict[tuple, rules.Questionnaire] = {}


def definition_of(version: QuestionnaireVersion) -> rules.Questionnaire:
    """The parsed definition of a version.

    A published version is never edited (the editor works on a draft copy; publishing makes a new version),
    so its parsed form is kept per process, keyed by the database, id, label and publication time, and its
    JSON (a deferred column) is not even fetched when kept. Drafts change while edited: never kept.
    """
    if version.status == "draft" or version.published_at is None:
        return rules.load_definition(version.definition)
    key = (db.engine.url.render_as_string(hide_password=False), version.id, version.version, version.published_at)
    found = _PUBLISHED.get(key)
    if found is None:
        if len(_PUBLISHED) >= 32:
            _PUBLISHED.clear()
        found = _PUBLISHED[key] = rules.load_definition(version.definition)
    return found


# --- submitting ------------------------------------------------------------------------------------

def _answer_message(error: rules.AnswerError, definition: rules.Questionnaire) -> str:
    question = definition.question(error.question_id)
    label = error.question_id
    if question is not None:
        number = definition.questions.index(question) + 1
        label = _("question %(n)d", n=number)
    if error.code == "missing":
        return _("Please answer %(question)s.", question=label)
    if error.code == "unknown_question":
        return _("%(question)s is not part of this questionnaire.", question=error.question_id)
    return _("The answer to %(question)s is not one of its options.", question=label)


class RetakeLimitReached(OperationError):
    """The client has made as many submissions today as the version allows; `retry_on` is the next day open."""

    def __init__(self, message: str, retry_on: date):
        super().__init__(message, None, "retake_limit")
        self.retry_on = retry_on


def submissions_on(client_id: int, day: date) -> int:
    """The client's submissions (own and assisted) during business day `day` (ix_risk_assessments_client_submitted)."""
    return db.session.scalar(select(func.count(RiskAssessment.id)).where(
        RiskAssessment.client_id == client_id,
        RiskAssessment.submitted_at >= start_of_business_day(day),
        RiskAssessment.submitted_at < start_of_business_day(day + timedelta(days=1)))) or 0


def retake_refusal(client: Client, version: QuestionnaireVersion, day: date | None = None) -> RetakeLimitReached | None:
    """The refusal a submission today would meet (the version's limit is used up), or None."""
    day = day or business_today()
    limit = version.retakes_per_day or 0
    if limit <= 0 or submissions_on(client.id, day) < limit:
        return None
    retry_on = day + timedelta(days=1)
    return RetakeLimitReached(
        _("The questionnaire may be submitted at most %(n)d times per day. It can be answered again on "
          "%(day)s.", n=limit, day=retry_on.isoformat()), retry_on)


def derived_age(definition: rules.Questionnaire, client: Client, day: date | None = None) -> tuple[str, str] | None:
    """(question, option) of the age question taken from the client's birth date on `day` (today), or None."""
    return rules.age_answer(definition, client.birth_date, day or business_today())


def _lock_client(client: Client) -> None:
    """Two submissions of one client queue here, so that the day's count and the previous grade are exact."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Client.id).where(Client.id == client.id).with_for_update())


def submit_assessment(client: Client, answers: Mapping[str, str], entered_by, *, assisted: bool,
                      version_id: int | None = None, submission_token: str | None = None) -> RiskAssessment:
    """Score and store a complete answer set; a client's own submission is their profile at once.

    An assisted submission (a manager with the client in the branch) waits for the client's
    confirmation. The age answer comes from the birth date on file (an answer that disagrees is refused,
    code `age_mismatch`); the version's daily submission limit applies to own and assisted entries
    together (RetakeLimitReached); a grade raised within 30 days of the previous submission is marked
    with that submission. Raises OperationError (field = question id) for bad answers, a version that is
    no longer active, or a form already submitted; nothing is stored then.
    """
    version = active_version()
    if version_id is not None and version_id != version.id:
        raise OperationError(_("The questionnaire was updated while you were answering it. "
                               "Please answer the new version."), code="version_changed")
    if not isinstance(answers, Mapping):
        raise OperationError(_("Answers must map each question to one option."), code="invalid")
    definition = definition_of(version)
    answers = {str(k): v for k, v in answers.items()}
    today = business_today()
    derived = derived_age(definition, client, today)
    if derived is not None:
        question_id, option_id = derived
        given = answers.get(question_id)
        if given not in (None, "") and given != option_id:
            raise OperationError(_("The answer to the age question does not agree with the date of birth on "
                                   "file; leave it out and it is taken from the records."),
                                 field=question_id, code="age_mismatch")
        answers[question_id] = option_id
    try:
        result = rules.score(definition, answers)
    except rules.AnswerError as error:
        raise OperationError(_answer_message(error, definition), field=error.question_id,
                             code=error.code) from None
    if submission_token is not None and db.session.scalar(
            select(RiskAssessment.id).where(RiskAssessment.submission_token == submission_token)) is not None:
        raise OperationError(_("This questionnaire has already been submitted."), code="duplicate")
    _lock_client(client)
    refusal = retake_refusal(client, version, today)
    if refusal is not None:
        raise refusal
    now = utcnow()
    previous = db.session.execute(
        select(RiskAssessment.id, RiskAssessment.grade, RiskAssessment.submitted_at)
        .where(RiskAssessment.client_id == client.id)
        .order_by(RiskAssessment.submitted_at.desc(), RiskAssessment.id.desc()).limit(1)).first()
    raised_from = None
    if previous is not None and previous.submitted_at >= now - timedelta(days=RETAKE_RAISE_DAYS) \
            and GRADES.index(result.grade) > GRADES.index(previous.grade):
        raised_from = previous.id
    assessment = RiskAssessment(
        client_id=client.id, version_id=version.id,
        answers={q.id: answers[q.id] for q in definition.questions},
        group_points={group: list(points) for group, points in result.group_points.items()},
        raw_points=result.raw_points, score=result.score, band_grade=result.band_grade, grade=result.grade,
        risk_class=result.risk_class, lowest_category=result.lowest_category, caps=list(result.caps_applied),
        flags=list(result.flags), channel="assisted" if assisted else "self",
        entered_by_id=entered_by.id if entered_by is not None else None, submission_token=submission_token,
        submitted_at=now, raised_from_id=raised_from,
    )
    db.session.add(assessment)
    try:
        db.session.flush()
    except IntegrityError:  # the same form sent twice at once: the unique token decides
        db.session.rollback()
        raise OperationError(_("This questionnaire has already been submitted."), code="duplicate") from None
    record("assessment.submit", "client", client.client_no,
           after={"assessment": assessment.id, "version": version.version, "score": result.score,
                  "grade": result.grade, "risk_class": result.risk_class, "flags": list(result.flags),
                  "caps": list(result.caps_applied), "channel": assessment.channel,
                  "age_from_records": derived is not None, "raised_from": raised_from})
    if not assisted:
        put_in_force(assessment, client)
    return assessment


def pending_assisted(client: Client) -> RiskAssessment | None:
    """The newest assisted submission awaiting the client's confirmation, if it is still the newest."""
    latest = db.session.scalar(select(RiskAssessment).where(RiskAssessment.client_id == client.id)
                               .order_by(RiskAssessment.submitted_at.desc(), RiskAssessment.id.desc()).limit(1))
    if latest is None or latest.channel != "assisted" or latest.confirmation is not None:
        return None
    return latest


def confirm_assessment(assessment: RiskAssessment, client: Client, by_user, *, method: str,
                       paper_reference: str | None = None) -> AssessmentConfirmation:
    """Record the client's confirmation of an assisted submission and put it in force."""
    if assessment.client_id != client.id or assessment.channel != "assisted":
        raise OperationError(_("This assessment does not await a confirmation."), code="not_pending")
    if assessment.confirmation is not None:
        raise OperationError(_("This assessment has already been confirmed."), code="already_confirmed")
    if pending_assisted(client) is not assessment:
        raise OperationError(_("A newer assessment has replaced this one; it can no longer be confirmed."),
                             code="superseded")
    if method == "paper":
        paper_reference = (paper_reference or "").strip()
        if not paper_reference or len(paper_reference) > 60:
            raise OperationError(_("Enter the reference of the signed paper form (at most 60 characters)."),
                                 field="paper_reference")
    elif method != "client":
        raise OperationError(_("Unknown confirmation method."), code="invalid")
    confirmation = AssessmentConfirmation(assessment=assessment, method=method,
                                          paper_reference=paper_reference if method == "paper" else None,
                                          confirmed_by_id=by_user.id, confirmed_at=utcnow())
    db.session.add(confirmation)
    db.session.flush()
    record("assessment.confirm", "client", client.client_no,
           after={"assessment": assessment.id, "method": method, "paper_reference": confirmation.paper_reference})
    put_in_force(assessment, client, at=confirmation.confirmed_at)
    return confirmation


def put_in_force(assessment: RiskAssessment, client: Client, at: datetime | None = None) -> RiskProfile:
    """Append the profile to the client's history and make it the current one."""
    at = at or utcnow()
    effective_on = business_date(at)
    months = assessment.version.validity_months
    profile = RiskProfile(client_id=client.id, assessment_id=assessment.id, effective_at=at,
                          effective_on=effective_on, valid_until=add_months(effective_on, months),
                          score=assessment.score, grade=assessment.grade, risk_class=assessment.risk_class,
                          lowest_category=assessment.lowest_category)
    db.session.add(profile)
    db.session.flush()
    client.profile_id = profile.id
    client.risk_score = profile.score
    client.risk_grade = profile.grade
    client.risk_class = profile.risk_class
    client.lowest_category = profile.lowest_category
    client.profile_valid_until = profile.valid_until
    client.profile_effective_on = profile.effective_on
    db.session.flush()
    record("profile.in_force", "client", client.client_no,
           after={"assessment": assessment.id, "grade": profile.grade, "risk_class": profile.risk_class,
                  "effective_on": effective_on, "valid_until": profile.valid_until})
    return profile


# --- looking up ------------------------------------------------------------------------------------

def profile_as_of(client: Client | int, day: date) -> RiskProfile | None:
    """The profile in force on `day`: the newest effective on or before it, if still valid that day.

    One indexed lookup (risk_profiles: client_id, effective_on, id), so it stays fast at a million clients.
    """
    client_id = client if isinstance(client, int) else client.id
    profile = db.session.scalar(
        select(RiskProfile).where(RiskProfile.client_id == client_id, RiskProfile.effective_on <= day)
        .order_by(RiskProfile.effective_on.desc(), RiskProfile.id.desc()).limit(1)
    )
    if profile is None or profile.valid_until < day:
        return None
    return profile


@dataclass(frozen=True)
class Percentile:
    below: int
    total: int

    @property
    def percent(self) -> int:
        """Share of clients with a profile whose score is lower (0–100)."""
        return round(100 * self.below / self.total) if self.total else 0


# Per process: {database URL: (monotonic expiry, clients per score)}. A cache of a figure any node can compute,
# not state another node needs.
_DISTRIBUTIONS: dict[str, tuple[float, dict[int, int]]] = {}


def score_distribution() -> dict[int, int]:
    """How many clients hold each current score (0–100): one GROUP BY over ix_clients_risk_score.

    Kept SCORE_DISTRIBUTION_SECONDS per process (300 by default): a million clients' distribution does not
    move in minutes, and counting it costs a scan of the whole index.
    """
    seconds = current_app.config.get("SCORE_DISTRIBUTION_SECONDS", 0)
    key = str(db.engine.url)
    cached = _DISTRIBUTIONS.get(key)
    now = time.monotonic()
    if seconds > 0 and cached is not None and cached[0] > now:
        return cached[1]
    counts = {int(score): int(n) for score, n in db.session.execute(
        select(Client.risk_score, func.count()).where(Client.risk_score.is_not(None)).group_by(Client.risk_score))}
    if seconds > 0:
        _DISTRIBUTIONS[key] = (now + seconds, counts)
    return counts


def score_percentile(score: int) -> Percentile:
    """Where a score sits among all clients' current profiles (from `score_distribution`)."""
    counts = score_distribution()
    return Percentile(sum(n for value, n in counts.items() if value < score), sum(counts.values()))


def history(client: Client) -> list[RiskAssessment]:
    return list(db.session.scalars(select(RiskAssessment).where(RiskAssessment.client_id == client.id)
                                   .order_by(RiskAssessment.submitted_at.desc(), RiskAssessment.id.desc())))
