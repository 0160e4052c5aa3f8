"""Asset and revenue imports (upload page), tier thresholds (versioned), retiering."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forms.tiering import ImportForm, ThresholdForm
from models import TierThresholdSet, User, db
from portal.access import allow
from portal.exports import download
from portal.operations.assets import KINDS, ImportRejected, import_file
from portal.operations.errors import OperationError, attach_error
from portal.operations.tiering import (
    MEASURES,
    current_threshold_set,
    field_name,
    ladder_of,
    latest_statistics_date,
    revenue_months,
    save_thresholds,
    statistics_dates,
)
from portal.rules.tiering import TIERS

bp = Blueprint("tiering", __name__)
# The upload page lists this many problems; the total is always exact.
PROBLEM_LIMIT = 500


def _import_context(**extra) -> dict:
    return {"kinds": KINDS, "dates_held": statistics_dates(limit=8, newest_first=True),
            "months_held": revenue_months(limit=13), "problem_limit": PROBLEM_LIMIT, **extra}


@bp.route("/tiering/import")
@allow("admin", "compliance")
def import_page():
    return render_template("tiering/import.html", form=ImportForm(), result=None, rejected=None,
                           **_import_context())


@bp.route("/tiering/import", methods=["POST"])
@allow("admin", "compliance")
def import_upload():
    """One transaction: every row is imported and the clients re-tiered, or nothing is."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("tiering/import.html", form=form, result=None, rejected=None,
                               **_import_context()), 400
    kind = KINDS[form.kind.data]
    upload = form.file.data
    filename = (upload.filename or "upload")[-200:]
    with tempfile.TemporaryDirectory(prefix="portal-import-") as directory:
        path = Path(directory) / ("upload.xlsx" if filename.lower().endswith(".xlsx") else "upload.csv")
        upload.save(path)
        try:
            result = import_file(kind, path, source="upload", filename=filename, by_user=current_user,
                                 limit=PROBLEM_LIMIT)
        except ImportRejected as rejected:
            db.session.rollback()
            return render_template("tiering/import.html", form=form, result=None, rejected=rejected,
                                   kind=kind, filename=filename, **_import_context()), 400
    db.session.commit()
    return render_template("tiering/import.html", form=ImportForm(formdata=None, kind=kind.name), result=result,
                           rejected=None, kind=kind, filename=filename, **_import_context())


@bp.route("/tiering/import/template")
@allow("admin", "compliance")
def import_template():
    """An empty file with the header row of `?kind=assets|revenue` (`&format=csv|xlsx`)."""
    kind = KINDS.get(request.args.get("kind", ""), KINDS["assets"])
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    return download(fmt, f"{kind.name}-import", list(kind.columns), [], title=kind.name)


# --- thresholds ------------------------------------------------------------------------------------

def _versions() -> list:
    """(version, saved by, ladder) for every version, newest first."""
    rows = db.session.execute(
        select(TierThresholdSet, User.username)
        .outerjoin(User, User.id == TierThresholdSet.created_by_id)
        .order_by(TierThresholdSet.version.desc())).all()
    return [(version, username, ladder_of(version)) for version, username in rows]


def _threshold_context(form: ThresholdForm | None) -> dict:
    current = current_threshold_set()
    return {"form": form, "current": current, "versions": _versions(), "latest_date": latest_statistics_date(),
            "tiers": TIERS, "measures": MEASURES, "field_name": field_name}


@bp.route("/tiering/thresholds")
@allow("admin", "compliance")
def thresholds():
    form = None
    if current_user.role == "admin":
        current = current_threshold_set()
        values = {field_name(int(item["tier"]), measure): item[f"min_{measure}"]
                  for item in current.thresholds for measure in MEASURES}
        form = ThresholdForm(formdata=None, data=values)
    return render_template("tiering/thresholds.html", **_threshold_context(form))


@bp.route("/tiering/thresholds", methods=["POST"])
@allow("admin")
def thresholds_save():
    """Save a new version (the old ones stay) and re-tier everyone at the latest statistics date."""
    form = ThresholdForm()
    if form.validate_on_submit():
        values = {field_name(tier, measure): form[field_name(tier, measure)].data
                  for tier in TIERS for measure in MEASURES}
        try:
            created, summary = save_thresholds(values, form.note.data, current_user)
        except OperationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            if summary["stat_date"] is None:
                flash(_("Saved tier thresholds version %(version)d. No asset snapshots are held yet, so no "
                        "client was re-tiered.", version=created.version), "success")
            else:
                flash(_("Saved tier thresholds version %(version)d and re-tiered %(n)d clients at the statistics "
                        "date %(day)s.", version=created.version, n=summary["retiered"],
                        day=summary["stat_date"].isoformat()), "success")
            return redirect(url_for("tiering.thresholds"))
    return render_template("tiering/thresholds.html", **_threshold_context(form)), 400
