"""Forms of the level ladder (weights, bands, rules), eligibility, nominations, decisions and compliance flags."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.operations.ladder import MAX_EVALUATIONS, MAX_MONTHS, NOTE_MAX, THRESHOLD_FIELDS, TRANSITIONS
from portal.operations.promotions import NOTE_MAX as FLAG_NOTE_MAX
from portal.operations.promotions import REASON_MAX
from portal.rules.evaluation import BAND_CODES, DIMENSIONS
from portal.rules.vocabulary import LEVELS

WEIGHT_MESSAGE = _l("Each weight is a whole number from 0 to 100.")
THRESHOLD_MESSAGE = _l("Enter a number from 0 to 100 with at most two decimals.")
EVALUATIONS_MESSAGE = _l("Evaluations considered is a whole number from 1 to %(n)d.", n=MAX_EVALUATIONS)
MONTHS_MESSAGE = _l("Months in level is a whole number from 0 to %(n)d, or blank for none.", n=MAX_MONTHS)


def _threshold(label, required: bool = False) -> DecimalField:
    presence = InputRequired(message=THRESHOLD_MESSAGE) if required else Optional()
    return DecimalField(label, places=2, validators=[presence, NumberRange(0, 100, message=THRESHOLD_MESSAGE)])


class WeightsForm(FlaskForm):
    """Four weights per level (fields `<level>_<dimension>`), the bands' lowest totals (`band_<code>`), a note."""

    note = StringField(_l("Note (why the change)"), validators=[Optional(), Length(max=NOTE_MAX)])


for _level in LEVELS:
    for _dimension in DIMENSIONS:
        setattr(WeightsForm, f"{_level}_{_dimension}", IntegerField(
            _dimension, validators=[InputRequired(message=WEIGHT_MESSAGE),
                                    NumberRange(0, 100, message=WEIGHT_MESSAGE)]))
for _code in BAND_CODES[:-1]:
    setattr(WeightsForm, f"band_{_code}", _threshold(_code, required=True))


class RulesForm(FlaskForm):
    """One group of fields per transition (`<from_level>_<field>`) and the demotion rule (`demotion_<field>`)."""

    demotion_evaluations = IntegerField(_l("Evaluations considered"), validators=[
        InputRequired(message=EVALUATIONS_MESSAGE), NumberRange(1, MAX_EVALUATIONS, message=EVALUATIONS_MESSAGE)])
    demotion_each_total_below = _threshold(_l("Each total below"), required=True)
    note = StringField(_l("Note (why the change)"), validators=[Optional(), Length(max=NOTE_MAX)])


RULE_FIELD_LABELS = {
    "min_months": _l("Months in level, at least"),
    "evaluations": _l("Evaluations considered (the latest)"),
    "each_total_at_least": _l("Each total, at least"),
    "mean_total_at_least": _l("Mean total, at least"),
    "min_dimension": _l("No dimension below"),
    "each_kpi_at_least": _l("KPI in each, at least"),
    "team_at_least": _l("Team contribution in each, at least"),
    "no_open_compliance_flag": _l("No open compliance flag"),
}

for _from_level, _to_level in TRANSITIONS:
    setattr(RulesForm, f"{_from_level}_min_months", IntegerField(
        RULE_FIELD_LABELS["min_months"], validators=[Optional(), NumberRange(0, MAX_MONTHS, message=MONTHS_MESSAGE)]))
    setattr(RulesForm, f"{_from_level}_evaluations", IntegerField(
        RULE_FIELD_LABELS["evaluations"], validators=[InputRequired(message=EVALUATIONS_MESSAGE),
                                                      NumberRange(1, MAX_EVALUATIONS, message=EVALUATIONS_MESSAGE)]))
    for _name in THRESHOLD_FIELDS:
        setattr(RulesForm, f"{_from_level}_{_name}", _threshold(RULE_FIELD_LABELS[_name]))
    setattr(RulesForm, f"{_from_level}_no_open_compliance_flag",
            BooleanField(RULE_FIELD_LABELS["no_open_compliance_flag"]))


class RerunForm(FlaskForm):
    """Run the engine for one manager now (a bare POST with its CSRF token)."""


class NominationForm(FlaskForm):
    recommendation_id = HiddenField()
    reason = TextAreaField(_l("Reason for the nomination"), validators=[
        DataRequired(message=_l("Give the reason.")),
        Length(max=REASON_MAX, message=_l("The reason may have at most %(max)d characters."))])


class DecisionForm(FlaskForm):
    nomination_id = HiddenField()
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("approve", _l("Approve: the level changes on the effective date")),
        SelectChoice("reject", _l("Reject: the level stays")),
    ], validators=[DataRequired(message=_l("Choose approve or reject."))])
    effective_date = DateField(_l("Effective date"), validators=[Optional()])
    reason = TextAreaField(_l("Reason for the decision"), validators=[
        DataRequired(message=_l("Give the reason.")),
        Length(max=REASON_MAX, message=_l("The reason may have at most %(max)d characters."))])


class FlagForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[
        SelectChoice("conduct_breach", _l("Conduct breach")),
        SelectChoice("client_complaint", _l("Client complaint under review")),
        SelectChoice("regulatory_inquiry", _l("Regulatory inquiry")), SelectChoice("other", _l("Other")),
    ], validate_choice=True)
    note = TextAreaField(_l("Note"), validators=[
        DataRequired(message=_l("Describe what the flag is about.")),
        Length(max=FLAG_NOTE_MAX, message=_l("The note may have at most %(max)d characters."))])


class CloseFlagForm(FlaskForm):
    flag_id = HiddenField()
    note = StringField(_l("Closing note"), validators=[Optional(), Length(max=FLAG_NOTE_MAX)])
