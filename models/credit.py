"""Credit-report screenings (SPEC Part D) and the accounts each was made from.

A screening is a record: never edited or deleted (migration 0003). A manual override is part of the
screening row when it is stored, or a new screening of the same accounts.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import User
from models.types import UTCDateTime
from portal.rules import credit as credit_rules

# The domain's own vocabulary lives with the rules; the schema constrains columns to it.
CREDIT_CLASSES = credit_rules.CLASSES
ACCOUNT_KINDS = credit_rules.KINDS
ACCOUNT_STATUSES = credit_rules.STATUSES


class CreditScreening(db.Model):
    __tablename__ = "credit_screenings"
    __table_args__ = (
        CheckConstraint(f"computed_class IN {CREDIT_CLASSES}", name="computed_class"),
        CheckConstraint(f"final_class IN {CREDIT_CLASSES}", name="final_class"),
        Index("ix_credit_screenings_client_screened", "client_id", "screened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    screened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    computed_class: Mapped[str] = mapped_column(String(10))
    final_class: Mapped[str] = mapped_column(String(10))
    override_reason: Mapped[str | None] = mapped_column(String(500))
    # The clauses that decided the computed class: [{code, message, observed, required, account_index}].
    reasons: Mapped[Any] = mapped_column(JSON)
    # form / csv / api / override: where the accounts came from.
    source: Mapped[str] = mapped_column(String(10), default="form")

    screened_by: Mapped[User | None] = relationship()
    accounts: Mapped[list[CreditAccount]] = relationship(order_by="CreditAccount.position",
                                                           back_populates="screening")


class CreditAccount(db.Model):
    __tablename__ = "credit_accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_KINDS}", name="kind"),
        CheckConstraint(f"status IN {ACCOUNT_STATUSES}", name="status"),
        CheckConstraint("current_overdue >= 0", name="current_overdue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("credit_screenings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, the entry or import order
    kind: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(10))
    current_overdue: Mapped[int] = mapped_column(Integer)
    history: Mapped[str] = mapped_column(String(24))

    screening: Mapped[CreditScreening] = relationship(back_populates="accounts")
