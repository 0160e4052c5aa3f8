"""Faults on PostgreSQL with real processes: the database restarting under load, an import killed with -9,
two app processes writing the same evaluation, and sign-in throttles shared by two processes through Redis.

Each test builds its own database (a clone of the migrated template, tests/databases.py) and drops it.
Without TEST_DATABASE_URL they skip with the reason; REQUIRE_POSTGRES=1 makes that a failure. The Redis test
skips when Redis is unreachable; REQUIRE_REDIS=1 makes that a failure.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import make_app
from tests.databases import postgres_url, require_postgres
from tests.faults.proxy import CuttableProxy
from tests.faults.servers import ROOT, call, failed_sign_in, gunicorn, production_env
from tests.helpers import Factory, api_token

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = 11  # this module's own Redis database number: flushed before and after, never another one


@pytest.fixture
def pg_url(request, tmp_path):
    """A fresh migrated PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    if not postgres_url() and not require_postgres():
        pytest.skip("TEST_DATABASE_URL is not set: the fault tests need PostgreSQL")
    factory = request.getfixturevalue("postgres_factory")
    url = factory.create(tmp_path)
    yield url
    factory.drop(url)


def conninfo(url: str) -> str:
    u = make_url(url)
    return psycopg.conninfo.make_conninfo(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username,
                                          password=u.password or None, dbname=u.database)


def sql(url: str, statement: str, params=None) -> list[tuple]:
    with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def small_world(url: str) -> dict:
    """One team (supervisor SUPA, managers RMA1/RMA2, three clients), logins and API tokens; returns the tokens."""
    from models import db

    app = make_app(url)
    with app.app_context():
        make = Factory()
        sup = make.manager(level="senior", employee_no="SUPA")
        team = make.team("TEAMA", supervisor=sup)
        sup.team = team
        rm1 = make.manager(team, employee_no="RMA1")
        make.manager(team, level="mid", employee_no="RMA2")
        for n in range(1, 4):
            make.client(rm1, client_no=f"CA000{n}", name=f"客户{n}")
        make.user("sup_a", "supervisor", manager=sup)
        make.user("rm_a", "rm", manager=rm1)
        make.user("admin", "admin")
        db.session.commit()
        tokens = {name: {"Authorization": f"Bearer {api_token(name)}"} for name in ("sup_a", "rm_a", "admin")}
        db.session.remove()
        db.engine.dispose()
    return tokens


def business_today() -> date:
    from portal.rules.calendar import business_today as today

    return today()


# --- 1. the database restarts while requests flow --------------------------------------------------

OUTAGE_SECONDS = 4.0


def test_database_restart_under_load_answers_503_recovers_and_loses_no_acknowledged_write(pg_url, tmp_path):
    """PostgreSQL stops for a few seconds and comes back while managers log follow-ups and pages are read.

    The portal reaches PostgreSQL through a TCP proxy (tests/faults/proxy.py). Cutting the proxy is what the
    app sees when PostgreSQL restarts: every open connection is reset and new connections are refused until
    the server listens again. Requests during the outage must be answered 503 with Retry-After (the HTML page,
    or JSON with code "unavailable"), never 500 and never hang; after the restart the same gunicorn workers
    answer again without any restart; every follow-up answered 201 is stored with its audit row, and nothing
    answered 503 is stored half (a stored follow-up always has its audit row and the client's grade).
    """
    tokens = small_world(pg_url)
    real = make_url(pg_url)
    proxy = CuttableProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied = real.set(port=proxy.port, query={"connect_timeout": "3"}).render_as_string(hide_password=False)
    today = business_today().isoformat()
    results: list[dict] = []
    lock = threading.Lock()
    stop = threading.Event()
    clients = ["CA0001", "CA0002", "CA0003"]

    def writer(n: int, base: str) -> None:
        i = 0
        while not stop.is_set():
            note = f"fault-{n}-{i}-{uuid.uuid4().hex[:8]}"
            client_no = clients[(n + i) % 3]
            started = time.monotonic()
            entry = {"kind": "write", "note": note, "client": client_no, "start": started}
            try:
                answer = call(base, "POST", f"/api/v1/clients/{client_no}/follow-ups", headers=tokens["rm_a"],
                              body={"date": today, "channel": "phone", "grade": "BCDAE"[i % 5], "note": note})
                entry.update(status=answer.status, headers=answer.headers, body=answer.body)
            except OSError as error:
                entry.update(status=None, error=repr(error))
            entry["end"] = time.monotonic()
            with lock:
                results.append(entry)
            i += 1

    def reader(n: int, base: str) -> None:
        paths = [("/login", {"Accept-Language": "en"}), ("/api/v1/clients/CA0001/follow-ups", tokens["rm_a"])]
        i = 0
        while not stop.is_set():
            path, headers = paths[i % 2]
            entry = {"kind": "read", "path": path, "start": time.monotonic()}
            try:
                answer = call(base, "GET", path, headers=headers)
                entry.update(status=answer.status, headers=answer.headers, body=answer.body)
            except OSError as error:
                entry.update(status=None, error=repr(error))
            entry["end"] = time.monotonic()
            with lock:
                results.append(entry)
            i += 1
            time.sleep(0.02)

    try:
        with gunicorn(production_env(proxied), tmp_path / "gunicorn.log", workers=2) as (base, _pid):
            threads = [threading.Thread(target=writer, args=(n, base)) for n in range(2)]
            threads += [threading.Thread(target=reader, args=(n, base)) for n in range(2)]
            for t in threads:
                t.start()
            time.sleep(2.0)
            cut_at = time.monotonic()
            proxy.cut()
            time.sleep(OUTAGE_SECONDS)
            restored_at = time.monotonic()
            proxy.restore()
            # Run on until every thread has seen 3 s of service again (or 20 s pass: then the asserts say why).
            deadline = restored_at + 20
            while time.monotonic() < deadline:
                with lock:
                    recent = [r for r in results if r["start"] > time.monotonic() - 3 and r["start"] > restored_at]
                if len(recent) > 10 and time.monotonic() - restored_at > 4 and \
                        all(r["status"] in (200, 201) for r in recent):
                    break
                time.sleep(0.25)
            stop.set()
            for t in threads:
                t.join(timeout=15)
                assert not t.is_alive(), "a client thread hung"
            log = (tmp_path / "gunicorn.log").read_text()
    finally:
        stop.set()
        proxy.close()

    errors = [r for r in results if r["status"] is None]
    assert not errors, [(e["kind"], e.get("path"), e["error"], f"started {e['start'] - cut_at:+.2f} s from the cut, "
                         f"{e['start'] - restored_at:+.2f} s from the restart") for e in errors[:3]]
    statuses = Counter(r["status"] for r in results)
    odd = [(r["kind"], r.get("path") or r.get("client"), r["status"], r["body"][:300]) for r in results
           if r["status"] not in (200, 201, 503)]
    problems = "\n".join(line for line in log.splitlines() if "Connection refused" not in line)
    assert not odd, f"unexpected statuses {statuses}: {odd[:3]}\n{problems[-6000:]}"
    assert max(r["end"] - r["start"] for r in results) < 10, "a request took 10 s or more"

    during = [r for r in results if r["start"] > cut_at + 0.2 and r["end"] < restored_at]
    assert len(during) >= 10, f"too few requests during the outage: {len(during)}"
    assert all(r["status"] == 503 for r in during), Counter(r["status"] for r in during)
    for r in during:
        assert r["headers"].get("retry-after") == "5"
        if r.get("path") == "/login":
            assert r["headers"]["content-type"].startswith("text/html")
            assert b"retry" in r["body"].lower() and b"Traceback" not in r["body"]
        else:
            assert r["headers"]["content-type"].startswith("application/json")
            assert json.loads(r["body"])["error"]["code"] == "unavailable"

    before = [r for r in results if r["end"] < cut_at]
    assert before and all(r["status"] in (200, 201) for r in before)
    after = sorted((r for r in results if r["start"] > restored_at), key=lambda r: r["start"])
    recovered = [r for r in after if r["status"] in (200, 201)]
    assert recovered, "the portal did not recover after the database came back"
    first_ok = recovered[0]["end"] - restored_at
    tail = [r for r in after if r["start"] > restored_at + first_ok + 1.0]
    assert tail and all(r["status"] in (200, 201) for r in tail), Counter(r["status"] for r in tail)

    writes = [r for r in results if r["kind"] == "write"]
    acknowledged = {r["note"] for r in writes if r["status"] == 201}
    refused = {r["note"] for r in writes if r["status"] == 503}
    stored = {note: (log_id, client_no, grade) for log_id, note, client_no, grade in sql(
        pg_url, "SELECT f.id, f.note, c.client_no, f.grade FROM followup_logs f JOIN clients c ON c.id = f.client_id "
                "WHERE f.note LIKE 'fault-%%'")}
    assert acknowledged <= set(stored), f"acknowledged but lost: {sorted(acknowledged - set(stored))[:5]}"
    assert set(stored) <= acknowledged | refused
    audited = {int(row[0]) for row in sql(
        pg_url, "SELECT after::jsonb ->> 'log' FROM audit_log WHERE action = 'followup.log'")}
    assert {log_id for log_id, _c, _g in stored.values()} <= audited, "a stored follow-up has no audit row"
    latest = dict(sql(pg_url, "SELECT c.client_no, f.grade FROM clients c JOIN LATERAL (SELECT grade FROM "
                              "followup_logs WHERE client_id = c.id ORDER BY logged_on DESC, id DESC LIMIT 1) f "
                              "ON true WHERE c.client_no LIKE 'CA%%'"))
    grades = dict(sql(pg_url, "SELECT client_no, followup_grade FROM clients WHERE client_no LIKE 'CA%%'"))
    assert latest == {k: v for k, v in grades.items() if k in latest}, "a client's grade is not its latest log's"
    print(f"\nfaults/outage: {len(results)} requests, {len(during)} during a {OUTAGE_SECONDS:.0f} s outage "
          f"(all 503), {len(acknowledged)} writes acknowledged and stored, {len(refused)} refused "
          f"({len(refused & set(stored))} of them stored complete: committed before the reset); "
          f"first success {first_ok:.2f} s after the restart")


def test_a_connection_lost_after_the_answer_is_made_is_not_a_500(pg_url):
    """The database goes away between a view's last query and the end of the request (found by the test above).

    The closing ROLLBACK then fails; the answer is already made, so it must still be sent (it was a 500 raised
    from Flask-SQLAlchemy's teardown), and the next request must be served on a new connection.
    """
    tokens = small_world(pg_url)
    real = make_url(pg_url)
    proxy = CuttableProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied = real.set(port=proxy.port, query={"connect_timeout": "3"}).render_as_string(hide_password=False)
    app = make_app(proxied)
    armed = threading.Event()

    @app.after_request
    def cut(response):
        if armed.is_set():
            armed.clear()
            proxy.cut()
            proxy.restore()
        return response

    client = app.test_client()  # no app context of the test's own: each request ends its session, as in production
    try:
        url = "/api/v1/clients/CA0001/follow-ups"
        assert client.get(url, headers=tokens["rm_a"]).status_code == 200
        armed.set()
        response = client.get(url, headers=tokens["rm_a"])
        assert not armed.is_set(), "the connection was not cut"
        assert response.status_code == 200 and response.get_json()["total"] == 0
        assert client.get(url, headers=tokens["rm_a"]).status_code == 200
    finally:
        with app.app_context():
            from models import db

            db.engine.dispose()
        proxy.close()


def test_a_connection_lost_just_after_the_commit_is_not_answered_retry(pg_url):
    """The database goes away the instant a follow-up is committed: a 503 "retry" would make the caller log it twice.

    The outage test above once met this by chance (a 503 whose follow-up was stored): the view then
    serialised the entry after `commit()`, which had expired it, so it read it again. The answer is now
    built before the commit. Here the proxy is cut from the session's after_commit hook, every time.
    """
    from sqlalchemy import event

    from models import FollowupLog, db

    tokens = small_world(pg_url)
    real = make_url(pg_url)
    proxy = CuttableProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied = real.set(port=proxy.port, query={"connect_timeout": "3"}).render_as_string(hide_password=False)
    app = make_app(proxied)
    note = f"after-commit-{uuid.uuid4().hex[:8]}"

    def cut(session) -> None:
        if any(isinstance(o, FollowupLog) for o in session.identity_map.values()):
            proxy.cut()

    with app.app_context():
        event.listen(db.session, "after_commit", cut)
        try:
            response = app.test_client().post("/api/v1/clients/CA0001/follow-ups", headers=tokens["rm_a"],
                                              json={"date": business_today().isoformat(), "channel": "phone",
                                                    "grade": "B", "note": note})
        finally:
            event.remove(db.session, "after_commit", cut)
            db.session.remove()
            db.engine.dispose()
            proxy.close()
    stored = sql(pg_url, "SELECT count(*) FROM followup_logs WHERE note = %s", (note,))[0][0]
    assert stored == 1  # the commit went through before the cut
    assert response.status_code == 201, (response.status_code, response.get_json())


# --- 2. a process killed in the middle of an import -----------------------------------------------

IMPORT_CLIENTS = 1000
IMPORT_DATES = 30


def _flask(url: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"}
    return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, **kwargs)


def _state(url: str) -> dict:
    """Fingerprints of everything an asset import may change."""
    return {
        "snapshots": sql(url, "SELECT count(*), md5(coalesce(string_agg(client_id || ':' || stat_date || ':' || "
                              "total_assets, ',' ORDER BY client_id, stat_date), '')) FROM asset_snapshots"),
        "tiers": sql(url, "SELECT count(*), md5(coalesce(string_agg(client_id || ':' || stat_date || ':' || tier, ',' "
                          "ORDER BY client_id, stat_date), '')) FROM client_tiers"),
        "clients": sql(url, "SELECT md5(string_agg(concat_ws(':', id, asset_tier, total_assets, contribution_12m, "
                            "tier_date), ',' ORDER BY id)) FROM clients"),
        "imports": sql(url, "SELECT count(*) FROM audit_log WHERE action LIKE '%%import%%'"),
    }


def test_an_import_killed_with_sigkill_stores_nothing_and_can_be_run_again(pg_url, tmp_path):
    """`flask import-assets` killed with -9 while it writes: nothing of it is stored; the same file then imports."""
    started = time.monotonic()
    seeded = _flask(pg_url, "seed-demo", "--clients", str(IMPORT_CLIENTS), "--managers", "20", timeout=50)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    client_nos = [row[0] for row in sql(pg_url, "SELECT client_no FROM clients ORDER BY id")]
    latest = sql(pg_url, "SELECT max(stat_date) FROM asset_snapshots")[0][0] or business_today()
    days = [latest - timedelta(days=k) for k in range(IMPORT_DATES)]  # includes a seeded date: it would be replaced
    path = tmp_path / "snapshots.csv"
    with path.open("w") as out:
        out.write("client_no,date,cash,a_shares,b_shares,funds,warrants,bonds,collective_products\n")
        for k, day in enumerate(days):
            for i, no in enumerate(client_nos):
                out.write(f"{no},{day.isoformat()},{(i * 7919 + k) % 9_000_000}.25,{i * 131}.00,0,12.50,0,"
                          f"{(i % 17) * 1000},0\n")
    rows = IMPORT_CLIENTS * IMPORT_DATES
    before = _state(pg_url)
    database = make_url(pg_url).database

    env = {**os.environ, "DATABASE_URL": pg_url, "PORTAL_ENV": "development"}
    process = subprocess.Popen([str(BIN / "flask"), "--app", "app", "import-assets", str(path)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    reached = threading.Event()

    def watch() -> None:
        for line in process.stderr:
            seen.append(line)
            if line.startswith("Replacing and inserting"):
                reached.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert reached.wait(45), f"the import never reached its writing phase: {''.join(seen)[-2000:]}"
        # Kill as soon as its writing transaction is seen: on a quiet machine the writing phase of this file
        # lasts well under a second, so no fixed pause.
        in_flight = sql(pg_url, "SELECT pid, state, now() - xact_start FROM pg_stat_activity WHERE datname = %s "
                                "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()", (database,))
        assert process.poll() is None, "the import finished before it could be killed: make the file bigger"
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert in_flight, "no open transaction of the import was seen when it was killed"
    # The server notices the dead client when its statement ends and rolls the transaction back.
    deadline = time.monotonic() + 30
    while sql(pg_url, "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,)):
        assert time.monotonic() < deadline, "the killed import's server process never went away"
        time.sleep(0.2)

    gone = time.monotonic() - killed_at
    assert _state(pg_url) == before, "something of the killed import is stored"
    fresh = [d for d in days if d != latest]
    assert sql(pg_url, "SELECT count(*) FROM asset_snapshots WHERE stat_date = ANY(%s)", (fresh,))[0][0] == 0
    assert sql(pg_url, "SELECT count(*) FROM client_tiers WHERE stat_date = ANY(%s)", (fresh,))[0][0] == 0

    rerun_at = time.monotonic()
    again = _flask(pg_url, "import-assets", str(path), timeout=55)
    rerun = time.monotonic() - rerun_at
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"Imported {rows} rows for {IMPORT_CLIENTS} clients" in again.stdout
    assert sql(pg_url, "SELECT count(*) FROM asset_snapshots WHERE stat_date = ANY(%s)", (days,))[0][0] == rows
    assert sql(pg_url, "SELECT count(*) FROM client_tiers WHERE stat_date = ANY(%s)", (days,))[0][0] == rows
    assert sql(pg_url, "SELECT count(*) FROM clients WHERE tier_date = %s", (latest,))[0][0] == IMPORT_CLIENTS
    print(f"\nfaults/import: killed -9 while writing {rows} rows ({len(in_flight)} open transaction, "
          f"{killed_at - started:.1f} s into the test); its server process gone {gone:.1f} s later, nothing "
          f"stored; the re-run imported them all in {rerun:.1f} s")


# --- 3. two app processes writing the same evaluation ----------------------------------------------

ROUNDS = 5


def test_two_processes_saving_one_evaluation_at_once_one_wins_one_gets_409(pg_url, tmp_path):
    """Two gunicorn servers PUT the same evaluation with the same version at the same moment, several times."""
    tokens = small_world(pg_url)
    env = production_env(pg_url)
    with gunicorn(env, tmp_path / "a.log", workers=1) as (base_a, pid_a), \
            gunicorn(env, tmp_path / "b.log", workers=1) as (base_b, pid_b):
        assert pid_a != pid_b
        cycle = call(base_a, "POST", "/api/v1/cycles", headers=tokens["admin"],
                     body={"name": "Faults", "start": "2026-01-01", "end": "2026-03-31", "scope": {"team": "TEAMA"}})
        assert cycle.status == 201, cycle.body
        cycle_id = cycle.json()["id"]
        assert call(base_b, "POST", f"/api/v1/cycles/{cycle_id}/open", headers=tokens["sup_a"]).status == 200
        url = f"/api/v1/cycles/{cycle_id}/evaluations/RMA1"
        sides = [(base_a, tokens["admin"], "admin"), (base_b, tokens["sup_a"], "sup_a")]
        wins = Counter()
        for round_no in range(ROUNDS):
            version = call(base_a, "GET", url, headers=tokens["admin"]).json()["version"]
            barrier = threading.Barrier(2)
            answers: list = [None, None]
            bodies = [{"satisfaction": 60 + round_no, "kpi": 10 * side + round_no, "team": 50, "competence": 40 + side,
                       "comment": f"round {round_no} side {side}", "version": version} for side in (0, 1)]

            def put(side: int, barrier: threading.Barrier, answers: list, body: dict) -> None:
                base, headers, _name = sides[side]
                barrier.wait(timeout=10)
                answers[side] = call(base, "PUT", url, headers=headers, body=body)

            threads = [threading.Thread(target=put, args=(side, barrier, answers, bodies[side])) for side in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            statuses = sorted(a.status for a in answers)
            assert statuses == [200, 409], [(a.status, a.body[:300]) for a in answers]
            winner = next(side for side in (0, 1) if answers[side].status == 200)
            loser = 1 - winner
            wins[sides[winner][2]] += 1
            error = answers[loser].json()["error"]
            assert error["code"] == "conflict" and error["changed_by"] == sides[winner][2]
            assert error["current"]["version"] == version + 1
            stored = call(base_b, "GET", url, headers=tokens["admin"]).json()
            expected = {d: bodies[winner][d] for d in ("satisfaction", "kpi", "team", "competence")}
            assert stored["scores"] == expected and stored["comment"] == bodies[winner]["comment"]
            assert stored["version"] == version + 1 and stored["updated_by"] == sides[winner][2]

    row = sql(pg_url, "SELECT e.version, e.kpi FROM evaluations e JOIN managers m ON m.id = e.manager_id "
                      "WHERE m.employee_no = 'RMA1'")[0]
    assert row[0] == 1 + ROUNDS
    audit = Counter(action for (action,) in sql(pg_url, "SELECT action FROM audit_log WHERE action LIKE "
                                                        "'evaluation.score%%'"))
    assert audit == {"evaluation.score": ROUNDS, "evaluation.score_conflict": ROUNDS}
    print(f"\nfaults/optimistic-locking: {ROUNDS} races across two processes, winners {dict(wins)}")


# --- 4. sign-in throttles shared by two processes through Redis ------------------------------------

def _redis():
    """A client of this module's own Redis database, or a skip (a failure under REQUIRE_REDIS=1)."""
    import redis

    client = redis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}", socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is unreachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")
    return client


def test_sign_in_throttle_is_shared_by_two_processes_through_redis(pg_url, tmp_path):
    """10 failed sign-ins for one username, alternating between two gunicorn processes: the 6th on get 429."""
    redis_client = _redis()
    redis_client.flushdb()
    small_world(pg_url)
    env = production_env(pg_url, RATELIMIT_STORAGE_URI=f"{REDIS_URL}/{REDIS_DB}",
                         LOGIN_LIMIT_PER_USERNAME="5 per minute", LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    try:
        with gunicorn(env, tmp_path / "a.log", workers=1) as (base_a, pid_a), \
                gunicorn(env, tmp_path / "b.log", workers=1) as (base_b, pid_b):
            assert pid_a != pid_b
            bases = [base_a, base_b]
            statuses = [failed_sign_in(bases[i % 2], "rm_a") for i in range(10)]
            assert statuses[:5] == [200] * 5, statuses
            assert statuses[5:] == [429] * 5, statuses
            # Both processes refuse, whichever answers; another username is not affected.
            assert failed_sign_in(base_a, "rm_a") == 429 and failed_sign_in(base_b, "rm_a") == 429
            assert failed_sign_in(base_b, "sup_a") == 200
            keys = [k.decode() for k in redis_client.keys("*")]
            assert any("login-user:rm_a" in k for k in keys), keys
    finally:
        redis_client.flushdb()
        redis_client.close()
    print(f"\nfaults/rate-limit: statuses across two processes {statuses}")
