"""Questionnaire editor forms: a new draft, the draft's definition, publishing."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

# A definition of a few dozen questions is ~30 kB of JSON; this leaves room without inviting abuse.
DEFINITION_MAX = 300_000


class NewDraftForm(FlaskForm):
    version = StringField(_l("Label of the new version"), validators=[DataRequired(), Length(max=40)],
                          description=_l("For example 2026.2. Each version needs its own label."))


class DraftForm(FlaskForm):
    version = StringField(_l("Version label"), validators=[DataRequired(), Length(max=40)])
    validity_months = IntegerField(
        _l("Validity in months"),
        validators=[InputRequired(message=_l("Enter a whole number of months.")),
                    NumberRange(min=1, max=120, message=_l("Enter a number of months from 1 to 120."))])
    retakes_per_day = IntegerField(
        _l("Submissions per client per day"),
        description=_l("Left empty: unchanged."),
        validators=[Optional(),
                    NumberRange(min=1, max=20, message=_l("Enter a number of submissions from 1 to 20."))])
    definition = TextAreaField(
        _l("Definition (JSON)"),
        validators=[DataRequired(), Length(max=DEFINITION_MAX,
                                           message=_l("The definition may have at most %(max)d characters."))])


class PublishForm(FlaskForm):
    """A bare POST with its CSRF token."""


class DraftFieldsForm(FlaskForm):
    """The label and validity of a draft edited as a form (the rest are the editor's own rows of fields)."""

    version = StringField(_l("Version label"), validators=[DataRequired(), Length(max=40)])
    validity_months = IntegerField(
        _l("Validity in months"),
        validators=[InputRequired(message=_l("Enter a whole number of months.")),
                    NumberRange(min=1, max=120, message=_l("Enter a number of months from 1 to 120."))])
