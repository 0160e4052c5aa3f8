"""The suitability matrix page's server time against the bare GROUP BY that counts the same cells.

(b) today: GET /matrix signed in as compliance, no filters (in-process test client: the server's own
    time, no network), against the bare GROUP BY over clients (tier, class if valid) run with psycopg.
(c) the same for a past date D: GET /matrix?as_of=D against the bare as-of GROUP BY (each client's
    latest client_tiers row and risk_profiles row on or before D, by LATERAL join). D is the day before
    the newest statistics date, so that the tiers come from the previous statistics date's rows (90 days
    back when there is no tier history).
Both sides run on the same database with the same settings, warmed, and the median of several runs is
reported. The three tables are vacuumed and analysed first, as autovacuum would have done on a live
database, so that both sides can use index-only scans.
"""
from __future__ import annotations

import os
import re
import statistics
import time
from datetime import timedelta

import psycopg

DEMO_PASSWORD = "demo-password-2026"

BARE_TODAY = """
SELECT COALESCE(asset_tier, 4) AS tier,
       CASE WHEN profile_valid_until >= %(day)s THEN risk_class END AS risk_class,
       count(*), sum(total_assets)
FROM clients GROUP BY 1, 2
"""

BARE_AS_OF = """
SELECT COALESCE(t.tier, 4) AS tier,
       CASE WHEN p.valid_until >= %(day)s THEN p.risk_class END AS risk_class,
       count(*), sum(t.total_assets)
FROM clients c
LEFT JOIN LATERAL (SELECT tier, total_assets FROM client_tiers
                   WHERE client_id = c.id AND stat_date <= %(day)s ORDER BY stat_date DESC LIMIT 1) t ON true
LEFT JOIN LATERAL (SELECT risk_class, valid_until FROM risk_profiles
                   WHERE client_id = c.id AND effective_on <= %(day)s ORDER BY effective_on DESC, id DESC LIMIT 1) p
       ON true
GROUP BY 1, 2
"""


def _median_seconds(action, runs: int) -> float:
    action()  # warm: caches, plans, templates
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bare(url: str, sql: str, day, runs: int) -> tuple[float, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        total = sum(row[2] for row in conn.execute(sql, {"day": day}))
        return _median_seconds(lambda: conn.execute(sql, {"day": day}).fetchall(), runs), total


def _signed_in(app):
    client = app.test_client()
    body = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    response = client.post("/login", data={"username": "compliance", "password": DEMO_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as compliance failed: {response.status_code}")
    return client


def _page_total(body: str) -> int:
    match = re.search(r'id="matrix-total"><a class="cell-clients fw-bold" href="[^"]*">(\d+)</a>', body)
    if not match:
        raise RuntimeError("the matrix page shows no total")
    return int(match.group(1))


def run(report, url: str, runs_today: int = 7, runs_as_of: int = 3) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_ENV", "development")
    from portal import create_app
    from portal.rules.calendar import business_today

    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("clients", "client_tiers", "risk_profiles"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        clients, tier_rows, newest = conn.execute(
            "SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM client_tiers), "
            "(SELECT max(stat_date) FROM client_tiers)").fetchone()

    today = business_today()
    day = newest - timedelta(days=1) if newest and newest <= today else today - timedelta(days=90)
    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        client = _signed_in(app)

        def page(path: str):
            def get():
                response = client.get(path)
                body = response.get_data(as_text=True)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code}")
                return body
            return get

        shown_today = _page_total(page("/matrix")())
        shown_as_of = _page_total(page(f"/matrix?as_of={day.isoformat()}")())
        page_today = _median_seconds(page("/matrix"), runs_today)
        page_as_of = _median_seconds(page(f"/matrix?as_of={day.isoformat()}"), runs_as_of)

    bare_today, counted_today = _bare(url, BARE_TODAY, today, runs_today)
    bare_as_of, counted_as_of = _bare(url, BARE_AS_OF, day, runs_as_of)
    if not (shown_today == counted_today == clients and shown_as_of == counted_as_of == clients):
        raise RuntimeError(f"the page and the bare query disagree: {shown_today}/{counted_today}, "
                           f"{shown_as_of}/{counted_as_of}")

    report("matrix_clients", clients, f"suitability matrix: clients ({tier_rows:,} client_tiers rows)")
    report("matrix_page_ms", round(page_today * 1000, 1), "matrix page today, compliance, no filters (server time)")
    report("matrix_bare_ms", round(bare_today * 1000, 1), "reference: bare GROUP BY over clients counting the cells")
    report("matrix_ratio", round(page_today / bare_today, 2), "matrix page / bare GROUP BY (target <= 1.5)")
    report("matrix_as_of_page_ms", round(page_as_of * 1000, 1), f"matrix page as of {day.isoformat()} (server time)")
    report("matrix_as_of_bare_ms", round(bare_as_of * 1000, 1), "reference: bare as-of GROUP BY (LATERAL history)")
    report("matrix_as_of_ratio", round(page_as_of / bare_as_of, 2), "as-of matrix page / bare as-of GROUP BY "
                                                                    "(target <= 1.5)")


if __name__ == "__main__":
    import sys

    def _print(key, value, label):
        print(f"{label:<70} {value}", flush=True)

    run(_print, sys.argv[1])
