"""Forms over client books."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional


class ReassignForm(FlaskForm):
    to_manager = SelectField(_l("New manager"), choices=[], validate_choice=True)
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
