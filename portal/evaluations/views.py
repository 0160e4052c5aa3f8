"""Evaluation cycles: create, open, score, self-assess, close; client service ratings; targets."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from forms.evaluations import (
    ConfirmForm,
    CycleForm,
    RatingForm,
    ScoreForm,
    SelfAssessmentForm,
    TargetForm,
    TargetImportForm,
)
from models import Evaluation, EvaluationCycle, Manager, Team, User, db
from portal.access import allow, deny, supervised_team_ids
from portal.evaluations.scope import (
    can_manage_cycle,
    can_score,
    cycle_or_404,
    evaluation_or_404,
    scope_cycles,
    scope_evaluations,
    scorable_managers,
    sees_scores,
)
from portal.labels import evaluation_labels
from portal.operations import evaluations as operations
from portal.operations import targets as target_operations
from portal.operations.errors import OperationError, attach_error
from portal.pagination import page_arg, paginate
from portal.reads import read_only
from portal.rules import evaluation as rules
from portal.rules.evaluation import DIMENSIONS
from portal.unit_of_work import unit_of_work

bp = Blueprint("evaluations", __name__)

MAX_UPLOAD = 2 * 1024 * 1024


def _context(**extra) -> dict:
    return {"elabels": evaluation_labels(), "dimensions": DIMENSIONS, **extra}


def _teams_of_scope() -> list[Team]:
    stmt = select(Team).order_by(Team.code)
    if current_user.role != "admin":
        stmt = stmt.where(Team.id.in_(supervised_team_ids(current_user) or [-1]))
    return list(db.session.scalars(stmt))


# --- cycles ---------------------------------------------------------------------------------------

@bp.route("/cycles")
@allow("supervisor", "compliance", "admin")
@read_only
def cycles():
    stmt = scope_cycles(select(EvaluationCycle.id, EvaluationCycle.name, EvaluationCycle.start_date,
                               EvaluationCycle.end_date, EvaluationCycle.state, Team.code)
                        .outerjoin(Team, Team.id == EvaluationCycle.team_id), current_user)
    state = request.args.get("state")
    if state in ("draft", "open", "closed"):
        stmt = stmt.where(EvaluationCycle.state == state)
    stmt = stmt.order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc())
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    counts = {}
    ids = [row.id for row in pagination.items]
    if ids:
        counts = {cycle_id: (total, scored) for cycle_id, total, scored in db.session.execute(
            scope_evaluations(select(Evaluation.cycle_id, func.count(Evaluation.id),
                                     func.count(Evaluation.total)), current_user)
            .where(Evaluation.cycle_id.in_(ids)).group_by(Evaluation.cycle_id))}
    return render_template("evaluations/cycles.html", pagination=pagination, counts=counts, state=state,
                           can_create=current_user.role == "admin" or bool(supervised_team_ids(current_user)),
                           **_context())


@bp.route("/cycles/new", methods=["GET", "POST"])
@allow("supervisor", "admin")
def new_cycle():
    form = CycleForm()
    teams = _teams_of_scope()
    choices = [SelectChoice("all", _("Everyone"))] if current_user.role == "admin" else []
    form.scope.choices = choices + [SelectChoice(team.code, f"{team.code} — {team.name}") for team in teams]
    if form.validate_on_submit():
        team = next((t for t in teams if t.code == form.scope.data), None)
        if team is None and form.scope.data != "all":
            deny("team", form.scope.data, 403)
        with unit_of_work(form) as work:
            cycle = operations.create_cycle(form.name.data, form.start.data, form.end.data, team, current_user)
        if work.ok:
            flash(_("Cycle %(name)s created in draft. Open it when scoring may begin.", name=cycle.name), "success")
            return redirect(url_for("evaluations.cycle", cycle_id=cycle.id))
    status = 400 if form.errors else 200
    return render_template("evaluations/new_cycle.html", form=form, **_context()), status


def _cycle_page(cycle: EvaluationCycle, status: int = 200, unscored_error: operations.UnscoredError | None = None):
    show = request.args.get("show")
    base = (select(Evaluation.manager_id, Evaluation.level, *(getattr(Evaluation, d) for d in DIMENSIONS),
                   Evaluation.total, Evaluation.band, Manager.employee_no, Manager.name, Team.code)
            .join(Manager, Manager.id == Evaluation.manager_id)
            .outerjoin(Team, Team.id == Evaluation.team_id)
            .where(Evaluation.cycle_id == cycle.id))
    base = scope_evaluations(base, current_user)
    total, scored = db.session.execute(
        scope_evaluations(select(func.count(Evaluation.id), func.count(Evaluation.total))
                          .where(Evaluation.cycle_id == cycle.id), current_user)).one()
    stmt = base.where(Evaluation.total.is_(None)) if show == "unscored" else base
    stmt = stmt.order_by(Team.code, Manager.employee_no)
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    team = db.session.get(Team, cycle.team_id) if cycle.team_id else None
    weight_set = operations.cycle_weight_set(cycle)
    recommendations = operations.recommendations_for(cycle.id, [row.manager_id for row in pagination.items]) \
        if cycle.state == "closed" else {}
    return render_template("evaluations/cycle.html", cycle=cycle, team=team, pagination=pagination, show=show,
                           recommendations=recommendations,
                           total=total, scored=scored, weight_set=weight_set, can_manage=can_manage_cycle(
                               current_user, cycle), action_form=ConfirmForm(), unscored_error=unscored_error,
                           **_context()), status


@bp.route("/cycles/<int:cycle_id>")
@allow("supervisor", "compliance", "admin")
@read_only
def cycle(cycle_id: int):
    return _cycle_page(cycle_or_404(cycle_id, current_user))


def _managed_cycle(cycle_id: int) -> EvaluationCycle:
    cycle = cycle_or_404(cycle_id, current_user)
    if not can_manage_cycle(current_user, cycle):
        deny("evaluation_cycle", cycle_id, 403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return cycle


@bp.route("/cycles/<int:cycle_id>/open", methods=["POST"])
@allow("supervisor", "admin")
def open_cycle(cycle_id: int):
    cycle = _managed_cycle(cycle_id)
    with unit_of_work(flash=True) as work:
        created = operations.open_cycle(cycle, current_user)
    if not work.ok:
        return _cycle_page(cycle_or_404(cycle_id, current_user), 409)
    flash(_("The cycle is open: %(n)d evaluations to score.", n=created), "success")
    return redirect(url_for("evaluations.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/close", methods=["POST"])
@allow("supervisor", "admin")
def close_cycle(cycle_id: int):
    cycle = _managed_cycle(cycle_id)
    with unit_of_work(flash=True, answer_here=(operations.UnscoredError,)) as work:
        recommendations = operations.close_cycle(cycle, current_user)
    if not work.ok:
        return _cycle_page(cycle_or_404(cycle_id, current_user), 409,
                           unscored_error=work.error if isinstance(work.error, operations.UnscoredError) else None)
    flash(_("The cycle is closed and its scores are locked. The promotion rules gave %(n)d recommendations.",
            n=recommendations), "success")
    return redirect(url_for("evaluations.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/delete", methods=["POST"])
@allow("supervisor", "admin")
def delete_cycle(cycle_id: int):
    cycle = _managed_cycle(cycle_id)
    name = cycle.name
    with unit_of_work(flash=True) as work:
        operations.delete_cycle(cycle, current_user)
    if not work.ok:
        return _cycle_page(cycle_or_404(cycle_id, current_user), 409)
    flash(_("Cycle %(name)s deleted.", name=name), "success")
    return redirect(url_for("evaluations.cycles"))


# --- one evaluation ---------------------------------------------------------------------------------

def _saved_scores(evaluation: Evaluation) -> dict:
    return {d: getattr(evaluation, d) for d in DIMENSIONS}


def _evaluation_page(cycle: EvaluationCycle, evaluation: Evaluation, form: ScoreForm | None = None,
                     self_form: SelfAssessmentForm | None = None, conflict: operations.ConflictError | None = None,
                     status: int = 200):
    manager = db.session.get(Manager, evaluation.manager_id)
    team = db.session.get(Team, evaluation.team_id) if evaluation.team_id else None
    weight_set = operations.cycle_weight_set(cycle)
    weights = operations.weights_of(weight_set, evaluation.level)
    own = evaluation.manager_id == current_user.manager_id and current_user.role != "admin"
    scorer = current_user.role in ("supervisor", "admin") and not own and can_score(current_user,
                                                                                   evaluation.manager_id)
    editable = scorer and cycle.state == "open"
    derived = None
    if scorer or current_user.role == "compliance":
        derived = operations.derived_figures(evaluation.manager_id, cycle) if cycle.state == "open" \
            else evaluation.derived
    offered = {}
    if editable and form is None:
        # A dimension not scored yet starts from the figure the data gives, for the scorer to keep or change.
        saved_scores = _saved_scores(evaluation)
        for d in ("satisfaction", "kpi"):
            start = rules.starting_score((derived or {}).get(d, {}).get("figure")) if saved_scores[d] is None else None
            if start is not None:
                offered[d] = start
        form = ScoreForm(formdata=None, data={**{d: "" if v is None else str(v) for d, v in saved_scores.items()},
                                              **{d: str(v) for d, v in offered.items()},
                                              "comment": evaluation.comment or "", "version": evaluation.version})
    preview = None
    if editable:
        bands = operations.bands_of(weight_set)
        preview = rules.preview_total({d: form[d].data for d in DIMENSIONS}, weights, bands)
        band_words = evaluation_labels()["band"]
        score_script = {"weights": weights,
                        "bands": [[str(floor), code, str(band_words.get(code, code))] for floor, code in bands]}
    if own and cycle.state == "open" and self_form is None:
        self_form = SelfAssessmentForm(formdata=None, data={"self_comment": evaluation.self_comment or ""})
    scored_by = db.session.get(User, evaluation.scored_by_id) if evaluation.scored_by_id else None
    return render_template("evaluations/evaluation.html", cycle=cycle, evaluation=evaluation, manager=manager,
                           team=team, weights=weights, weight_set=weight_set, derived=derived, form=form,
                           editable=editable, own=own, self_form=self_form if own else None,
                           show_scores=sees_scores(current_user, evaluation, cycle), conflict=conflict,
                           saved=_saved_scores(evaluation), scored_by=scored_by, offered=offered, preview=preview,
                           score_script=score_script if editable else None, **_context()), status


@bp.route("/cycles/<int:cycle_id>/evaluations/<employee_no>")
@allow("rm", "supervisor", "compliance", "admin")
@read_only
def evaluation(cycle_id: int, employee_no: str):
    cycle = cycle_or_404(cycle_id, current_user)
    return _evaluation_page(cycle, evaluation_or_404(cycle, employee_no, current_user))


@bp.route("/cycles/<int:cycle_id>/evaluations/<employee_no>", methods=["POST"])
@allow("supervisor", "admin")
def score(cycle_id: int, employee_no: str):
    cycle = cycle_or_404(cycle_id, current_user)
    evaluation = evaluation_or_404(cycle, employee_no, current_user)
    if evaluation.manager_id == current_user.manager_id or not can_score(current_user, evaluation.manager_id):
        deny("evaluation", f"{cycle_id}/{employee_no}", 403)
    if cycle.state != "open":
        flash(_("The cycle is closed: its evaluations are locked.") if cycle.state == "closed" else
              _("The cycle is not open yet: evaluations cannot be changed."), "danger")
        return _evaluation_page(cycle, evaluation, status=409)
    form = ScoreForm()
    if not form.validate_on_submit():
        return _evaluation_page(cycle, evaluation, form=form, status=400)
    version = (form.version.data or "").strip()
    expected = int(version) if version.isascii() and version.isdigit() else None
    scores = {d: getattr(form, d).data for d in DIMENSIONS}
    with unit_of_work(form, answer_here=(operations.ConflictError,)) as work:
        operations.score_evaluation(evaluation, scores, form.comment.data, current_user, expected_version=expected)
    if isinstance(work.error, operations.ConflictError):
        with unit_of_work():  # the refused save's values are kept in the audit log
            current = db.session.get(Evaluation, evaluation.id, populate_existing=True)
            operations.record_conflict(current, {**scores, "comment": form.comment.data}, expected, current_user)
        current = db.session.get(Evaluation, evaluation.id)
        form.version.data = str(current.version)  # saving again goes on top of what is saved now
        return _evaluation_page(cycle, current, form=form, conflict=work.error, status=409)
    if not work.ok:
        return _evaluation_page(cycle, db.session.get(Evaluation, evaluation.id), form=form, status=400)
    flash(_("Saved. Total %(total)s: %(band)s.", total=evaluation.total,
            band=evaluation_labels()["band"].get(evaluation.band, evaluation.band)), "success")
    return redirect(url_for("evaluations.evaluation", cycle_id=cycle_id, employee_no=employee_no))


@bp.route("/cycles/<int:cycle_id>/evaluations/<employee_no>/self", methods=["POST"])
@allow("rm", "supervisor")
def self_assessment(cycle_id: int, employee_no: str):
    cycle = cycle_or_404(cycle_id, current_user)
    evaluation = evaluation_or_404(cycle, employee_no, current_user)
    if evaluation.manager_id != current_user.manager_id:
        deny("evaluation", f"{cycle_id}/{employee_no}", 403)
    form = SelfAssessmentForm()
    if not form.validate_on_submit():
        return _evaluation_page(cycle, evaluation, self_form=form, status=400)
    with unit_of_work() as work:
        operations.save_self_assessment(evaluation, form.self_comment.data, current_user)
    if isinstance(work.error, operations.ConflictError):
        flash(_("Your evaluation was changed while you were saving; please save again."), "warning")
        return _evaluation_page(cycle, db.session.get(Evaluation, evaluation.id), self_form=form, status=409)
    if work.error is not None and work.error.code in ("cycle_closed", "cycle_not_open"):
        flash(work.error.message, "danger")
        return _evaluation_page(cycle, evaluation, status=409)
    if not work.ok:
        attach_error(form, work.error)
        return _evaluation_page(cycle, evaluation, self_form=form, status=400)
    flash(_("Your self-assessment is saved."), "success")
    return redirect(url_for("evaluations.evaluation", cycle_id=cycle_id, employee_no=employee_no))


@bp.route("/my/evaluations")
@allow("rm", "supervisor")
@read_only
def my_evaluations():
    if current_user.manager_id is None:
        abort(404)
    stmt = (select(Evaluation.cycle_id, Evaluation.total, Evaluation.band, Evaluation.self_comment,
                   EvaluationCycle.name, EvaluationCycle.start_date, EvaluationCycle.end_date, EvaluationCycle.state)
            .join(EvaluationCycle, EvaluationCycle.id == Evaluation.cycle_id)
            .where(Evaluation.manager_id == current_user.manager_id, EvaluationCycle.state != "draft")
            .order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc()))
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    manager = db.session.get(Manager, current_user.manager_id)
    return render_template("evaluations/mine.html", pagination=pagination, manager=manager, **_context())


# --- clients' service ratings --------------------------------------------------------------------------

def _own_client():
    client = current_user.client
    if client is None:
        abort(404)
    return client


@bp.route("/my/rating", methods=["POST"])
@allow("client")
def rate():
    client = _own_client()
    form = RatingForm()
    if not form.validate_on_submit():
        messages = [message for errors in form.errors.values() for message in errors]
        flash(" ".join(str(m) for m in messages) or _("Choose from 1 to 5 stars."), "danger")
        return redirect(url_for("home.index"))
    cycle_id = int(form.cycle.data) if (form.cycle.data or "").isdigit() else None
    with unit_of_work(flash=True) as work:
        operations.rate_manager(client, cycle_id, form.stars.data, form.comment.data, current_user)
    if work.ok:
        flash(_("Thank you: your rating of your manager's service is recorded."), "success")
    return redirect(url_for("home.index"))


@bp.route("/my/ratings")
@allow("client")
@read_only
def my_ratings():
    client = _own_client()
    pagination = paginate(operations.ratings_query(client), page_arg(), current_app.config["PER_PAGE"], rows=True)
    return render_template("evaluations/my_ratings.html", pagination=pagination, client=client, **_context())


# --- targets ----------------------------------------------------------------------------------------

def _target_scope() -> tuple[list[int] | None, list[int]]:
    """(teams whose managers the user may set targets for — None for all, staff records excluded)."""
    if current_user.role in ("admin", "compliance"):
        return None, []
    excluded = list(db.session.scalars(select(Team.supervisor_id).where(Team.supervisor_id.is_not(None))))
    if current_user.manager_id is not None:
        excluded.append(current_user.manager_id)
    return supervised_team_ids(current_user), excluded


def _period_arg() -> tuple[date, date] | None:
    raw = request.args.get("period") or ""
    start, _sep, end = raw.partition("..")
    try:
        return date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return None


def _targets_page(import_form=None, problems=None, status: int = 200):
    teams, _excluded = _target_scope()
    period = _period_arg()
    employee_no = (request.args.get("employee_no") or "").strip()[:20]
    stmt = target_operations.targets_query(teams, period, employee_no or None)
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    return render_template("evaluations/targets.html", pagination=pagination, period=period,
                           periods=target_operations.periods_in_use(teams), employee_no=employee_no,
                           import_form=import_form or TargetImportForm(), problems=problems or [],
                           can_edit=current_user.role in ("supervisor", "admin"),
                           columns=target_operations.CSV_COLUMNS, **_context()), status


@bp.route("/targets")
@allow("supervisor", "compliance", "admin")
@read_only
def targets():
    return _targets_page()


@bp.route("/targets/new", methods=["GET", "POST"])
@allow("supervisor", "admin")
def new_target():
    form = TargetForm()
    scope = scorable_managers(current_user)
    # A supervisor picks from their managers; an administrator types the employee number (thousands of staff).
    suggestions = [] if scope is None else db.session.execute(
        select(Manager.employee_no, Manager.name).where(Manager.id.in_(scope), Manager.status != "left")
        .order_by(Manager.employee_no)).all()
    if request.method == "GET" and request.args.get("employee_no"):
        form.employee_no.data = request.args.get("employee_no", "")[:20]
    if form.validate_on_submit():
        employee_no = form.employee_no.data.strip().upper()
        manager = db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))
        with unit_of_work(form) as work:
            if manager is None or not can_score(current_user, manager.id):
                raise OperationError(_("%(no)s is not a manager whose targets you set.", no=employee_no),
                                     "employee_no")
            target_operations.set_target(manager, form.period_start.data, form.period_end.data,
                                         form.net_commission.data, form.asset_growth.data, form.new_clients.data,
                                         current_user)
        if work.ok:
            flash(_("Targets saved for %(name)s.", name=manager.name), "success")
            period = f"{form.period_start.data.isoformat()}..{form.period_end.data.isoformat()}"
            return redirect(url_for("evaluations.targets", period=period))
    return render_template("evaluations/new_target.html", form=form, suggestions=suggestions,
                           **_context()), 400 if form.errors else 200


@bp.route("/targets/import", methods=["POST"])
@allow("supervisor", "admin")
def import_targets():
    form = TargetImportForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    teams, excluded = _target_scope()
    with unit_of_work() as work:
        if upload is None or not getattr(upload, "filename", None):
            raise OperationError(_("Choose a CSV file to import."), "file")
        content = upload.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise OperationError(_("The file is too large (at most 2 MB)."), "file")
        summary = target_operations.import_targets(content, current_user, teams, excluded)
    if isinstance(work.error, target_operations.TargetsImportError):
        problems = [_("Nothing was imported: %(n)d lines have errors.", n=len(work.error.problems))]
        return _targets_page(form, problems + [p["message"] for p in work.error.problems], 400)
    if not work.ok:
        return _targets_page(form, [work.error.message], 400)
    flash(_("Imported %(n)d targets; %(m)d earlier targets of the same periods were replaced.",
            n=summary["imported"], m=summary["replaced"]), "success")
    return redirect(url_for("evaluations.targets"))
