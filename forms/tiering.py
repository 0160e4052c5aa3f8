"""Asset and revenue upload, and a new version of the tier thresholds."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class ImportForm(FlaskForm):
    kind = RadioField(_l("The file holds"), choices=[
        SelectChoice("assets", _l("Asset snapshots (one row per client and statistics date)")),
        SelectChoice("revenue", _l("Monthly revenue (one row per client and month)")),
    ], default="assets", validators=[DataRequired(message=_l("Choose what the file holds."))])
    file = FileField(_l("CSV or XLSX file"), validators=[
        FileRequired(message=_l("Choose a CSV or XLSX file to import.")),
        FileAllowed(["csv", "xlsx"], message=_l("Only .csv and .xlsx files can be imported."))])


def _amount(label):
    return StringField(label, validators=[DataRequired(message=_l("Enter an amount (0 for none).")),
                                          Length(max=30)])


class ThresholdForm(FlaskForm):
    """Four tiers × two measures; amounts in yuan are parsed and checked by the operation."""

    tier1_assets = _amount(_l("Tier 1: total assets from"))
    tier1_contribution = _amount(_l("Tier 1: or contribution over 12 months from"))
    tier2_assets = _amount(_l("Tier 2: total assets from"))
    tier2_contribution = _amount(_l("Tier 2: or contribution over 12 months from"))
    tier3_assets = _amount(_l("Tier 3: total assets from"))
    tier3_contribution = _amount(_l("Tier 3: or contribution over 12 months from"))
    tier4_assets = _amount(_l("Tier 4: total assets from"))
    tier4_contribution = _amount(_l("Tier 4: or contribution over 12 months from"))
    note = StringField(_l("Note: why this change (kept with the version)"), validators=[Optional(), Length(max=200)])
