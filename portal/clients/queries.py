"""Queries over client books, shared by the pages and the JSON API."""
from __future__ import annotations

from sqlalchemy import Select, or_, select

from models import Client, Manager
from portal.operations.risk import PROFILE_STATUSES, status_filter

SORTS = {
    "name": Client.name,
    "client_no": Client.client_no,
    "opened_on": Client.opened_on,
    "branch": Client.branch,
    "risk": Client.risk_score,
    "valid_until": Client.profile_valid_until,
    "followup_grade": Client.followup_grade,
    "followup_due": Client.followup_due,
    "credit": Client.credit_class,
}


# What a row of the client book shows; plain rows, not ORM objects: a book page is read-only.
BOOK_COLUMNS = (Client.client_no, Client.name, Client.id_number, Client.branch, Client.opened_on,
                Client.risk_grade, Client.risk_class, Client.lowest_category, Client.profile_valid_until,
                Client.investor_category, Client.followup_grade, Client.followup_due, Client.credit_class)


def book_query(manager_id: int | None = None, q: str | None = None, sort: str = "name",
               descending: bool = False, columns=None, profile: str | None = None) -> Select:
    """Clients (optionally one manager's book) filtered by name or number, sorted stably.

    Selects Client entities, or the given `columns` (e.g. BOOK_COLUMNS) as plain rows; `profile`
    narrows to one profile status (valid / expiring / expired / none).
    """
    stmt = select(*columns) if columns else select(Client)
    if manager_id is not None:
        stmt = stmt.where(Client.manager_id == manager_id)
    q = (q or "").strip()
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(Client.client_no.like(f"{escaped}%", escape="\\"),
                              Client.name.like(f"%{escaped}%", escape="\\"),
                              Client.name_pinyin.ilike(f"%{escaped}%", escape="\\")))
    if profile in PROFILE_STATUSES:
        stmt = stmt.where(status_filter(profile))
    column = SORTS.get(sort, Client.name)
    order = column.desc() if descending else column.asc()
    return stmt.order_by(order, Client.client_no.desc() if descending else Client.client_no.asc())


def managers_query(team_id: int | None = None) -> Select:
    stmt = select(Manager)
    if team_id is not None:
        stmt = stmt.where(Manager.team_id == team_id)
    return stmt.order_by(Manager.employee_no)
