"""Professional-investor applications (the client) and compliance's decisions on them."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forms.investor import ApplyForm, DecisionForm
from models import Client, ProfessionalApplication, db
from models.investor import APPLICATION_STATUSES
from portal.access import allow, scope_clients
from portal.labels import investor_labels
from portal.operations import investor as operations
from portal.operations.errors import attach_error
from portal.pagination import page_arg, paginate
from portal.rules import investor as rules
from portal.unit_of_work import unit_of_work

bp = Blueprint("investor", __name__)


def _own_client() -> Client:
    client = db.session.scalar(scope_clients(select(Client), current_user))
    if client is None:
        abort(404)
    return client


@bp.route("/me/professional", methods=["GET", "POST"])
@allow("client")
def professional():
    client = _own_client()
    form = ApplyForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with unit_of_work(form) as work:
                operations.apply(client, current_user)
            if not work.ok:
                status = 409 if work.error.code in ("pending", "already_professional") else 400
            else:
                flash(_("Your application was sent to compliance. Please bring evidence of your assets or income "
                        "to your branch."), "success")
                return redirect(url_for("investor.professional"))
        else:
            status = 400
    return render_template("investor/professional.html", client=client, form=form,
                           checks=operations.professional_checks(client),
                           pending=operations.pending_application(client),
                           applications=operations.applications_of(client),
                           thresholds=_thresholds(), view_labels=investor_labels()), status


def _thresholds() -> dict:
    return {"assets": rules.ASSET_THRESHOLD, "income": rules.INCOME_THRESHOLD,
            "years": rules.EXPERIENCE_YEARS}


@bp.route("/compliance/professional-applications")
@allow("compliance", "admin")
def applications():
    status = request.args.get("status", "pending")
    if status not in APPLICATION_STATUSES:
        status = "pending"
    order = (ProfessionalApplication.applied_at.asc() if status == "pending"  # oldest waiting first
             else ProfessionalApplication.decided_at.desc())
    stmt = (select(ProfessionalApplication).join(Client, Client.id == ProfessionalApplication.client_id)
            .where(ProfessionalApplication.status == status).order_by(order, ProfessionalApplication.id))
    page = paginate(stmt, page_arg(), current_app.config["PER_PAGE"])
    return render_template("investor/applications.html", pagination=page, status=status,
                           statuses=APPLICATION_STATUSES, view_labels=investor_labels())


@bp.route("/compliance/professional-applications/<int:application_id>")
@allow("compliance", "admin")
def application(application_id: int):
    item = db.get_or_404(ProfessionalApplication, application_id)
    return _render_application(item, DecisionForm())


@bp.route("/compliance/professional-applications/<int:application_id>", methods=["POST"])
@allow("compliance")  # an administrator may look, but only compliance decides
def decide(application_id: int):
    item = db.get_or_404(ProfessionalApplication, application_id)
    form = DecisionForm()
    if item.status != "pending":
        flash(_("This application has already been decided; it cannot be decided again."), "warning")
        return redirect(url_for("investor.application", application_id=item.id))
    if not form.validate_on_submit():
        return _render_application(item, form, 400)
    with unit_of_work() as work:
        operations.decide(item, form.decision.data == "approve", form.reason.data, current_user)
    if work.error is not None and work.error.code == "already_decided":
        flash(work.error.message, "warning")
        return redirect(url_for("investor.application", application_id=application_id))
    if not work.ok:
        attach_error(form, work.error)
        return _render_application(db.get_or_404(ProfessionalApplication, application_id), form, 400)
    if item.status == "approved":
        flash(_("Approved: %(name)s is now a professional investor.", name=item.client.name), "success")
    else:
        flash(_("Rejected: %(name)s stays an ordinary investor.", name=item.client.name), "success")
    return redirect(url_for("investor.applications"))


def _render_application(item: ProfessionalApplication, form: DecisionForm, status: int = 200):
    return render_template("investor/application.html", item=item, client=item.client, form=form,
                           checks=item.checks or {},
                           thresholds=_thresholds(), view_labels=investor_labels(),
                           may_decide=current_user.role == "compliance" and item.status == "pending"), status
