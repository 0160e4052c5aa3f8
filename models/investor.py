"""Applications for professional-investor status, decided by compliance."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.clients import Client
from models.people import User
from models.types import UTCDateTime

APPLICATION_STATUSES = ("pending", "approved", "rejected")


class ProfessionalApplication(db.Model):
    __tablename__ = "professional_applications"
    __table_args__ = (
        CheckConstraint(f"status IN {APPLICATION_STATUSES}", name="status"),
        Index("ix_professional_applications_status", "status", "applied_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The figures the portal held when the client applied, and whether each criterion was met.
    checks: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))

    client: Mapped[Client] = relationship()
    decided_by: Mapped[User | None] = relationship()
