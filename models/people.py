"""Users, teams, staff records (managers and supervisors) and API tokens."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.branches import Branch
from models.types import UTCDateTime
from portal.rules.vocabulary import LEVELS

ROLES = ("client", "rm", "supervisor", "compliance", "admin")
STAFF_ROLES = ("rm", "supervisor", "compliance", "admin")
STAFF_STATUSES = ("active", "on_leave", "left")


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("managers.id", use_alter=True, name="fk_teams_supervisor_id_managers"), index=True
    )
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supervisor: Mapped[Manager | None] = relationship(foreign_keys=[supervisor_id])
    branch: Mapped[Branch | None] = relationship()


class Manager(db.Model):
    """A staff record: a relationship manager, or a supervisor heading a team."""

    __tablename__ = "managers"
    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS}", name="level"),
        CheckConstraint(f"status IN {STAFF_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_pinyin: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), default="junior")
    level_since: Mapped[date] = mapped_column(Date)
    hire_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    branch: Mapped[Branch | None] = relationship()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    # Bumped at sign-out: every cookie carrying an older version stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("managers.id"), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where e-mail reminders go (`flask send-reminders`); none is sent without an address, or once turned off.
    email: Mapped[str | None] = mapped_column(String(254))
    reminders_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    manager: Mapped[Manager | None] = relationship()
    client: Mapped[Client | None] = relationship()  # noqa: F821

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set at creation (API_TOKEN_LIFETIME_DAYS, 90 by default); the token is refused from then on.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
