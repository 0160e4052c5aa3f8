"""Sign in, sign out, language switch."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from forms.auth import LanguageForm, LoginForm, LogoutForm
from forms.passwords import ChangePasswordForm
from models import utcnow
from portal.access import allow, public
from portal.audit import record, record_now
from portal.auth.directory import DirectoryUnavailable
from portal.operations import users
from portal.operations.users import authenticate, end_all_sessions, normalise_username
from portal.reads import read_only
from portal.security import safe_next, start_session
from portal.throttle import SIGN_IN
from portal.unit_of_work import unit_of_work

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
@read_only
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    if form.validate_on_submit():
        username = normalise_username(form.username.data)[:64]
        SIGN_IN.refuse_if_throttled(username, "auth.sign_in")
        try:
            user = authenticate(form.username.data, form.password.data)
        except DirectoryUnavailable as error:
            SIGN_IN.failed(username)  # an attempt the directory could not answer still counts
            return _directory_unavailable(form, error)
        if user is None:
            SIGN_IN.failed(username)
            record_now("auth.sign_in", "user", normalise_username(form.username.data)[:64], outcome="failed",
                       actor_username=normalise_username(form.username.data))
            flash(_("The username or password is wrong, or the account is disabled."), "danger")
            return render_template("auth/login.html", form=form), 200
        start_session(user)
        login_user(user)
        with unit_of_work():
            user.last_login_at = utcnow()
            record("auth.sign_in", "user", user.username, actor=user)
        return redirect(safe_next(form.next.data, url_for("home.index")))
    return render_template("auth/login.html", form=form)


def _directory_unavailable(form, error):
    """Staff sign-in while the directory cannot answer: said plainly, logged, audited; local logins still work."""
    current_app.logger.warning("staff directory unavailable: %s", error)
    record_now("auth.sign_in", "user", normalise_username(form.username.data)[:64], outcome="failed",
               actor_username=normalise_username(form.username.data), after={"reason": "directory_unavailable"})
    flash(_("The staff directory is unavailable just now, so staff cannot sign in with their directory account. "
            "Try again in a few minutes."), "danger")
    return render_template("auth/login.html", form=form), 503


@bp.route("/account/password", methods=["GET", "POST"])
@allow("client", "rm", "supervisor", "compliance", "admin")
def change_password():
    """Every signed-in user's own password: the current one is required; every other session of theirs ends."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(username=lambda: user.username)
    if form.validate_on_submit():
        SIGN_IN.refuse_if_throttled(user.username, "user.password_change")
        with unit_of_work(form) as work:
            users.change_password(user, form.current_password.data, form.new_password.data)
            login_user(user)  # this session carries the new session version; every other one is refused
        if work.ok:
            flash(_("Your password has been changed. Every other session of yours has ended."), "success")
            return redirect(url_for("auth.change_password"))
        if work.error.code == "wrong_password":
            SIGN_IN.failed(user.username)
            record_now("user.password_change", "user", user.username, outcome="failed", actor=user)
    return render_template("auth/password.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@allow("client", "rm", "supervisor", "compliance", "admin")
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("home.index"))
    user = current_user._get_current_object()
    with unit_of_work():
        end_all_sessions(user)
        record("auth.sign_out", "user", user.username, actor=user)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@public
def language():
    form = LanguageForm()
    target = safe_next(request.form.get("next"), url_for("home.index"))
    if form.validate_on_submit():
        session["lang"] = form.language.data
        if current_user.is_authenticated:
            with unit_of_work():
                current_user.preferred_language = form.language.data
    return redirect(target)
