"""Demo asset snapshots and monthly revenue, then the set-based re-tier (demo data).

Every demo client open at the last month-end gets a snapshot there, two in five also one at the
quarter-end before it (so the as-of matrix moves between the two dates), and revenue for the active
months among the twelve ending with the last month-end's month. Total assets are log-normal (median
about 65,000 CNY, a long tail past 5,000,000); commission follows assets and trading activity, with a
few very active traders whose contribution lifts them a tier. With the SPEC thresholds that gives
roughly 0.5 % tier 1, 5 % tier 2, 35 % tier 3 and the rest tier 4.

The rows are generated inside the database in a few INSERT … SELECT statements from per-client
random draws (PostgreSQL's seeded random(); on SQLite a seeded Python generator), which is faster
at a million clients than building millions of rows in Python and copying them in. `seed()` calls
this before it rebuilds the clients' indexes, so the re-tier's UPDATE of every client maintains only
the two unique indexes; on PostgreSQL this module's own tables are indexed once, after the load.
"""
from __future__ import annotations

import math
import random
from datetime import date, timedelta

from sqlalchemy import Date, bindparam, text

from models import db, utcnow
from models.types import UTCDateTime
from portal.operations.tiering import retier_at
from portal.rules.calendar import add_months

# log(total assets): mean and spread of the normal behind the log-normal.
ASSETS_MU, ASSETS_SIGMA = 11.1, 1.66
PREVIOUS_SHARE = 0.4  # clients with a snapshot at the previous quarter-end too
TRADER_SHARE = 0.07
MIN_COMMISSION = 5  # a broker's minimum commission per trade, CNY
TABLES = ("asset_snapshots", "revenue_records", "client_tiers")


def statistics_dates(today: date) -> tuple[date, date]:
    """The last month-end before `today`, and the quarter-end before that one."""
    last = today.replace(day=1) - timedelta(days=1)
    quarter_month = (last.month - 1) // 3 * 3  # the month ending the previous quarter (0: December before)
    previous = date(last.year, quarter_month + 1, 1) - timedelta(days=1)
    if previous == last:
        previous = add_months(previous.replace(day=1), -2) - timedelta(days=1)
    return last, previous


def _functions(seed: int) -> dict[str, str]:
    """SQL spellings that differ between the dialects; seeds the random source."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setseed(:s)"), {"s": (seed % 10_000) / 10_000})
        return {"rnd": "random()", "greatest": "GREATEST", "least": "LEAST"}
    connection = db.session.connection().connection.driver_connection
    rng = random.Random(seed)
    connection.create_function("demo_random", 0, rng.random)
    try:
        connection.execute("SELECT exp(1), ln(2), sqrt(2), cos(0), pi()")
    except Exception:  # an SQLite built without its math functions
        for name, function in (("exp", math.exp), ("ln", math.log), ("sqrt", math.sqrt), ("cos", math.cos)):
            connection.create_function(name, 1, function, deterministic=True)
        connection.create_function("pi", 0, lambda: math.pi, deterministic=True)
    return {"rnd": "demo_random()", "greatest": "max", "least": "min"}


def _money(expression: str) -> str:
    """A computed amount in whole cents, as an exact decimal (integer cents are much cheaper than a
    floating-point to numeric cast at a million rows)."""
    return f"(CAST(ROUND({expression} * 100) AS BIGINT) * 0.01)"


def seed_assets(seed: int, today: date) -> dict:
    """Snapshots at two statistics dates and twelve months of revenue for the demo clients, then re-tier."""
    postgres = db.engine.dialect.name == "postgresql"
    f = _functions(seed + 4)
    rnd, greatest, least = f["rnd"], f["greatest"], f["least"]
    last, previous = statistics_dates(today)
    first_month = add_months(last.replace(day=1), -11)
    now = utcnow()
    deferred = _drop_indexes_of_empty_tables() if postgres else []
    if postgres:  # the draws, the aggregates and the index builds (here and the clients' after) stay in memory
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
        db.session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for table in ("demo_wealth", "demo_months"):
        db.session.execute(text(f"DROP TABLE IF EXISTS {'pg_temp' if postgres else 'temp'}.{table}"))
    normal = "sqrt(-2 * ln(1 - {a})) * cos(2 * pi() * {b})"  # Box-Muller
    wealth = f"exp({ASSETS_MU} + {ASSETS_SIGMA} * {normal.format(a='u1', b='u2')})"
    # Per-client draws, materialised once so that every expression below sees the same ones.
    db.session.execute(text(
        f"CREATE TEMP TABLE demo_wealth AS WITH d AS MATERIALIZED (SELECT id AS client_id, opened_on, {rnd} AS u1,"  # nosec B608 - demo SQL from constants in this module, values bound
        f" {rnd} AS u2, {rnd} AS u3, {rnd} AS u4, {rnd} AS u5, {rnd} AS u6, {rnd} AS w1, {rnd} AS w2, {rnd} AS w3,"
        f" {rnd} AS w4, {rnd} AS w5, {rnd} AS w6, {rnd} AS w7, {rnd} AS k1 FROM clients WHERE opened_on <= :last),"
        f" x AS MATERIALIZED (SELECT d.*, {least}({wealth}, 3000000000.0) AS assets,"
        f" w1 > 1 - {TRADER_SHARE} AS trader FROM d)"
        " SELECT client_id, opened_on, assets,"
        f" assets / exp(0.02 + 0.15 * {normal.format(a='u5', b='u6')}) AS previous_assets,"
        f" (CASE WHEN trader THEN 0.012 ELSE 0.0025 END) * exp(0.5 * {normal.format(a='u3', b='u4')}) AS rate,"
        f" {least}(0.95, {greatest}(0.02, 0.02 + 0.065 * ln({greatest}(assets, 10000) / 10000)"
        " + CASE WHEN trader THEN 0.35 ELSE 0 END)) AS activity,"
        # Holdings: cash for everyone, A shares for most, the rest for some; collective products for the wealthy.
        " 0.04 + 0.3 * w1 AS p_cash,"
        " CASE WHEN k1 < 0.62 THEN w2 ELSE 0 END AS p_a,"
        " CASE WHEN k1 < 0.03 THEN 0.1 * w3 ELSE 0 END AS p_b,"
        " CASE WHEN w4 < 0.45 THEN w4 + 0.2 ELSE 0 END AS p_funds,"
        " CASE WHEN k1 > 0.995 THEN 0.05 * w5 ELSE 0 END AS p_warrants,"
        " CASE WHEN w6 < 0.22 THEN 0.5 * w6 + 0.1 ELSE 0 END AS p_bonds,"
        " CASE WHEN assets >= 1000000 AND w7 < 0.6 THEN w7 + 0.2 ELSE 0 END AS p_collective,"
        " k1 < :previous_share AS in_previous FROM x"
    ).bindparams(bindparam("last", type_=Date())), {"last": last, "previous_share": PREVIOUS_SHARE})
    db.session.execute(text("CREATE TEMP TABLE demo_months (month date, month_end date, idx integer)"))
    months = [add_months(first_month, i) for i in range(12)]
    db.session.execute(text("INSERT INTO demo_months (month, month_end, idx) VALUES (:month, :month_end, :idx)")
                       .bindparams(bindparam("month", type_=Date()), bindparam("month_end", type_=Date())),
                       [{"month": m, "month_end": add_months(m, 1) - timedelta(days=1), "idx": i}
                        for i, m in enumerate(months)])
    parts = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")
    weights = ("p_cash", "p_a", "p_b", "p_funds", "p_warrants", "p_bonds", "p_collective")
    weight_sum = "(" + " + ".join(weights) + ")"
    binds = [bindparam("day", type_=Date()), bindparam("now", type_=UTCDateTime())]

    def snapshot_insert(amount: str, where: str) -> str:
        # Whole cents as integers, summed as integers; one exact decimal per column at the end.
        cents = ", ".join(f"CASE WHEN {w} = 0 THEN 0 ELSE CAST(ROUND({amount} * {w} / {weight_sum} * 100) AS BIGINT)"
                          f" END AS {p}" for p, w in zip(parts, weights))
        return (f"INSERT INTO asset_snapshots (client_id, stat_date, {', '.join(parts)}, total_assets, imported_at)"  # nosec B608 - demo SQL from constants in this module, values bound
                f" SELECT client_id, :day, {', '.join(f'{p} * 0.01' for p in parts)},"
                f" ({' + '.join(parts)}) * 0.01, :now"
                f" FROM (SELECT client_id, {cents} FROM demo_wealth WHERE {where}) s")

    db.session.execute(text(snapshot_insert("assets", "1 = 1")).bindparams(*binds), {"day": last, "now": now})
    db.session.execute(text(snapshot_insert("previous_assets", "in_previous AND opened_on <= :day"))
                       .bindparams(*binds), {"day": previous, "now": now})
    # Active months only: each month a client trades with a probability that grows with their assets.
    db.session.execute(text(
        "INSERT INTO revenue_records (client_id, month, net_commission, other_income, imported_at)"  # nosec B608 - demo SQL from constants in this module, values bound
        f" SELECT w.client_id, m.month, {greatest}({MIN_COMMISSION},"
        f" {_money(f'w.assets * w.rate / 12 * (0.3 + 1.4 * {rnd})')}),"
        f" CASE WHEN {rnd} < 0.25 THEN {_money(f'w.assets * 0.0003 * {rnd}')} ELSE 0 END, :now"
        " FROM demo_wealth w JOIN demo_months m ON m.month_end >= w.opened_on"
        # `m.idx * 0` makes the draw a join condition: one draw per client and month, not per client.
        f" WHERE {rnd} + m.idx * 0 < w.activity").bindparams(bindparam("now", type_=UTCDateTime())), {"now": now})
    for table in ("demo_wealth", "demo_months"):
        db.session.execute(text(f"DROP TABLE {'pg_temp' if postgres else 'temp'}.{table}"))
    # The newest date first: the older one then never has to rewrite the clients' copy.
    tiered = retier_at(last) + retier_at(previous)
    for definition in deferred:  # one sort per index instead of millions of incremental inserts
        db.session.execute(text(definition))
    if postgres:  # fresh statistics for the pages and benchmarks that read these next
        for table in TABLES:
            db.session.execute(text(f"ANALYZE {table}"))
    return {"dates": [previous, last], "tiered": tiered}


def _drop_indexes_of_empty_tables() -> list[str]:
    """PostgreSQL: drop the indexes (primary keys aside) of this module's tables while they are empty.

    Returns the statements that rebuild them. Tables already holding rows keep their indexes.
    """
    statements = []
    for table in TABLES:
        if db.session.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar():  # nosec B608 - demo SQL from constants in this module, values bound
            continue
        rows = db.session.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname"
            " JOIN pg_index x ON x.indexrelid = c.oid"
            " WHERE i.schemaname = current_schema() AND i.tablename = :table AND NOT x.indisprimary"),
            {"table": table}).all()
        for name, definition in rows:
            db.session.execute(text(f'DROP INDEX "{name}"'))
            statements.append(definition)
    return statements
