"""Forms that open a login: client self-activation (details on file, or a code), a new password from a
one-time link, and the buttons that issue codes and links."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from forms.passwords import NewPassword


def _new_password(username=None):
    """The chosen password under the password policy, checked against the login name it is for."""
    return PasswordField(_l("New password"), validators=[DataRequired(message=_l("Choose a password.")),
                                                         NewPassword(username)])


def _repeat():
    return PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(message=_l("Repeat the password.")),
        EqualTo("password", message=_l("The two passwords are not the same."))])


class ActivationForm(FlaskForm):
    client_no = StringField(_l("Client number"), validators=[DataRequired(message=_l("Enter your client number.")),
                                                             Length(max=20)])
    id_number = StringField(_l("ID number"), validators=[DataRequired(message=_l("Enter your ID number.")),
                                                         Length(max=40)])
    mobile = StringField(_l("Mobile number on file"), validators=[
        DataRequired(message=_l("Enter the mobile number the broker has on file.")), Length(max=30)])
    password = _new_password("client_no")  # the client number becomes the login name
    confirm = _repeat()


class ActivationCodeForm(FlaskForm):
    client_no = StringField(_l("Client number"), validators=[DataRequired(message=_l("Enter your client number.")),
                                                             Length(max=20)])
    id_number = StringField(_l("ID number"), validators=[DataRequired(message=_l("Enter your ID number.")),
                                                         Length(max=40)])
    code = StringField(_l("Activation code"), validators=[
        DataRequired(message=_l("Enter the activation code from your relationship manager.")), Length(max=20)])
    password = _new_password("client_no")
    confirm = _repeat()


class NewPasswordForm(FlaskForm):
    """The password of the login a one-time link opens; `username` gives that login's name."""

    password = _new_password()
    confirm = _repeat()

    def __init__(self, *args, username=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.validators = [self.password.validators[0], NewPassword(username)]


class IssueForm(FlaskForm):
    """A button that issues a one-time code or link: a POST with a CSRF token."""
