"""Real servers for the fault tests: gunicorn subprocesses on loopback ports, and a tiny HTTP client."""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str, **extra: str) -> dict:
    """The production configuration, with the throttles out of the way unless a test sets them."""
    env = {"DATABASE_URL": database_url, "PORTAL_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "LOGIN_LIMIT_PER_USERNAME": "10000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
           "RATELIMIT_STORAGE_URI": "memory://"}
    env.update(extra)
    return env


@contextmanager
def gunicorn(env: dict, log: Path, workers: int = 2, timeout: int = 30):
    """Serve the portal with gunicorn on a free loopback port; yields (base URL, master pid)."""
    port = free_port()
    with open(log, "ab") as err:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout",
             str(timeout), "--graceful-timeout", "5", "--log-level", "warning", "app:app"],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 40
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({process.returncode}): {log.read_text()[-2000:]}")
            try:
                status, _, _ = request(f"http://127.0.0.1:{port}", "GET", "/healthz", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in 40 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(base: str, method: str, path: str, *, body=None, headers: dict | None = None,
            timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """One request on a new connection (so any worker may answer); raises OSError on a network failure."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def call(base: str, method: str, path: str, **kwargs) -> Answer:
    return Answer(*request(base, method, path, **kwargs))


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def failed_sign_in(base: str, username: str) -> int:
    """GET the form (fresh session and CSRF token), POST a wrong password; returns the status of the POST."""
    status, headers, body = request(base, "GET", "/login")
    assert status == 200, status
    cookie = headers["set-cookie"].split(";", 1)[0]
    token = CSRF_RE.search(body.decode()).group(1)
    from urllib.parse import urlencode

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", "/login", body=urlencode({"username": username, "password": "wrong-password-123",
                                                       "csrf_token": token}),
                     headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
