"""Asset snapshots, monthly revenue, tier thresholds (versioned), tier history, and the twelve cells' packages.

A client's tier at a statistics date is a row of `client_tiers`; the tier on any past date is the latest
row on or before it. `clients.asset_tier` / `total_assets` / `contribution_12m` / `tier_date` copy the
newest row so that books and counts filter on indexed columns.

The three fact tables (snapshots, revenue, tiers) carry no foreign keys: they are written a million rows
at a time by set-based imports whose client ids come from a join with `clients` in the same
transaction (and clients are never deleted); a per-row foreign-key trigger costs ten times the insert.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db, utcnow
from models.types import UTCDateTime
from portal.rules.tiering import PACKAGES
from portal.rules.vocabulary import RISK_CLASSES, TIERS

MONEY = Numeric(18, 2)
ASSET_PARTS = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")


class AssetSnapshot(db.Model):
    """One client's holdings at one statistics date (CNY); a re-import of the date replaces them."""

    __tablename__ = "asset_snapshots"
    __table_args__ = (
        Index("uq_asset_snapshots_client_date", "client_id", "stat_date", unique=True),
        Index("ix_asset_snapshots_stat_date", "stat_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column()  # clients.id (no foreign key: see the module docstring)
    stat_date: Mapped[date] = mapped_column(Date)
    cash: Mapped[Decimal] = mapped_column(MONEY)
    a_shares: Mapped[Decimal] = mapped_column(MONEY)
    b_shares: Mapped[Decimal] = mapped_column(MONEY)
    funds: Mapped[Decimal] = mapped_column(MONEY)
    warrants: Mapped[Decimal] = mapped_column(MONEY)
    bonds: Mapped[Decimal] = mapped_column(MONEY)
    collective_products: Mapped[Decimal] = mapped_column(MONEY)
    total_assets: Mapped[Decimal] = mapped_column(MONEY)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevenueRecord(db.Model):
    """One client's revenue for one calendar month (`month` is its first day)."""

    __tablename__ = "revenue_records"
    __table_args__ = (
        Index("uq_revenue_records_client_month", "client_id", "month", unique=True),
        Index("ix_revenue_records_month", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column()  # clients.id (no foreign key: see the module docstring)
    month: Mapped[date] = mapped_column(Date)
    net_commission: Mapped[Decimal] = mapped_column(MONEY)
    other_income: Mapped[Decimal] = mapped_column(MONEY)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TierThresholdSet(db.Model):
    """A version of the tier thresholds: `[{"tier": 1, "min_assets": "5000000.00", "min_contribution": ...}, ...]`.

    Never edited: a change is a new version; the newest is in force.
    """

    __tablename__ = "tier_threshold_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    thresholds: Mapped[Any] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClientTier(db.Model):
    """A client's tier as computed at one statistics date, with the figures and threshold version used."""

    __tablename__ = "client_tiers"
    __table_args__ = (
        CheckConstraint(f"tier BETWEEN {TIERS[0]} AND {TIERS[-1]}", name="tier"),
        Index("uq_client_tiers_client_date", "client_id", "stat_date", unique=True),
        Index("ix_client_tiers_stat_date_tier", "stat_date", "tier"),
        # The matrix as of a past date: one index-only probe per client for its tier row.
        Index("ix_client_tiers_as_of", "client_id", "stat_date", "tier", "total_assets"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column()  # clients.id (no foreign key: see the module docstring)
    stat_date: Mapped[date] = mapped_column(Date)
    tier: Mapped[int] = mapped_column(SmallInteger)
    total_assets: Mapped[Decimal] = mapped_column(MONEY)
    contribution_12m: Mapped[Decimal] = mapped_column(MONEY)
    threshold_set_id: Mapped[int | None] = mapped_column()  # tier_threshold_sets.id, which are never deleted
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServicePackage(db.Model):
    """One of the three service grades of the wealth account, and what it includes, in both languages."""

    __tablename__ = "service_packages"
    __table_args__ = (CheckConstraint(f"code IN {PACKAGES}", name="code"),)

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(40))
    # One service per line.
    services_zh: Mapped[str] = mapped_column(String(2000), default="")
    services_en: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PackageCell(db.Model):
    """The service package of one tier × risk-class cell (twelve rows)."""

    __tablename__ = "package_cells"
    __table_args__ = (
        CheckConstraint(f"tier BETWEEN {TIERS[0]} AND {TIERS[-1]}", name="tier"),
        CheckConstraint(f"risk_class IN {RISK_CLASSES}", name="risk_class"),
    )

    tier: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    risk_class: Mapped[str] = mapped_column(String(12), primary_key=True)
    package_code: Mapped[str] = mapped_column(ForeignKey("service_packages.code"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
