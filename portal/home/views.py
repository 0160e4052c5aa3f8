"""The home page of each role, and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select, text

from models import AuditEntry, Client, Manager, Team, User, db
from portal.access import allow, public, scope_clients, scope_managers, supervised_team_ids
from portal.home.queues import queues_for
from portal.reads import read_only

bp = Blueprint("home", __name__)


@bp.route("/")
@allow("client", "rm", "supervisor", "compliance", "admin")
def index():
    role = current_user.role
    queues = queues_for(current_user)
    if role == "client":
        client = current_user.client
        from forms.evaluations import RatingForm
        from portal.operations.evaluations import rating_card

        rating = rating_card(client) if client else None
        return render_template("home/client.html", client=client, rating=rating, rating_form=RatingForm(),
                               queues=queues)
    if role == "rm":
        book_size = db.session.scalar(scope_clients(select(func.count(Client.id)), current_user))
        return render_template("home/rm.html", manager=current_user.manager, book_size=book_size,
                               queues=queues)
    if role == "supervisor":
        teams = db.session.scalars(select(Team).where(Team.id.in_(supervised_team_ids(current_user) or [-1]))).all()
        managers = db.session.scalar(scope_managers(select(func.count(Manager.id)), current_user))
        clients = db.session.scalar(scope_clients(select(func.count(Client.id)), current_user))
        return render_template("home/supervisor.html", teams=teams, managers=managers, clients=clients,
                               queues=queues)
    counts = {
        "clients": db.session.scalar(select(func.count(Client.id))),
        "managers": db.session.scalar(select(func.count(Manager.id))),
        "teams": db.session.scalar(select(func.count(Team.id))),
        "users": db.session.scalar(select(func.count(User.id))),
    }
    recent = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(10)).all()
    return render_template("home/staff.html", counts=counts, recent=recent, queues=queues)


@bp.route("/healthz")
@public
@read_only
def healthz():
    """Liveness and database reachability, for the load balancer and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except Exception:
        db.session.rollback()
        return jsonify(status="degraded", database="unavailable"), 503
