"""Risk questionnaire versions, submissions, confirmations, and the profiles they put in force.

Submissions, confirmations and profiles are suitability records: the database refuses UPDATE and
DELETE on them (triggers in migration 0002), as the regulator asks for them to be kept unaltered.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import User
from models.types import UTCDateTime
from portal.rules.profile import DEFAULT_RETAKES_PER_DAY, DEFAULT_VALIDITY_MONTHS
from portal.rules.vocabulary import CONFIRMATION_METHODS, GRADES

VERSION_STATUSES = ("draft", "active", "retired")
CHANNELS = ("self", "assisted")


class QuestionnaireVersion(db.Model):
    """One version of the questionnaire; its definition (questions, points, bands, caps, checks) is data."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (
        CheckConstraint(f"status IN {VERSION_STATUSES}", name="status"),
        # At most one active version at a time.
        Index("uq_questionnaire_versions_active", "status", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # Deferred: pages read a published version's parsed definition from a per-process cache
    # (portal.operations.risk.definition_of), so the JSON is fetched only when it is not cached.
    definition: Mapped[Any] = mapped_column(JSON, deferred=True)
    validity_months: Mapped[int] = mapped_column(Integer, default=DEFAULT_VALIDITY_MONTHS)
    # Submissions a client may make per business day under this version (own and assisted together).
    retakes_per_day: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETAKES_PER_DAY,
                                                 server_default=text(str(DEFAULT_RETAKES_PER_DAY)))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RiskAssessment(db.Model):
    """A completed questionnaire: never edited or deleted; a newer one supersedes it."""

    __tablename__ = "risk_assessments"
    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS}", name="channel"),
        CheckConstraint(f"grade IN {GRADES}", name="grade"),
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        Index("ix_risk_assessments_client_submitted", "client_id", "submitted_at"),
        # Compliance's "grade raised on retake" list: only the flagged rows, newest first.
        Index("ix_risk_assessments_raised", "submitted_at", sqlite_where=text("raised_from_id IS NOT NULL"),
              postgresql_where=text("raised_from_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    answers: Mapped[Any] = mapped_column(JSON)
    group_points: Mapped[Any] = mapped_column(JSON)
    raw_points: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    band_grade: Mapped[str] = mapped_column(String(2))
    grade: Mapped[str] = mapped_column(String(2))
    risk_class: Mapped[str] = mapped_column(String(12))
    lowest_category: Mapped[bool] = mapped_column(Boolean, default=False)
    caps: Mapped[Any] = mapped_column(JSON)
    flags: Mapped[Any] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(10))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # One-time token of the form that sent it: a second submit of the same form is refused by the database.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The client's previous submission when this one raised the grade within 30 days of it (a retake to
    # flag). No foreign key: the column is added to an append-only table in place (SQLite cannot add one).
    raised_from_id: Mapped[int | None] = mapped_column(Integer)

    version: Mapped[QuestionnaireVersion] = relationship()
    entered_by: Mapped[User | None] = relationship()
    confirmation: Mapped[AssessmentConfirmation | None] = relationship(back_populates="assessment",
                                                                              uselist=False)


class AssessmentConfirmation(db.Model):
    """The client's confirmation of an assisted submission (on their own login, or a signed paper form)."""

    __tablename__ = "assessment_confirmations"
    __table_args__ = (CheckConstraint(f"method IN {CONFIRMATION_METHODS}", name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("risk_assessments.id"), unique=True)
    method: Mapped[str] = mapped_column(String(10))
    paper_reference: Mapped[str | None] = mapped_column(String(60))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment: Mapped[RiskAssessment] = relationship(back_populates="confirmation")
    confirmed_by: Mapped[User | None] = relationship()


class RiskProfile(db.Model):
    """A profile in force from `effective_on` until `valid_until` (or until a newer one): append-only history.

    `effective_on` is the business date in China (Asia/Shanghai) the profile took effect; the
    profile on any past date is the latest row effective on or before it, if still valid then.
    """

    __tablename__ = "risk_profiles"
    __table_args__ = (
        Index("ix_risk_profiles_client_effective", "client_id", "effective_on", "id"),
        # The matrix as of a past date: one index-only probe per client for its profile (migration 0004).
        Index("ix_risk_profiles_as_of", "client_id", "effective_on", "id", "risk_class", "valid_until", "grade",
              "lowest_category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("risk_assessments.id"), unique=True)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effective_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    risk_class: Mapped[str] = mapped_column(String(12))
    lowest_category: Mapped[bool] = mapped_column(Boolean, default=False)

    assessment: Mapped[RiskAssessment] = relationship()
