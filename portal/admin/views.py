"""Administration: users, teams, staff records (HR and system administrators)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from forms.admin import ManagerForm, MoveManagerForm, TeamForm, ToggleForm, UserForm
from models import ROLES, Client, Manager, Team, User, db
from portal.access import allow
from portal.labels import labels
from portal.operations.staff import create_manager, create_team, move_manager, team_by_code
from portal.operations.users import create_user, set_user_active
from portal.pagination import page_arg
from portal.rules.vocabulary import LEVELS
from portal.unit_of_work import unit_of_work

bp = Blueprint("admin", __name__, url_prefix="/admin")



@bp.route("/users")
@allow("admin")
def users():
    role = request.args.get("role", "")
    q = (request.args.get("q") or "").strip()[:64]
    stmt = select(User).order_by(User.username)
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(or_(User.username.like(f"%{q}%"), User.display_name.like(f"%{q}%")))
    pagination = db.paginate(stmt, page=page_arg(), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("admin/users.html", pagination=pagination, role=role, q=q, toggle=ToggleForm())


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = create_user(form.username.data, form.display_name.data, form.role.data, form.password.data,
                               client_no=form.client_no.data or None, employee_no=form.employee_no.data or None,
                               preferred_language=form.preferred_language.data or None)
        if work.ok:
            flash(_("The login %(name)s was created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow("admin")
def deactivate_user(user_id: int):
    return _toggle(user_id, False)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@allow("admin")
def activate_user(user_id: int):
    return _toggle(user_id, True)


def _toggle(user_id: int, active: bool):
    form = ToggleForm()
    user = db.get_or_404(User, user_id)
    if form.validate_on_submit():
        if user.id == current_user.id and not active:
            flash(_("You cannot deactivate your own login."), "danger")
        else:
            with unit_of_work():
                set_user_active(user, active)
            flash(_("%(name)s is now active.", name=user.username) if active
                  else _("%(name)s is now deactivated; their sessions and tokens have ended.", name=user.username),
                  "success")
    return redirect(url_for("admin.users"))


@bp.route("/teams", methods=["GET", "POST"])
@allow("admin")
def teams():
    form = TeamForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            team = create_team(form.code.data, form.name.data, form.supervisor.data or None)
        if work.ok:
            flash(_("Team %(code)s was created.", code=team.code), "success")
            return redirect(url_for("admin.teams"))
    sizes = (select(Manager.team_id, func.count(Manager.id).label("n")).group_by(Manager.team_id).subquery())
    rows = db.session.execute(
        select(Team, func.coalesce(sizes.c.n, 0)).outerjoin(sizes, sizes.c.team_id == Team.id).order_by(Team.code)
    ).all()
    return render_template("admin/teams.html", form=form, rows=rows)


def _team_choices() -> list[tuple[str, str]]:
    return [(t.code, f"{t.code} — {t.name}") for t in db.session.scalars(select(Team).order_by(Team.code))]


def _team_select_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in _team_choices()]


@bp.route("/managers")
@allow("admin")
def managers():
    team_code = request.args.get("team", "")
    q = (request.args.get("q") or "").strip()[:64]
    book = select(Client.manager_id, func.count(Client.id).label("n")).group_by(Client.manager_id).subquery()
    stmt = (select(Manager, func.coalesce(book.c.n, 0).label("book"))
            .outerjoin(book, book.c.manager_id == Manager.id).order_by(Manager.employee_no))
    team = db.session.scalar(select(Team).where(Team.code == team_code)) if team_code else None
    if team is not None:
        stmt = stmt.where(Manager.team_id == team.id)
    if q:
        stmt = stmt.where(or_(Manager.employee_no.like(f"{q}%"), Manager.name.like(f"%{q}%")))
    page = page_arg()
    per_page = current_app.config["PER_PAGE"]
    total = db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(Manager.id).subquery()))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return render_template("admin/managers.html", rows=rows, teams=_team_choices(), team_code=team_code, q=q,
                           page=page, per_page=per_page, total=total, move_form=MoveManagerForm())


@bp.route("/managers/new", methods=["GET", "POST"])
@allow("admin")
def new_manager():
    form = ManagerForm()
    form.level.choices = [SelectChoice(lv, labels()["level"][lv]) for lv in LEVELS]
    form.team.choices = [SelectChoice("", _("No team"))] + _team_select_choices()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            manager = create_manager(form.employee_no.data, form.name.data, form.level.data, form.level_since.data,
                                     form.hire_date.data, form.team.data or None)
        if work.ok:
            flash(_("Staff record %(no)s was created.", no=manager.employee_no), "success")
            return redirect(url_for("admin.managers"))
    return render_template("admin/manager_form.html", form=form)


@bp.route("/managers/<employee_no>/team", methods=["POST"])
@allow("admin")
def move(employee_no: str):
    manager = db.first_or_404(select(Manager).where(Manager.employee_no == employee_no))
    form = MoveManagerForm()
    form.team.choices = _team_select_choices()
    if form.validate_on_submit():
        with unit_of_work(flash=True) as work:
            move_manager(manager, team_by_code(form.team.data))
        if work.ok:
            flash(_("%(name)s moved to team %(code)s.", name=manager.name, code=form.team.data), "success")
    else:
        flash(_("Choose a team."), "danger")
    return redirect(url_for("admin.managers", team=manager.team.code if manager.team else None))
