"""E-mail reminders: one delivery record per message (recipient and event), as `flask send-reminders` sends them.

The key (user, kind, event) is unique: a notice is sent at most once for its event. A message the server
refused, or that could not be handed over, stays `failed` with its error and is tried again on the next run;
only a message the SMTP server accepted is ever `sent`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import User
from models.types import UTCDateTime

REMINDER_KINDS = ("staff_digest", "profile_expiring", "warning_pending")
DELIVERY_STATUSES = ("sent", "failed")


class ReminderDelivery(db.Model):
    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        CheckConstraint(f"kind IN {REMINDER_KINDS}", name="kind"),
        CheckConstraint(f"status IN {DELIVERY_STATUSES}", name="status"),
        Index("uq_reminder_deliveries_event", "user_id", "kind", "event_key", unique=True),
        Index("ix_reminder_deliveries_status", "status", "last_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    # What the notice is about, e.g. `profile:812:2027-03-18` or `digest:2026-12-03`: one message per event.
    event_key: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(200))
    first_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
