"""Queries over client books, shared by the pages and the JSON API."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, or_, select

from models import Branch, Client, Manager, PackageCell, ServicePackage
from portal.collation import by_pinyin
from portal.operations.risk import status_filter
from portal.rules.profile import PROFILE_STATUSES

# A listed client's branch name: one primary-key probe into the small branches table per row shown.
branch_name = select(Branch.name).where(Branch.id == Client.branch_id).correlate(Client).scalar_subquery()

SORTS = {
    "name": Client.name,
    "client_no": Client.client_no,
    "opened_on": Client.opened_on,
    "branch": Client.branch_id,  # grouped by branch along the index, as the book shows one branch's clients together
    "risk": Client.risk_score,
    "valid_until": Client.profile_valid_until,
    "followup_grade": Client.followup_grade,
    "followup_due": Client.followup_due,
    "credit": Client.credit_class,
}


# What a row of the client book shows; plain rows, not ORM objects: a book page is read-only.
BOOK_COLUMNS = (Client.client_no, Client.name, Client.id_number, branch_name.label("branch"), Client.opened_on,
                Client.risk_grade, Client.risk_class, Client.lowest_category, Client.profile_valid_until,
                Client.investor_category, Client.followup_grade, Client.followup_due, Client.credit_class,
                Client.asset_tier)


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
    last = Client.client_no.desc() if descending else Client.client_no.asc()
    if sort not in SORTS or sort == "name":
        return stmt.order_by(*by_pinyin(Client.name, Client.name_pinyin, descending), last)
    column = SORTS[sort]
    return stmt.order_by(column.desc() if descending else column.asc(), last)


def with_service_package(stmt: Select, today: date) -> Select:
    """Add the service package's names (`package_zh`, `package_en`) of each row's cell, in the same query.

    A client has a package when their profile is still valid and they have a tier; the twelve-row
    cell table joins on the indexed copies on the client row, so the page needs no extra round trip.
    """
    return (stmt.add_columns(ServicePackage.name_zh.label("package_zh"), ServicePackage.name_en.label("package_en"))
            .outerjoin(PackageCell, and_(PackageCell.tier == Client.asset_tier,
                                         PackageCell.risk_class == Client.risk_class,
                                         Client.profile_valid_until >= today))
            .outerjoin(ServicePackage, ServicePackage.code == PackageCell.package_code))


def managers_query(team_id: int | None = None) -> Select:
    stmt = select(Manager)
    if team_id is not None:
        stmt = stmt.where(Manager.team_id == team_id)
    return stmt.order_by(Manager.employee_no)
