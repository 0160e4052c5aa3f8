"""The level ladder, weights and rules editing, eligibility, nominations (maker/checker), level history, reports."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from forms.promotions import (
    RULE_FIELD_LABELS,
    CloseFlagForm,
    DecisionForm,
    FlagForm,
    NominationForm,
    RerunForm,
    RulesForm,
    WeightsForm,
)
from models import (
    EvaluationCycle,
    EvaluationWeightSet,
    LevelChange,
    Manager,
    PromotionNomination,
    PromotionRecommendation,
    PromotionRuleSet,
    Team,
    User,
    db,
)
from models.evaluations import NOMINATION_STATES
from portal.access import allow, deny, manager_or_404, supervised_team_ids
from portal.collation import by_pinyin
from portal.exports import download
from portal.formatting import portal_language
from portal.labels import promotion_labels
from portal.operations import ladder
from portal.operations import promotions as operations
from portal.operations.errors import OperationError, attach_error
from portal.pagination import Page, page_arg, paginate
from portal.promotions import charts, reports
from portal.rules.calendar import business_today
from portal.rules.evaluation import BAND_CODES, DIMENSIONS, level_duties
from portal.rules.vocabulary import LEVELS
from portal.unit_of_work import unit_of_work

bp = Blueprint("promotions", __name__)


def view_labels() -> dict:
    """The feature's words (portal.labels) and the rules form's field names."""
    return {**promotion_labels(), "rule_field": RULE_FIELD_LABELS}


def _level_title(level: str) -> str:
    return str(level_duties(level, portal_language())["title"])


# --- the level ladder ---------------------------------------------------------------------------------


@bp.route("/ladder")
@allow("rm", "supervisor", "compliance", "admin")
def ladder_page():
    weight_set = ladder.weights_in_force()
    rules = operations.rules_in_force()
    language = portal_language()
    levels = []
    for level in LEVELS:
        levels.append({"code": level, "duties": level_duties(level, language),
                       "weights": (weight_set.weights or {}).get(level, {}) if weight_set else {},
                       "rule": rules.rule_from(level)})
    return render_template(
        "promotions/ladder.html", levels=levels, weight_set=weight_set, rules=rules, dimensions=DIMENSIONS,
        bands=ladder.bands_of(weight_set) if weight_set else (), demotion=rules.demotion,
        weight_versions=ladder.versions(EvaluationWeightSet), rule_versions=ladder.versions(PromotionRuleSet),
        view_labels=view_labels(), level_title=_level_title)


@bp.route("/ladder/weights", methods=["GET", "POST"])
@allow("admin")
def edit_weights():
    current = ladder.weights_in_force()
    form = WeightsForm()
    if request.method == "GET" and current is not None:
        for level in LEVELS:
            for dimension in DIMENSIONS:
                getattr(form, f"{level}_{dimension}").data = current.weights.get(level, {}).get(dimension)
        for floor, code in ladder.bands_of(current)[:-1]:
            getattr(form, f"band_{code}").data = floor
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            weights = {level: {d: getattr(form, f"{level}_{d}").data for d in DIMENSIONS} for level in LEVELS}
            thresholds = {code: getattr(form, f"band_{code}").data for code in BAND_CODES[:-1]}
            with unit_of_work(form) as work:
                weight_set = ladder.create_weight_set(weights, thresholds, note=form.note.data, by=current_user)
            if not work.ok:
                status = 400
            else:
                flash(_("Weights and bands version %(v)d is now in force; cycles already open keep the version "
                        "they opened with.", v=weight_set.version), "success")
                return redirect(url_for("promotions.ladder_page"))
        else:
            status = 400
    return render_template("promotions/weights_form.html", form=form, current=current, levels=LEVELS,
                           dimensions=DIMENSIONS, band_codes=BAND_CODES, view_labels=view_labels(),
                           level_title=_level_title), status



def _movers_download(fmt: str, movers, proposed: str, filename: str):
    """The managers whose recommendation a preview changes, as a CSV or XLSX download."""
    words = view_labels()["recommendation"]
    header = [_("Employee number"), _("Name"), _("Level"), _("Recommendation now"), proposed]
    rows = [[m.employee_no, m.name, _level_title(m.level), str(words.get(m.source, m.source)),
             str(words.get(m.target, m.target))] for m in movers]
    return download(fmt, filename, header, rows, title=_("Recommendation changes"))

@bp.route("/ladder/weights/preview", methods=["POST"])
@allow("admin")
def preview_weights():
    """The latest closed cycle re-totalled with the entered weights and bands; nothing is stored.

    `?export=csv|xlsx` downloads the managers whose recommendation would change."""
    from portal.operations.previews import preview_weights as preview_of

    current = ladder.weights_in_force()
    form = WeightsForm()
    previews = None
    status = 400
    if form.validate_on_submit():
        weights = {level: {d: getattr(form, f"{level}_{d}").data for d in DIMENSIONS} for level in LEVELS}
        thresholds = {code: getattr(form, f"band_{code}").data for code in BAND_CODES[:-1]}
        try:
            previews = preview_of(weights, thresholds)
        except OperationError as error:  # a read: nothing to commit or roll back
            attach_error(form, error)
        else:
            status = 200
            fmt = request.args.get("export")
            if fmt in ("csv", "xlsx"):
                return _movers_download(fmt, previews[2], _("Recommendation under these weights"),
                                        "evaluation-weights-preview")
    return render_template("promotions/weights_form.html", form=form, current=current, levels=LEVELS,
                           dimensions=DIMENSIONS, band_codes=BAND_CODES, view_labels=view_labels(),
                           level_title=_level_title, previews=previews), status


@bp.route("/ladder/rules", methods=["GET", "POST"])
@allow("admin")
def edit_rules():
    current = ladder.rule_set_in_force()
    form = RulesForm()
    if request.method == "GET" and current is not None:
        for name, value in ladder.rules_as_form_data(current.rules).items():
            if hasattr(form, name):
                getattr(form, name).data = value
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = {
                "promotion": {from_level: {name: getattr(form, f"{from_level}_{name}").data
                                           for name in ladder.PROMOTION_FIELDS}
                              for from_level, _to in ladder.TRANSITIONS},
                "demotion": {"evaluations": form.demotion_evaluations.data,
                             "each_total_below": form.demotion_each_total_below.data},
            }
            with unit_of_work(form) as work:
                rule_set = ladder.create_rule_set(data, note=form.note.data, by=current_user)
            if not work.ok:
                status = 400
            else:
                flash(_("Promotion rules version %(v)d are now in force.", v=rule_set.version), "success")
                return redirect(url_for("promotions.ladder_page"))
        else:
            status = 400
    return render_template("promotions/rules_form.html", form=form, current=current,
                           transitions=ladder.TRANSITIONS, fields=ladder.PROMOTION_FIELDS,
                           view_labels=view_labels(), level_title=_level_title), status


def _rules_data(form) -> dict:
    return {
        "promotion": {from_level: {name: getattr(form, f"{from_level}_{name}").data for name in ladder.PROMOTION_FIELDS}
                      for from_level, _to in ladder.TRANSITIONS},
        "demotion": {"evaluations": form.demotion_evaluations.data,
                     "each_total_below": form.demotion_each_total_below.data},
    }


@bp.route("/ladder/rules/preview", methods=["POST"])
@allow("admin")
def preview_rules():
    """The engine on the latest closed cycle with the rules in force and with the entered ones; nothing is stored.

    `?export=csv|xlsx` downloads the managers whose recommendation would change."""
    from portal.operations.previews import preview_promotion_rules

    form = RulesForm()
    current = ladder.rule_set_in_force()
    preview = movers = cycle = None
    status = 400
    if form.validate_on_submit():
        try:
            preview, movers, cycle = preview_promotion_rules(_rules_data(form))
        except OperationError as error:  # a read: nothing to commit or roll back
            attach_error(form, error)
        else:
            status = 200
            fmt = request.args.get("export")
            if fmt in ("csv", "xlsx"):
                return _movers_download(fmt, movers, _("Recommendation under these rules"), "promotion-rules-preview")
    return render_template("promotions/rules_form.html", form=form, current=current,
                           transitions=ladder.TRANSITIONS, fields=ladder.PROMOTION_FIELDS,
                           view_labels=view_labels(), level_title=_level_title, preview=preview, movers=movers,
                           cycle=cycle), status


# --- eligibility, flags, nominations ---------------------------------------------------------------------


def _clause_rows(clauses: list[dict]) -> list[dict]:
    """Stored clauses with their observed figure made readable (lists joined, level codes named)."""
    rows = []
    for clause in clauses:
        observed = clause.get("observed")
        if isinstance(observed, list):
            shown = ", ".join(str(value) for value in observed)
        elif clause.get("rule") in ("demotion_floor", "promotion_rule"):
            shown = _level_title(observed) if observed in LEVELS else str(observed)
        else:
            shown = "—" if observed is None else str(observed)
        required = clause.get("required", "")
        if clause.get("rule") == "demotion_floor":
            required = _("above %(level)s", level=_level_title(LEVELS[0]))
        elif clause.get("rule") == "promotion_rule":
            required = _("a promotion rule")
        rows.append({**clause, "shown": shown, "required_shown": required})
    return rows


def _eligibility_context(manager: Manager, *, nominate_form=None, flag_form=None, decision_form=None) -> dict:
    stored = operations.latest_recommendation(manager.id)
    live = None
    if stored is None:
        recommendation, rules = operations.recommendation_now(manager)
        live = {"detail": operations.detail_of(recommendation), "rule_set": rules.rule_set}
    detail = operations.recommendation_detail(stored) if stored is not None else live["detail"]
    pending = operations.pending_nomination(manager.id)
    is_supervisor = operations.is_supervisor_of(current_user, manager)
    may_nominate = (stored is not None and stored.recommendation in ("promote", "demote")
                    and stored.level == manager.level and pending is None and manager.status == "active"
                    and current_user.manager_id != manager.id
                    and (current_user.role == "admin" or (current_user.role == "supervisor" and is_supervisor)))
    cycle = db.session.get(EvaluationCycle, stored.cycle_id) if stored is not None and stored.cycle_id else None
    rule_set = db.session.get(PromotionRuleSet, stored.rule_set_id) if stored is not None else live["rule_set"]
    return {
        "manager": manager, "stored": stored, "live": live, "detail": detail,
        "clauses": _clause_rows(detail.get("clauses", [])), "cycle": cycle, "rule_set": rule_set,
        "pending": pending, "flags": operations.flags_of(manager.id),
        "may_run": current_user.role == "admin" or (current_user.role == "supervisor" and is_supervisor),
        "may_nominate": may_nominate, "may_flag": current_user.role in ("admin", "compliance"),
        "rerun_form": RerunForm(), "nominate_form": nominate_form or NominationForm(),
        "flag_form": flag_form or FlagForm(), "close_form": CloseFlagForm(),
        "view_labels": view_labels(), "level_title": _level_title,
    }


@bp.route("/managers/<employee_no>/eligibility")
@allow("rm", "supervisor", "compliance", "admin")
def eligibility(employee_no: str):
    manager = manager_or_404(employee_no)
    return render_template("promotions/eligibility.html", **_eligibility_context(manager))


def _own_team_or_admin(manager: Manager) -> None:
    """Writes on a staff record: an administrator, or the supervisor heading the manager's team."""
    if current_user.role == "admin":
        return
    if not operations.is_supervisor_of(current_user, manager):
        deny("manager", manager.employee_no)


@bp.route("/managers/<employee_no>/eligibility/run", methods=["POST"])
@allow("supervisor", "admin")
def rerun(employee_no: str):
    manager = manager_or_404(employee_no)
    _own_team_or_admin(manager)
    if not RerunForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        operations.run_engine(manager_ids=[manager.id], by=current_user)
    flash(_("The promotion engine ran for %(name)s just now.", name=manager.name), "success")
    return redirect(url_for("promotions.eligibility", employee_no=manager.employee_no))


def _eligibility_post(manager: Manager, form, form_name: str, act, done):
    """A form of the eligibility page: on a valid post run `act()`, commit, flash `done(result)` and go back to
    the page; otherwise roll back and show the page again with the message beside the form (400)."""
    if form.validate_on_submit():
        with unit_of_work(answer_here=(ValueError,)) as work:  # ValueError: a hidden number field altered
            result = act()
        if work.ok:
            flash(done(result), "success")
            return redirect(url_for("promotions.eligibility", employee_no=manager.employee_no))
        if isinstance(work.error, OperationError):  # a ValueError too: told apart here
            attach_error(form, work.error)
        else:
            flash(_("The form was not sent completely; please try again."), "danger")
    return render_template("promotions/eligibility.html", **_eligibility_context(manager, **{form_name: form})), 400


@bp.route("/managers/<employee_no>/nominate", methods=["POST"])
@allow("supervisor", "admin")
def nominate(employee_no: str):
    manager = manager_or_404(employee_no)
    _own_team_or_admin(manager)
    form = NominationForm()
    return _eligibility_post(
        manager, form, "nominate_form",
        lambda: operations.nominate(manager, recommendation_id=int(form.recommendation_id.data or 0),
                                    reason=form.reason.data, by=current_user),
        lambda nomination: _("%(kind)s of %(name)s nominated; an administrator will decide.",
                             kind=view_labels()["kind"][nomination.kind], name=manager.name))


@bp.route("/managers/<employee_no>/flags", methods=["POST"])
@allow("compliance", "admin")
def open_flag(employee_no: str):
    manager = manager_or_404(employee_no)
    form = FlagForm()
    return _eligibility_post(
        manager, form, "flag_form",
        lambda: operations.open_flag(manager, kind=form.kind.data, note=form.note.data, by=current_user),
        lambda _flag: _("Compliance flag opened on %(name)s.", name=manager.name))


@bp.route("/managers/<employee_no>/flags/close", methods=["POST"])
@allow("compliance", "admin")
def close_flag(employee_no: str):
    manager = manager_or_404(employee_no)
    form = CloseFlagForm()
    if not form.validate_on_submit():
        flash(_("The form was not sent completely; please try again."), "danger")
        return redirect(url_for("promotions.eligibility", employee_no=manager.employee_no))
    with unit_of_work(answer_here=(ValueError,)) as work:
        flag_id = int(form.flag_id.data or 0)
        operations.close_flag(manager, flag_id, note=form.note.data, by=current_user)
    if work.ok:
        flash(_("Compliance flag closed."), "success")
    elif isinstance(work.error, OperationError):  # a ValueError too: told apart here
        flash(work.error.message, "danger")
    else:
        flash(_("The form was not sent completely; please try again."), "danger")
    return redirect(url_for("promotions.eligibility", employee_no=manager.employee_no))


# --- nominations: lists and the checker's decision -------------------------------------------------------


CALIBRATION_PER_PAGE = 25


@bp.route("/nominations")
@allow("supervisor", "compliance", "admin")
def nominations():
    state = request.args.get("state", "pending")
    if state not in NOMINATION_STATES:
        state = "pending"
    nominator = aliased(User)
    n = PromotionNomination
    stmt = (select(n.nominated_at, n.kind, n.from_level, n.to_level, n.reason, n.decided_at, n.decision_reason,
                   Manager.employee_no, Manager.name, nominator.display_name.label("nominator"))
            .join(Manager, Manager.id == PromotionNomination.manager_id)
            .join(nominator, nominator.id == PromotionNomination.nominated_by_id)
            .where(PromotionNomination.state == state))
    if current_user.role == "supervisor":
        stmt = stmt.where(Manager.team_id.in_(supervised_team_ids(current_user) or [-1]))
    order = PromotionNomination.nominated_at.asc() if state == "pending" else PromotionNomination.decided_at.desc()
    pagination = paginate(stmt.order_by(order, PromotionNomination.id), page_arg(), current_app.config["PER_PAGE"],
                          rows=True)
    return render_template("promotions/nominations.html", pagination=pagination, state=state,
                           states=NOMINATION_STATES, view_labels=view_labels(), level_title=_level_title)


def _pending_or_404(manager: Manager) -> PromotionNomination:
    nomination = operations.pending_nomination(manager.id)
    if nomination is None:
        abort(404)
    return nomination


def _render_decision(manager: Manager, nomination: PromotionNomination, form: DecisionForm, status: int = 200):
    recommendation = (db.session.get(PromotionRecommendation, nomination.recommendation_id)
                      if nomination.recommendation_id else None)
    return render_template(
        "promotions/decision.html", manager=manager, nomination=nomination, form=form,
        recommendation=recommendation,
        clauses=_clause_rows(operations.recommendation_detail(recommendation).get("clauses", []))
        if recommendation else [],
        rule_set=db.session.get(PromotionRuleSet, nomination.rule_set_id) if nomination.rule_set_id else None,
        cycle=db.session.get(EvaluationCycle, nomination.cycle_id) if nomination.cycle_id else None,
        stale=manager.level != nomination.from_level,
        may_decide=current_user.role == "admin" and nomination.nominated_by_id != current_user.id
        and current_user.manager_id != manager.id,
        own=nomination.nominated_by_id == current_user.id,
        view_labels=view_labels(), level_title=_level_title), status


@bp.route("/managers/<employee_no>/nomination")
@allow("supervisor", "compliance", "admin")
def nomination(employee_no: str):
    manager = manager_or_404(employee_no)
    pending = _pending_or_404(manager)
    form = DecisionForm()
    form.nomination_id.data = pending.id
    form.effective_date.data = business_today()
    return _render_decision(manager, pending, form)


@bp.route("/managers/<employee_no>/nomination", methods=["POST"])
@allow("admin")
def decide(employee_no: str):
    manager = manager_or_404(employee_no)
    form = DecisionForm()
    pending = operations.pending_nomination(manager.id)
    if pending is None or str(pending.id) != (form.nomination_id.data or ""):
        flash(_("This nomination has already been decided."), "warning")
        return redirect(url_for("promotions.nominations"))
    if not form.validate_on_submit():
        return _render_decision(manager, pending, form, 400)
    with unit_of_work(form) as work:
        if form.decision.data == "approve":
            operations.approve(pending, effective_date=form.effective_date.data, reason=form.reason.data,
                               by=current_user)
        else:
            operations.reject(pending, reason=form.reason.data, by=current_user)
    if not work.ok:
        code = work.error.code
        return _render_decision(manager, operations.pending_nomination(manager.id) or pending, form,
                                403 if code in ("own_nomination", "own_record") else 409
                                if code in ("stale", "already_decided") else 400)
    if form.decision.data == "approve":
        flash(_("Approved: %(name)s is now %(level)s from %(day)s.", name=manager.name,
                level=_level_title(manager.level), day=manager.level_since.isoformat()), "success")
        return redirect(url_for("promotions.levels", employee_no=manager.employee_no))
    flash(_("Rejected: %(name)s stays %(level)s.", name=manager.name, level=_level_title(manager.level)), "success")
    return redirect(url_for("promotions.nominations"))


# --- level history ---------------------------------------------------------------------------------------


@bp.route("/managers/<employee_no>/levels")
@allow("rm", "supervisor", "compliance", "admin")
def levels(employee_no: str):
    manager = manager_or_404(employee_no)
    proposer, approver = aliased(User), aliased(User)
    stmt = (select(LevelChange.effective_date, LevelChange.kind, LevelChange.from_level, LevelChange.to_level,
                   LevelChange.reason, proposer.display_name.label("proposer"),
                   approver.display_name.label("approver"),
                   EvaluationCycle.name.label("cycle"), PromotionRuleSet.version.label("rule_version"))
            .outerjoin(proposer, proposer.id == LevelChange.proposed_by_id)
            .outerjoin(approver, approver.id == LevelChange.approved_by_id)
            .outerjoin(EvaluationCycle, EvaluationCycle.id == LevelChange.cycle_id)
            .outerjoin(PromotionRuleSet, PromotionRuleSet.id == LevelChange.rule_set_id)
            .where(LevelChange.manager_id == manager.id)
            .order_by(LevelChange.effective_date.desc(), LevelChange.id.desc()))
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    return render_template("promotions/levels.html", manager=manager, pagination=pagination,
                           view_labels=view_labels(), level_title=_level_title)


# --- reports -------------------------------------------------------------------------------------------


def _report_scope() -> list[int] | None:
    """The teams the caller's reports cover: a supervisor's own, everyone's for admin and compliance."""
    if current_user.role == "supervisor":
        return supervised_team_ids(current_user) or [-1]
    return None


def _team_filter(scope: list[int] | None) -> tuple[list[int] | None, str]:
    """`?team=CODE` narrows a report to one team the caller may see (an unknown or foreign code: 404)."""
    code = (request.args.get("team") or "").strip().upper()
    if not code:
        return scope, ""
    found = [row.id for row in reports.teams(scope) if row.code == code]
    if not found:
        if scope is not None and db.session.scalar(select(Team.id).where(Team.code == code)) is not None:
            deny("team", code[:40])  # another supervisor's team: refused and logged, as any object not one's own
        abort(404)
    return found, code


def _export_format() -> str | None:
    fmt = request.args.get("format")
    return fmt if fmt in ("csv", "xlsx") else None


def _report_common(scope: list[int] | None) -> dict:
    return {"team_choices": reports.teams(scope), "view_labels": view_labels(), "level_title": _level_title}


@bp.route("/reports")
@allow("supervisor", "compliance", "admin")
def reports_index():
    return render_template("promotions/reports/index.html")


@bp.route("/reports/levels")
@allow("supervisor", "compliance", "admin")
def report_levels():
    scope = _report_scope()
    team_ids, team_code = _team_filter(scope)
    distribution = reports.level_distribution(team_ids)
    per_team = reports.level_by_team(team_ids)
    fmt = _export_format()
    if fmt:
        header = [_("Team code"), _("Team"), *(_level_title(level) for level in LEVELS), _("Total")]
        return download(fmt, "level-distribution", header, per_team, title=_("Levels"))
    chart = charts.bars([(_level_title(level), count) for level, count in distribution])
    return render_template("promotions/reports/levels.html", distribution=distribution, per_team=per_team,
                           chart=chart, team_code=team_code, total=sum(n for _l, n in distribution),
                           **_report_common(scope))


def _cycle_arg(cycles: list) -> EvaluationCycle | None:
    raw = request.args.get("cycle", type=int)
    if raw is None:
        return cycles[0] if cycles else None
    chosen = next((cycle for cycle in cycles if cycle.id == raw), None)
    if chosen is None:
        abort(404)
    return chosen


@bp.route("/reports/scores")
@allow("supervisor", "compliance", "admin")
def report_scores():
    scope = _report_scope()
    team_ids, team_code = _team_filter(scope)
    cycles = reports.closed_cycles(scope)
    cycle = _cycle_arg(cycles)
    figures = reports.score_distribution(cycle.id, team_ids) if cycle else {"teams": [], "overall": None}
    bins = [reports.bin_label(b) for b in reports.BINS]
    fmt = _export_format()
    if fmt:
        labels = view_labels()["band"]
        header = [_("Cycle"), _("Team code"), _("Team"), _("Evaluations"), _("Mean total"),
                  *(str(labels[code]) for code in BAND_CODES), *bins]
        rows = [[cycle.name if cycle else "", row["code"], row["name"], row["count"], row["mean"],
                 *(row["bands"].get(code, 0) for code in BAND_CODES), *row["bins"]] for row in figures["teams"]]
        return download(fmt, "score-distribution", header, rows, title=_("Scores"))
    overall = figures["overall"]
    histogram = charts.columns(list(zip(bins, overall["bins"]))) if overall else None
    band_chart = charts.bars([(str(view_labels()["band"][code]), overall["bands"].get(code, 0))
                              for code in BAND_CODES]) if overall else None
    return render_template("promotions/reports/scores.html", cycles=cycles, cycle=cycle, figures=figures,
                           bins=bins, band_codes=BAND_CODES, histogram=histogram, band_chart=band_chart,
                           team_code=team_code, **_report_common(scope))


@bp.route("/reports/trend")
@allow("supervisor", "compliance", "admin")
def report_trend():
    scope = _report_scope()
    employee_no = (request.args.get("manager") or "").strip().upper()
    manager = manager_or_404(employee_no) if employee_no else None
    rows = reports.score_trend(manager.id) if manager else []
    fmt = _export_format()
    if fmt and manager:
        labels = view_labels()
        header = [_("Cycle"), _("Start"), _("End"), _("Level"), *(str(labels["dimension"][d]) for d in DIMENSIONS),
                  _("Total"), _("Band"), _("Team mean")]
        data = [[row["name"], row["start_date"], row["end_date"], _level_title(row["level"]),
                 *(row[d] for d in DIMENSIONS), row["total"], str(labels["band"].get(row["band"], row["band"] or "")),
                 row["mean"]] for row in rows]
        return download(fmt, f"score-trend-{manager.employee_no}", header, data, title=_("Trend"))
    team_members = []
    if current_user.role == "supervisor":
        team_members = db.session.execute(select(Manager.employee_no, Manager.name)
                                          .where(Manager.team_id.in_(scope))
                                          .order_by(*by_pinyin(Manager.name, Manager.name_pinyin))).all()
    chart = charts.line([(row["name"], row["total"]) for row in rows]) if rows else None
    team_chart = charts.line([(row["name"], row["mean"]) for row in rows]) if rows else None
    return render_template("promotions/reports/trend.html", manager=manager, rows=rows, chart=chart,
                           team_chart=team_chart, team_members=team_members, employee_no=employee_no,
                           dimensions=DIMENSIONS, **_report_common(scope))


@bp.route("/reports/rates")
@allow("supervisor", "compliance", "admin")
def report_rates():
    scope = _report_scope()
    team_ids, team_code = _team_filter(scope)
    per = request.args.get("per", "cycle")
    per = per if per in ("cycle", "year") else "cycle"
    rows = reports.rates_per_cycle(team_ids) if per == "cycle" else reports.rates_per_year(team_ids)
    fmt = _export_format()
    if fmt:
        header = [_("Cycle") if per == "cycle" else _("Year"), _("Managers evaluated"), _("Promotions"),
                  _("Demotions"), _("Promotion rate (per cent)"), _("Demotion rate (per cent)")]
        data = [[row.period, row.evaluated, row.promotions, row.demotions, row.promotion_rate, row.demotion_rate]
                for row in rows]
        return download(fmt, f"level-change-rates-per-{per}", header, data, title=_("Rates"))
    up = charts.columns([(row.period, row.promotion_rate or 0) for row in rows]) if rows else None
    down = charts.columns([(row.period, row.demotion_rate or 0) for row in rows]) if rows else None
    return render_template("promotions/reports/rates.html", rows=rows, per=per, up=up, down=down,
                           team_code=team_code, **_report_common(scope))


@bp.route("/reports/calibration")
@allow("supervisor", "compliance", "admin")
def report_calibration():
    scope = _report_scope()
    cycles = reports.closed_cycles(scope)
    chosen = request.args.getlist("cycle", type=int)
    if chosen:
        known = {cycle.id for cycle in cycles}
        if not set(chosen) <= known:
            abort(404)
        selected = chosen
    else:
        selected = [cycle.id for cycle in cycles[:4]]  # the last year of quarters by default
    own = current_user.manager_id if current_user.role == "supervisor" else None
    if current_user.role == "supervisor" and own is None:
        abort(404)
    rows = reports.calibration(selected, own_supervisor_id=own) if selected else []
    # Beside the supervisors, everyone's distribution (a supervisor already sees the others pooled).
    overall = reports.overall_distribution(selected) if selected and own is None and rows else None
    fmt = _export_format()
    if fmt:
        header = [_("Supervisor"), _("Teams"), _("Evaluations"), _("Mean"), _("Minimum"), _("Lower quartile"),
                  _("Median"), _("Upper quartile"), _("Maximum")]
        data = [[_calibration_name(row), row["teams"], row["count"], row["mean"], row["min"], row["q1"],
                 row["median"], row["q3"], row["max"]] for row in ([overall] if overall else []) + rows]
        return download(fmt, "calibration", header, data, title=_("Calibration"))
    page, per_page = page_arg(), CALIBRATION_PER_PAGE
    pagination = Page(rows[(page - 1) * per_page:page * per_page], page, per_page, len(rows))
    shown = ([overall] if overall else []) + pagination.items
    chart = charts.boxes([{**row, "label": _calibration_name(row)} for row in shown]) if shown else None
    return render_template("promotions/reports/calibration.html", rows=shown, pagination=pagination,
                           cycles=cycles, selected=selected, chart=chart, name_of=_calibration_name,
                           **_report_common(scope))


def _calibration_name(row: dict) -> str:
    if row.get("everyone"):
        return _("All supervisors")
    if row["others"]:
        return _("All other supervisors")
    if row["no_supervisor"]:
        return _("Teams without a supervisor")
    return row["name"] or "—"
