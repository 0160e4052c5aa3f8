"""Questionnaires submitted through the web form (sign-in, CSRF, every step) under load.

Each load process signs in as its own client and answers the questionnaire again and again, every
step and the review, with random answers. Reported: completed submissions per second, the requests
per second this takes, and that request rate as a ratio to the minimal Flask app's (served by the
same gunicorn, loaded by the same number of processes on the same machine, in the same run).
"""
from __future__ import annotations

import multiprocessing
import random
import subprocess
import time

from bench.harness import BIN, ROOT, gunicorn, lift_retake_limit, load, production_env
from bench.webform import Browser, sign_in

PASSWORD = "bench-password-2026"


def _client_logins(url: str, count: int) -> list[str]:
    """Create `count` client logins for clients without one (through the real CLI)."""
    import os

    import psycopg

    with psycopg.connect(url) as conn:
        numbers = [row[0] for row in conn.execute(
            "SELECT client_no FROM clients c WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.client_id = c.id) "
            "ORDER BY id LIMIT %s", (count,))]
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"}
    names = []
    for number in numbers:
        name = f"bench_{number.lower()}"
        subprocess.run([str(BIN / "flask"), "--app", "app", "create-user", name, "--role", "client", "--client",
                        number, "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, env=env,
                       check=True, capture_output=True)
        names.append(name)
    return names


def _flow(browser: Browser, rng: random.Random) -> None:
    browser.get("/questionnaire")  # the introduction, as a client opens it
    page = browser.get("/questionnaire/step/1")
    path = "/questionnaire/step/1"
    for _ in range(20):
        if path.startswith("/questionnaire/result/"):
            return
        path, page = browser.submit(page, rng)
    raise RuntimeError(f"the questionnaire did not end on a result page (last {path})")


def _worker(base: str, username: str, seconds: float, queue) -> None:
    flows = errors = requests = 0
    try:
        browser = Browser(base)
        sign_in(browser, username, PASSWORD)
        rng = random.Random(username)
        start = time.perf_counter()
        browser.requests = 0
        while time.perf_counter() - start < seconds and flows + errors < 10_000:
            try:
                _flow(browser, rng)
                flows += 1
            except Exception:  # noqa: BLE001 - counted and reported as an error
                errors += 1
        requests = browser.requests
    except Exception:  # noqa: BLE001
        errors += 1
    finally:
        queue.put((flows, errors, requests))


def run(report, url: str, seconds: float, concurrency: int = 4) -> None:
    usernames = _client_logins(url, concurrency)
    lift_retake_limit(url)
    with gunicorn("bench.minimal_app:app") as base:
        reference = load(base, ["/ok"], concurrency=concurrency, seconds=seconds)
    with gunicorn("app:app", production_env(url)) as base:
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(base, name, seconds, queue)) for name in usernames]
        start = time.perf_counter()
        for w in workers:
            w.start()
        results = [queue.get(timeout=seconds + 300) for _ in workers]
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
    flows = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    requests = sum(r[2] for r in results)
    report("questionnaire_submissions_per_s", round(flows / elapsed, 2),
           "questionnaires submitted per second through the web form")
    report("questionnaire_requests_per_s", round(requests / elapsed, 1),
           f"requests per second doing so ({requests / max(flows, 1):.1f} requests a submission)")
    report("questionnaire_errors", errors, "questionnaire flows that failed")
    report("questionnaire_ratio", round(requests / elapsed / reference.rps, 3),
           "questionnaire request rate / minimal rps (target >= 0.10)")
