"""Client self-service questionnaire, assisted entry, results and history.

The same stepper serves the client (their own profile) and a manager filling it in with a client in
the branch (assisted: the client confirms it later). Answers live in the Flask session until the
review page submits them, keyed by flow and by questionnaire version.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms.questionnaire import (
    ConfirmForm,
    PaperConfirmationForm,
    RestartForm,
    ReviewForm,
    answer_field_name,
    step_form,
)
from models import (
    AssessmentConfirmation,
    Client,
    QuestionnaireVersion,
    RiskAssessment,
    RiskProfile,
    db,
)
from portal.access import allow, can_see_client, client_or_404, deny
from portal.formatting import portal_language
from portal.labels import risk_labels
from portal.operations.errors import OperationError, attach_error
from portal.operations.risk import (
    RetakeLimitReached,
    active_version,
    confirm_assessment,
    definition_of,
    derived_age,
    pending_assisted,
    retake_refusal,
    score_percentile,
    submit_assessment,
)
from portal.reads import read_only
from portal.rules import questionnaire as rules
from portal.rules.calendar import business_date, business_today
from portal.rules.profile import profile_status
from portal.unit_of_work import unit_of_work

bp = Blueprint("questionnaire", __name__)

DRAFTS = "questionnaire_drafts"
MAX_ASSISTED_DRAFTS = 3  # a manager's unfinished assisted entries kept in the (cookie) session
MAX_DB_INT = 2**31 - 1  # larger ids cannot exist; PostgreSQL would refuse to compare them
CHART_WIDTH = 360


bp.add_app_template_global(risk_labels, "risk_labels")


# --- the stepper's state -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flow:
    """Whose questionnaire is being filled, and by whom: the client, or a manager assisting."""

    client: Client
    assisted: bool

    @property
    def key(self) -> str:
        return f"assisted:{self.client.id}" if self.assisted else "self"

    def url(self, page: str, **values) -> str:
        if self.assisted:
            return url_for(f"questionnaire.assisted_{page}", client_no=self.client.client_no, **values)
        return url_for(f"questionnaire.{page}", **values)


def _drafts() -> dict:
    drafts = session.get(DRAFTS)
    return drafts if isinstance(drafts, dict) else {}


def load_draft(flow: Flow, version: QuestionnaireVersion) -> tuple[dict, bool]:
    """The flow's answers for this version; True as well when answers to another version were dropped."""
    draft = _drafts().get(flow.key)
    if isinstance(draft, dict) and draft.get("version_id") == version.id and isinstance(draft.get("answers"), dict):
        draft.setdefault("errors", {})
        return draft, False
    discarded = isinstance(draft, dict) and bool(draft.get("answers"))
    return {"version_id": version.id, "answers": {}, "token": None, "errors": {}}, discarded


def save_draft(flow: Flow, draft: dict) -> None:
    """Keep the flow's draft in the session, dropping the oldest assisted drafts beyond the limit."""
    drafts = dict(_drafts())
    draft["at"] = time.time()
    drafts[flow.key] = draft
    assisted = sorted((key for key in drafts if key.startswith("assisted:")), key=lambda key: drafts[key].get("at", 0))
    for key in assisted[:-MAX_ASSISTED_DRAFTS]:
        drafts.pop(key, None)
    session[DRAFTS] = drafts


def clear_draft(flow: Flow) -> None:
    """Forget the flow's answers (submitted, restarted, or answered against a retired version)."""
    drafts = dict(_drafts())
    drafts.pop(flow.key, None)
    session[DRAFTS] = drafts


def steps_of(definition: rules.Questionnaire, client: Client | None = None) -> list[tuple[str, list[rules.Question]]]:
    """One step per indicator group, in rules.GROUPS order, without the question the records answer."""
    derived = derived_age(definition, client) if client is not None else None
    skipped = derived[0] if derived else None
    steps = []
    for group in rules.GROUPS:
        questions = [q for q in definition.questions if q.group == group and q.id != skipped]
        if questions:
            steps.append((group, questions))
    return steps


def step_of_question(steps, question_id: str) -> int | None:
    """The step number (from 1) that asks this question, or None."""
    for number, (_group, questions) in enumerate(steps, start=1):
        if any(q.id == question_id for q in questions):
            return number
    return None


def question_numbers(definition: rules.Questionnaire) -> dict[str, int]:
    """Question id → its number in the version (as the operations' messages count them)."""
    return {q.id: i for i, q in enumerate(definition.questions, start=1)}


def valid_answers(definition: rules.Questionnaire, answers: dict) -> dict[str, str]:
    """The answers that name one of their question's options."""
    return {q.id: answers[q.id] for q in definition.questions
            if isinstance(answers.get(q.id), str) and q.option(answers[q.id]) is not None}


def first_open_step(steps, answers: dict) -> int | None:
    """The first step with an unanswered question, or None when every question is answered."""
    for number, (_group, questions) in enumerate(steps, start=1):
        if any(q.id not in answers for q in questions):
            return number
    return None


VERSION_CHANGED = _l("The questionnaire was updated while you were answering it. Please answer the new version.")


def _own_client() -> Client:
    client = db.session.get(Client, current_user.client_id) if current_user.client_id else None
    if client is None:
        abort(404)
    return client


def _active():
    """The active version and its definition; OperationError when none is active."""
    version = active_version()
    return version, definition_of(version)


# --- client self-service and assisted entry: routes ----------------------------------------------------

@bp.route("/questionnaire", methods=["GET", "POST"])
@allow("client")
@read_only(methods=("GET", "HEAD", "POST"))  # answers live in the session until review
def start():
    return _start(Flow(_own_client(), assisted=False))


@bp.route("/questionnaire/step/<int:n>", methods=["GET", "POST"])
@allow("client")
@read_only(methods=("GET", "HEAD", "POST"))
def step(n: int):
    return _step(Flow(_own_client(), assisted=False), n)


@bp.route("/questionnaire/review", methods=["GET", "POST"])
@allow("client")
@read_only
def review():
    return _review(Flow(_own_client(), assisted=False))


@bp.route("/clients/<client_no>/assess", methods=["GET", "POST"])
@allow("rm")
@read_only(methods=("GET", "HEAD", "POST"))
def assisted_start(client_no: str):
    return _start(Flow(client_or_404(client_no), assisted=True))


@bp.route("/clients/<client_no>/assess/step/<int:n>", methods=["GET", "POST"])
@allow("rm")
@read_only(methods=("GET", "HEAD", "POST"))
def assisted_step(client_no: str, n: int):
    return _step(Flow(client_or_404(client_no), assisted=True), n)


@bp.route("/clients/<client_no>/assess/review", methods=["GET", "POST"])
@allow("rm")
@read_only
def assisted_review(client_no: str):
    return _review(Flow(client_or_404(client_no), assisted=True))


# --- the stepper ---------------------------------------------------------------------------------------

def _start(flow: Flow):
    try:
        version, definition = _active()
    except OperationError as error:  # a read: nothing to commit or roll back
        return render_template("questionnaire/intro.html", flow=flow, version=None, error=error.message,
                               overview=risk_overview(flow.client))
    draft, discarded = load_draft(flow, version)
    form = RestartForm()
    if request.method == "POST":
        if form.validate_on_submit():
            clear_draft(flow)
            flash(_("The answers given so far were discarded."), "info")
        return redirect(flow.url("start"))
    if discarded:
        clear_draft(flow)
        flash(_("The questionnaire has been updated since you began; please answer the new version."), "warning")
    steps = steps_of(definition, flow.client)
    answers = valid_answers(definition, draft["answers"])
    locale = portal_language()
    refusal = retake_refusal(flow.client, version)
    return render_template(
        "questionnaire/intro.html", retake_limit=refusal.message if refusal else None,
        flow=flow, version=version, title=definition.title.get(locale),
        question_count=sum(len(questions) for _group, questions in steps),
        validity_months=definition.validity_months,
        steps=[(group, len(questions)) for group, questions in steps], answered=len(answers),
        resume_step=first_open_step(steps, answers), restart_form=form, overview=risk_overview(flow.client),
        error=None,
    )


def _step(flow: Flow, n: int):
    try:
        version, definition = _active()
    except OperationError as error:  # a read: nothing to commit or roll back
        flash(error.message, "danger")
        return redirect(flow.url("start"))
    steps = steps_of(definition, flow.client)
    if not 1 <= n <= len(steps):
        abort(404)
    draft, discarded = load_draft(flow, version)
    if discarded:
        clear_draft(flow)
        flash(str(VERSION_CHANGED), "warning")
        return redirect(flow.url("start"))
    group, questions = steps[n - 1]
    locale = portal_language()
    if request.method == "POST":
        form = step_form(questions, locale)
        if form.version_id.data != version.id:  # a page of an older version, or an altered hidden field
            flash(str(VERSION_CHANGED), "warning")
            return redirect(flow.url("start"))
        complete = form.validate()
        for question in questions:
            field = form[answer_field_name(question.id)]
            chosen = field.data if isinstance(field.data, str) else None
            if chosen is not None and question.option(chosen) is not None:
                draft["answers"][question.id] = chosen
            else:
                draft["answers"].pop(question.id, None)
            draft["errors"].pop(question.id, None)
        save_draft(flow, draft)
        if request.form.get("nav") == "back":
            return redirect(flow.url("step", n=n - 1) if n > 1 else flow.url("start"))
        if complete:
            return redirect(flow.url("step", n=n + 1) if n < len(steps) else flow.url("review"))
        flash(_("Please answer every question on this page."), "danger")
    else:
        data = {answer_field_name(q.id): draft["answers"].get(q.id) for q in questions}
        form = step_form(questions, locale, data={**data, "version_id": version.id})
        shown_errors = {q.id: draft["errors"].pop(q.id) for q in questions if q.id in draft["errors"]}
        for question_id, field in form.answer_fields():
            if question_id in shown_errors:
                field.errors = [shown_errors[question_id]]
        if shown_errors:
            save_draft(flow, draft)
    return render_template(
        "questionnaire/step.html", flow=flow, version=version, title=definition.title.get(locale), n=n,
        total=len(steps), group=group, form=form, numbers=question_numbers(definition),
        step_groups=[g for g, _q in steps],
    )


def _review(flow: Flow):
    try:
        version, definition = _active()
    except OperationError as error:  # a read: nothing to commit or roll back
        flash(error.message, "danger")
        return redirect(flow.url("start"))
    steps = steps_of(definition, flow.client)
    draft, discarded = load_draft(flow, version)
    if request.method == "POST":
        return _submit(flow, version, steps, draft, discarded)
    if discarded:
        clear_draft(flow)
        flash(str(VERSION_CHANGED), "warning")
        return redirect(flow.url("start"))
    answers = valid_answers(definition, draft["answers"])
    open_step = first_open_step(steps, answers)
    if open_step is not None:
        flash(_("Please answer every question before reviewing your answers."), "warning")
        return redirect(flow.url("step", n=open_step))
    if not draft.get("token"):
        # One token per filled-in questionnaire: two tabs showing the review carry the same one.
        draft["token"] = secrets.token_urlsafe(24)
        save_draft(flow, draft)
    locale = portal_language()
    numbers = question_numbers(definition)
    sections = []
    for number, (group, questions) in enumerate(steps, start=1):
        rows = [(numbers[q.id], q.text.get(locale), q.option(answers[q.id]).text.get(locale)) for q in questions]
        sections.append((number, group, rows))
    form = ReviewForm(data={"version_id": version.id, "submission_token": draft["token"]})
    return render_template("questionnaire/review.html", flow=flow, version=version,
                           title=definition.title.get(locale), sections=sections, form=form,
                           from_records=_from_records(definition, flow.client, locale))


def _from_records(definition: rules.Questionnaire, client: Client, locale: str, day=None) -> list[tuple]:
    """(number, question, answer) of the answers taken from the client's records rather than asked."""
    derived = derived_age(definition, client, day)
    if derived is None:
        return []
    question = definition.question(derived[0])
    return [(question_numbers(definition)[question.id], question.text.get(locale),
             question.option(derived[1]).text.get(locale))]


def _submit(flow: Flow, version: QuestionnaireVersion, steps, draft: dict, discarded: bool):
    form = ReviewForm()
    if not form.validate():
        flash(_("The form was incomplete or altered. Please check your answers and submit them again."), "danger")
        return redirect(flow.url("review"))
    token = form.submission_token.data
    earlier = db.session.scalar(select(RiskAssessment).where(RiskAssessment.submission_token == token))
    if earlier is not None:  # the same review form sent again (a second tab, a double click, back button)
        flash(_("This questionnaire has already been submitted."), "info")
        if earlier.client_id == flow.client.id:
            return redirect(url_for("questionnaire.result", assessment_id=earlier.id))
        return redirect(flow.url("start"))
    if discarded or form.version_id.data != version.id:
        clear_draft(flow)
        flash(str(VERSION_CHANGED), "warning")
        return redirect(flow.url("start"))
    if token != draft.get("token"):
        flash(_("This page is out of date. Please check your answers and submit them again."), "warning")
        return redirect(flow.url("review"))
    with unit_of_work() as work:
        assessment = submit_assessment(flow.client, dict(draft["answers"]), current_user, assisted=flow.assisted,
                                       version_id=form.version_id.data, submission_token=token)
    if isinstance(work.error, RetakeLimitReached):
        flash(work.error.message, "warning")
        return redirect(flow.url("start"))
    if not work.ok:
        return _submit_refused(flow, steps, draft, work.error)
    clear_draft(flow)
    if flow.assisted:
        flash(_("The assessment was recorded. It becomes the client's profile once the client confirms it."),
              "success")
    else:
        flash(_("Your answers were submitted. This is your new risk profile."), "success")
    return redirect(url_for("questionnaire.result", assessment_id=assessment.id))


def _submit_refused(flow: Flow, steps, draft: dict, error: OperationError):
    if error.code == "version_changed":
        clear_draft(flow)
        flash(error.message, "warning")
        return redirect(flow.url("start"))
    if error.code == "duplicate":
        flash(error.message, "info")
        latest = db.session.scalar(select(RiskAssessment.id).where(RiskAssessment.client_id == flow.client.id)
                                   .order_by(RiskAssessment.submitted_at.desc(), RiskAssessment.id.desc()).limit(1))
        if latest is not None:
            return redirect(url_for("questionnaire.result", assessment_id=latest))
        return redirect(flow.url("start"))
    number = step_of_question(steps, error.field) if error.field else None
    flash(error.message, "danger")
    if number is None:
        return redirect(flow.url("start"))
    draft["answers"].pop(error.field, None)
    draft["errors"][error.field] = error.message
    save_draft(flow, draft)
    return redirect(flow.url("step", n=number))


# --- results ---------------------------------------------------------------------------------------------

def _assessment_or_404(assessment_id: int, client: Client | None = None) -> tuple[RiskAssessment, Client]:
    """The assessment if the caller may see its client (and it belongs to `client`, when given)."""
    assessment = db.session.get(RiskAssessment, assessment_id) if 0 < assessment_id <= MAX_DB_INT else None
    if assessment is None:
        abort(404)
    if client is not None and assessment.client_id != client.id:
        deny("assessment", assessment_id)  # another client's: refused and logged, its existence not confirmed
    owner = client or db.session.get(Client, assessment.client_id)
    if not can_see_client(current_user, owner):
        deny("assessment", assessment_id)
    return assessment, owner


def _texts(definition: rules.Questionnaire, locale: str, assessment: RiskAssessment):
    caps = {cap.id: cap for cap in definition.caps}
    checks = {check.id: check for check in definition.consistency_checks}
    applied_caps = [(cap_id, caps[cap_id].text.get(locale) if cap_id in caps else cap_id,
                     caps[cap_id].max_grade if cap_id in caps else None) for cap_id in (assessment.caps or [])]
    flags = [(flag_id, checks[flag_id].text.get(locale) if flag_id in checks else flag_id)
             for flag_id in (assessment.flags or [])]
    return applied_caps, flags


def render_result(assessment: RiskAssessment, client: Client, paper_form: PaperConfirmationForm | None = None):
    """The result page: grade, class, points per group, caps and flags, percentile, validity, products."""
    locale = portal_language()
    definition = definition_of(assessment.version)
    applied_caps, flags = _texts(definition, locale, assessment)
    labels = risk_labels()
    chart = []
    for group in rules.GROUPS:
        points, most = (assessment.group_points or {}).get(group, (0, 0))
        width = round(CHART_WIDTH * points / most, 1) if most else 0
        chart.append({"label": labels["group"][group], "points": points, "max": most, "width": width})
    band = next((b for b in definition.bands if b.grade == assessment.band_grade), None)
    bands = [{"grade": b.grade, "x": round(CHART_WIDTH * b.min / 101, 1),
              "width": round(CHART_WIDTH * (b.max - b.min + 1) / 101, 1)} for b in definition.bands]
    marker = min(max(round(CHART_WIDTH * (assessment.score + 0.5) / 101, 1), 6), CHART_WIDTH - 6)
    profile = db.session.scalar(select(RiskProfile).where(RiskProfile.assessment_id == assessment.id))
    in_force = profile is not None and client.profile_id == profile.id
    status = profile_status(profile.valid_until) if profile is not None else None
    awaiting = assessment.channel == "assisted" and assessment.confirmation is None
    pending = pending_assisted(client) if awaiting else None
    is_pending = pending is not None and pending.id == assessment.id
    numbers = question_numbers(definition)
    answers = []
    for question in definition.questions:
        option = question.option((assessment.answers or {}).get(question.id, ""))
        answers.append((numbers[question.id], labels["group"].get(question.group, question.group),
                        question.text.get(locale), option.text.get(locale) if option else "—"))
    from_records = _from_records(definition, client, locale, business_date(assessment.submitted_at))
    raised_from = db.session.get(RiskAssessment, assessment.raised_from_id) if assessment.raised_from_id else None
    paper_enabled = current_app.config.get("ASSISTED_PAPER_CONFIRMATION", True)
    return render_template(
        "questionnaire/result.html", assessment=assessment, client=client, version=assessment.version,
        title=definition.title.get(locale), chart=chart, chart_width=CHART_WIDTH, band=band, bands=bands,
        marker=marker, applied_caps=applied_caps, flags=flags, percentile=score_percentile(assessment.score),
        profile=profile, in_force=in_force, status=status, awaiting=awaiting, is_pending=is_pending,
        levels=rules.allowed_product_levels(assessment.grade, assessment.lowest_category), answers=answers,
        is_client=current_user.role == "client", from_records=from_records, raised_from=raised_from,
        raised_from_day=business_date(raised_from.submitted_at).isoformat() if raised_from else None,
        can_confirm=current_user.role == "client" and is_pending,
        can_record_paper=current_user.role == "rm" and is_pending and paper_enabled,
        confirm_form=ConfirmForm(), paper_form=paper_form or PaperConfirmationForm(),
    )


@bp.route("/questionnaire/result/<int:assessment_id>")
@allow("client", "rm", "supervisor", "compliance", "admin")
@read_only
def result(assessment_id: int):
    assessment, client = _assessment_or_404(assessment_id)
    return render_result(assessment, client)


# --- confirmations -----------------------------------------------------------------------------------

@bp.route("/me/assessments/<int:assessment_id>/confirm", methods=["POST"])
@allow("client")
def confirm(assessment_id: int):
    client = _own_client()
    assessment, _client = _assessment_or_404(assessment_id, client)
    target = url_for("questionnaire.result", assessment_id=assessment.id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return redirect(target)
    with unit_of_work(flash=True) as work:
        confirm_assessment(assessment, client, current_user, method="client")
    if work.ok:
        flash(_("Thank you. You confirmed the assessment; it is now your risk profile."), "success")
    return redirect(target)


@bp.route("/clients/<client_no>/assessments/<int:assessment_id>/paper-confirmation", methods=["POST"])
@allow("rm")
def paper_confirmation(client_no: str, assessment_id: int):
    client = client_or_404(client_no)
    assessment, _client = _assessment_or_404(assessment_id, client)
    target = url_for("questionnaire.result", assessment_id=assessment.id)
    if not current_app.config.get("ASSISTED_PAPER_CONFIRMATION", True):
        flash(_("Confirmation by signed paper form is not enabled: the client confirms on their own login."),
              "warning")
        return redirect(target)
    form = PaperConfirmationForm()
    if not form.validate_on_submit():
        return render_result(assessment, client, paper_form=form)
    with unit_of_work() as work:
        confirm_assessment(assessment, client, current_user, method="paper",
                           paper_reference=form.paper_reference.data)
    if work.error is not None and work.error.field == "paper_reference":
        attach_error(form, work.error)
        return render_result(assessment, client, paper_form=form)
    if not work.ok:
        flash(work.error.message, "danger")
        return redirect(target)
    flash(_("The signed paper form was recorded; the assessment is now the client's profile."), "success")
    return redirect(target)


# --- history -------------------------------------------------------------------------------------------

def _render_history(client: Client):
    assessments = db.session.scalars(
        select(RiskAssessment).where(RiskAssessment.client_id == client.id)
        .order_by(RiskAssessment.submitted_at.desc(), RiskAssessment.id.desc())
        .options(selectinload(RiskAssessment.version), selectinload(RiskAssessment.entered_by),
                 selectinload(RiskAssessment.confirmation).selectinload(AssessmentConfirmation.confirmed_by))
    ).all()
    profiles = {p.assessment_id: p for p in db.session.scalars(select(RiskProfile)
                                                               .where(RiskProfile.client_id == client.id))}
    pending = pending_assisted(client)
    locale = portal_language()
    today = business_today()
    rows = []
    for assessment in assessments:
        applied_caps, flags = _texts(definition_of(assessment.version), locale, assessment)
        profile = profiles.get(assessment.id)
        if profile is not None and client.profile_id == profile.id:
            state = "in_force" if profile.valid_until >= today else "expired"
        elif profile is not None:
            state = "superseded"
        elif pending is not None and pending.id == assessment.id:
            state = "awaiting"
        else:
            state = "never_confirmed"
        rows.append({"assessment": assessment, "caps": applied_caps, "flags": flags, "profile": profile,
                     "state": state})
    return render_template("questionnaire/history.html", client=client, rows=rows,
                           overview=risk_overview(client))


@bp.route("/me/assessments")
@allow("client")
def my_history():
    return _render_history(_own_client())


@bp.route("/clients/<client_no>/assessments")
@allow("rm", "supervisor", "compliance", "admin")
def client_history(client_no: str):
    return _render_history(client_or_404(client_no))


# --- the profile summary other pages show -----------------------------------------------------------

@dataclass
class RiskOverview:
    """A client's profile in force, its status, and an assisted assessment awaiting confirmation."""

    profile: RiskProfile | None
    status: str
    pending: RiskAssessment | None
    levels: tuple[str, ...]
    confirm_form: ConfirmForm


@bp.app_template_global("risk_overview")
def risk_overview(client: Client) -> RiskOverview:
    """For templates: `{% set risk = risk_overview(client) %}` (the client's own pages, the manager's pages)."""
    profile = db.session.get(RiskProfile, client.profile_id) if client.profile_id else None
    status = profile_status(client.profile_valid_until)
    levels = rules.allowed_product_levels(profile.grade, profile.lowest_category) \
        if profile is not None and status != "expired" else ()
    return RiskOverview(profile=profile, status=status, pending=pending_assisted(client), levels=levels,
                        confirm_form=ConfirmForm())
