"""Sign-in, sign-out and language forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(message=_l("Enter your username.")),
                                                      Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")),
                                                        Length(max=128)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Sign-out is a POST with a CSRF token, never a link a third party can trigger."""


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=[SelectChoice("zh_CN", "简体中文"), SelectChoice("en", "English")])
    next = HiddenField()
