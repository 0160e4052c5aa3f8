"""Evaluation weights and promotion rules (versioned data), cycles, evaluations, ratings, targets,
compliance flags, the promotion engine's recommendations, nominations (maker/checker) and level history.

`level_changes` is append-only by trigger (migration 0005): a manager's level history is a record.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db, utcnow
from models.people import Manager, Team, User
from models.types import UTCDateTime

CYCLE_STATES = ("draft", "open", "closed")
NOMINATION_STATES = ("pending", "approved", "rejected")
NOMINATION_KINDS = ("promote", "demote")
# `roster`: a level the HR roster import brought (no nomination, no approval in the portal).
LEVEL_CHANGE_KINDS = ("initial", "promotion", "demotion", "correction", "roster")
RECOMMENDATIONS = ("promote", "demote", "hold")


class EvaluationWeightSet(db.Model):
    """A version of the weights per level (`{"junior": {"satisfaction": 25, ...}, ...}`) and rating bands.

    Never edited: a change is a new version; the newest is in force.
    """

    __tablename__ = "evaluation_weight_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    weights: Mapped[Any] = mapped_column(JSON)
    # [[lowest total, band code], ...] highest first, totals as strings.
    bands: Mapped[Any] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PromotionRuleSet(db.Model):
    """A version of the promotion and demotion rules, as `portal.rules.promotion.rules_to_dict` writes them."""

    __tablename__ = "promotion_rule_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    rules: Mapped[Any] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EvaluationCycle(db.Model):
    """A named period over a scope (one team, or everyone when `team_id` is null): draft → open → closed."""

    __tablename__ = "evaluation_cycles"
    __table_args__ = (
        CheckConstraint(f"state IN {CYCLE_STATES}", name="state"),
        CheckConstraint("end_date >= start_date", name="period"),
        Index("ix_evaluation_cycles_state_end", "state", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    state: Mapped[str] = mapped_column(String(8), default="draft")
    # The weights in force when the cycle opened; totals are computed with them.
    weight_set_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_weight_sets.id"))
    # The promotion rules that ran when it closed.
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("promotion_rule_sets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team | None] = relationship()


class Evaluation(db.Model):
    """One manager's evaluation in one cycle. `version` is the optimistic lock: a stale save is refused."""

    __tablename__ = "evaluations"
    __table_args__ = (
        Index("uq_evaluations_cycle_manager", "cycle_id", "manager_id", unique=True),
        Index("ix_evaluations_manager", "manager_id"),
        *(CheckConstraint(f"{d} IS NULL OR {d} BETWEEN 0 AND 100", name=d)
          for d in ("satisfaction", "kpi", "team", "competence")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("evaluation_cycles.id"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    # The level and team when the cycle opened: weights and reports use them, not today's.
    level: Mapped[str] = mapped_column(String(12))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    kpi: Mapped[int | None] = mapped_column(SmallInteger)
    team: Mapped[int | None] = mapped_column(SmallInteger)
    competence: Mapped[int | None] = mapped_column(SmallInteger)
    total: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    band: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(String(2000))
    self_comment: Mapped[str | None] = mapped_column(String(2000))
    # The derived figures shown beside the score fields when it was last scored.
    derived: Mapped[Any | None] = mapped_column(JSON)
    scored_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    cycle: Mapped[EvaluationCycle] = relationship()
    manager: Mapped[Manager] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}


class ServiceRating(db.Model):
    """A client's rating of their manager's service in a cycle: 1–5 stars, at most one per client and cycle."""

    __tablename__ = "service_ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        Index("uq_service_ratings_client_cycle", "client_id", "cycle_id", unique=True),
        Index("ix_service_ratings_manager_rated", "manager_id", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("evaluation_cycles.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(1000))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManagerTarget(db.Model):
    """A manager's targets for a period: net commission, asset growth (CNY) and new clients."""

    __tablename__ = "manager_targets"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period"),
        Index("uq_manager_targets_manager_period", "manager_id", "period_start", "period_end", unique=True),
        # The targets page lists, and an import replaces, one period across managers.
        Index("ix_manager_targets_period", "period_start", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    net_commission: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    asset_growth: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    new_clients: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ComplianceFlag(db.Model):
    """A compliance flag on a staff record (e.g. an open conduct breach); open until `closed_at`."""

    __tablename__ = "compliance_flags"
    __table_args__ = (Index("ix_compliance_flags_manager_closed", "manager_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    kind: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(1000))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PromotionRun(db.Model):
    """One run of the promotion engine: a cycle's close, a re-run, or `flask run-promotions`.

    What is the same for every manager of the run is stored once, here: the cycle, the rule version that
    applied, the business day the engine reasoned on (`as_of`: months in level count to it) and who ran it.
    """

    __tablename__ = "promotion_runs"
    __table_args__ = (Index("ix_promotion_runs_cycle", "cycle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_cycles.id"))
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("promotion_rule_sets.id"))
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PromotionRecommendation(db.Model):
    """The engine's answer for one manager in one run, and the facts it was given.

    `detail` (Recommendation.to_dict(): clauses, eligible_in_months, eligible_on) is stored by runs over a
    few managers, which the pure engine decides in Python. A run over many (a cycle's close) decides in SQL
    (portal/operations/promotion_sql.py) and stores the facts instead — the level and its date, the open
    compliance flags and the ids of the closed evaluations considered, latest first (null at a position a
    manager has no evaluation for) — from which
    `portal.operations.promotions.recommendation_detail` words the clauses with the pure engine on reading.
    Closed evaluations are locked and rule versions never change, so the explanation read later is the one
    the run had.
    """

    __tablename__ = "promotion_recommendations"
    __table_args__ = (
        CheckConstraint(f"recommendation IN {RECOMMENDATIONS}", name="recommendation"),
        # A manager has a few rows (one per run that included them); the latest is the greatest id.
        Index("ix_promotion_recommendations_manager", "manager_id", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("promotion_runs.id"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    level: Mapped[str] = mapped_column(String(12))
    recommendation: Mapped[str] = mapped_column(String(8))
    target_level: Mapped[str | None] = mapped_column(String(12))
    detail: Mapped[Any | None] = mapped_column(JSON)
    level_since: Mapped[date | None] = mapped_column(Date)
    open_flags: Mapped[int | None] = mapped_column(Integer)
    # integer[] on PostgreSQL (a close builds ten thousand of them; no JSON text to write), JSON elsewhere.
    evaluation_ids: Mapped[list[int | None] | None] = mapped_column(
        JSON().with_variant(postgresql.ARRAY(Integer), "postgresql"))

    run: Mapped[PromotionRun] = relationship(lazy="joined", innerjoin=True)
    manager: Mapped[Manager] = relationship()

    # The run's, read through the recommendation (pages and tests read them as before).
    cycle_id = association_proxy("run", "cycle_id")
    rule_set_id = association_proxy("run", "rule_set_id")
    computed_at = association_proxy("run", "computed_at")


class PromotionNomination(db.Model):
    """A supervisor's nomination (maker) and an admin's decision on it (checker), never the same person."""

    __tablename__ = "promotion_nominations"
    __table_args__ = (
        CheckConstraint(f"state IN {NOMINATION_STATES}", name="state"),
        CheckConstraint(f"kind IN {NOMINATION_KINDS}", name="kind"),
        Index("ix_promotion_nominations_state", "state"),
        Index("ix_promotion_nominations_manager", "manager_id"),
        # At most one pending nomination per manager.
        Index("uq_promotion_nominations_pending", "manager_id", unique=True,
              sqlite_where=db.text("state = 'pending'"), postgresql_where=db.text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    kind: Mapped[str] = mapped_column(String(8))
    from_level: Mapped[str] = mapped_column(String(12))
    to_level: Mapped[str] = mapped_column(String(12))
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("promotion_recommendations.id"))
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("promotion_rule_sets.id"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_cycles.id"))
    reason: Mapped[str | None] = mapped_column(String(1000))
    nominated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    effective_date: Mapped[date | None] = mapped_column(Date)

    manager: Mapped[Manager] = relationship()
    nominated_by: Mapped[User] = relationship(foreign_keys=[nominated_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class LevelChange(db.Model):
    """One change of a manager's level: what, from when, why, who proposed, who approved, and on what basis."""

    __tablename__ = "level_changes"
    __table_args__ = (
        CheckConstraint(f"kind IN {LEVEL_CHANGE_KINDS}", name="kind"),
        Index("ix_level_changes_manager_effective", "manager_id", "effective_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("managers.id"))
    kind: Mapped[str] = mapped_column(String(10))
    from_level: Mapped[str | None] = mapped_column(String(12))
    to_level: Mapped[str] = mapped_column(String(12))
    effective_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(1000))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("promotion_nominations.id"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_cycles.id"))
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("promotion_rule_sets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    manager: Mapped[Manager] = relationship()
