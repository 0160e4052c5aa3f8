"""Asset and revenue imports (upload page), tier thresholds (versioned), retiering."""
from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forms.tiering import ImportForm, ThresholdForm
from models import TierThresholdSet, User, db
from portal.access import allow
from portal.exports import download
from portal.imports.assets import KINDS, ImportRejected, import_file
from portal.operations.errors import OperationError, attach_error
from portal.operations.previews import preview_thresholds, threshold_movers
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
from portal.pagination import Page, page_arg
from portal.rules.vocabulary import TIERS
from portal.unit_of_work import unit_of_work

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
        with unit_of_work(answer_here=(ImportRejected,)) as work:
            result = import_file(kind, path, source="upload", filename=filename, by_user=current_user,
                                 limit=PROBLEM_LIMIT)
    if not work.ok:
        return render_template("tiering/import.html", form=form, result=None, rejected=work.error,
                               kind=kind, filename=filename, **_import_context()), 400
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


def _threshold_context(form: ThresholdForm | None, preview=None, values: dict | None = None) -> dict:
    current = current_threshold_set()
    movers_url = None
    if preview is not None:
        base = url_for("tiering.threshold_movers_page")

        def movers_url(**extra) -> str:
            return f"{base}?{urlencode({**values, **{k: v for k, v in extra.items() if v is not None}})}"
    return {"form": form, "current": current, "versions": _versions(), "latest_date": latest_statistics_date(),
            "tiers": TIERS, "measures": MEASURES, "field_name": field_name, "preview": preview,
            "movers_url": movers_url}


def _form_values(form) -> dict:
    return {field_name(tier, measure): (form[field_name(tier, measure)].data or "").strip()
            for tier in TIERS for measure in MEASURES}


@bp.route("/tiering/thresholds/preview", methods=["POST"])
@allow("admin")
def thresholds_preview():
    """What saving the entered thresholds would do (nothing is saved): the form again, with the preview."""
    form = ThresholdForm()
    if not form.validate_on_submit():
        return render_template("tiering/thresholds.html", **_threshold_context(form)), 400
    values = _form_values(form)
    try:
        preview = preview_thresholds(values)
    except OperationError as error:  # a read: nothing to commit or roll back
        attach_error(form, error)
        return render_template("tiering/thresholds.html", **_threshold_context(form)), 400
    return render_template("tiering/thresholds.html", **_threshold_context(form, preview, values))


def _tier_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if raw not in {str(t) for t in TIERS}:
        abort(400)
    return int(raw)


@bp.route("/tiering/thresholds/preview/clients")
@allow("admin", "compliance")
def threshold_movers_page():
    """Who would change tier under the thresholds in the query (optionally from one tier to another), with exports."""
    values = {field_name(tier, measure): request.args.get(field_name(tier, measure), "")
              for tier in TIERS for measure in MEASURES}
    source, target = _tier_arg("from"), _tier_arg("to")
    try:
        fmt = request.args.get("export")
        if fmt in ("csv", "xlsx"):
            rows, _total = threshold_movers(values, source, target)
            header = [_("Client number"), _("Name"), _("Branch"), _("Manager number"), _("Manager"), _("Tier now"),
                      _("Tier after the change"), _("Total assets"), _("Contribution over 12 months")]
            cells = [[r.client_no, r.name, r.branch, r.manager_no or "", r.manager_name or "", r.from_tier,
                      r.to_tier, r.total_assets, r.contribution_12m] for r in rows]
            return download(fmt, "tier-threshold-preview-movers", header, cells, title=_("Tier changes"))
        per_page = current_app.config["PER_PAGE"]
        page = page_arg()
        rows, total = threshold_movers(values, source, target, limit=per_page, offset=(page - 1) * per_page)
    except OperationError as error:  # a read: nothing to commit or roll back
        return render_template("tiering/movers.html", error=error.message, pagination=None, values=values,
                               source=source, target=target, latest_date=latest_statistics_date()), 400
    return render_template("tiering/movers.html", error=None, pagination=Page(rows, page, per_page, total),
                           values=values, source=source, target=target, latest_date=latest_statistics_date(),
                           export_url=lambda fmt: url_for("tiering.threshold_movers_page",
                                                          **{**request.args.to_dict(), "export": fmt, "page": None}))


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
        with unit_of_work(form) as work:
            created, summary = save_thresholds(values, form.note.data, current_user)
        if work.ok:
            if summary["stat_date"] is None:
                flash(_("Saved tier thresholds version %(version)d. No asset snapshots are held yet, so no "
                        "client was re-tiered.", version=created.version), "success")
            else:
                flash(_("Saved tier thresholds version %(version)d and re-tiered %(n)d clients at the statistics "
                        "date %(day)s.", version=created.version, n=summary["retiered"],
                        day=summary["stat_date"].isoformat()), "success")
            return redirect(url_for("tiering.thresholds"))
    return render_template("tiering/thresholds.html", **_threshold_context(form)), 400
