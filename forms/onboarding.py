"""The onboarding upload: branches, the staff roster or the client master, as CSV or XLSX."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class OnboardingImportForm(FlaskForm):
    kind = RadioField(_l("The file holds"), choices=[
        SelectChoice("branches", _l("Branches (code, name, name_en, city)")),
        SelectChoice("staff", _l("The staff roster (one row per person)")),
        SelectChoice("clients", _l("The client master (one row per client)")),
    ], default="staff", validators=[DataRequired(message=_l("Choose what the file holds."))])
    file = FileField(_l("CSV or XLSX file"), validators=[
        FileRequired(message=_l("Choose a CSV or XLSX file to import.")),
        FileAllowed(["csv", "xlsx"], message=_l("Only .csv and .xlsx files can be imported."))])
    dry_run = BooleanField(_l("Check only: count what would change and write nothing"))
    reassign_to = StringField(_l("Staff roster: move the clients of everyone leaving whose row names no "
                                 "reassign_to to (employee number)"),
                              validators=[Optional(), Length(max=20)])
