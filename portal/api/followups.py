"""Follow-ups over the API: a client's history and logging one."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import allow, client_or_404
from portal.api import ApiInputError, bp, envelope, json_response
from portal.operations.followups import history_query, log_followup, parse_date
from portal.unit_of_work import unit_of_work


def followup_json(entry) -> dict:
    return {
        "id": entry.id,
        "date": entry.logged_on.isoformat(),
        "channel": entry.channel,
        "note": entry.note,
        "grade": entry.grade,
        "next_due": entry.next_due.isoformat(),
        "logged_by": entry.logged_by.username if entry.logged_by else None,
        "created_at": entry.created_at.isoformat(),
    }


@bp.get("/clients/<client_no>/follow-ups")
@allow("rm", "supervisor", "compliance", "admin")
def follow_ups(client_no: str):
    client = client_or_404(client_no)
    return envelope(history_query(client), followup_json)


@bp.post("/clients/<client_no>/follow-ups")
@allow("rm")
def log_follow_up(client_no: str):
    """`{"date", "channel", "note", "grade"}` → 201 with the entry and its next_due."""
    client = client_or_404(client_no)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiInputError(_('The body must be {"date", "channel", "note", "grade"}.'))
    with unit_of_work():
        entry = log_followup(client, logged_on=parse_date(body.get("date")), channel=body.get("channel"),
                             note=body.get("note"), grade=body.get("grade"), by_user=current_user)
        # The answer is built before the commit: once committed, re-reading the expired objects could fail
        # on a lost connection and tell the caller to retry a write that is already stored.
        return json_response({"client_no": client.client_no, **followup_json(entry)}, 201)
