"""Sign in, sign out, language switch."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from forms.auth import LanguageForm, LoginForm, LogoutForm
from models import db, utcnow
from portal.access import allow, public
from portal.audit import record, record_now
from portal.auth.directory import DirectoryUnavailable
from portal.extensions import limiter
from portal.operations.users import authenticate, end_all_sessions, normalise_username
from portal.reads import read_only
from portal.security import safe_next, start_session

bp = Blueprint("auth", __name__)


def _username_key() -> str:
    return "login-user:" + normalise_username(request.form.get("username", ""))[:64]


def _address_key() -> str:
    return "login-addr:" + (request.remote_addr or "unknown")


@bp.route("/login", methods=["GET", "POST"])
@public
@read_only
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_USERNAME"], key_func=_username_key, methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], key_func=_address_key, methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except DirectoryUnavailable as error:
            return _directory_unavailable(form, error)
        if user is None:
            record_now("auth.sign_in", "user", normalise_username(form.username.data)[:64], outcome="failed",
                       actor_username=normalise_username(form.username.data))
            flash(_("The username or password is wrong, or the account is disabled."), "danger")
            return render_template("auth/login.html", form=form), 200
        start_session(user)
        login_user(user)
        user.last_login_at = utcnow()
        record("auth.sign_in", "user", user.username, actor=user)
        db.session.commit()
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


@bp.route("/logout", methods=["POST"])
@allow("client", "rm", "supervisor", "compliance", "admin")
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("home.index"))
    user = current_user._get_current_object()
    end_all_sessions(user)
    record("auth.sign_out", "user", user.username, actor=user)
    db.session.commit()
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
            current_user.preferred_language = form.language.data
            db.session.commit()
    return redirect(target)
