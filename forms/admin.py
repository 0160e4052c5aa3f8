"""Administration forms: users, teams, staff records."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.rules.vocabulary import LEVELS


def not_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(_l("The date cannot be in the future."))


# An employee-number field with suggestions by number, name or pinyin (portal/pickers, static/js/picker.js).
MANAGER_PICKER = {"data-picker": "/pickers/managers", "autocomplete": "off"}


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[
        SelectChoice("client", _l("Client")), SelectChoice("rm", _l("Relationship manager")),
        SelectChoice("supervisor", _l("Supervisor")), SelectChoice("compliance", _l("Compliance officer")),
        SelectChoice("admin", _l("Administrator")),
    ])
    client_no = StringField(_l("Client number (client logins)"), validators=[Optional(), Length(max=20)])
    employee_no = StringField(_l("Employee number (manager and supervisor logins)"),
                              validators=[Optional(), Length(max=20)],
                              render_kw=MANAGER_PICKER | {"list": "employee_no-options"})
    preferred_language = SelectField(_l("Language"), choices=[
        SelectChoice("", _l("Browser default")), SelectChoice("zh_CN", "简体中文"), SelectChoice("en", "English"),
    ], validate_choice=True)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=12, max=128)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class ToggleForm(FlaskForm):
    """A bare POST with its CSRF token (deactivate, activate)."""


class TeamForm(FlaskForm):
    code = StringField(_l("Team code"), validators=[DataRequired(), Length(min=2, max=20)])
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=100)])
    supervisor = StringField(_l("Supervisor's employee number"), validators=[Optional(), Length(max=20)],
                             render_kw=MANAGER_PICKER | {"list": "supervisor-options"})


class ManagerForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(min=2, max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=[SelectChoice(lv) for lv in LEVELS])
    level_since = DateField(_l("In this level since"), validators=[DataRequired(), not_future])
    hire_date = DateField(_l("Hire date"), validators=[DataRequired(), not_future])
    team = SelectField(_l("Team"), choices=[], validate_choice=True)


class MoveManagerForm(FlaskForm):
    team = SelectField(_l("New team"), choices=[], validate_choice=True)
