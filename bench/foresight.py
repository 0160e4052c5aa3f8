"""Compliance foresight at scale: the tier-threshold preview, the inspection pack, the matrix as of a past month end.

(a) POST /api/v1/tier-thresholds/preview (server time, in-process) against one bare SQL statement computing the
    same transition counts with psycopg (target <= 2);
(b) the inspection pack for a past date (its figures and rows collected, the PDF and the XLSX built) against the
    sum of the bare SQL statements that compute them: the very statements the pack ran, captured and replayed
    with psycopg in one transaction under the settings the pack gave them, the two timed in turns (target <= 3);
(c) the matrix page as of the last month end against today's matrix page (target <= 3).
Medians of a few warmed runs; the machine may be shared, so the figures are noisy.
"""
from __future__ import annotations

import os
import re
import statistics
import time
from datetime import timedelta

import psycopg

DEMO_PASSWORD = "demo-password-2026"
LADDER = [{"tier": 1, "min_assets": "3000000", "min_contribution": "40000"},
          {"tier": 2, "min_assets": "800000", "min_contribution": "8000"},
          {"tier": 3, "min_assets": "80000", "min_contribution": "1500"},
          {"tier": 4, "min_assets": "0", "min_contribution": "0"}]

BARE_TIER_PREVIEW = """
SELECT ct.tier AS from_tier,
       CASE WHEN s.total_assets >= 3000000 OR COALESCE(r.contribution, 0) >= 40000 THEN 1
            WHEN s.total_assets >= 800000 OR COALESCE(r.contribution, 0) >= 8000 THEN 2
            WHEN s.total_assets >= 80000 OR COALESCE(r.contribution, 0) >= 1500 THEN 3 ELSE 4 END AS to_tier,
       count(*), sum(s.total_assets)
FROM asset_snapshots s
LEFT JOIN (SELECT client_id, SUM(net_commission + other_income) AS contribution FROM revenue_records
           WHERE month BETWEEN %(first)s AND %(last)s GROUP BY client_id) r ON r.client_id = s.client_id
LEFT JOIN client_tiers ct ON ct.client_id = s.client_id AND ct.stat_date = %(day)s
WHERE s.stat_date = %(day)s
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


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _signed_in(app, username: str):
    client = app.test_client()
    body = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code}")
    return client


def run(report, url: str, runs: int = 3) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_ENV", "development")
    from sqlalchemy import event

    from models import User, db
    from portal import create_app
    from portal.compliance.pack import build_pdf, build_xlsx, collect
    from portal.operations.tiering import latest_statistics_date
    from portal.operations.users import create_api_token
    from portal.rules.calendar import business_today
    from portal.rules.tiering import contribution_window

    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("clients", "client_tiers", "risk_profiles", "asset_snapshots", "revenue_records",
                      "suitability_records", "risk_assessments"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]

    today = business_today()
    month_end = today.replace(day=1) - timedelta(days=1)
    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        # (a) the tier preview over the API against the bare statement
        admin = db.session.scalar(db.select(User).where(User.role == "admin").limit(1))
        token = create_api_token(admin)
        db.session.commit()
        api = app.test_client()

        def preview():
            response = api.post("/api/v1/tier-thresholds/preview", json={"thresholds": LADDER},
                                headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise RuntimeError(f"preview: {response.status_code} {response.get_data(as_text=True)[:300]}")
            return response.get_json()

        answer = preview()
        preview_seconds = _median_seconds(preview, runs)
        stat_date = latest_statistics_date()
        first, last = contribution_window(stat_date)

        # (b) the pack for the last month end, and the statements it ran
        captured: list[tuple[str, object]] = []

        def capture(_conn, _cursor, statement, parameters, _context, _many):
            captured.append((statement, parameters))

        def pack():
            data = collect(month_end)
            build_pdf(data)
            build_xlsx(data)
            return data

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            data = pack()  # also the warm-up of the timed runs
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        # Its reads and the session settings it gave them (SET LOCAL: memory for hashing, no JIT), replayed in one
        # transaction as the pack ran them, so that the reference runs each statement under the same settings.
        statements = [(sql, params) for sql, params in captured
                      if sql.lstrip().upper().startswith(("SELECT", "WITH", "SET LOCAL"))]
        reads = sum(1 for sql, _params in statements if not sql.lstrip().upper().startswith("SET"))
        with psycopg.connect(url, autocommit=True) as conn:
            def replay() -> list[list]:
                results = []
                with conn.transaction():
                    for sql, params in statements:
                        cursor = conn.execute(sql, params)
                        if cursor.description is not None:
                            results.append(cursor.fetchall())
                return results

            # The first read is the grid: the replay counts the clients the pack's matrix shows.
            replayed_clients = sum(row[3] for row in replay()[0])  # also the replay's warm-up
            if replayed_clients != data.grid.total.clients:
                raise RuntimeError(f"the pack and its replayed grid disagree: {data.grid.total.clients} / "
                                   f"{replayed_clients}")
            # The pack and its reference in turns, so that a shared machine's changing load weighs on both alike.
            pack_times, replay_times = [], []
            for _ in range(runs):
                pack_times.append(_timed(pack))
                replay_times.append(_timed(replay))
        pack_seconds, bare_pack = statistics.median(pack_times), statistics.median(replay_times)

        # (c) the matrix as of the last month end against today's
        compliance = _signed_in(app, "compliance")

        def page(path: str):
            def get():
                response = compliance.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code}")
            return get

        matrix_today = _median_seconds(page("/matrix"), runs)
        matrix_past = _median_seconds(page(f"/matrix?as_of={month_end.isoformat()}"), runs)

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(BARE_TIER_PREVIEW, {"day": stat_date, "first": first, "last": last}).fetchall()
        if sum(row[2] for row in rows) != answer["total_clients"]:
            raise RuntimeError(f"the preview and the bare statement disagree: {answer['total_clients']} / "
                               f"{sum(row[2] for row in rows)}")
        bare_preview = _median_seconds(lambda: conn.execute(
            BARE_TIER_PREVIEW, {"day": stat_date, "first": first, "last": last}).fetchall(), runs)

    report("foresight_clients", clients, "compliance foresight: clients")
    report("tier_preview_ms", round(preview_seconds * 1000, 1),
           f"tier-threshold preview over the API, {answer['total_clients']:,} clients at {stat_date} (server time)")
    report("tier_preview_bare_ms", round(bare_preview * 1000, 1), "reference: one bare statement, same transitions")
    report("tier_preview_ratio", round(preview_seconds / bare_preview, 2),
           "tier preview / bare statement (target <= 2)")
    rows_in_pack = sum(len(part.rows) for part in data.parts.values())
    report("pack_ms", round(pack_seconds * 1000, 1),
           f"inspection pack as of {month_end} ({rows_in_pack:,} rows; PDF and XLSX built)")
    report("pack_bare_ms", round(bare_pack * 1000, 1), f"reference: its {reads} statements replayed bare")
    report("pack_ratio", round(pack_seconds / bare_pack, 2), "inspection pack / its bare statements (target <= 3)")
    report("matrix_past_ms", round(matrix_past * 1000, 1), f"matrix page as of {month_end} (server time)")
    report("matrix_today_ms", round(matrix_today * 1000, 1), "matrix page today (server time)")
    report("matrix_past_ratio", round(matrix_past / matrix_today, 2), "past month-end matrix / today's (target <= 3)")


if __name__ == "__main__":
    import sys

    def _print(key, value, label):
        print(f"{label:<80} {value}", flush=True)

    run(_print, sys.argv[1])
