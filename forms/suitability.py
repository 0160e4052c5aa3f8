"""Forms of the service packages, the product catalogue, and suitability records and confirmations."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.rules.tiering import PACKAGES
from portal.rules.vocabulary import RISK_CLASSES, TIERS


def cell_field_name(tier: int, risk_class: str) -> str:
    return f"cell_{tier}_{risk_class}"


class PackageCellsForm(FlaskForm):
    """The twelve cells, each a choice of the three packages (fields added below)."""


for _tier in TIERS:
    for _risk_class in RISK_CLASSES:
        setattr(PackageCellsForm, cell_field_name(_tier, _risk_class),
                SelectField(_l("Service package"), choices=[SelectChoice(code) for code in PACKAGES],
                            validate_choice=True))


class PackageForm(FlaskForm):
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=40)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=40)])
    services_zh = TextAreaField(_l("Services in Chinese, one per line"), render_kw={"rows": 6},
                                validators=[DataRequired(), Length(max=2000)])
    services_en = TextAreaField(_l("Services in English, one per line"), render_kw={"rows": 6},
                                validators=[DataRequired(), Length(max=2000)])


class ProductForm(FlaskForm):
    code = StringField(_l("Product code"), validators=[DataRequired(), Length(max=30)])
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[], validate_choice=True)
    risk_level = SelectField(_l("Risk level"), coerce=int, validate_choice=True,
                             choices=[SelectChoice(n, f"R{n}") for n in (1, 2, 3, 4, 5)])


class RecordForm(FlaskForm):
    product = SelectField(_l("Product"), coerce=int, choices=[], validate_choice=False)
    action = SelectField(_l("What is recorded"), choices=[SelectChoice("recommendation", _l("A recommendation")),
                                                          SelectChoice("subscription", _l("A subscription"))])
    amount = StringField(_l("Amount (CNY, optional)"), validators=[Optional(), Length(max=30)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    extra_care = BooleanField(_l("I have given the extra-care explanation"))
    check = SubmitField(_l("Check suitability"))
    save = SubmitField(_l("Record"))


class ConfirmWarningForm(FlaskForm):
    understood = BooleanField(_l("I have read the special risk warning, I understand the risks, and I still wish "
                                 "to go ahead of my own choice."),
                              validators=[DataRequired(_l("Tick the box to confirm that you have read the "
                                                          "warning."))])


class PaperConfirmationForm(FlaskForm):
    paper_reference = StringField(_l("Reference of the client's signed paper form"),
                                  validators=[DataRequired(), Length(max=60)])


class ToggleForm(FlaskForm):
    """A bare POST with its CSRF token (withdraw a product, offer it again)."""
