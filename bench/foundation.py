"""Issue 2: seeding 1,000,000 clients on PostgreSQL, and the client-book page against a minimal Flask app."""
from __future__ import annotations

import time

from bench.harness import flask, fresh_database, gunicorn, load, production_env, sign_in

DEMO_PASSWORD = "demo-password-2026"


def run(report, clients: int, managers: int, seconds: float) -> str:
    url = fresh_database("portal_bench")
    flask(["db", "upgrade"], url)
    start = time.perf_counter()
    flask(["seed-demo", "--clients", str(clients), "--managers", str(managers)], url)
    seed_seconds = time.perf_counter() - start
    report("seed_seconds", round(seed_seconds, 1), f"seed {clients:,} clients, {managers:,} managers (target < 120 s)")

    with gunicorn("bench.minimal_app:app") as base:
        reference = load(base, ["/ok"], seconds=seconds)
    with gunicorn("app:app", production_env(url)) as base:
        cookie = sign_in(base, "rm", DEMO_PASSWORD)
        paths = ["/book", "/book?page=2", "/book?sort=opened_on&dir=desc", "/book?q=王"]
        book = load(base, paths, {"Cookie": cookie}, seconds=seconds)
    report("minimal_rps", round(reference.rps, 1), "minimal Flask app, gunicorn 2 workers")
    report("book_rps", round(book.rps, 1), f"client book at {clients:,} clients, gunicorn 2 workers")
    report("book_p95_ms", round(book.percentile(95) * 1000, 1), "client book p95 latency")
    report("book_errors", book.errors, "client book non-200 answers")
    report("book_ratio", round(book.rps / reference.rps, 3), "client book rps / minimal rps (target >= 0.15)")
    return url
