"""The new-password validator every form that sets a password uses, and the change-password form."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.operations.users import password_problem_message
from portal.rules.passwords import MAX_LENGTH, password_problems


class NewPassword:
    """WTForms validator: the password policy of portal/rules/passwords.py, with translated messages.

    `username` names the form field holding the username, or is a callable returning it (a signed-in
    user's own name); every problem found is listed on the field.
    """

    def __init__(self, username: str | Callable[[], str] | None = None):
        self.username = username

    def _username(self, form) -> str:
        if callable(self.username):
            return self.username() or ""
        if isinstance(self.username, str) and self.username in form:
            return form[self.username].data or ""
        return ""

    def __call__(self, form, field) -> None:
        problems = password_problems(field.data or "", self._username(form),
                                     min_length=current_app.config["PASSWORD_MIN_LENGTH"])
        if not problems:
            return
        messages = [password_problem_message(code) for code in problems]
        field.errors.extend(messages[1:])
        raise ValidationError(messages[0])


class ChangePasswordForm(FlaskForm):
    """A signed-in user's own password: the current one first, then the new one twice."""

    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Enter your current password.")), Length(max=MAX_LENGTH)])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Enter a new password."))])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(message=_l("Repeat the new password.")),
        EqualTo("new_password", message=_l("The two new passwords differ."))])

    def __init__(self, *args, username: Callable[[], str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_password.validators = [*self.new_password.validators, NewPassword(username)]
