"""The manager's client book, a client's record, and the client's own account page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from forms.activation import IssueForm
from models import Client, ClientAssignment, CreditScreening, Manager, RiskAssessment, Team, User, db
from portal.access import allow, client_or_404, manager_or_404, scope_clients
from portal.clients import cache as book_cache
from portal.clients.queries import BOOK_COLUMNS, SORTS, book_query, with_service_package
from portal.compliance.queries import small_grid
from portal.formatting import N_, portal_language, request_translations
from portal.operations.tiering import tier_history
from portal.pagination import page_arg, paginate
from portal.reads import read_only
from portal.rules.calendar import business_today
from portal.rules.profile import PROFILE_STATUSES, profile_status

bp = Blueprint("clients", __name__)


def _page_args():
    page = page_arg()
    sort = request.args.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    descending = request.args.get("dir") == "desc"
    q = (request.args.get("q") or "").strip()[:50]
    return page, sort, descending, q


def _row_words() -> dict:
    """Words every row of the book may show, translated once per page rather than once per row."""
    gettext = request_translations().ugettext
    words = {"professional": N_("Professional"), "lowest": N_("Lowest category"), "not_screened": N_("not screened"),
             "eligible": N_("eligible"), "not_eligible": N_("not eligible"), "not_graded": N_("not graded")}
    translated = {key: gettext(message) for key, message in words.items()}
    translated["tier"] = {tier: gettext(N_("Tier %(n)d")) % {"n": tier} for tier in (1, 2, 3, 4)}
    return translated


def render_book(manager: Manager):
    """The book page: its body from the per-process cache while the book has not changed (cache.py)."""
    page, sort, descending, q = _page_args()
    profile = request.args.get("profile") if request.args.get("profile") in PROFILE_STATUSES else None
    today = business_today()
    book_version, packages_version = book_cache.versions(manager.id)  # before any row of the book is read
    key = (current_user.id, current_user.role, current_user.manager_id, manager.id, manager.employee_no,
           manager.name, manager.team_id, book_version, packages_version, today, portal_language(),
           request.endpoint, page, sort, descending, q, profile)
    body = book_cache.cache().get_or_render(
        key, lambda: _book_body(manager, page, sort, descending, q, profile, today))
    # The body is _book_body.html's own output, rendered with autoescaping: HTML already, no user text raw.
    return render_template("clients/book.html", manager=manager, body=Markup(body))  # nosec B704 - see above


def _book_body(manager: Manager, page: int, sort: str, descending: bool, q: str, profile: str | None,
               today) -> str:
    stmt = scope_clients(book_query(manager.id, q, sort, descending, BOOK_COLUMNS, profile), current_user)
    grid = small_grid(current_user, business_today(), manager)
    # Unfiltered, the book's count is the grid's total (the same clients, scoped alike): no count query.
    known_total = grid.grid.total.clients if not q and not profile else None
    pagination = paginate(with_service_package(stmt, today), page, current_app.config["PER_PAGE"], rows=True,
                          total=known_total)
    # One URL built, then reused per row: url_for per row is a measurable share of the page.
    detail_prefix = url_for("clients.client_detail", client_no="_")[:-1]
    return render_template("clients/_book_body.html", manager=manager, pagination=pagination, q=q, sort=sort,
                           small_matrix=grid, descending=descending, detail_prefix=detail_prefix, profile=profile,
                           today=today, profile_status=profile_status, words=_row_words())


@bp.route("/book")
@allow("rm")
@read_only
def my_book():
    if current_user.manager is None:
        abort(404)
    return render_book(current_user.manager)


@bp.route("/managers/<employee_no>/book")
@allow("rm", "supervisor", "compliance", "admin")
@read_only
def manager_book(employee_no: str):
    return render_book(manager_or_404(employee_no))


@bp.route("/clients/<client_no>")
@allow("rm", "supervisor", "compliance", "admin")
def client_detail(client_no: str):
    """The client's page, first tab: the record, the profile in force and where each other matter stands."""
    client = client_or_404(client_no)
    can_reassign = current_user.role == "supervisor" and client.manager is not None
    client_login = db.session.scalar(select(User.id).where(User.client_id == client.id))
    return render_template("clients/detail.html", client=client, can_reassign=can_reassign,
                           profile_state=profile_status(client.profile_valid_until), today=business_today(),
                           latest_screening=latest_screening(client), assessments=latest_assessments(client),
                           client_login=client_login, issue_form=IssueForm())


@bp.route("/clients/<client_no>/tier")
@allow("rm", "supervisor", "compliance", "admin")
def client_tier(client_no: str):
    """The client's page, asset tier tab: the tier now and at each statistics date."""
    client = client_or_404(client_no)
    return render_template("clients/tier.html", client=client, tier_history=tier_history(client.id, limit=24))


@bp.route("/clients/<client_no>/package")
@allow("rm", "supervisor", "compliance", "admin")
def client_package(client_no: str):
    """The client's page, service package tab: the package the tier and risk class give, and its services."""
    return render_template("clients/package.html", client=client_or_404(client_no))


@bp.route("/clients/<client_no>/assignments")
@allow("rm", "supervisor", "compliance", "admin")
def client_assignments(client_no: str):
    """The client's page, assignment history tab: every move between managers, newest first."""
    client = client_or_404(client_no)
    history = db.session.scalars(
        select(ClientAssignment).where(ClientAssignment.client_id == client.id).order_by(ClientAssignment.id.desc())
    ).all()
    can_reassign = current_user.role == "supervisor" and client.manager is not None
    return render_template("clients/assignments.html", client=client, history=history, can_reassign=can_reassign)


def latest_screening(client: Client) -> CreditScreening | None:
    """The client's newest credit screening (indexed by client), or None."""
    from portal.operations.credit import history_query

    return db.session.scalar(history_query(client).limit(1))


def latest_assessments(client: Client, limit: int = 3) -> list[RiskAssessment]:
    """The client's newest questionnaire submissions (the full list is the assessments tab)."""
    return list(db.session.scalars(
        select(RiskAssessment).where(RiskAssessment.client_id == client.id)
        .order_by(RiskAssessment.submitted_at.desc(), RiskAssessment.id.desc()).limit(limit)))


@bp.route("/me")
@allow("client")
def my_account():
    client = db.session.scalar(scope_clients(select(Client), current_user))
    if client is None:
        abort(404)
    team = db.session.get(Team, client.manager.team_id) if client.manager and client.manager.team_id else None
    return render_template("clients/my_account.html", client=client, team=team)
