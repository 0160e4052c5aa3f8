"""Evaluation forms: cycles, scores, self-assessments, clients' service ratings, targets."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.operations.evaluations import COMMENT_MAX, NAME_MAX, RATING_COMMENT_MAX

SCORE_ATTRS = {"type": "number", "min": 0, "max": 100, "step": 1, "inputmode": "numeric"}


def whole_score(form, field):
    """A whole number from 0 to 100 (field.data becomes the int)."""
    text = (field.data or "").strip() if isinstance(field.data, str) else field.data
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and text.isascii() and text.isdigit():
        value = int(text)
    else:
        raise ValidationError(_l("Enter a whole number from 0 to 100."))
    if not 0 <= value <= 100:
        raise ValidationError(_l("Enter a whole number from 0 to 100."))
    field.data = value


class CycleForm(FlaskForm):
    name = StringField(lazy_pgettext("name of a thing", "Name"),
                       validators=[DataRequired(message=_l("Enter a name for the cycle.")),
                                   Length(max=NAME_MAX)],
                       description=_l("For example 2026 Q1."))
    start = DateField(_l("Start date"), validators=[InputRequired(message=_l("Enter the date as YYYY-MM-DD."))])
    end = DateField(_l("End date"), validators=[InputRequired(message=_l("Enter the date as YYYY-MM-DD."))])
    scope = SelectField(_l("Scope"), choices=[], validate_choice=True)


class ScoreForm(FlaskForm):
    satisfaction = StringField(_l("Customer satisfaction"), validators=[InputRequired(
        message=_l("Enter a whole number from 0 to 100.")), whole_score], render_kw=SCORE_ATTRS)
    kpi = StringField(_l("Target (KPI) completion"), validators=[InputRequired(
        message=_l("Enter a whole number from 0 to 100.")), whole_score], render_kw=SCORE_ATTRS)
    team = StringField(_l("Team contribution"), validators=[InputRequired(
        message=_l("Enter a whole number from 0 to 100.")), whole_score], render_kw=SCORE_ATTRS)
    competence = StringField(_l("Professional competence"), validators=[InputRequired(
        message=_l("Enter a whole number from 0 to 100.")), whole_score], render_kw=SCORE_ATTRS)
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=COMMENT_MAX)],
                            render_kw={"rows": 4, "maxlength": COMMENT_MAX})
    version = HiddenField()


class SelfAssessmentForm(FlaskForm):
    self_comment = TextAreaField(_l("Your self-assessment"), validators=[Optional(), Length(max=COMMENT_MAX)],
                                 render_kw={"rows": 5, "maxlength": COMMENT_MAX})


class RatingForm(FlaskForm):
    stars = RadioField(_l("Stars"), choices=[SelectChoice(str(n)) for n in range(1, 6)],
                       validators=[InputRequired(message=_l("Choose from 1 to 5 stars."))],
                       validate_choice=True)
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=RATING_COMMENT_MAX)],
                            render_kw={"rows": 3, "maxlength": RATING_COMMENT_MAX})
    cycle = HiddenField()


class TargetForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(
        message=_l("Enter the manager's employee number.")), Length(max=20)],
                              render_kw={"list": "managers", "data-picker": "/pickers/managers", "autocomplete": "off"})
    period_start = DateField(_l("Period start"), validators=[InputRequired(
        message=_l("Enter the date as YYYY-MM-DD."))])
    period_end = DateField(_l("Period end"), validators=[InputRequired(message=_l("Enter the date as YYYY-MM-DD."))])
    net_commission = StringField(_l("Net commission target (CNY)"), validators=[InputRequired(
        message=_l("Enter an amount."))], render_kw={"inputmode": "decimal"})
    asset_growth = StringField(_l("Asset growth target (CNY)"), validators=[InputRequired(
        message=_l("Enter an amount."))], render_kw={"inputmode": "decimal"})
    new_clients = StringField(_l("New clients target"), validators=[InputRequired(
        message=_l("Enter a whole number."))], render_kw={"inputmode": "numeric"})


class TargetImportForm(FlaskForm):
    file = FileField(_l("CSV file"))


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (open, close, delete)."""
