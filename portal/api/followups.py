"""Follow-ups over the API: a client's history and logging one."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ConfigDict, Field

from models.followups import FOLLOWUP_CHANNELS, NOTE_MAX
from portal.access import allow, client_or_404
from portal.api import Paged, bp, envelope
from portal.api.spec import (
    Answer,
    Body,
    Day,
    Timestamp,
    described,
    operation,
    page_of,
    parsed_by,
    read_body,
    read_query,
    respond,
)
from portal.operations.followups import history_query, log_followup, parse_date
from portal.rules.followup import GRADES
from portal.unit_of_work import unit_of_work


class FollowUp(Answer):
    id: int
    client_no: str = None
    date: Day
    channel: Literal[FOLLOWUP_CHANNELS]
    note: str | None = Field(max_length=NOTE_MAX)
    grade: Literal[GRADES]
    next_due: Day
    logged_by: str | None
    created_at: Timestamp


LoggedOn = Annotated[date, *parsed_by(parse_date, {"type": "string", "format": "date",
                                                   "description": "not in the future"})]


class FollowUpEntry(Body):
    """The date is read here; the channel, grade and note are checked by the follow-up rules the page uses."""

    model_config = ConfigDict(json_schema_extra={"required": ["date", "channel", "grade"]})
    date: LoggedOn = Field(None, validate_default=True)
    channel: Annotated[Any, described({"type": "string", "enum": list(FOLLOWUP_CHANNELS)})] = None
    note: Annotated[Any, described({"type": "string", "maxLength": NOTE_MAX})] = None
    grade: Annotated[Any, described({"type": "string", "enum": list(GRADES)})] = None
    shape = (lambda: _('The body must be {"date", "channel", "note", "grade"}.'), None, "invalid")


def followup_json(entry) -> dict:
    return {
        "id": entry.id,
        "date": entry.logged_on,
        "channel": entry.channel,
        "note": entry.note,
        "grade": entry.grade,
        "next_due": entry.next_due,
        "logged_by": entry.logged_by.username if entry.logged_by else None,
        "created_at": entry.created_at,
    }


@bp.get("/clients/<client_no>/follow-ups")
@allow("rm", "supervisor", "compliance", "admin")
@operation("A client's follow-ups, newest first", query=Paged, answer=page_of(FollowUp), errors=(400, 401, 403, 404))
def follow_ups(client_no: str):
    client = client_or_404(client_no)
    return envelope(history_query(client), followup_json, FollowUp, read_query(Paged))


@bp.post("/clients/<client_no>/follow-ups")
@allow("rm")
@operation("Log a follow-up (the client's manager); the new grade's cadence sets next_due", body=FollowUpEntry,
           answer=FollowUp, status=201, answered="Logged", errors=(400, 401, 403, 404))
def log_follow_up(client_no: str):
    """`{"date", "channel", "note", "grade"}` → 201 with the entry and its next_due."""
    client = client_or_404(client_no)
    entry = read_body(FollowUpEntry)
    with unit_of_work():
        logged = log_followup(client, logged_on=entry.date, channel=entry.channel, note=entry.note,
                              grade=entry.grade, by_user=current_user)
        # The answer is built before the commit: once committed, re-reading the expired objects could fail
        # on a lost connection and tell the caller to retry a write that is already stored.
        return respond(FollowUp, {"client_no": client.client_no, **followup_json(logged)}, 201)
