"""Shared pieces of the benchmarks: a PostgreSQL database of their own, gunicorn, a bounded load."""
from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def lift_retake_limit(url: str) -> None:
    """Let the bench's clients answer the questionnaire again and again: a stage measures how fast
    submissions go through, so the in-force version's daily retake limit (3 by default) is raised for it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE questionnaire_versions SET retakes_per_day = 1000000 WHERE status = 'active'")


def admin(*statements: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def database_url(name: str) -> str:
    parts = urllib.parse.urlsplit(ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database(name: str) -> str:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return database_url(name)


def flask(args: list[str], url: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"}
    return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(target: str, env: dict | None = None, workers: int = 2):
    """Serve `target` with gunicorn on a loopback port; yields the base URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         target],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn {target} exited: {process.stderr.read()[-2000:]}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def production_env(url: str) -> dict:
    return {"DATABASE_URL": url, "PORTAL_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
            "LOGIN_LIMIT_PER_USERNAME": "10000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute"}


def sign_in(base: str, username: str, password: str) -> str:
    """Sign in through the real form; returns the Cookie header value to send."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token})
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie,
                                                      "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in as {username} failed: {response.status}")
    return response.getheader("Set-Cookie").split(";", 1)[0]


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _worker(base: str, paths: list[str], headers: dict, seconds: float, max_requests: int, queue) -> None:
    done = errors = 0
    latencies: list[float] = []
    try:
        done, errors = _requests(base, paths, headers, seconds, max_requests, latencies)
    finally:  # the parent waits for exactly one answer per worker, whatever happened here
        queue.put((done, errors, latencies))


def _requests(base: str, paths: list[str], headers: dict, seconds: float, max_requests: int,
              latencies: list[float]) -> tuple[int, int]:
    parts = urllib.parse.urlsplit(base)
    paths = [urllib.parse.quote(p, safe="/?&=%") for p in paths]
    done = errors = 0
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end and done + errors < max_requests:
        path = paths[i % len(paths)]
        i += 1
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                done += 1
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1
        except OSError:
            errors += 1
    return done, errors


def load(base: str, paths: list[str], headers: dict | None = None, concurrency: int = 4, seconds: float = 10.0,
         max_requests: int = 200_000, warmup: float = 2.0) -> LoadResult:
    """Bounded closed-loop load from `concurrency` processes on loopback; every client opens a new connection."""
    if not base.startswith("http://127.0.0.1"):
        raise ValueError("load is only ever sent to the loopback address")
    if warmup:
        load(base, paths, headers, concurrency, warmup, max_requests, warmup=0)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    per_worker = max_requests // concurrency
    workers = [ctx.Process(target=_worker, args=(base, paths, headers or {}, seconds, per_worker, queue))
               for _ in range(concurrency)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    results = [queue.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    latencies = [lat for _d, _e, lats in results for lat in lats]
    return LoadResult(sum(r[0] for r in results), sum(r[1] for r in results), elapsed, latencies)
