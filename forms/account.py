"""The account page's reminder settings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional


class ReminderSettingsForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[Optional(), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "email", "inputmode": "email"})
    reminders = BooleanField(_l("Send me reminders by e-mail"))
