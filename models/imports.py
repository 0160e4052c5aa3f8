"""The history of onboarding imports (branches, staff roster, client master): applied and refused alike."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db, utcnow
from models.types import UTCDateTime

IMPORT_KINDS = ("branches", "staff", "clients")
IMPORT_SOURCES = ("cli", "upload", "api")
IMPORT_OUTCOMES = ("applied", "refused")


class DataImport(db.Model):
    """One import: who, when, what kind, from where, the file's SHA-256, and its counts or its bad rows.

    A refused import is written after its transaction rolled back, so the history shows what was refused
    and why; the bad rows are kept as codes and values and worded in the reader's language when shown.
    """

    __tablename__ = "data_imports"
    __table_args__ = (
        CheckConstraint(f"kind IN {IMPORT_KINDS}", name="kind"),
        CheckConstraint(f"source IN {IMPORT_SOURCES}", name="source"),
        CheckConstraint(f"outcome IN {IMPORT_OUTCOMES}", name="outcome"),
        Index("ix_data_imports_at", "at"),
        Index("ix_data_imports_outcome_at", "outcome", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column()  # no FK: the history outlives the logins it names
    actor_username: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[Any | None] = mapped_column(JSON)
    counts: Mapped[Any | None] = mapped_column(JSON)
    # A whole-file refusal's code (e.g. `invalid_rows`, `bad_header`, `encoding`) and its message as given.
    code: Mapped[str | None] = mapped_column(String(30))
    message: Mapped[str | None] = mapped_column(String(500))
    problem_total: Mapped[int] = mapped_column(Integer, default=0)
    # The first bad rows: [{"line", "key", "field", "code", "detail"}], worded when shown.
    problems: Mapped[Any | None] = mapped_column(JSON)
