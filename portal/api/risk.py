"""Questionnaire, assessments and profiles over the API."""
from __future__ import annotations

from typing import Literal

from flask_babel import gettext as _
from flask_login import current_user

from models import RiskProfile, db
from portal.access import allow, api_error, client_or_404
from portal.api import ApiInputError, bp
from portal.api.spec import Answer, Body, Day, Query, QueryDay, Timestamp, operation, read_body, read_query, respond
from portal.operations.risk import RetakeLimitReached, active_version, definition_of, profile_as_of, submit_assessment
from portal.rules.calendar import business_today
from portal.rules.profile import PROFILE_STATUSES, profile_status
from portal.rules.questionnaire import GROUPS
from portal.rules.vocabulary import GRADES, RISK_CLASSES
from portal.unit_of_work import unit_of_work

ALL_ROLES = ("client", "rm", "supervisor", "compliance", "admin")


class Option(Answer):
    id: str
    text: str


class Question(Answer):
    id: str
    group: str
    text: str
    options: list[Option]


class Questionnaire(Answer):
    version: str
    validity_months: int
    groups: list[str]
    questions: list[Question]


class QuestionnaireQuery(Query):
    lang: Literal["zh_CN", "en"] = "zh_CN"
    refusals = {"lang": (lambda: _("lang must be zh_CN or en."), "invalid")}


class Answers(Body):
    """`{"answers": {"<question id>": "<option id>", ...}}`"""

    answers: dict[str, str]
    shape = (lambda: _('The body must be {"answers": {"<question id>": "<option id>", ...}}.'), "answers", "invalid")

    @classmethod
    def refusal(cls, loc: tuple, error: dict) -> Exception:
        if len(loc) == 2:  # one answer is not an option id: named by its question
            return ApiInputError(_("The answer to %(question)s must be an option id.", question=loc[1]), str(loc[1]),
                                 "invalid_answer")
        return super().refusal((), error)


class Assessment(Answer):
    id: int
    score: int
    grade: Literal[GRADES]
    risk_class: Literal[RISK_CLASSES]
    lowest_category: bool
    flags: list[str]
    caps: list[str]
    valid_until: Day | None
    questionnaire_version: str
    channel: Literal["self", "assisted"]
    status: Literal["in_force", "awaiting_confirmation"]
    submitted_at: Timestamp


class Profile(Answer):
    client_no: str
    as_of: Day
    score: int
    grade: Literal[GRADES]
    risk_class: Literal[RISK_CLASSES]
    lowest_category: bool
    effective_on: Day
    valid_until: Day
    status: Literal[PROFILE_STATUSES]
    assessment_id: int
    questionnaire_version: str


class ProfileQuery(Query):
    as_of: QueryDay | None = None
    refusals = {"as_of": (lambda: _("as_of must be a date written YYYY-MM-DD."), "invalid")}


@bp.get("/questionnaire")
@allow(*ALL_ROLES)
@operation("The active questionnaire version, options in order of increasing points", query=QuestionnaireQuery,
           answer=Questionnaire, errors=(400, 401))
def questionnaire():
    """The active version, options in order of increasing points, in the language asked for."""
    lang = read_query(QuestionnaireQuery).lang
    version = active_version()  # OperationError (none active): 400
    definition = definition_of(version)
    questions = sorted(definition.questions, key=lambda q: GROUPS.index(q.group))
    return respond(Questionnaire, {
        "version": version.version,
        "validity_months": version.validity_months,
        "groups": list(GROUPS),
        "questions": [
            {"id": q.id, "group": q.group, "text": q.text.get(lang),
             "options": [{"id": o.id, "text": o.text.get(lang)} for o in sorted(q.options, key=lambda o: o.points)]}
            for q in questions
        ],
    })


def assessment_json(assessment, profile=None) -> dict:
    return {
        "id": assessment.id,
        "score": assessment.score,
        "grade": assessment.grade,
        "risk_class": assessment.risk_class,
        "lowest_category": assessment.lowest_category,
        "flags": list(assessment.flags),
        "caps": list(assessment.caps),
        "valid_until": profile.valid_until if profile else None,
        "questionnaire_version": assessment.version.version,
        "channel": assessment.channel,
        "status": "in_force" if profile else "awaiting_confirmation",
        "submitted_at": assessment.submitted_at,
    }


@bp.post("/clients/<client_no>/assessments")
@allow("client", "rm")
@operation("Submit a complete answer set (a client for themself; a manager assisted, pending confirmation); the "
           "age question may be left out (taken from the birth date on file; a disagreeing answer is 400 "
           "age_mismatch); over the version's daily limit 429 retake_limit",
           body=Answers, answer=Assessment, status=201, answered="Stored", errors=(400, 401, 403, 404, 429))
def submit(client_no: str):
    """A client answers for themself (in force at once); a manager for a client of their book (assisted).

    The age question may be left out: it is answered from the birth date on file (a disagreeing answer is
    400 `age_mismatch`). Over the version's daily limit: 429 `retake_limit` with `retry_on`.
    """
    client = client_or_404(client_no)
    answers = read_body(Answers).answers
    with unit_of_work(answer_here=(RetakeLimitReached,)) as work:
        assessment = submit_assessment(client, answers, current_user, assisted=current_user.role == "rm")
        profile = db.session.get(RiskProfile, client.profile_id) if assessment.channel == "self" else None
        answer = assessment_json(assessment, profile)
    if not work.ok:
        return api_error(429, work.error.code, work.error.message, retry_on=work.error.retry_on.isoformat())
    return respond(Assessment, answer, 201)


def profile_json(profile) -> dict:
    return {
        "score": profile.score,
        "grade": profile.grade,
        "risk_class": profile.risk_class,
        "lowest_category": profile.lowest_category,
        "effective_on": profile.effective_on,
        "valid_until": profile.valid_until,
        "status": profile_status(profile.valid_until),
        "assessment_id": profile.assessment_id,
        "questionnaire_version": profile.assessment.version.version,
    }


@bp.get("/clients/<client_no>/profile")
@allow(*ALL_ROLES)
@operation("The risk profile in force on a date (today by default)", query=ProfileQuery, answer=Profile,
           errors=(400, 401, 404))
def profile(client_no: str):
    """The profile in force on `as_of` (today by default), or 404 when there was none."""
    client = client_or_404(client_no)
    day = read_query(ProfileQuery).as_of or business_today()
    found = profile_as_of(client, day)
    if found is None:
        return api_error(404, "no_profile", _("No risk profile was in force on %(day)s.", day=day.isoformat()))
    return respond(Profile, {"client_no": client.client_no, "as_of": day, **profile_json(found)})
