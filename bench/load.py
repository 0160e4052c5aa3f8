"""A Locust load test, headless and bounded, against the portal under gunicorn in production configuration.

A morning at a broker, on loopback only: clients answering the questionnaire through the web form, managers
browsing their book and logging follow-ups, supervisors scoring the open cycle, compliance opening the matrix
(filters, a cell drill-down, the CSV and XLSX exports). Every user signs in once, through the real form.

First each page's single-user time (one user, sequential, `BENCH_LOAD_SINGLE` requests of each page), then
Locust in a subprocess (`bench/locustfile.py`; gevent's monkey-patching stays out of this process) with
`BENCH_LOAD_USERS` users (default 20) for `BENCH_LOAD_SECONDS` (default 60), against `BENCH_LOAD_WORKERS`
gunicorn sync workers (default 4, as `make serve`). Reported: requests per second,
the error count (target 0), p50/p95/p99 per page, and for the book and the matrix the ratio of the p95 under
load to the single-user p95 (target <= 10).

The flows below are written against a tiny `request(method, path, name, data)` interface so that the same code
drives the single-user measurement (requests) and the Locust users (their HttpSession).
"""
from __future__ import annotations

import csv
import html
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

from bench.harness import BIN, ROOT, flask, gunicorn, lift_retake_limit, production_env
from bench.webform import Browser

DEMO_PASSWORD = "demo-password-2026"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FORM_RE = re.compile(r'<form\b[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S)
# The pages whose p95 under load is compared with their single-user p95 (target <= 10).
COMPARED = ("/book", "/matrix")


class FlowError(Exception):
    """An answer that was not the one the flow expected (counted as an error)."""


# --- what the users ask for -----------------------------------------------------------------------------------

def plan(url: str) -> dict:
    """Everything the users need from the seeded database: the demo rm's clients, the open cycle, the filters."""
    with psycopg.connect(url) as conn:
        rm_manager = conn.execute("SELECT manager_id FROM users WHERE username = 'rm'").fetchone()
        sup_manager = conn.execute("SELECT manager_id FROM users WHERE username = 'supervisor'").fetchone()
        if not rm_manager or not sup_manager:
            raise RuntimeError("the database has no demo rm or supervisor: run seed-demo first")
        rm_clients = [r[0] for r in conn.execute(
            "SELECT client_no FROM clients WHERE manager_id = %s ORDER BY id LIMIT 200", (rm_manager[0],))]
        team = conn.execute("SELECT id, code FROM teams WHERE supervisor_id = %s ORDER BY id LIMIT 1",
                            (sup_manager[0],)).fetchone()
        branches = [r[0] for r in conn.execute(
            "SELECT b.code FROM clients c JOIN branches b ON b.id = c.branch_id WHERE c.manager_id = %s"
            " GROUP BY b.code ORDER BY count(*) DESC LIMIT 3",
            (rm_manager[0],))]
        teams = [r[0] for r in conn.execute("SELECT code FROM teams ORDER BY id LIMIT 5")]
        managers = [r[0] for r in conn.execute(
            "SELECT employee_no FROM managers WHERE team_id = %s ORDER BY id LIMIT 5", (team[0],))]
    return {"rm_clients": rm_clients, "team_id": team[0], "team_code": team[1], "branches": branches,
            "teams": teams, "managers": managers, "supervisor_manager_id": sup_manager[0]}


def open_cycle(url: str, base: str, plan_: dict) -> None:
    """Add the open cycle of the demo supervisor's team to the plan; create and open one through the API if none."""
    cycle = _open_cycle_of(url, plan_)
    if cycle is None:
        import requests

        token = flask(["create-api-token", "supervisor", "--label", "bench-load"], url).stdout.strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}
        today = date.today()
        body = {"name": f"Load test {today.isoformat()}", "start": (today - timedelta(days=30)).isoformat(),
                "end": (today + timedelta(days=30)).isoformat(), "scope": {"team": plan_["team_code"]}}
        response = requests.post(f"{base}/api/v1/cycles", json=body, headers=headers, timeout=30)
        if response.status_code != 201:
            raise RuntimeError(f"creating a cycle failed: {response.status_code} {response.text[:300]}")
        cycle_id = response.json()["id"]
        response = requests.post(f"{base}/api/v1/cycles/{cycle_id}/open", headers=headers, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"opening the cycle failed: {response.status_code} {response.text[:300]}")
        cycle = _open_cycle_of(url, plan_)
    plan_["cycle_id"], plan_["evaluations"] = cycle


def _open_cycle_of(url: str, plan_: dict) -> tuple[int, list[str]] | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM evaluation_cycles WHERE state = 'open' AND team_id = %s "
                           "ORDER BY id DESC LIMIT 1", (plan_["team_id"],)).fetchone()
        if row is None:
            return None
        numbers = [r[0] for r in conn.execute(
            "SELECT m.employee_no FROM evaluations e JOIN managers m ON m.id = e.manager_id "
            "WHERE e.cycle_id = %s AND e.manager_id <> %s ORDER BY m.employee_no",
            (row[0], plan_["supervisor_manager_id"]))]
    return (row[0], numbers) if numbers else None


def book_paths(plan_: dict) -> list[str]:
    """A manager's book as it is browsed: sorted, filtered, searched, paged."""
    return ["/book", "/book?page=2", "/book?sort=opened_on&dir=desc", "/book?sort=valid_until",
            "/book?profile=expiring", "/book?profile=expired&sort=risk&dir=desc", "/book?q=王", "/book?page=3"]


def matrix_paths(plan_: dict) -> list[str]:
    """The matrix as compliance opens it: whole, by branch, by team, by manager."""
    paths = ["/matrix", "/matrix"]
    paths += [f"/matrix?branch={b}" for b in plan_["branches"][:2]]
    paths += [f"/matrix?team={t}" for t in plan_["teams"][:2]]
    paths += [f"/matrix?manager={m}" for m in plan_["managers"][:1]]
    return paths


def drill_paths(plan_: dict) -> list[str]:
    return ["/matrix/clients?tier=4&class=balanced", "/matrix/clients?tier=3", "/matrix/clients?class=aggressive",
            "/matrix/clients?status=expiring", f"/matrix/clients?tier=4&team={plan_['teams'][0]}"]


# --- the flows, over any session with request(method, path, name, data, status, check) -> (location, text) -----

def sign_in(session, username: str) -> None:
    _l, body = session.request("GET", "/login", "/login")
    token = CSRF_RE.search(body).group(1)
    session.request("POST", "/login", "/login", {"username": username, "password": DEMO_PASSWORD,
                                                 "csrf_token": token},
                    status=302, check=lambda location: "/login" not in location)


def questionnaire(session, rng: random.Random) -> None:
    """A client answers every step, reviews and submits: one new assessment."""
    session.request("GET", "/questionnaire", "/questionnaire")
    path, name = "/questionnaire/step/1", "/questionnaire/step/[n]"
    for _ in range(20):
        _l, page = session.request("GET", path, name)
        if path.startswith("/questionnaire/result/"):
            return
        action, fields, radios = Browser.main_form(page)
        form = dict(fields)
        for field, values in radios.items():
            form[field] = rng.choice(values)
        location, _t = session.request("POST", action, name, form, status=302,
                                       check=lambda location: _local(location).rstrip("/") != "/questionnaire")
        path = _local(location)
        name = ("/questionnaire/review" if path.endswith("/review") else
                "/questionnaire/result/[id]" if "/result/" in path else "/questionnaire/step/[n]")
    raise FlowError("the questionnaire did not end on a result page")


def browse_book(session, plan_: dict, rng: random.Random) -> None:
    session.request("GET", rng.choice(book_paths(plan_)), "/book")


def log_followup(session, plan_: dict, rng: random.Random) -> None:
    """Open a client's follow-up history and log a contact through its form."""
    number = rng.choice(plan_["rm_clients"])
    path = f"/clients/{number}/followups"
    _l, page = session.request("GET", path, "/clients/[no]/followups")
    form = {"csrf_token": CSRF_RE.search(page).group(1), "next": "history", "date": _today(page),
            "channel": rng.choice(("phone", "visit", "wechat", "email", "meeting")), "grade": rng.choice("ABCDE"),
            "note": rng.choice(("电话回访，客户关注理财产品。", "Visited; wants a bond fund.", ""))}
    session.request("POST", path, "/clients/[no]/followups", form, status=302,
                    check=lambda location: _local(location) == path)


def score(session, plan_: dict, number: str, rng: random.Random) -> None:
    """Open the cycle, open one evaluation and save scores with the form's version."""
    cycle = plan_["cycle_id"]
    session.request("GET", f"/cycles/{cycle}", "/cycles/[id]")
    path = f"/cycles/{cycle}/evaluations/{number}"
    _l, page = session.request("GET", path, "/cycles/[id]/evaluations/[no]")
    match = next((m for m in FORM_RE.finditer(page) if html.unescape(m.group(1)) == path), None)
    if match is None:
        raise FlowError(f"{path} shows no score form")
    fields = {}
    for raw in re.findall(r"<input\b([^>]*)>", match.group(2)):
        attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', raw)}
        if attrs.get("type") == "hidden" and attrs.get("name"):
            fields[attrs["name"]] = attrs.get("value", "")
    form = {**fields, **{d: str(rng.randint(55, 98)) for d in ("satisfaction", "kpi", "team", "competence")},
            "comment": rng.choice(("稳定", "Strong quarter.", ""))}
    session.request("POST", path, "/cycles/[id]/evaluations/[no]", form, status=302,
                    check=lambda location: _local(location) == path)


def matrix(session, plan_: dict, rng: random.Random) -> None:
    session.request("GET", rng.choice(matrix_paths(plan_)), "/matrix")


def drill_down(session, plan_: dict, rng: random.Random) -> None:
    session.request("GET", rng.choice(drill_paths(plan_)), "/matrix/clients")


def export(session, fmt: str) -> None:
    session.request("GET", f"/matrix?export={fmt}", f"/matrix?export={fmt}", check=lambda _location: True)


class CookieSession:
    """Cookies kept by hand (the production session cookie is Secure, and this is plain loopback HTTP, so
    requests' own jar would never send it back); every answer checked against what the flow expects."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, name: str, data: dict | None, headers: dict, status: int,
             check) -> tuple[str, str]:
        raise NotImplementedError

    def request(self, method: str, path: str, name: str, data: dict | None = None, status: int = 200,
                check=None) -> tuple[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        return self.send(method, path, name, data, headers, status, check)

    def verdict(self, response, method: str, path: str, status: int, check) -> str | None:
        """Keep the response's cookies; return why the answer is wrong, or None."""
        self.cookies.update(response.cookies.get_dict())
        location = response.headers.get("Location", "")
        if response.status_code != status:
            return f"{method} {path}: {response.status_code} instead of {status}"
        if check is not None and not check(location):
            return f"{method} {path}: unexpected redirect to {location or 'nowhere'}"
        if status == 200 and not response.content:
            return f"{method} {path}: empty answer"
        return None


def _local(location: str) -> str:
    return re.sub(r"^https?://[^/]+", "", location or "")


def _today(page: str) -> str:
    match = re.search(r'type="date"[^>]*max="(\d{4}-\d{2}-\d{2})"', page)
    return match.group(1) if match else date.today().isoformat()


# --- single-user times --------------------------------------------------------------------------------------

class TimedSession(CookieSession):
    """A plain requests session that records each request's time under "METHOD name"."""

    def __init__(self, base: str):
        import requests

        super().__init__()
        self.base = base
        self.http = requests.Session()
        self.times: dict[str, list[float]] = {}

    def send(self, method, path, name, data, headers, status, check) -> tuple[str, str]:
        start = time.perf_counter()
        response = self.http.request(method, self.base + path, data=data, headers=headers, allow_redirects=False,
                                     timeout=60)
        body = response.text
        self.times.setdefault(f"{method} {name}", []).append(time.perf_counter() - start)
        self.http.cookies.clear()
        problem = self.verdict(response, method, path, status, check)
        if problem:
            raise FlowError(problem)
        return response.headers.get("Location", ""), body


def single_user(base: str, plan_: dict, count: int) -> dict[str, list[float]]:
    """Each page `count` times, one request at a time, after one warming pass."""
    rng = random.Random(7)
    times: dict[str, list[float]] = {}
    rounds = [  # the book and the matrix, compared with their time under load, get more samples
        ("client", lambda s: questionnaire(s, rng)),
        ("rm", lambda s: ([browse_book(s, plan_, rng) for _ in range(3)], log_followup(s, plan_, rng))),
        ("supervisor", lambda s: score(s, plan_, rng.choice(plan_["evaluations"]), rng)),
        ("compliance", lambda s: ([matrix(s, plan_, rng) for _ in range(3)], drill_down(s, plan_, rng),
                                  export(s, "csv"), export(s, "xlsx"))),
    ]
    for username, flow in rounds:
        session = TimedSession(base)
        sign_in(session, username)
        flow(session)  # warm: templates, plans, caches
        session.times.clear()
        for _ in range(count):
            flow(session)
        for name, values in session.times.items():
            times.setdefault(name, []).extend(values)
    return times


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile, interpolated between the samples."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


# --- the run ------------------------------------------------------------------------------------------------

def _locust(base: str, plan_: dict, users: int, seconds: float, folder: Path) -> tuple[list[dict], str]:
    if not (BIN / "locust").exists():
        raise RuntimeError("Locust is not installed: .venv/bin/pip install -r requirements-bench.txt")
    plan_file = folder / "plan.json"
    plan_file.write_text(json.dumps(plan_, ensure_ascii=False))
    command = [str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
               "-u", str(users), "-r", str(users), "--run-time", f"{int(seconds) + 300}s",
               "--host", base, "--csv", str(folder / "load"), "--only-summary", "--stop-timeout", "30",
               "--exit-code-on-error", "0", "--loglevel", "WARNING"]
    print("load: " + " ".join(command[1:]).replace(str(folder), "$TMP"), flush=True)
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan_file), "BENCH_LOAD_WINDOW": str(seconds), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 400)
    if done.returncode != 0:
        raise RuntimeError(f"locust exited {done.returncode}: {done.stderr[-3000:]}")
    with open(folder / "load_stats.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    failures = (folder / "load_failures.csv").read_text(encoding="utf-8") if (folder / "load_failures.csv").exists() \
        else ""
    sign_ins = json.loads((folder / "sign_ins.json").read_text(encoding="utf-8"))
    return rows, failures, sign_ins


def run(report, url: str, seconds: float | None = None, users: int | None = None, single: int | None = None,
        workers: int | None = None) -> dict:
    """Measure single-user times, then the bounded load; report the figures and print a table."""
    seconds = seconds or float(os.environ.get("BENCH_LOAD_SECONDS", 60))
    users = users or int(os.environ.get("BENCH_LOAD_USERS", 20))
    single = single or int(os.environ.get("BENCH_LOAD_SINGLE", 20))
    # As `make serve` runs the portal: WORKERS sync workers, 4 by default (two per core here). With only two,
    # every fast page queues behind any two matrix exports in flight and its p95 measures the queue.
    workers = workers or int(os.environ.get("BENCH_LOAD_WORKERS", 4))
    plan_ = plan(url)
    lift_retake_limit(url)
    with psycopg.connect(url, autocommit=True) as conn:
        clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
    with gunicorn("app:app", production_env(url), workers=workers) as base:
        if not base.startswith("http://127.0.0.1:"):
            raise ValueError("the load test only ever runs on the loopback address")
        open_cycle(url, base, plan_)
        alone = single_user(base, plan_, single)
        with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
            rows, failures, sign_ins = _locust(base, plan_, users, seconds, Path(folder))

    by_page = {(row["Type"], row["Name"]): row for row in rows
               if row["Name"] != "Aggregated" and int(row["Request Count"])}
    total = next(row for row in rows if row["Name"] == "Aggregated")
    errors = int(total["Failure Count"]) + sign_ins["failed"]
    report("load_sign_ins", sign_ins["done"] - sign_ins["failed"], "load: users signed in (once each, before the "
           "measured window)")
    report("load_users", users, f"load: Locust users (gunicorn {workers} workers, {clients:,} clients)")
    measured = int(total["Request Count"]) / float(total["Requests/s"]) if float(total["Requests/s"]) else 0.0
    report("load_seconds", round(measured, 1), f"load: measured seconds (of {int(seconds)} s, after the sign-ins)")
    report("load_rps", round(float(total["Requests/s"]), 1), "load: requests per second, all pages")
    report("load_requests", int(total["Request Count"]), "load: requests answered")
    report("load_errors", errors, "load: errors (target 0)")
    table = []
    for (kind, name), row in sorted(by_page.items(), key=lambda item: (item[0][1], item[0][0])):
        key = re.sub(r"[^a-z0-9]+", "_", f"{kind} {name}".lower()).strip("_")
        figures = {p: float(row[f"{p}%"]) for p in ("50", "95", "99")}
        for p, value in figures.items():
            report(f"load_{key}_p{p}_ms", round(value), f"load: {kind} {name} p{p} ms")
        solo = alone.get(f"{kind} {name}", [])
        table.append((kind, name, int(row["Request Count"]), int(row["Failure Count"]), figures["50"],
                      figures["95"], figures["99"], percentile(solo, 95) * 1000 if solo else float("nan")))
    for name in COMPARED:
        if ("GET", name) in by_page and alone.get(f"GET {name}"):
            ratio = float(by_page[("GET", name)]["95%"]) / (percentile(alone[f"GET {name}"], 95) * 1000)
            report(f"load_{name.strip('/')}_p95_ratio", round(ratio, 2),
                   f"load: {name} p95 under load / single-user p95 (target <= 10)")
    print(f"\n{'':6} {'page':<40} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'alone p95':>9}")
    for kind, name, count, failed, p50, p95, p99, solo in table:
        print(f"{kind:6} {name:<40} {count:>8} {failed:>6} {p50:>7.0f} {p95:>7.0f} {p99:>7.0f} {solo:>9.1f}")
    print(f"{'':6} {'all pages':<40} {int(total['Request Count']):>8} {errors:>6} {float(total['50%']):>7.0f} "
          f"{float(total['95%']):>7.0f} {float(total['99%']):>7.0f}\n", flush=True)
    if failures.strip().count("\n"):
        print("failures:\n" + failures, flush=True)
    return {"rows": rows, "single": {k: statistics.median(v) for k, v in alone.items()}}


if __name__ == "__main__":  # python -m bench.load URL [seconds] [users]
    def _print(key, value, label):
        print(f"{label:<70} {value}", flush=True)

    run(_print, sys.argv[1], *(float(a) for a in sys.argv[2:3]), *(int(a) for a in sys.argv[3:4]))
