"""Questionnaire, assessments and profiles over the API."""
from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from models import RiskProfile, db
from portal.access import allow, api_error, client_or_404
from portal.api import ApiInputError, bp, json_response
from portal.operations.risk import RetakeLimitReached, active_version, definition_of, profile_as_of, submit_assessment
from portal.rules.calendar import business_today
from portal.rules.profile import profile_status
from portal.rules.questionnaire import GROUPS
from portal.unit_of_work import unit_of_work

ALL_ROLES = ("client", "rm", "supervisor", "compliance", "admin")


@bp.get("/questionnaire")
@allow(*ALL_ROLES)
def questionnaire():
    """The active version, options in order of increasing points, in the language asked for."""
    lang = request.args.get("lang", "zh_CN")
    if lang not in ("zh_CN", "en"):
        raise ApiInputError(_("lang must be zh_CN or en."), "lang")
    version = active_version()  # OperationError (none active): 400
    definition = definition_of(version)
    questions = sorted(definition.questions, key=lambda q: GROUPS.index(q.group))
    return {
        "version": version.version,
        "validity_months": version.validity_months,
        "groups": list(GROUPS),
        "questions": [
            {"id": q.id, "group": q.group, "text": q.text.get(lang),
             "options": [{"id": o.id, "text": o.text.get(lang)} for o in sorted(q.options, key=lambda o: o.points)]}
            for q in questions
        ],
    }


def assessment_json(assessment, profile=None) -> dict:
    return {
        "id": assessment.id,
        "score": assessment.score,
        "grade": assessment.grade,
        "risk_class": assessment.risk_class,
        "lowest_category": assessment.lowest_category,
        "flags": list(assessment.flags),
        "caps": list(assessment.caps),
        "valid_until": profile.valid_until.isoformat() if profile else None,
        "questionnaire_version": assessment.version.version,
        "channel": assessment.channel,
        "status": "in_force" if profile else "awaiting_confirmation",
        "submitted_at": assessment.submitted_at.isoformat(),
    }


@bp.post("/clients/<client_no>/assessments")
@allow("client", "rm")
def submit(client_no: str):
    """A client answers for themself (in force at once); a manager for a client of their book (assisted).

    The age question may be left out: it is answered from the birth date on file (a disagreeing answer is
    400 `age_mismatch`). Over the version's daily limit: 429 `retake_limit` with `retry_on`.
    """
    client = client_or_404(client_no)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
        raise ApiInputError(_('The body must be {"answers": {"<question id>": "<option id>", ...}}.'), "answers")
    answers = body["answers"]
    for question_id, option_id in answers.items():
        if not isinstance(option_id, str):
            raise ApiInputError(_("The answer to %(question)s must be an option id.", question=question_id),
                                question_id, "invalid_answer")
    with unit_of_work(answer_here=(RetakeLimitReached,)) as work:
        assessment = submit_assessment(client, answers, current_user, assisted=current_user.role == "rm")
        profile = db.session.get(RiskProfile, client.profile_id) if assessment.channel == "self" else None
        answer = assessment_json(assessment, profile)
    if not work.ok:
        return api_error(429, work.error.code, work.error.message, retry_on=work.error.retry_on.isoformat())
    return json_response(answer, 201)


def profile_json(profile) -> dict:
    return {
        "score": profile.score,
        "grade": profile.grade,
        "risk_class": profile.risk_class,
        "lowest_category": profile.lowest_category,
        "effective_on": profile.effective_on.isoformat(),
        "valid_until": profile.valid_until.isoformat(),
        "status": profile_status(profile.valid_until),
        "assessment_id": profile.assessment_id,
        "questionnaire_version": profile.assessment.version.version,
    }


@bp.get("/clients/<client_no>/profile")
@allow(*ALL_ROLES)
def profile(client_no: str):
    """The profile in force on `as_of` (today by default), or 404 when there was none."""
    client = client_or_404(client_no)
    raw = request.args.get("as_of")
    day = business_today()
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ApiInputError(_("as_of must be a date written YYYY-MM-DD."), "as_of") from None
    found = profile_as_of(client, day)
    if found is None:
        return json_response({"error": {"code": "no_profile",
                                        "message": _("No risk profile was in force on %(day)s.", day=day.isoformat())}},
                             404)
    return {"client_no": client.client_no, "as_of": day.isoformat(), **profile_json(found)}
