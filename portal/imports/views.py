"""The onboarding upload page (admin) and the import history (admin, compliance)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from forms.onboarding import OnboardingImportForm
from models import DataImport, db
from portal.access import allow
from portal.exports import download
from portal.imports import history
from portal.imports.codes import row_message
from portal.imports.onboarding import KINDS, ImportRefused, Options, import_file
from portal.pagination import page_arg, paginate
from portal.unit_of_work import unit_of_work

bp = Blueprint("onboarding", __name__)
# The upload page lists this many bad rows; the total is always exact.
PROBLEM_LIMIT = 500


def _page(form, **extra):
    context = {"result": None, "refused": None, "problem_limit": PROBLEM_LIMIT, **extra}
    return render_template("imports/upload.html", form=form, kinds=KINDS, **context)


@bp.route("/admin/imports")
@allow("admin")
def upload_page():
    return _page(OnboardingImportForm())


@bp.route("/admin/imports", methods=["POST"])
@allow("admin")
def upload():
    """One transaction: every row is written, or (bad rows, or a dry run) nothing is."""
    form = OnboardingImportForm()
    if not form.validate_on_submit():
        return _page(form), 400
    kind = form.kind.data
    options = Options(dry_run=bool(form.dry_run.data),
                      reassign_to=(form.reassign_to.data or "").strip() or None if kind == "staff" else None)
    upload_file = form.file.data
    filename = (upload_file.filename or "upload")[-200:]
    with tempfile.TemporaryDirectory(prefix="portal-onboarding-") as directory:
        path = Path(directory) / ("upload.xlsx" if filename.lower().endswith(".xlsx") else "upload.csv")
        upload_file.save(path)
        with unit_of_work(commit=not options.dry_run, answer_here=(ImportRefused,)) as work:
            result = import_file(kind, path, source="upload", filename=filename, by_user=current_user,
                                 options=options, limit=PROBLEM_LIMIT)
        if not work.ok:
            if not options.dry_run:
                from portal.imports.onboarding import _file_sha256

                with unit_of_work():  # the refused import is kept in the import history
                    history.record_refused(kind, "upload", filename, _file_sha256(path), current_user,
                                           options.as_dict(), work.error)
            return _page(form, refused=work.error, kind=kind, filename=filename), 400
    return _page(OnboardingImportForm(formdata=None, kind=kind), result=result, kind=kind, filename=filename)


@bp.route("/admin/imports/template")
@allow("admin")
def template():
    """An empty file with the header row of `?kind=branches|staff|clients` (`&format=csv|xlsx`)."""
    kind = KINDS.get(request.args.get("kind", ""), KINDS["staff"])
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    return download(fmt, f"{kind.name}-import", list(kind.header), [], title=kind.name)


@bp.route("/admin/imports/history")
@allow("admin", "compliance")
def history_page():
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    outcome = request.args.get("outcome") if request.args.get("outcome") in ("applied", "refused") else None
    page = paginate(history.imports_query(kind, outcome), page_arg(), current_app.config["PER_PAGE"])
    return render_template("imports/history.html", page=page, kind=kind, outcome=outcome, kinds=KINDS)


@bp.route("/admin/imports/<int:import_id>")
@allow("admin", "compliance")
def detail(import_id: int):
    entry = db.get_or_404(DataImport, import_id)
    problems = [{**p, "message": row_message(p["code"], p.get("field"), p.get("detail"), entry.source == "api")}
                for p in (entry.problems or [])]
    return render_template("imports/detail.html", entry=entry, problems=problems)
