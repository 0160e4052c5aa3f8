"""Forms of the risk questionnaire: one step of answers, the review, confirmations."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

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


# Hidden fields are given an (empty) label: without one WTForms translates a label made from the field's name,
# which loads WTForms' catalog from disk in every request that builds the form.
class StepForm(FlaskForm):
    """One indicator group's questions; the answer fields are added per step by `step_form`."""

    version_id = IntegerField("", widget=HiddenInput(), validators=[InputRequired()])

    def answer_fields(self):
        """(question id, field) for every question of the step, in order."""
        return [(name[len(ANSWER_PREFIX):], field) for name, field in self._fields.items()
                if name.startswith(ANSWER_PREFIX)]


def step_form(questions: Iterable, locale: str, **kwargs) -> StepForm:
    """A StepForm with one radio field per question, options in their stored order."""
    spec = tuple((question.id, question.text.get(locale),
                  tuple((option.id, option.text.get(locale)) for option in question.options))
                 for question in questions)
    return _step_form_class(spec)(**kwargs)


@lru_cache(maxsize=256)
def _step_form_class(spec: tuple) -> type[StepForm]:
    """The form class of one step's questions in one language (built once: every client answers the same)."""

    class Form(StepForm):
        pass

    for question_id, text, options in spec:
        option_ids = frozenset(option_id for option_id, _text in options)
        setattr(Form, answer_field_name(question_id), RadioField(
            text,
            choices=[SelectChoice(option_id, option_text) for option_id, option_text in options],
            validate_choice=False,  # our own message, beside the question
            validators=[InputRequired(message=_l("Please choose an answer to this question.")), _one_of(option_ids)],
        ))
    return Form


class ReviewForm(FlaskForm):
    """The review page's submit: the version answered and the one-time token of this form."""

    version_id = IntegerField("", widget=HiddenInput(), validators=[InputRequired()])
    submission_token = HiddenField("", validators=[InputRequired(), Length(min=16, max=64)])


class RestartForm(FlaskForm):
    """Discard the answers given so far (a bare POST with its CSRF token)."""


class ConfirmForm(FlaskForm):
    """The client confirms an assessment their manager entered with them (a bare POST)."""


class PaperConfirmationForm(FlaskForm):
    paper_reference = StringField(_l("Reference of the signed paper form"),
                                  validators=[DataRequired(), Length(max=60)])
