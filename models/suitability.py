"""Products with risk levels R1–R5, and the suitability records of recommendations and subscriptions.

`suitability_records` and `suitability_confirmations` are suitability records: append-only by trigger
(migration 0004), kept like questionnaire submissions.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import User
from models.types import UTCDateTime
from portal.rules.suitability import OUTCOMES
from portal.rules.vocabulary import CONFIRMATION_METHODS

ACTIONS = ("recommendation", "subscription")


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("risk_level BETWEEN 1 AND 5", name="risk_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    risk_level: Mapped[int] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SuitabilityRecord(db.Model):
    """A recommendation or subscription as checked: the outcome, what it was checked against, and why."""

    __tablename__ = "suitability_records"
    __table_args__ = (
        CheckConstraint(f"action IN {ACTIONS}", name="action"),
        CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome"),
        CheckConstraint("product_risk_level BETWEEN 1 AND 5", name="product_risk_level"),
        Index("ix_suitability_records_client_recorded", "client_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    action: Mapped[str] = mapped_column(String(14))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    product_risk_level: Mapped[int] = mapped_column(SmallInteger)
    # The client's profile as checked (null when there was no valid profile).
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("risk_profiles.id"))
    client_grade: Mapped[str | None] = mapped_column(String(2))
    investor_category: Mapped[str] = mapped_column(String(12))
    client_age: Mapped[int] = mapped_column(SmallInteger)
    outcome: Mapped[str] = mapped_column(String(10))
    elderly_prompt: Mapped[bool] = mapped_column(Boolean, default=False)
    # The manager ticked "I have given the extra-care explanation" before saving (elderly prompt only).
    extra_care_given: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[Any] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    business_date: Mapped[date] = mapped_column(Date)

    product: Mapped[Product] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    confirmation: Mapped[SuitabilityConfirmation | None] = relationship(back_populates="record", uselist=False)


class SuitabilityConfirmation(db.Model):
    """The client's recorded confirmation of a special risk warning (on their own login, or a signed form)."""

    __tablename__ = "suitability_confirmations"
    __table_args__ = (CheckConstraint(f"method IN {CONFIRMATION_METHODS}", name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("suitability_records.id"), unique=True)
    method: Mapped[str] = mapped_column(String(10))
    paper_reference: Mapped[str | None] = mapped_column(String(60))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    record: Mapped[SuitabilityRecord] = relationship(back_populates="confirmation")
    confirmed_by: Mapped[User | None] = relationship()
