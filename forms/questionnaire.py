"""Forms of the risk questionnaire: one step of answers, the review, confirmations."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

ANSWER_PREFIX = "answer-"


def answer_field_name(question_id: str) -> str:
    """The form field of a question: prefixed, so no question id can shadow a form attribute."""
    return ANSWER_PREFIX + question_id


def _one_of(option_ids: frozenset[str]):
    def check(form, field):
        if field.data not in option_ids:
            raise ValidationError(_l("Please choose one of the answers offered."))
    return check


class StepForm(FlaskForm):
    """One indicator group's questions; the answer fields are added per step by `step_form`."""

    version_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def answer_fields(self):
        """(question id, field) for every question of the step, in order."""
        return [(name[len(ANSWER_PREFIX):], field) for name, field in self._fields.items()
                if name.startswith(ANSWER_PREFIX)]


def step_form(questions: Iterable, locale: str, **kwargs) -> StepForm:
    """A StepForm with one radio field per question, options in their stored order."""

    class Form(StepForm):
        pass

    for question in questions:
        option_ids = frozenset(option.id for option in question.options)
        setattr(Form, answer_field_name(question.id), RadioField(
            question.text.get(locale),
            choices=[SelectChoice(option.id, option.text.get(locale)) for option in question.options],
            validate_choice=False,  # our own message, beside the question
            validators=[InputRequired(message=_l("Please choose an answer to this question.")), _one_of(option_ids)],
        ))
    return Form(**kwargs)


class ReviewForm(FlaskForm):
    """The review page's submit: the version answered and the one-time token of this form."""

    version_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submission_token = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])


class RestartForm(FlaskForm):
    """Discard the answers given so far (a bare POST with its CSRF token)."""


class ConfirmForm(FlaskForm):
    """The client confirms an assessment their manager entered with them (a bare POST)."""


class PaperConfirmationForm(FlaskForm):
    paper_reference = StringField(_l("Reference of the signed paper form"),
                                  validators=[DataRequired(), Length(max=60)])
