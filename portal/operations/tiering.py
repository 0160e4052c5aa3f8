"""Asset tiers: the thresholds in force (versioned data), set-based re-tiering, and the tier on any date.

A client's tier at a statistics date D is computed from their asset snapshot at D and their value
contribution over the 12 calendar months ending with D's month (net commission plus other income),
with the newest threshold version. Re-tiering is two statements per date, whatever the number of
clients: one INSERT … SELECT into `client_tiers` (after deleting that date's rows for the clients
concerned) and one UPDATE that copies the result onto `clients` for clients whose newest snapshot is
D, so that re-tiering an older date never overwrites a newer tier. No Python loop over clients.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import Date, Numeric, bindparam, select, text

from models import AssetSnapshot, Client, ClientTier, TierThresholdSet, db, utcnow
from models.types import UTCDateTime
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import numbers
from portal.rules.calendar import add_months
from portal.rules.tiering import ThresholdError, TierThreshold, contribution_window, tier_case_sql, validate_thresholds
from portal.rules.vocabulary import TIERS

MONEY = Numeric(18, 2)
# Imports and re-tiers of the same data take turns (PostgreSQL advisory lock, held to the commit).
TIERING_LOCK = 4_0_2026_04
# The largest amount a threshold may name: 14 digits before the point, like an imported amount.
MAX_AMOUNT = Decimal("99999999999999.99")
MEASURES = ("assets", "contribution")


def take_lock() -> None:
    """Serialise imports and re-tiers on PostgreSQL until the transaction ends (SQLite locks the file)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TIERING_LOCK})
        # Hash aggregates over a million clients stay in memory instead of spilling to disk.
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))


# --- thresholds ------------------------------------------------------------------------------------

def current_threshold_set() -> TierThresholdSet:
    """The version in force: the newest one (migration 0004 loads the SPEC defaults as version 1)."""
    current = db.session.scalar(select(TierThresholdSet).order_by(TierThresholdSet.version.desc()).limit(1))
    if current is None:
        raise OperationError(_("No tier thresholds are defined. Please ask an administrator to save them."),
                             code="no_thresholds")
    return current


def ladder_of(threshold_set: TierThresholdSet) -> tuple[TierThreshold, ...]:
    """A stored version as a validated ladder of TierThreshold."""
    return validate_thresholds(
        TierThreshold(int(item["tier"]), Decimal(str(item["min_assets"])), Decimal(str(item["min_contribution"])))
        for item in threshold_set.thresholds)


def parse_amount(raw: object, field: str, label: str) -> Decimal:
    """A threshold amount from a form or JSON: digits with at most 2 decimal places, not negative."""
    if isinstance(raw, Decimal):
        text_value = format(raw, "f")
    elif isinstance(raw, int) and not isinstance(raw, bool):
        text_value = str(raw)
    elif isinstance(raw, str):
        text_value = raw.strip().replace(",", "")
    else:
        raise OperationError(_("%(label)s: enter an amount.", label=label), field, "missing")
    if not text_value:
        raise OperationError(_("%(label)s: enter an amount.", label=label), field, "missing")
    try:
        amount = Decimal(text_value)
    except InvalidOperation:
        raise OperationError(_("%(label)s: enter an amount in yuan such as 1000000.00.", label=label), field,
                             "invalid_amount") from None
    if not amount.is_finite():
        raise OperationError(_("%(label)s: enter an amount in yuan such as 1000000.00.", label=label), field,
                             "invalid_amount")
    if amount < 0:
        raise OperationError(_("%(label)s must not be negative.", label=label), field, "negative")
    if numbers.decimal_problem(amount) == numbers.TOO_LARGE:  # before quantize, which 1e999999 would break
        raise OperationError(_("%(label)s is too large.", label=label), field, "too_large")
    if amount != amount.quantize(Decimal("0.01")):
        raise OperationError(_("%(label)s may have at most 2 decimal places.", label=label), field,
                             "too_many_decimals")
    if amount > MAX_AMOUNT:
        raise OperationError(_("%(label)s is too large.", label=label), field, "too_large")
    return amount.quantize(Decimal("0.01"))


def field_name(tier: int, measure: str) -> str:
    """The form field of one threshold, e.g. `tier2_assets`."""
    return f"tier{tier}_{measure}"


def measure_label(tier: int, measure: str) -> str:
    if measure == "assets":
        return _("Tier %(tier)d total assets", tier=tier)
    return _("Tier %(tier)d contribution over 12 months", tier=tier)


def build_ladder(values: dict) -> tuple[TierThreshold, ...]:
    """Parse `{"tier1_assets": "5000000.00", ...}` (8 amounts) into a ladder; OperationError names the field."""
    amounts: dict[tuple[int, str], Decimal] = {}
    for tier in TIERS:
        for measure in MEASURES:
            name = field_name(tier, measure)
            amounts[(tier, measure)] = parse_amount(values.get(name), name, measure_label(tier, measure))
    lowest = TIERS[-1]
    for measure in MEASURES:
        if amounts[(lowest, measure)] != 0:
            raise OperationError(_("Tier 4 takes every remaining client, so its threshold must be 0."),
                                 field_name(lowest, measure), "lowest_not_zero")
    for higher, lower in zip(TIERS, TIERS[1:]):
        for measure in MEASURES:
            if amounts[(higher, measure)] <= amounts[(lower, measure)]:
                raise OperationError(
                    _("%(label)s must be more than tier %(lower)d's (%(amount)s): a better tier needs more.",
                      label=measure_label(higher, measure), lower=lower, amount=f"{amounts[(lower, measure)]:,}"),
                    field_name(higher, measure), "not_falling")
    ladder = [TierThreshold(tier, amounts[(tier, "assets")], amounts[(tier, "contribution")]) for tier in TIERS]
    try:
        return validate_thresholds(ladder)
    except ThresholdError as error:  # the checks above mirror the rule; this is the rule's last word
        raise OperationError(_("These thresholds are not a usable ladder: %(reason)s", reason=str(error)),
                             None, "invalid_thresholds") from None


def _ladder_json(ladder: Iterable[TierThreshold]) -> list[dict]:
    return [{"tier": t.tier, "min_assets": str(t.min_assets), "min_contribution": str(t.min_contribution)}
            for t in ladder]


def save_thresholds(values: dict, note: str | None, by_user) -> tuple[TierThresholdSet, dict]:
    """Store a new version of the thresholds (never edits an old one) and re-tier everyone at the latest date.

    Returns the new version and the re-tier summary (`{"stat_date": D or None, "retiered": n}`).
    Raises OperationError (field = `tier<N>_<measure>` or `note`) and stores nothing for bad input.
    """
    ladder = build_ladder(values)
    note = (note or "").strip() or None
    if note is not None and len(note) > 200:
        raise OperationError(_("The note may have at most %(n)d characters.", n=200), "note", "note_too_long")
    take_lock()
    previous = current_threshold_set()
    if ladder == ladder_of(previous):
        raise OperationError(_("These are the thresholds in force already (version %(version)d).",
                               version=previous.version), None, "unchanged")
    created = TierThresholdSet(version=previous.version + 1, thresholds=_ladder_json(ladder), note=note,
                               created_by_id=by_user.id if by_user is not None else None)
    db.session.add(created)
    db.session.flush()
    record("tier_thresholds.create", "tier_threshold_set", created.version,
           before={"version": previous.version, "thresholds": previous.thresholds},
           after={"version": created.version, "thresholds": created.thresholds, "note": note})
    day = latest_statistics_date()
    count = retier_at(day) if day is not None else 0
    return created, {"stat_date": day, "retiered": count}


# --- statistics dates ------------------------------------------------------------------------------

def latest_statistics_date() -> date | None:
    """The newest date any asset snapshot is held for (one index probe)."""
    return db.session.scalar(select(AssetSnapshot.stat_date).order_by(AssetSnapshot.stat_date.desc()).limit(1))


def statistics_dates(start: date | None = None, end: date | None = None, limit: int | None = None,
                     newest_first: bool = False) -> list[date]:
    """Distinct snapshot dates in [start, end], by one index probe per date (a loose index scan)."""
    start = start or date(1900, 1, 1)
    end = end or date(9999, 12, 31)
    return _distinct_dates("asset_snapshots", "stat_date", start, end, limit, newest_first)


def revenue_months(limit: int | None = None) -> list[date]:
    """Distinct months revenue is held for, newest first."""
    return _distinct_dates("revenue_records", "month", date(1900, 1, 1), date(9999, 12, 31), limit, True)


def _distinct_dates(table: str, column: str, start: date, end: date, limit: int | None,
                    newest_first: bool) -> list[date]:
    # The table and column names are this module's constants, never user input.
    if newest_first:
        first = f"SELECT max({column}) FROM {table} WHERE {column} <= :end AND {column} >= :start"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
        step = f"SELECT max({column}) FROM {table} WHERE {column} < d.day AND {column} >= :start"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
    else:
        first = f"SELECT min({column}) FROM {table} WHERE {column} >= :start AND {column} <= :end"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
        step = f"SELECT min({column}) FROM {table} WHERE {column} > d.day AND {column} <= :end"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
    sql = (f"WITH RECURSIVE d(day) AS (SELECT ({first}) UNION ALL SELECT ({step}) FROM d WHERE d.day IS NOT NULL)"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
           " SELECT day FROM d WHERE day IS NOT NULL" + (" LIMIT :limit" if limit else ""))
    statement = text(sql).bindparams(bindparam("start", type_=Date()), bindparam("end", type_=Date())) \
        .columns(day=Date())
    params = {"start": start, "end": end, **({"limit": limit} if limit else {})}
    return list(db.session.scalars(statement, params))


# --- re-tiering ------------------------------------------------------------------------------------

def _distinct(left: str, right: str) -> str:
    """`left IS DISTINCT FROM right` in the session's dialect."""
    if db.engine.dialect.name == "postgresql":
        return f"{left} IS DISTINCT FROM {right}"
    return f"{left} IS NOT {right}"


def measures_sql(in_scope=lambda column: "") -> str:
    """The clients holding a snapshot at :day with their two measures (client_id, total_assets,
    contribution_12m): the rows re-tiering writes a tier for, and the rows its preview counts."""
    return ("(SELECT s.client_id, s.total_assets, ROUND(COALESCE(r.contribution, 0), 2) AS contribution_12m"  # nosec B608 - only column names from code are spliced, values bound
            "  FROM asset_snapshots s"
            "  LEFT JOIN (SELECT client_id, SUM(net_commission + other_income) AS contribution"
            "             FROM revenue_records WHERE month BETWEEN :first_month AND :last_month"
            f"            {in_scope('client_id')} GROUP BY client_id) r ON r.client_id = s.client_id"
            f"  WHERE s.stat_date = :day{in_scope('s.client_id')})")


def retier_at(day: date, scope: str | None = None) -> int:
    """Re-tier the clients holding a snapshot at `day`, or only those `scope` selects; returns the rows written.

    `scope` is a SELECT of client ids (e.g. from an import's staging table; it may use `:day`). Clients in scope whose
    snapshot at `day` no longer exists lose that date's tier, and their copy on `clients` falls back
    to their newest remaining tier (or none).
    """
    take_lock()
    threshold_set = current_threshold_set()
    case_sql, thresholds = tier_case_sql("x.total_assets", "x.contribution_12m", ladder_of(threshold_set))
    first_month, last_month = contribution_window(day)
    params = {"day": day, "first_month": first_month, "last_month": last_month, "set_id": threshold_set.id,
              "now": utcnow(), **thresholds}
    binds = [bindparam("day", type_=Date()), bindparam("first_month", type_=Date()),
             bindparam("last_month", type_=Date()), bindparam("now", type_=UTCDateTime()),
             *(bindparam(name, type_=MONEY) for name in thresholds)]

    def run(sql: str):
        used = [b for b in binds if f":{b.key}" in sql]
        return db.session.execute(text(sql).bindparams(*used), params)

    in_scope = (lambda column: f" AND {column} IN ({scope})") if scope else (lambda column: "")
    deleted = run(f"DELETE FROM client_tiers WHERE stat_date = :day{in_scope('client_id')}").rowcount  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
    inserted = run(
        "INSERT INTO client_tiers (client_id, stat_date, tier, total_assets, contribution_12m, threshold_set_id,"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
        " computed_at)"
        f" SELECT x.client_id, :day, {case_sql}, x.total_assets, x.contribution_12m, :set_id, :now"
        f" FROM {measures_sql(in_scope)} x"
    ).rowcount
    changed = " OR ".join(_distinct(f"clients.{column}", f"ct.{source}") for column, source in (
        ("asset_tier", "tier"), ("total_assets", "total_assets"), ("contribution_12m", "contribution_12m"),
        ("tier_date", "stat_date")))
    # Only clients whose newest snapshot is `day` take this tier, and only rows that change are written.
    run("UPDATE clients SET asset_tier = ct.tier, total_assets = ct.total_assets,"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
        " contribution_12m = ct.contribution_12m, tier_date = ct.stat_date"
        " FROM client_tiers ct"
        " WHERE ct.client_id = clients.id AND ct.stat_date = :day"
        f" AND (clients.tier_date IS NULL OR clients.tier_date <= :day){in_scope('ct.client_id')}"
        f" AND ({changed})")
    if deleted:  # a client whose snapshot at `day` was withdrawn (a file re-import without them) falls back
        _fall_back(day, in_scope("clients.id"), run)
    _expire_loaded_clients()
    return inserted


def _fall_back(day: date, scope_clause: str, run) -> None:
    """Clients whose copied tier is from `day` but who have no tier row there any more take their newest one."""
    latest = ("(SELECT t.{column} FROM client_tiers t WHERE t.client_id = clients.id"
              " ORDER BY t.stat_date DESC LIMIT 1)")
    run("UPDATE clients SET " + ", ".join(  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
        f"{column} = {latest.format(column=source)}" for column, source in (
            ("asset_tier", "tier"), ("total_assets", "total_assets"), ("contribution_12m", "contribution_12m"),
            ("tier_date", "stat_date")))
        + f" WHERE clients.tier_date = :day{scope_clause}"  # nosec B608 - only column names and the rule's CASE from code are spliced, values bound
        " AND NOT EXISTS (SELECT 1 FROM client_tiers t WHERE t.client_id = clients.id AND t.stat_date = :day)")


def _expire_loaded_clients() -> None:
    """Clients already loaded in the session re-read their tier columns (the UPDATE bypassed the ORM)."""
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, Client):
            db.session.expire(instance, ["asset_tier", "total_assets", "contribution_12m", "tier_date"])


def dates_touched_by_months(months: Iterable[date]) -> list[date]:
    """Snapshot dates whose 12-month contribution window contains one of `months`."""
    months = sorted(set(months))
    if not months:
        return []
    candidates = statistics_dates(months[0], add_months(months[-1], 12) - timedelta(days=1))
    wanted = set(months)
    touched = []
    for day in candidates:
        first, last = contribution_window(day)
        if any(first <= month <= last for month in wanted):
            touched.append(day)
    return touched


def retier_command(day: date | None, by_user=None) -> dict:
    """`flask retier [--date D]`: everyone at D (default: the latest statistics date), audited."""
    take_lock()
    if day is None:
        day = latest_statistics_date()
        if day is None:
            raise OperationError(_("No asset snapshots have been imported yet: there is nothing to tier."),
                                 "date", "no_snapshots")
    elif db.session.scalar(select(AssetSnapshot.id).where(AssetSnapshot.stat_date == day).limit(1)) is None:
        raise OperationError(_("No asset snapshots are held for %(day)s.", day=day.isoformat()), "date",
                             "no_snapshots")
    count = retier_at(day)
    threshold_set = current_threshold_set()
    record("tiers.retier", "statistics_date", day.isoformat(), actor=by_user,
           after={"retiered": count, "threshold_version": threshold_set.version})
    return {"stat_date": day, "retiered": count, "threshold_version": threshold_set.version}


# --- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierFact:
    """A client's tier at a statistics date, with the figures and the threshold version used."""

    stat_date: date
    tier: int
    total_assets: Decimal
    contribution_12m: Decimal
    threshold_version: int | None


def tier_as_of(client_id: int, day: date) -> TierFact | None:
    """The client's tier on `day`: the latest tier row with stat_date <= day (one index probe), or None."""
    row = db.session.execute(
        select(ClientTier.stat_date, ClientTier.tier, ClientTier.total_assets, ClientTier.contribution_12m,
               TierThresholdSet.version)
        .outerjoin(TierThresholdSet, TierThresholdSet.id == ClientTier.threshold_set_id)
        .where(ClientTier.client_id == client_id, ClientTier.stat_date <= day)
        .order_by(ClientTier.stat_date.desc()).limit(1)).first()
    return TierFact(*row) if row else None


def tier_history(client_id: int, limit: int = 8) -> list[TierFact]:
    """The client's tier at each statistics date, newest first."""
    rows = db.session.execute(
        select(ClientTier.stat_date, ClientTier.tier, ClientTier.total_assets, ClientTier.contribution_12m,
               TierThresholdSet.version)
        .outerjoin(TierThresholdSet, TierThresholdSet.id == ClientTier.threshold_set_id)
        .where(ClientTier.client_id == client_id)
        .order_by(ClientTier.stat_date.desc()).limit(limit)).all()
    return [TierFact(*row) for row in rows]
