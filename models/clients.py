"""Clients of the broker and the history of who manages them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    and_,
    case,
    or_,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.branches import Branch
from models.people import Manager, User
from models.types import UTCDateTime


def mask_id_number(number: str | None) -> str:
    """`110101199001011234` → `1101**********1234`: first four and last four kept."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 2) + number[-1:] if len(number) > 2 else "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# copies_since(), as the key of ix_clients_as_of; written as PostgreSQL prints an index's expression back (less
# its ::date), so that comparing the migrated schema with the models finds them equal.
COPIES_SINCE_INDEX = ("(\nCASE\n"
                      "    WHEN tier_date IS NULL OR profile_id IS NOT NULL AND profile_effective_on IS NULL"
                      " THEN '9999-12-31'\n"
                      "    WHEN profile_effective_on > tier_date THEN profile_effective_on\n"
                      "    ELSE tier_date\n"
                      "END)")


class Client(db.Model):
    __tablename__ = "clients"
    __table_args__ = (
        # The client book pages filter by manager and sort by name or number.
        Index("ix_clients_manager_name", "manager_id", "name"),
        Index("ix_clients_manager_client_no", "manager_id", "client_no"),
        Index("ix_clients_branch", "branch_id"),
        Index("ix_clients_manager_valid_until", "manager_id", "profile_valid_until"),
        Index("ix_clients_risk_score", "risk_score"),
        Index("ix_clients_manager_followup_due", "manager_id", "followup_due"),
        # A book's (or a team's) tier × risk class grid, shown atop the book: an index-only scan of the book
        # rather than one heap page per client (a manager's clients are scattered across the table).
        Index("ix_clients_manager_grid", "manager_id", "asset_tier", "risk_class", "profile_valid_until",
              postgresql_include=["total_assets"]),
        # The suitability matrix counts every client by these: an index-only scan instead of the wide heap.
        Index("ix_clients_matrix", "asset_tier", "risk_class", "profile_valid_until", "total_assets"),
        # The matrix as of a past date (portal/compliance/queries.py, AsOf.copies_hold): the clients whose copies
        # stand for that day (most of them at a recent month-end) are a range of this index, counted from it alone;
        # the few others, the range after it, probe the histories.
        Index("ix_clients_as_of", text(COPIES_SINCE_INDEX),
              postgresql_include=["tier_date", "profile_effective_on", "profile_id", "id", "opened_on", "asset_tier",
                                  "risk_class", "profile_valid_until", "total_assets"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_pinyin: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    id_type: Mapped[str] = mapped_column(String(20), default="resident_id")
    id_number: Mapped[str] = mapped_column(String(40))
    sex: Mapped[str | None] = mapped_column(String(1))  # M or F; the resident ID number agrees with it
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    opened_on: Mapped[date] = mapped_column(Date)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The profile in force now, copied from risk_profiles when it takes effect, so that books and
    # counts filter on indexed columns; the history stays in risk_profiles.
    # No foreign key: risk_profiles refers to clients, and bulk loads write both sides in one pass.
    profile_id: Mapped[int | None] = mapped_column()
    risk_score: Mapped[int | None] = mapped_column()
    risk_grade: Mapped[str | None] = mapped_column(String(2))
    risk_class: Mapped[str | None] = mapped_column(String(12))
    lowest_category: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    profile_valid_until: Mapped[date | None] = mapped_column(Date)
    # The date the profile in force took effect: a matrix as of a past date reads the copies above for the
    # clients whose profile took effect by then, and probes risk_profiles only for the others.
    profile_effective_on: Mapped[date | None] = mapped_column(Date)
    investor_category: Mapped[str] = mapped_column(String(12), default="ordinary", server_default="ordinary")
    # The latest follow-up's grade and due date (null until first graded); history in followup_logs.
    followup_grade: Mapped[str | None] = mapped_column(String(1))
    followup_due: Mapped[date | None] = mapped_column(Date)
    # The final class of the latest credit screening, for the book; history in credit_screenings.
    credit_class: Mapped[str | None] = mapped_column(String(10))
    # The newest tier (client_tiers holds the history): null until the first asset snapshot.
    asset_tier: Mapped[int | None] = mapped_column(SmallInteger)
    total_assets: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    contribution_12m: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    tier_date: Mapped[date | None] = mapped_column(Date)
    # The account's closing date; once closed, personal data may be anonymised (suitability and audit
    # records are kept untouched, portal/operations/retention.py).
    closed_on: Mapped[date | None] = mapped_column(Date)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    manager: Mapped[Manager | None] = relationship()
    branch: Mapped[Branch] = relationship()

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)


# A date after every business date: the copies on the client row stand for no past day.
COPIES_NEVER = "9999-12-31"


def copies_since(client=Client):
    """SQL: the first day on which the copies on the client row are the client's tier and profile on that day.

    The later of the newest tier's statistics date and the in-force profile's effective date (the copies are the
    newest history rows); COPIES_NEVER without a tier yet, or with a profile in force whose date is not known.
    Never NULL, so `copies_since(c) <= day` and `copies_since(c) > day` split the clients in two. The key of
    ix_clients_as_of (COPIES_SINCE_INDEX): PostgreSQL uses the index for these conditions."""
    return case(
        (or_(client.tier_date.is_(None), and_(client.profile_id.is_not(None), client.profile_effective_on.is_(None))),
         type_coerce(text(f"'{COPIES_NEVER}'"), Date)),
        (client.profile_effective_on > client.tier_date, client.profile_effective_on),
        else_=client.tier_date)


class ClientAssignment(db.Model):
    """One move of a client between managers: from, to, when, by whom, why."""

    __tablename__ = "client_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    from_manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"))
    to_manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(200))

    client: Mapped[Client] = relationship()
    from_manager: Mapped[Manager | None] = relationship(foreign_keys=[from_manager_id])
    to_manager: Mapped[Manager | None] = relationship(foreign_keys=[to_manager_id])
    assigned_by: Mapped[User | None] = relationship()


class BookVersion(db.Model):
    """A counter per client book (`manager_id`; row 0: the service packages every book shows) that the
    database moves whenever a client of the book is inserted, changed, moved or deleted (triggers, migration
    0008). A rendered book is served again only while its versions are unchanged (portal/clients/cache.py).
    No foreign key: row 0 is no manager, and staff records are never deleted."""

    __tablename__ = "book_versions"

    manager_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
