"""Admin editor for questionnaire versions: draft, edit, preview, publish.

Only a draft can change. Active and retired versions are read-only because submissions point at
them: a past client's answers must always be read against the questions they were asked.
"""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from forms.questionnaire_admin import DraftFieldsForm, DraftForm, NewDraftForm, PublishForm
from models import QuestionnaireVersion, RiskAssessment, db
from portal.access import allow
from portal.labels import QUESTION_GROUP, questionnaire_version_labels
from portal.operations.questionnaires import (
    create_draft,
    draft_version,
    publish,
    question_count,
    save_draft,
)
from portal.operations.risk import definition_of
from portal.questionnaire import editor
from portal.rules import questionnaire as rules
from portal.rules.vocabulary import GRADES
from portal.unit_of_work import unit_of_work

bp = Blueprint("questionnaire_admin", __name__, url_prefix="/admin/questionnaires")

PREVIEW_LANGUAGES = ("zh_CN", "en")
# The two fields the form edits on their own; the textarea holds the rest of the definition.
SEPARATE_KEYS = ("version", "validity_months")


def _definition_text(version: QuestionnaireVersion) -> str:
    body = {k: v for k, v in (version.definition or {}).items() if k not in SEPARATE_KEYS}
    return json.dumps(body, ensure_ascii=False, indent=2)


def _version_or_404(version_id: int) -> QuestionnaireVersion:
    return db.get_or_404(QuestionnaireVersion, version_id)


@bp.route("")
@allow("admin")
def versions():
    return _render_list(NewDraftForm())


def _render_list(form: NewDraftForm, status: int = 200):
    answered = (select(RiskAssessment.version_id, func.count(RiskAssessment.id).label("n"))
                .group_by(RiskAssessment.version_id).subquery())
    rows = db.session.execute(
        select(QuestionnaireVersion, func.coalesce(answered.c.n, 0))
        .outerjoin(answered, answered.c.version_id == QuestionnaireVersion.id)
        .order_by(QuestionnaireVersion.created_at.desc(), QuestionnaireVersion.id.desc())
    ).all()
    items = [{"version": v, "questions": question_count(v), "submissions": n} for v, n in rows]
    return render_template("questionnaire_admin/list.html", items=items, form=form, draft=draft_version(),
                           status_labels=questionnaire_version_labels()), status


@bp.route("/draft", methods=["POST"])
@allow("admin")
def new_draft():
    existing = draft_version()
    if existing is not None:
        flash(_("Draft %(label)s already exists; continue editing it.", label=existing.version), "info")
        return redirect(url_for("questionnaire_admin.edit", version_id=existing.id))
    form = NewDraftForm()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    with unit_of_work(form) as work:
        draft = create_draft(form.version.data, current_user)
    if not work.ok:
        return _render_list(form, 400)
    flash(_("Draft %(label)s was created from the active version.", label=draft.version), "success")
    return redirect(url_for("questionnaire_admin.edit", version_id=draft.id))


@bp.route("/<int:version_id>")
@allow("admin")
def view(version_id: int):
    version = _version_or_404(version_id)
    submissions = db.session.scalar(select(func.count(RiskAssessment.id))
                                    .where(RiskAssessment.version_id == version.id))
    return render_template("questionnaire_admin/view.html", version=version, definition_text=_definition_text(version),
                           questions=question_count(version), submissions=submissions,
                           status_labels=questionnaire_version_labels(), publish_form=PublishForm())


@bp.route("/<int:version_id>/edit", methods=["GET", "POST"])
@allow("admin")
def edit(version_id: int):
    version = _version_or_404(version_id)
    if version.status != "draft":
        flash(_("Version %(label)s has been published and can no longer be changed: submissions "
                "refer to it. Create a new draft to make changes.", label=version.version), "warning")
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    form = DraftForm()
    status = 200
    if request.method == "GET":
        form.version.data = version.version
        form.validity_months.data = version.validity_months
        form.retakes_per_day.data = version.retakes_per_day
        form.definition.data = _definition_text(version)
    else:
        valid = form.validate_on_submit()
        # The JSON is read even when another field is wrong, so that every mistake shows at once.
        data = _parse_json(form) if form.definition.data and not form.definition.errors else None
        if valid and data is not None:
            with unit_of_work(form) as work:
                save_draft(version, data, form.version.data, form.validity_months.data, current_user,
                           retakes_per_day=form.retakes_per_day.data)
            if work.ok:
                flash(_("Draft %(label)s was saved.", label=version.version), "success")
                return redirect(url_for("questionnaire_admin.edit", version_id=version.id))
        status = 400
    return render_template("questionnaire_admin/edit.html", version=version, form=form, failed=status != 200,
                           publish_form=PublishForm(), status_labels=questionnaire_version_labels()), status


@bp.route("/<int:version_id>/form", methods=["GET", "POST"])
@allow("admin")
def edit_form(version_id: int):
    """The draft edited field by field; add / remove / move buttons re-show the form without saving."""
    version = _version_or_404(version_id)
    if version.status != "draft":
        flash(_("Version %(label)s has been published and can no longer be changed: submissions "
                "refer to it. Create a new draft to make changes.", label=version.version), "warning")
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    form = DraftFieldsForm()
    errors: dict[str, str] = {}
    problem = None
    if request.method == "GET":
        form.version.data, form.validity_months.data = version.version, version.validity_months
        fields = editor.fields_of(version.definition or {})
        return _render_form(version, form, fields, errors, problem, 200)
    fields = editor.read_form(request.form)
    op = request.form.get("op", "save")
    if op != "save":
        if not form.validate_on_submit() and "csrf_token" in form.errors:
            problem = _("The form has expired. Please try again.")
        editor.apply(fields, op)
        form.version.errors = form.validity_months.errors = []
        return _render_form(version, form, fields, errors, problem, 200 if problem is None else 400)
    valid = form.validate_on_submit()
    data, errors = editor.build(fields)
    if valid and not errors:
        with unit_of_work() as work:
            save_draft(version, data, form.version.data, form.validity_months.data, current_user)
        if not work.ok:
            problem = work.error.message
        else:
            flash(_("Draft %(label)s was saved.", label=version.version), "success")
            return redirect(url_for("questionnaire_admin.edit_form", version_id=version.id))
    return _render_form(version, form, fields, errors, problem, 400)


def _render_form(version, form, fields, errors, problem, status):
    return render_template("questionnaire_admin/form.html", version=version, form=form, fields=fields,
                           errors=errors, problem=problem, groups=rules.GROUPS, grades=GRADES,
                           group_labels=QUESTION_GROUP, publish_form=PublishForm(),
                           status_labels=questionnaire_version_labels()), status


def _parse_json(form: DraftForm):
    try:
        data = json.loads(form.definition.data)
    except json.JSONDecodeError as error:
        form.definition.errors = list(form.definition.errors) + [
            _("This is not valid JSON: %(problem)s at line %(line)d, column %(column)d.",
              problem=error.msg, line=error.lineno, column=error.colno)]
        return None
    except RecursionError:
        form.definition.errors = list(form.definition.errors) + [_("The JSON is nested too deeply.")]
        return None
    if not isinstance(data, dict):
        form.definition.errors = list(form.definition.errors) + [
            _("The definition must be a JSON object ({...}).")]
        return None
    return data


@bp.route("/<int:version_id>/preview")
@allow("admin")
def preview(version_id: int):
    version = _version_or_404(version_id)
    lang = request.args.get("lang")
    if lang not in PREVIEW_LANGUAGES:
        from portal.formatting import portal_language

        lang = portal_language()
    try:
        definition = definition_of(version)
    except rules.DefinitionError as error:  # only a row written outside the editor could be invalid
        flash(_("The questionnaire is not valid: %(error)s", error=str(error)), "danger")
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    with force_locale(lang):  # group headings in the language previewed, as the client would see them
        groups = [(group, str(QUESTION_GROUP[group]), [q for q in definition.questions if q.group == group])
                  for group in rules.GROUPS]
    numbers = {question.id: n for n, question in enumerate(definition.questions, start=1)}
    return render_template("questionnaire_admin/preview.html", version=version, definition=definition, lang=lang,
                           numbers=numbers,
                           groups=[g for g in groups if g[2]], languages=PREVIEW_LANGUAGES,
                           status_labels=questionnaire_version_labels())


@bp.route("/<int:version_id>/publish", methods=["POST"])
@allow("admin")
def publish_version(version_id: int):
    version = _version_or_404(version_id)
    form = PublishForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    with unit_of_work(flash=True) as work:
        previous = publish(version, current_user)
    if not work.ok:
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    if previous is not None:
        flash(_("Version %(label)s is now active; %(old)s is retired. Past submissions keep the version they "
                "were answered against.", label=version.version, old=previous.version), "success")
    else:
        flash(_("Version %(label)s is now active.", label=version.version), "success")
    return redirect(url_for("questionnaire_admin.versions"))


# --- impact of publishing a draft ---------------------------------------------------------------------------

def _impact_of(version: QuestionnaireVersion):
    from portal.operations.previews import preview_questionnaire

    if version.status != "draft":
        flash(_("Only a draft's impact can be previewed: a published version is in force already."), "warning")
        return None
    return preview_questionnaire(version)


@bp.route("/<int:version_id>/impact")
@allow("admin")
def impact(version_id: int):
    """What publishing the draft would do: every client's latest answers re-scored under it (nothing saved)."""
    from urllib.parse import urlencode

    version = _version_or_404(version_id)
    found = _impact_of(version)
    if found is None:
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    preview, _movers = found
    base = url_for("questionnaire_admin.impact_clients", version_id=version.id)

    def movers_url(**extra) -> str:
        query = urlencode({k: v for k, v in extra.items() if v is not None})
        return f"{base}?{query}" if query else base

    return render_template("questionnaire_admin/impact.html", version=version, preview=preview,
                           movers_url=movers_url, grades=list(GRADES),
                           status_labels=questionnaire_version_labels(), publish_form=PublishForm())


@bp.route("/<int:version_id>/impact/clients")
@allow("admin")
def impact_clients(version_id: int):
    """The clients whose grade the draft would change (optionally `from` one grade `to` another), with exports."""
    from flask import abort, current_app

    from portal.exports import download
    from portal.pagination import Page, page_arg

    version = _version_or_404(version_id)
    source, target = request.args.get("from") or None, request.args.get("to") or None
    if (source and source not in GRADES) or (target and target not in GRADES):
        abort(400)
    found = _impact_of(version)
    if found is None:
        return redirect(url_for("questionnaire_admin.view", version_id=version.id))
    _preview, movers = found
    movers = [m for m in movers if (source is None or m.source == source) and (target is None or m.target == target)]
    fmt = request.args.get("export")
    if fmt in ("csv", "xlsx"):
        header = [_("Client number"), _("Name"), _("Branch"), _("Manager number"), _("Grade now"),
                  _("Grade under the draft"), _("Total assets"), _("Highest level subscribed")]
        rows = [[m.client_no, m.name, m.branch, m.manager_no or "", m.source, m.target, m.assets, m.max_level]
                for m in movers]
        return download(fmt, f"questionnaire-{version.version}-impact", header, rows, title=_("Grade changes"))
    per_page, page = current_app.config["PER_PAGE"], page_arg()
    pagination = Page(movers[(page - 1) * per_page: page * per_page], page, per_page, len(movers))
    return render_template("questionnaire_admin/impact_clients.html", version=version, pagination=pagination,
                           export_url=lambda fmt: url_for("questionnaire_admin.impact_clients", version_id=version.id,
                                                          **{**request.args.to_dict(), "export": fmt, "page": None}))
