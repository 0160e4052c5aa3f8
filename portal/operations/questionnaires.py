"""Questionnaire versions: draft a copy of the active one, edit it, publish it, load one from a file.

A version that is active or retired is read-only: submissions point at it, so changing it would
change what a past client was asked. Every change writes its audit row and flushes; the caller commits.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import QuestionnaireVersion, db, utcnow
from portal.audit import record
from portal.operations.errors import OperationError
from portal.operations.risk import active_version
from portal.rules import questionnaire as rules
from portal.rules.profile import RETAKES_PER_DAY_MAX, VALIDITY_MONTHS_MAX

VERSION_LABEL_MAX = 40


def draft_version() -> QuestionnaireVersion | None:
    """The draft being edited, if any (the editor keeps at most one)."""
    return db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "draft")
                             .order_by(QuestionnaireVersion.id).limit(1))


def question_count(version: QuestionnaireVersion) -> int:
    """Number of questions in a stored definition (0 when it is not a list)."""
    questions = (version.definition or {}).get("questions") if isinstance(version.definition, dict) else None
    return len(questions) if isinstance(questions, list) else 0


def _summary(version: QuestionnaireVersion) -> dict[str, Any]:
    # A digest rather than the whole definition: the version row itself keeps the text.
    raw = json.dumps(version.definition, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return {"version": version.version, "status": version.status, "validity_months": version.validity_months,
            "retakes_per_day": version.retakes_per_day, "questions": question_count(version),
            "sha256": hashlib.sha256(raw).hexdigest()}


def _check_label(label: str | None, exclude_id: int | None = None) -> str:
    label = (label or "").strip()
    if not label:
        raise OperationError(_("Enter a version label, e.g. 2026.2."), field="version")
    if len(label) > VERSION_LABEL_MAX:
        raise OperationError(_("The version label may have at most %(n)d characters.", n=VERSION_LABEL_MAX),
                             field="version")
    stmt = select(QuestionnaireVersion.id).where(func.lower(QuestionnaireVersion.version) == label.lower())
    if exclude_id is not None:
        stmt = stmt.where(QuestionnaireVersion.id != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise OperationError(_("Version %(label)s already exists; choose another label.", label=label),
                             field="version", code="duplicate_version")
    return label


def _check_months(months: Any) -> int:
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= VALIDITY_MONTHS_MAX:
        raise OperationError(_("Validity must be a whole number of months from 1 to %(max)d.",
                               max=VALIDITY_MONTHS_MAX), field="validity_months")
    return months


def _check_retakes(retakes: Any) -> int:
    if isinstance(retakes, bool) or not isinstance(retakes, int) or not 1 <= retakes <= RETAKES_PER_DAY_MAX:
        raise OperationError(_("Submissions per day must be a whole number from 1 to %(max)d.",
                               max=RETAKES_PER_DAY_MAX), field="retakes_per_day")
    return retakes


def definition_field(error: rules.DefinitionError) -> str:
    """The form field a DefinitionError belongs to: its message starts with the place it found the fault."""
    message = str(error)
    if message.startswith("version:"):
        return "version"
    if message.startswith("validity_months:"):
        return "validity_months"
    return "definition"


def validated(data: Any, label: str, months: int) -> dict[str, Any]:
    """The definition with this label and validity, checked by the rules, in its normal dict form.

    Raises OperationError naming the field at fault, with the rules' own explanation.
    """
    if not isinstance(data, Mapping):
        raise OperationError(_("The definition must be a JSON object ({...})."), field="definition")
    data = dict(data)  # shallow: only the two top-level keys below change, and the rules never mutate
    data["version"], data["validity_months"] = label, months  # the separate fields are the truth
    try:
        definition = rules.load_definition(data)
    except rules.DefinitionError as error:
        raise OperationError(_("The questionnaire is not valid: %(error)s", error=str(error)),
                             field=definition_field(error), code="invalid_definition") from None
    normal = rules.definition_to_dict(definition)
    where = _control_character(normal)
    if where:
        raise OperationError(_("%(where)s: contains a control character; remove it.", where=where),
                             field="definition", code="invalid_definition")
    return normal


def _control_character(value: Any, where: str = "definition") -> str | None:
    """Where a text holds a C0 control character (other than tab and newline), or None."""
    if isinstance(value, str):
        return where if any(ord(ch) < 32 and ch not in "\t\n\r" or ch == "\x7f" for ch in value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        found = _control_character(item, f"{where}{key}" if str(key).startswith("[") else f"{where}.{key}")
        if found:
            return found
    return None


def _require_draft(version: QuestionnaireVersion) -> None:
    if version.status != "draft":
        raise OperationError(_("Version %(label)s has been published and can no longer be changed: submissions "
                               "refer to it. Create a new draft to make changes.", label=version.version),
                             code="not_draft")


def create_draft(label: str, user) -> QuestionnaireVersion:
    """A draft copy of the active version under a new label (refused while another draft exists)."""
    existing = draft_version()
    if existing is not None:
        raise OperationError(_("Draft %(label)s already exists; edit or publish it first.", label=existing.version),
                             code="draft_exists")
    label = _check_label(label)
    active = active_version()
    definition = copy.deepcopy(active.definition)
    definition["version"] = label
    draft = QuestionnaireVersion(version=label, status="draft", definition=definition,
                                 validity_months=active.validity_months, based_on_id=active.id,
                                 retakes_per_day=active.retakes_per_day,
                                 created_at=utcnow(), created_by_id=getattr(user, "id", None))
    db.session.add(draft)
    _flush_version()
    record("questionnaire.draft", "questionnaire_version", draft.version, before={"based_on": active.version},
           after=_summary(draft), actor=user)
    db.session.flush()
    return draft


def save_draft(version: QuestionnaireVersion, data: Any, label: str, validity_months: Any,
               user, retakes_per_day: Any = None) -> QuestionnaireVersion:
    """Replace a draft's definition, label, validity and daily submission limit (kept when None) after the rules
    accept them; nothing changes otherwise."""
    _require_draft(version)
    label = _check_label(label, exclude_id=version.id)
    months = _check_months(validity_months)
    retakes = version.retakes_per_day if retakes_per_day is None else _check_retakes(retakes_per_day)
    definition = validated(data, label, months)
    before = _summary(version)
    version.version, version.validity_months, version.definition = label, months, definition
    version.retakes_per_day = retakes
    _flush_version()
    record("questionnaire.save", "questionnaire_version", version.version, before=before, after=_summary(version),
           actor=user)
    db.session.flush()
    return version


def publish(version: QuestionnaireVersion, user) -> QuestionnaireVersion | None:
    """Make a draft the active version and retire the one it replaces; returns the retired version."""
    _require_draft(version)
    validated(version.definition, version.version, version.validity_months)
    # Lock the active row so that two publishes in parallel queue instead of racing.
    previous = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active")
                                 .with_for_update())
    if previous is not None:
        previous.status = "retired"
        _flush_version()  # first: the partial unique index allows one active row at any moment
    version.status = "active"
    version.published_at = utcnow()
    version.published_by_id = getattr(user, "id", None)
    _flush_version()
    record("questionnaire.publish", "questionnaire_version", version.version,
           before={"active": previous.version if previous else None, "status": "draft"},
           after={"active": version.version, "retired": previous.version if previous else None,
                  **_summary(version)}, actor=user)
    db.session.flush()
    return previous


def load_version(data: Any, user=None, *, publish_now: bool = False, source: str | None = None) -> QuestionnaireVersion:
    """Store a definition (e.g. read from data/questionnaire/*.json) as a new draft, or publish it at once."""
    if not isinstance(data, Mapping):
        raise OperationError(_("The definition must be a JSON object ({...})."), field="definition")
    if not publish_now and draft_version() is not None:
        raise OperationError(_("Draft %(label)s already exists; edit or publish it first.",
                               label=draft_version().version), code="draft_exists")
    label = data.get("version")
    label = _check_label(label if isinstance(label, str) else "")
    months = data.get("validity_months")
    try:
        rules.load_definition(data)  # the file's own faults first, in the rules' words
    except rules.DefinitionError as error:
        raise OperationError(_("The questionnaire is not valid: %(error)s", error=str(error)),
                             field=definition_field(error), code="invalid_definition") from None
    months = _check_months(months)
    version = QuestionnaireVersion(version=label, status="draft", definition=validated(data, label, months),
                                   validity_months=months, created_at=utcnow(),
                                   created_by_id=getattr(user, "id", None))
    db.session.add(version)
    _flush_version()
    record("questionnaire.load", "questionnaire_version", version.version, after={**_summary(version),
                                                                                  "source": source}, actor=user)
    db.session.flush()
    if publish_now:
        publish(version, user)
    return version


def _flush_version() -> None:
    try:
        db.session.flush()
    except IntegrityError:  # another administrator changed the versions at the same moment
        db.session.rollback()
        raise OperationError(_("Another change to the questionnaire versions was saved at the same moment. "
                               "Please reload and try again."), code="conflict") from None
