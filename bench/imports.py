"""Importing a 1,000,000-row snapshot file plus the re-tier, against a raw COPY plus one UPDATE.

On the seeded database: write a snapshot CSV for a new statistics date (the day after the latest one)
with a row for every client holding a snapshot at the latest date (1,000,000 at most), then time
(a) `import_file` — the operation behind `flask import-assets`: staging COPY, every check, the
    replace and insert, the set-based re-tier (client_tiers and clients) — in one transaction;
(b) the reference: a raw `COPY` of the same file into a scratch unlogged table shaped like the file,
    plus one `UPDATE clients SET asset_tier, total_assets, contribution_12m, tier_date` joined on the
    client number, touching the same rows.
Both run to the end of their work and are rolled back, so the database stays as seeded (a commit
adds only a WAL flush); the touched tables are vacuumed afterwards. The reference runs before and
after the import and the faster run is used, so the ratio is the conservative one.
"""
from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

PARTS = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")
MAX_ROWS = 1_000_000


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def write_file(url: str, directory: Path) -> tuple[Path, int, str]:
    """The snapshot CSV for the day after the latest statistics date; returns (path, rows, date)."""
    with psycopg.connect(_plain(url)) as conn:
        latest = conn.execute("SELECT max(stat_date) FROM asset_snapshots").fetchone()[0]
        if latest is None:
            raise RuntimeError("the database holds no asset snapshots: seed it with seed-demo first")
        day = (latest + timedelta(days=1)).isoformat()
        # Holdings drift a little from the latest date, as a month's market would move them.
        drift = ", ".join(f"round({p} * (0.95 + 0.1 * random())::numeric, 2) AS {p}" if p in ("a_shares", "funds")
                          else p for p in PARTS)
        query = (f"SELECT c.client_no, '{day}' AS date, {drift} FROM asset_snapshots s"
                 f" JOIN clients c ON c.id = s.client_id WHERE s.stat_date = '{latest.isoformat()}'"
                 f" ORDER BY s.client_id LIMIT {MAX_ROWS}")
        path = directory / "snapshots.csv"
        rows = 0
        with path.open("wb") as out, conn.cursor() as cursor:
            with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    out.write(chunk)
                    rows += bytes(chunk).count(b"\n")
        return path, rows - 1, day


def reference(url: str, path: Path) -> float:
    """Seconds for a raw COPY of the file into a scratch unlogged table plus one UPDATE of the same clients."""
    columns = ", ".join(f"{p} numeric(18, 2)" for p in PARTS)
    total = " + ".join(f"r.{p}" for p in PARTS)
    with psycopg.connect(_plain(url)) as conn:
        conn.execute(f"CREATE UNLOGGED TABLE bench_import_reference (client_no text, date date, {columns})")
        start = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as source:
            with cursor.copy("COPY bench_import_reference FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        conn.execute(
            f"UPDATE clients c SET asset_tier = CASE WHEN {total} >= 5000000 THEN 1 WHEN {total} >= 1000000 THEN 2"
            f" WHEN {total} >= 100000 THEN 3 ELSE 4 END, total_assets = {total}, contribution_12m = 0,"
            " tier_date = r.date FROM bench_import_reference r WHERE c.client_no = r.client_no")
        seconds = time.perf_counter() - start
        conn.rollback()
    return seconds


def import_once(url: str, path: Path) -> tuple[float, dict]:
    """Seconds for the import operation with its re-tier, in-process, in one transaction (rolled back)."""
    from models import db
    from portal import create_app
    from portal.imports.assets import ASSETS, import_file

    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        start = time.perf_counter()
        result = import_file(ASSETS, path, source="bench")
        db.session.flush()
        seconds = time.perf_counter() - start
        db.session.rollback()
        db.engine.dispose()
    return seconds, result.as_dict()


def vacuum(url: str) -> None:
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) clients, asset_snapshots, client_tiers")


def run(report, url: str) -> None:
    os.environ["DATABASE_URL"] = url
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as directory:
        path, rows, day = write_file(url, Path(directory))
        reference_before = reference(url, path)
        vacuum(url)
        seconds, result = import_once(url, path)
        vacuum(url)
        reference_after = reference(url, path)
        vacuum(url)
    if result["rows"] != rows or result["retiered"] != rows:
        raise RuntimeError(f"the import wrote {result['rows']} rows and re-tiered {result['retiered']}, not {rows}")
    best_reference = min(reference_before, reference_after)
    report("import_assets_s", round(seconds, 2),
           f"import-assets of {rows:,} snapshot rows for {day}, checks and re-tier included (s)")
    report("import_reference_s", round(best_reference, 2),
           f"reference: raw COPY of the same file + one UPDATE of the same clients (s; runs "
           f"{reference_before:.2f} and {reference_after:.2f})")
    report("import_ratio", round(seconds / best_reference, 2), "import-assets / reference (target <= 3)")


if __name__ == "__main__":
    import sys

    def _print(key, value, label):
        print(f"{label:<90} {value}", flush=True)

    run(_print, sys.argv[1])
