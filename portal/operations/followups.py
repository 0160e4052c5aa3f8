"""Follow-ups: log a contact with a client and set the client's grade and next due date."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from models import Client, FollowupLog, db
from models.followups import FOLLOWUP_CHANNELS, NOTE_MAX
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import followup as rules
from portal.rules.calendar import business_today


def parse_date(raw, field: str = "date") -> date:
    """A YYYY-MM-DD date from a form or JSON body."""
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        raise OperationError(_("Enter the date of the follow-up (YYYY-MM-DD)."), field, "invalid_date")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise OperationError(_("The date must be written YYYY-MM-DD."), field, "invalid_date") from None


def log_followup(client: Client, *, logged_on: date, channel: str, note: str | None, grade: str, by_user,
                 today: date | None = None) -> FollowupLog:
    """Append a follow-up and move the client's grade and due date on by the new grade's cadence.

    Raises OperationError (field = date / channel / grade / note) for input the manager can correct.
    """
    today = today or business_today()
    if logged_on > today:
        raise OperationError(_("A follow-up cannot be dated in the future (today is %(today)s).",
                               today=today.isoformat()), "date", "future_date")
    if logged_on < today - timedelta(days=366):
        raise OperationError(_("A follow-up can be logged at most a year back."), "date", "invalid_date")
    if not isinstance(grade, str) or grade not in rules.GRADES:
        raise OperationError(_("The grade must be one of A, B, C, D or E."), "grade", "unknown_grade")
    if not isinstance(channel, str) or channel not in FOLLOWUP_CHANNELS:
        raise OperationError(_("The channel must be phone, visit, WeChat, email or meeting."), "channel",
                             "unknown_channel")
    if note is not None and not isinstance(note, str):
        raise OperationError(_("The note must be text."), "note")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise OperationError(_("The note may have at most %(n)d characters.", n=NOTE_MAX), "note", "note_too_long")
    due = rules.next_due(grade, logged_on)
    entry = FollowupLog(client_id=client.id, logged_on=logged_on, channel=channel, note=note, grade=grade,
                        next_due=due, logged_by_id=by_user.id if by_user is not None else None)
    latest = db.session.scalar(select(func.max(FollowupLog.logged_on)).where(FollowupLog.client_id == client.id))
    db.session.add(entry)
    before = {"grade": client.followup_grade, "due": client.followup_due}
    # A back-dated entry older than the latest one is history only: the latest contact sets the cadence.
    if latest is None or logged_on >= latest:
        client.followup_grade, client.followup_due = grade, due
    db.session.flush()
    record("followup.log", "client", client.client_no, before=before,
           after={"log": entry.id, "logged_on": logged_on, "channel": channel, "grade": grade, "next_due": due,
                  "client_grade": client.followup_grade, "client_due": client.followup_due})
    return entry


def history_query(client: Client) -> Select:
    """A client's follow-ups, newest first."""
    return (select(FollowupLog).where(FollowupLog.client_id == client.id)
            .order_by(FollowupLog.logged_on.desc(), FollowupLog.id.desc()))


DASHBOARD_LIMIT = 200


def dashboard(manager_id: int, today: date | None = None, limit: int = DASHBOARD_LIMIT) -> dict:
    """The manager's overdue (oldest first), due today and due this week clients, with counts.

    Each list is bounded (`limit`); the counts are exact. Reads the (manager_id, followup_due) index.
    """
    today = today or business_today()
    week_end = today + timedelta(days=rules.THIS_WEEK_DAYS)
    columns = (Client.client_no, Client.name, Client.phone, Client.followup_grade, Client.followup_due)
    base = select(*columns).where(Client.manager_id == manager_id)
    due = Client.followup_due
    windows = {"overdue": due < today, "today": due == today,
               "this_week": (due > today) & (due <= week_end)}
    result = {}
    for name, condition in windows.items():
        rows = db.session.execute(base.where(condition).order_by(due, Client.client_no).limit(limit)).all()
        result[name] = rows
    counts = db.session.execute(
        select(func.count().filter(due < today), func.count().filter(due == today),
               func.count().filter((due > today) & (due <= week_end)), func.count().filter(due.is_(None)))
        .select_from(Client).where(Client.manager_id == manager_id)).one()
    result["counts"] = dict(zip(("overdue", "today", "this_week", "ungraded"), counts))
    return result


def due_for_calendar(manager_id: int, today: date | None = None, days: int = 90) -> list:
    """Clients with a follow-up due up to `days` ahead (overdue included), for the .ics export."""
    today = today or business_today()
    return db.session.execute(
        select(Client.client_no, Client.name, Client.followup_grade, Client.followup_due)
        .where(Client.manager_id == manager_id, Client.followup_due.is_not(None),
               Client.followup_due <= today + timedelta(days=days))
        .order_by(Client.followup_due, Client.client_no).limit(5000)).all()
