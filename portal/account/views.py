"""The account page every signed-in person has: where reminders go, and whether they are sent."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.account import ReminderSettingsForm
from portal.access import allow
from portal.operations.reminders import set_reminder_settings
from portal.unit_of_work import unit_of_work

bp = Blueprint("account", __name__)


@bp.route("/account", methods=["GET", "POST"])
@allow("client", "rm", "supervisor", "compliance", "admin")
def settings():
    user = current_user._get_current_object()
    form = ReminderSettingsForm(data={"email": user.email, "reminders": not user.reminders_opt_out})
    status = 200
    if form.is_submitted():
        if form.validate():
            with unit_of_work(form) as work:
                changed = set_reminder_settings(user, email=form.email.data, reminders=form.reminders.data)
            if work.ok:
                flash(_("Your reminder settings are saved.") if changed else _("Nothing changed."), "success")
                return redirect(url_for("account.settings"))
        status = 400
    return render_template("account/settings.html", form=form), status
