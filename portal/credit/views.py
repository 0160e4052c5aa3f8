"""Credit-report screening of a client: entry form, CSV import, result with its clauses, override, history."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from models import CreditScreening, db
from portal.access import allow, client_or_404, deny
from portal.labels import credit_labels
from portal.operations import credit as operations
from portal.operations.errors import OperationError
from portal.pagination import page_arg, paginate
from portal.rules import credit as rules
from portal.unit_of_work import unit_of_work

bp = Blueprint("credit", __name__)
FORM_ROWS = 6
MAX_UPLOAD = 512 * 1024


def _render(client, *, rows=None, problems=(), override_error=None, status: int = 200):
    screenings = paginate(operations.history_query(client), page_arg(), current_app.config["PER_PAGE"])
    latest = db.session.scalar(operations.history_query(client).limit(1))
    rows = rows or [{} for _ in range(FORM_ROWS)]
    worse = [c for c in rules.CLASSES if latest and rules.is_worse(c, latest.final_class)]
    return render_template("credit/screening.html", client=client, rows=rows, problems=problems, latest=latest,
                           screenings=screenings, clabels=credit_labels(), kinds=rules.KINDS,
                           statuses=rules.STATUSES, can_screen=current_user.role == "rm", worse=worse,
                           override_error=override_error, eligible=operations.is_eligible), status


@bp.route("/clients/<client_no>/credit")
@allow("rm", "supervisor", "compliance")
def screening(client_no: str):
    return _render(client_or_404(client_no))


def _form_rows() -> tuple[list[dict], list[dict], list[str]]:
    """The entry form's rows as typed back, the non-empty ones as raw accounts, and their labels."""
    shown, raws, labels = [], [], []
    for i in range(FORM_ROWS):
        row = {name: (request.form.get(f"{name}-{i}") or "").strip() for name in rules.FIELDS}
        shown.append(row)
        if not row["history"] and not row["current_overdue"] and not (row["kind"] or row["status"]):
            continue
        try:
            overdue = int(row["current_overdue"] or "0")
        except ValueError:
            overdue = row["current_overdue"]
        raws.append({"kind": row["kind"], "status": row["status"], "current_overdue": overdue,
                     "history": row["history"]})
        labels.append(_("Row %(n)d", n=i + 1))
    return shown, raws, labels


@bp.route("/clients/<client_no>/credit", methods=["POST"])
@allow("rm")
def screen_form(client_no: str):
    client = client_or_404(client_no)
    shown, raws, labels = _form_rows()
    override_class = request.form.get("override_class") or None
    with unit_of_work() as work:
        if not raws:
            raise OperationError(_("Enter at least one account, or import a CSV file."), "accounts")
        operations.check_accounts(raws, labels)
        screening = operations.store_screening(client, raws, current_user, override_class=override_class,
                                               override_reason=request.form.get("override_reason"))
    if isinstance(work.error, operations.AccountsError):
        return _render(client, rows=shown, problems=work.error.problems, status=400)
    if not work.ok:
        return _render(client, rows=shown, problems=[{"message": work.error.message}], status=400)
    flash(_("Screened: %(cls)s.", cls=credit_labels()["class"][screening.final_class]), "success")
    return redirect(url_for("credit.screening", client_no=client.client_no))


@bp.route("/clients/<client_no>/credit/import", methods=["POST"])
@allow("rm")
def screen_csv(client_no: str):
    client = client_or_404(client_no)
    upload = request.files.get("file")
    with unit_of_work() as work:
        if upload is None or not upload.filename:
            raise OperationError(_("Choose a CSV file to import."), "file")
        content = upload.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise OperationError(_("The file is too large (at most 512 KB)."), "file")
        raws, _lines = operations.parse_csv(content)
        screening = operations.store_screening(client, raws, current_user, source="csv")
    if isinstance(work.error, operations.AccountsError):
        return _render(client, problems=[{"message": _("Nothing was stored: %(n)d lines have errors.",
                                                       n=len(work.error.problems))}, *work.error.problems],
                       status=400)
    if not work.ok:
        return _render(client, problems=[{"message": work.error.message}], status=400)
    flash(_("Imported %(n)d accounts. Screened: %(cls)s.", n=len(raws),
            cls=credit_labels()["class"][screening.final_class]), "success")
    return redirect(url_for("credit.screening", client_no=client.client_no))


@bp.route("/clients/<client_no>/credit/<int:screening_id>/override", methods=["POST"])
@allow("rm")
def override(client_no: str, screening_id: int):
    client = client_or_404(client_no)
    earlier = db.session.scalar(select(CreditScreening).where(CreditScreening.id == screening_id,
                                                              CreditScreening.client_id == client.id))
    if earlier is None:
        deny("credit_screening", screening_id)
    with unit_of_work() as work:
        screening = operations.override_screening(client, earlier, request.form.get("override_class") or "",
                                                  request.form.get("override_reason"), current_user)
    if not work.ok:
        return _render(client, override_error=work.error.message, status=400)
    flash(_("Overridden to %(cls)s.", cls=credit_labels()["class"][screening.final_class]), "success")
    return redirect(url_for("credit.screening", client_no=client.client_no))
