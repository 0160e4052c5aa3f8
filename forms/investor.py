"""Professional-investor application and compliance's decision."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

REASON_MAX = 500


class ApplyForm(FlaskForm):
    declaration = BooleanField(
        _l("I declare that the evidence I will provide to the branch is true and complete, and I understand "
           "that professional investors receive less protection under the suitability rules."),
        validators=[DataRequired(message=_l("Please tick the declaration to apply."))])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("approve", _l("Approve: the client becomes a professional investor")),
        SelectChoice("reject", _l("Reject: the client stays an ordinary investor")),
    ], validators=[DataRequired(message=_l("Choose approve or reject."))])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Give the reason for the decision.")),
        Length(max=REASON_MAX, message=_l("The reason may have at most %(max)d characters."))])
