"""The broker's branches (营业部): the records clients, teams and staff point at."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models import db, utcnow
from models.types import UTCDateTime


class Branch(db.Model):
    """A branch office: its code (the key imports use), its Chinese name, an optional English name, its city."""

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(100))
    # Branches made from the free-text branch names of earlier versions carry no city until imported.
    city: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def label(self, language: str | None = None) -> str:
        """The name to show: the English one on English pages when there is one."""
        if language and language.startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def __str__(self) -> str:
        return self.name
