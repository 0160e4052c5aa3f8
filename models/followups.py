"""Follow-up log entries: each contact with a client, the grade it left, and when the next one is due.

Entries are records of what was done: the database refuses UPDATE and DELETE (migration 0003).
The client's current grade and due date are copied onto `clients` so that books and dashboards
filter on indexed columns.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import User
from models.types import UTCDateTime
from portal.rules import followup as followup_rules

FOLLOWUP_CHANNELS = ("phone", "visit", "wechat", "email", "meeting")
FOLLOWUP_GRADES = followup_rules.GRADES  # the cadence rules own the grades
NOTE_MAX = 1000


class FollowupLog(db.Model):
    __tablename__ = "followup_logs"
    __table_args__ = (
        CheckConstraint(f"channel IN {FOLLOWUP_CHANNELS}", name="channel"),
        CheckConstraint(f"grade IN {FOLLOWUP_GRADES}", name="grade"),
        Index("ix_followup_logs_client_logged", "client_id", "logged_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    logged_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    grade: Mapped[str] = mapped_column(String(1))
    next_due: Mapped[date] = mapped_column(Date)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    logged_by: Mapped[User | None] = relationship()
