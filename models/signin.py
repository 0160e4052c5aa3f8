"""One-time secrets that open a login: staff invitations, client activation codes, password resets.

Only the SHA-256 of each secret is stored; the secret itself is shown once, to whoever issued it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import User
from models.types import UTCDateTime

TOKEN_PURPOSES = ("invitation", "activation", "reset")


class LoginToken(db.Model):
    """A one-time secret: an invitation or reset names the login it opens, an activation code the client."""

    __tablename__ = "login_tokens"
    __table_args__ = (
        CheckConstraint(f"purpose IN {TOKEN_PURPOSES}", name="purpose"),
        # Issuing a new code or link voids the earlier live ones of the same login or client.
        Index("ix_login_tokens_user_purpose", "user_id", "purpose"),
        Index("ix_login_tokens_client_purpose", "client_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    client: Mapped[Client | None] = relationship()  # noqa: F821
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
