"""Opening a login without a typed-in account: client self-activation, invitation and reset links, and
the pages where a manager or an administrator issues codes and links."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms.activation import ActivationCodeForm, ActivationForm, IssueForm, NewPasswordForm
from models import User, db, utcnow
from portal.access import allow, client_or_404, public
from portal.audit import record, record_now
from portal.extensions import limiter
from portal.operations.errors import attach_error
from portal.operations.signin import (
    ActivationRefused,
    activate_client,
    activate_client_with_code,
    issue_activation_code,
    issue_password_reset,
    link_unusable_message,
    live_token,
    normalise_client_no,
    set_password_with_token,
)
from portal.security import start_session
from portal.throttle import Throttle
from portal.unit_of_work import unit_of_work

bp = Blueprint("activation", __name__)


# Wrong details are counted like wrong passwords at sign-in: per (client number, address), per address and
# site-wide, with the sign-in limits; every throttled attempt is audited.
ACTIVATION = Throttle("activate", "LOGIN_LIMIT_PER_USERNAME", "LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_GLOBAL")


def _link_address_key() -> str:
    return "link-addr:" + (request.remote_addr or "unknown")


def _per_address():
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _refusal_message(reason: str) -> str:
    if reason == "closed":
        return _("This account is closed, so it cannot be activated. Please contact your branch.")
    if reason == "already_activated":
        return _("This account already has a login. Sign in with it, or ask your relationship manager for a "
                 "password reset link.")
    return _("These details do not open an account. Check the client number, the ID number and the %(what)s, "
             "or ask your relationship manager for help.",
             what=_("activation code") if request.endpoint == "activation.activate_with_code"
             else _("mobile number"))


def _sign_in(user: User, how: str):
    """Sign in the login just opened, in the unit of work that opened it."""
    start_session(user)
    login_user(user)
    user.last_login_at = utcnow()
    record("auth.sign_in", "user", user.username, actor=user, after={"by": how})


def _activate(form, template: str, operation, third_field: str):
    if not form.validate_on_submit():
        return render_template(template, form=form)
    client_no = normalise_client_no(form.client_no.data)
    ACTIVATION.refuse_if_throttled(client_no, "client.activate", "client")
    with unit_of_work(form, answer_here=(ActivationRefused, IntegrityError)) as work:
        user = operation(client_no, form.id_number.data, getattr(form, third_field).data, form.password.data)
        _sign_in(user, "activation")
    if isinstance(work.error, ActivationRefused):
        if work.error.reason == "mismatch":
            ACTIVATION.failed(client_no)
        record_now("client.activate", "client", client_no, outcome="failed", actor_username=client_no,
                   after={"reason": work.error.reason, "by": third_field})
        flash(_refusal_message(work.error.reason), "danger")
        return render_template(template, form=form)
    if isinstance(work.error, IntegrityError):  # two activations of one client at the same moment: the other won
        flash(_refusal_message("already_activated"), "danger")
        return render_template(template, form=form)
    if not work.ok:
        return render_template(template, form=form)
    flash(_("Your account is open and you are signed in. From now on, sign in with your client number and "
            "this password."), "success")
    return redirect(url_for("home.index"))


@bp.route("/activate", methods=["GET", "POST"])
@public
def activate():
    """A client opens their login with the client number, ID number and mobile number on file."""
    return _activate(ActivationForm(), "activation/activate.html", activate_client, "mobile")


@bp.route("/activate/code", methods=["GET", "POST"])
@public
def activate_with_code():
    """The same with an activation code from the manager instead of the mobile number."""
    return _activate(ActivationCodeForm(), "activation/activate_code.html", activate_client_with_code, "code")


def _redeem(purpose: str, secret: str):
    token = live_token(purpose, secret)
    form = NewPasswordForm(username=lambda: token.user.username if token and token.user else "")
    if token is None or token.user is None or not token.user.active:
        if request.method == "POST":
            record_now(f"user.{purpose}_link", "user", None, outcome="failed", after={"reason": "link_unusable"})
        return render_template("activation/new_password.html", form=None, purpose=purpose,
                               unusable=link_unusable_message())
    if form.validate_on_submit():
        with unit_of_work() as work:
            user = set_password_with_token(purpose, secret, form.password.data)
            _sign_in(user, purpose)
        if work.ok:
            flash(_("Your password is set and you are signed in. Any other session of this login has ended."),
                  "success")
            return redirect(url_for("home.index"))
        if work.error.code == "link_unusable":
            return render_template("activation/new_password.html", form=None, purpose=purpose,
                                   unusable=work.error.message)
        attach_error(form, work.error)
    return render_template("activation/new_password.html", form=form, purpose=purpose, user=token.user,
                           unusable=None)


@bp.route("/welcome/<secret>", methods=["GET", "POST"])
@public
@limiter.limit(_per_address, key_func=_link_address_key, methods=["POST"])
def welcome(secret: str):
    """A staff member's invitation: choose the password of the login made for them, once."""
    return _redeem("invitation", secret)


@bp.route("/reset/<secret>", methods=["GET", "POST"])
@public
@limiter.limit(_per_address, key_func=_link_address_key, methods=["POST"])
def reset(secret: str):
    """A one-time password reset link."""
    return _redeem("reset", secret)


@bp.route("/clients/<client_no>/activation-code", methods=["POST"])
@allow("rm")
def client_activation_code(client_no: str):
    """The client's manager prints a one-time activation code (for clients with no mobile number on file)."""
    client = client_or_404(client_no)
    if not IssueForm().validate_on_submit():
        return redirect(url_for("clients.client_detail", client_no=client.client_no))
    with unit_of_work(flash=True) as work:
        code, token = issue_activation_code(client, current_user)
    if not work.ok:
        return redirect(url_for("clients.client_detail", client_no=client.client_no))
    return render_template("activation/code_issued.html", client=client, code=code, token=token,
                           activate_url=url_for("activation.activate_with_code", _external=True))


@bp.route("/clients/<client_no>/reset-link", methods=["POST"])
@allow("rm")
def client_reset_link(client_no: str):
    """The client's manager issues a one-time password reset link for the client's login."""
    client = client_or_404(client_no)
    back = url_for("clients.client_detail", client_no=client.client_no)
    user = db.session.scalar(select(User).where(User.client_id == client.id))
    if user is None:
        flash(_("This client has no login yet: print an activation code instead."), "warning")
        return redirect(back)
    if not IssueForm().validate_on_submit():
        return redirect(back)
    return _issue_reset(user, back)


@bp.route("/admin/users/<int:user_id>/reset-link", methods=["POST"])
@allow("admin")
def staff_reset_link(user_id: int):
    """An administrator issues a one-time password reset link for a staff login."""
    user = db.get_or_404(User, user_id)
    back = url_for("admin.users")
    if user.role == "client":
        flash(_("A client's password reset link is issued by the client's relationship manager."), "warning")
        return redirect(back)
    if not IssueForm().validate_on_submit():
        return redirect(back)
    return _issue_reset(user, back)


def _issue_reset(user: User, back: str):
    with unit_of_work(flash=True) as work:
        secret, token = issue_password_reset(user, current_user)
    if not work.ok:
        return redirect(back)
    return render_template("activation/link_issued.html", user=user, token=token, back=back,
                           link=url_for("activation.reset", secret=secret, _external=True))
