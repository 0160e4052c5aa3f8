"""The database handle and every model, imported here so Alembic sees the whole schema."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite checks declared foreign keys only when each connection asks it to; every connection does."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def utcnow() -> datetime:
    """Timestamps are stored in UTC, always timezone-aware in Python."""
    return datetime.now(UTC)


from models.audit import AuditEntry  # noqa: E402,F401
from models.branches import Branch  # noqa: E402,F401
from models.clients import BookVersion, Client, ClientAssignment  # noqa: E402,F401
from models.credit import CreditAccount, CreditScreening  # noqa: E402,F401
from models.evaluations import (  # noqa: E402,F401
    ComplianceFlag,
    Evaluation,
    EvaluationCycle,
    EvaluationWeightSet,
    LevelChange,
    ManagerTarget,
    PromotionNomination,
    PromotionRecommendation,
    PromotionRuleSet,
    PromotionRun,
    ServiceRating,
)
from models.followups import FollowupLog  # noqa: E402,F401
from models.imports import DataImport  # noqa: E402,F401
from models.investor import ProfessionalApplication  # noqa: E402,F401
from models.people import ROLES, STAFF_STATUSES, ApiToken, Manager, Team, User  # noqa: E402,F401
from models.reminders import ReminderDelivery  # noqa: E402,F401
from models.risk import (  # noqa: E402,F401
    AssessmentConfirmation,
    QuestionnaireVersion,
    RiskAssessment,
    RiskProfile,
)
from models.signin import TOKEN_PURPOSES, LoginToken  # noqa: E402,F401
from models.suitability import Product, SuitabilityConfirmation, SuitabilityRecord  # noqa: E402,F401
from models.tiering import (  # noqa: E402,F401
    AssetSnapshot,
    ClientTier,
    PackageCell,
    RevenueRecord,
    ServicePackage,
    TierThresholdSet,
)
