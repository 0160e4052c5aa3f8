"""Seeding 1,000,000 clients on PostgreSQL, and the client-book page against a minimal Flask app.

The book is loaded twice: as served (its rendered body kept while the book is unchanged,
portal/clients/cache.py — the load repeats four pages of one manager's book, so nearly every request is
served from the cache) and with the cache off, where every request reads and renders the book.
"""
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
    paths = ["/book", "/book?page=2", "/book?sort=opened_on&dir=desc", "/book?q=王"]
    with gunicorn("app:app", production_env(url)) as base:
        cookie = sign_in(base, "rm", DEMO_PASSWORD)
        book = load(base, paths, {"Cookie": cookie}, seconds=seconds)
    # The same load with the rendered-book cache off (BOOK_CACHE_ENTRIES=0): every request renders the book
    # from the database, as the first view of a changed book does.
    with gunicorn("app:app", {**production_env(url), "BOOK_CACHE_ENTRIES": "0"}) as base:
        cookie = sign_in(base, "rm", DEMO_PASSWORD)
        rendered = load(base, paths, {"Cookie": cookie}, seconds=seconds)
    report("minimal_rps", round(reference.rps, 1), "minimal Flask app, gunicorn 2 workers")
    report("book_rps", round(book.rps, 1), f"client book at {clients:,} clients, gunicorn 2 workers")
    report("book_p95_ms", round(book.percentile(95) * 1000, 1), "client book p95 latency")
    report("book_errors", book.errors + rendered.errors, "client book non-200 answers")
    report("book_ratio", round(book.rps / reference.rps, 3), "client book rps / minimal rps (target >= 0.15)")
    report("book_uncached_rps", round(rendered.rps, 1), "client book, every request rendered (cache off)")
    report("book_uncached_p95_ms", round(rendered.percentile(95) * 1000, 1), "client book p95, cache off")
    report("book_uncached_ratio", round(rendered.rps / reference.rps, 3), "client book rps, cache off / minimal rps")
    return url
