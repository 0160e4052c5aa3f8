"""The supervisor's team page and client reassignment within the team."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from forms.clients import ReassignForm
from models import Client, Manager, Team, db
from portal.access import allow, client_or_404, deny, supervised_team_ids
from portal.compliance.queries import small_grid
from portal.operations.clients import reassign_client
from portal.reads import read_only
from portal.rules.calendar import business_today
from portal.unit_of_work import unit_of_work

bp = Blueprint("teams", __name__)


def team_members(team_ids: list[int], with_overdue: bool = False):
    """Managers of the teams (their supervisors excluded) with the size of each book, in one query.

    `with_overdue` adds each book's count of overdue follow-ups (due before today) to every row.
    """
    today = business_today()
    team_managers = select(Manager.id).where(Manager.team_id.in_(team_ids or [-1]))
    book = (select(Client.manager_id, func.count(Client.id).label("size"),
                   func.count(Client.id).filter(Client.followup_due < today).label("overdue"))
            .where(Client.manager_id.in_(team_managers))
            .group_by(Client.manager_id).subquery())
    supervisors = select(Team.supervisor_id).where(Team.supervisor_id.is_not(None))
    extra = (func.coalesce(book.c.overdue, 0),) if with_overdue else ()
    stmt = (select(Manager, func.coalesce(book.c.size, 0), *extra)
            .outerjoin(book, book.c.manager_id == Manager.id)
            .where(Manager.team_id.in_(team_ids or [-1]), Manager.id.not_in(supervisors))
            .order_by(Manager.team_id, Manager.employee_no))
    return db.session.execute(stmt).all()


@bp.route("/team")
@allow("supervisor")
@read_only
def team():
    team_ids = supervised_team_ids(current_user)
    teams = db.session.scalars(select(Team).where(Team.id.in_(team_ids or [-1])).order_by(Team.code)).all()
    rows = team_members(team_ids, with_overdue=True)
    return render_template("teams/team.html", teams=teams, rows=rows, total=sum(row[1] for row in rows),
                           small_matrix=small_grid(current_user, business_today()),
                           overdue_total=sum(row[2] for row in rows))


@bp.route("/clients/<client_no>/reassign", methods=["GET", "POST"])
@allow("supervisor")
def reassign(client_no: str):
    client = client_or_404(client_no)  # scoped: only clients of the supervisor's teams
    team_ids = supervised_team_ids(current_user)
    candidates = [m for m, _size in team_members(team_ids) if m.id != client.manager_id and m.status == "active"]
    form = ReassignForm()
    form.to_manager.choices = [SelectChoice(m.employee_no, f"{m.name} ({m.employee_no})") for m in candidates]
    if form.validate_on_submit():
        target = db.session.scalar(select(Manager).where(Manager.employee_no == form.to_manager.data))
        if target is None or target.team_id not in team_ids:
            deny("manager", form.to_manager.data, 403)
        with unit_of_work() as work:
            reassign_client(client, target, current_user, form.reason.data)
        if work.ok:
            flash(_("%(client)s now belongs to %(manager)s's book.", client=client.name, manager=target.name),
                  "success")
            return redirect(url_for("clients.client_detail", client_no=client.client_no))
        form.to_manager.errors.append(work.error.message)
    return render_template("teams/reassign.html", client=client, form=form)
