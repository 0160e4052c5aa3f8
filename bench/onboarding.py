"""Onboarding imports at a broker's scale on PostgreSQL: the staff roster, the client master and a daily delta.

In a database of its own (`portal_bench_onboarding`, migrated, empty), with generated files:
- 20 branches, then a roster of 10,000 staff in 1,000 teams (each with its head);
- a client master of 1,000,000 new clients (valid resident ID numbers, managers spread over the roster);
- a daily delta of 10,000 rows on top of them: 2,000 reassignments, 500 closures, 5,000 changed phone
  numbers and 2,500 new accounts.

Timed, each against its reference, in one run:
(a) `import-staff` of the 10,000 rows (`import_file`, the operation behind the command: staging, every check,
    teams, staff records, the level history) against a raw COPY of the same file into an unlogged table of its
    columns plus one INSERT … SELECT into `managers` (branch and team looked up by code); each side the best of
    two runs on the same tables (the reference rolled back twice; the import rehearsed, rolled back, then
    committed);
(b) `import-clients` of the 1,000,000 new clients against a raw COPY of the same file into an unlogged table
    plus one INSERT … SELECT into `clients` (branch and manager looked up by code and employee number);
(c) the delta's `import-clients` against (b): the cost must follow the delta, not the table.
The references run before the imports (then rolled back); the imports commit, so that the delta lands on the
million clients; tables are vacuumed between the steps as autovacuum would. `BENCH_ONBOARDING_PARTS=staff` runs
(a) alone: no client master is written or imported.
"""
from __future__ import annotations

import csv
import os
import random
import tempfile
import time
from datetime import date, timedelta
from operator import mul
from pathlib import Path

import psycopg

from bench.harness import flask, fresh_database

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
REGIONS = ("110105", "310115", "440304", "440106", "330106", "510107", "420103", "320106")
CITIES = ("北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "天津", "重庆")
STAFF = 10_000
TEAM_SIZE = 10
CLIENTS = int(os.environ.get("BENCH_ONBOARDING_CLIENTS", 1_000_000))
PARTS = tuple(part.strip() for part in os.environ.get("BENCH_ONBOARDING_PARTS", "staff,clients").split(",")
              if part.strip())
DELTA = {"reassigned": 2_000, "closed": 500, "phone": 5_000, "new": 2_500}
CLIENT_HEADER = ("client_no", "name", "id_type", "id_number", "birth_date", "sex", "phone", "email", "branch",
                 "opened_on", "manager_employee_no", "status", "closed_on")
STAFF_HEADER = ("employee_no", "name", "branch", "team_code", "team_name", "team_head", "level", "level_since",
                "hire_date", "status", "email", "phone")


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _resident_id(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + ID_CHECK[sum(map(mul, map(int, body), ID_WEIGHTS)) % 11]


def write_files(directory: Path, today: date, clients: bool = True) -> dict[str, Path]:
    """The branch, staff, client and delta files (deterministic); without `clients`, branches and staff only."""
    rng = random.Random(15)
    paths = {name: directory / f"{name}.csv" for name in ("branches", "staff", "clients", "delta")}
    branches = [f"BR{n:02d}" for n in range(1, 21)]
    with paths["branches"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("code", "name", "name_en", "city"))
        for n, code in enumerate(branches):
            city = CITIES[n % len(CITIES)]
            writer.writerow((code, f"{city}第{n + 1}营业部", f"Branch {n + 1}", city))
    managers = []
    with paths["staff"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(STAFF_HEADER)
        for n in range(STAFF):
            team = n // TEAM_SIZE
            employee_no = f"S{n + 1:06d}"
            hired = today - timedelta(days=rng.randrange(400, 8000))
            since = min(hired + timedelta(days=rng.randrange(0, 300)), today)
            branch = branches[team % len(branches)]
            writer.writerow((employee_no, f"员工{n + 1}", branch, f"TM{team + 1:04d}", f"团队{team + 1}",
                             "yes" if n % TEAM_SIZE == 0 else "no",
                             ("junior", "mid", "senior", "principal")[rng.randrange(4)], since.isoformat(),
                             hired.isoformat(), "active", f"s{n + 1}@example.com", f"139{n + 1:08d}"))
            if n % TEAM_SIZE:
                managers.append((employee_no, branch))
    if not clients:
        return {name: paths[name] for name in ("branches", "staff")}
    rows = []
    with paths["clients"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CLIENT_HEADER)
        for n in range(CLIENTS):
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 18000))
            sequence = rng.randrange(1000)
            manager, branch = managers[rng.randrange(len(managers))]
            opened = born + timedelta(days=18 * 366 + rng.randrange(0, 3000))
            opened = min(opened, today - timedelta(days=1))
            id_number = _resident_id(REGIONS[n % len(REGIONS)], born, sequence)
            row = [f"K{n + 1:09d}", f"客户{n + 1}", "resident_id", id_number,
                   born.isoformat(), "M" if sequence % 2 else "F", f"13{n % 10}{n:08d}"[:11], "", branch,
                   opened.isoformat(), manager, "open", ""]
            writer.writerow(row)
            if n < sum(DELTA.values()) * 2:
                rows.append(row)
    # The delta: existing clients moved, closed or with a new phone number, and new accounts.
    with paths["delta"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CLIENT_HEADER)
        picked = rows[: DELTA["reassigned"] + DELTA["closed"] + DELTA["phone"]]
        for position, row in enumerate(picked):
            row = list(row)
            if position < DELTA["reassigned"]:
                current = row[10]
                row[10] = next(m for m, _b in managers[position % len(managers):] if m != current)
            elif position < DELTA["reassigned"] + DELTA["closed"]:
                row[11], row[12] = "closed", (today - timedelta(days=1)).isoformat()
            else:
                row[6] = f"186{position:08d}"
            writer.writerow(row)
        for n in range(DELTA["new"]):
            born = date(1980, 1, 1) + timedelta(days=n)
            manager, branch = managers[n % len(managers)]
            writer.writerow([f"N{n + 1:09d}", f"新客户{n + 1}", "resident_id", _resident_id("110105", born, 11),
                             born.isoformat(), "M", "", "", branch, (today - timedelta(days=1)).isoformat(), manager,
                             "open", ""])
    return paths


def _reference(url: str, path: Path, table: str) -> float:
    """Seconds for a raw COPY of the file into an unlogged table of its columns plus one INSERT … SELECT."""
    if table == "managers":
        columns = ", ".join(f"{name} {'date' if name in ('level_since', 'hire_date') else 'text'}"
                            for name in STAFF_HEADER)
        insert = ("INSERT INTO managers (employee_no, name, level, level_since, hire_date, status, team_id, branch_id,"
                  " email, phone, created_at) SELECT r.employee_no, r.name, r.level, r.level_since, r.hire_date,"
                  " r.status, t.id, b.id, r.email, r.phone, now() FROM bench_reference r"
                  " JOIN branches b ON b.code = r.branch LEFT JOIN teams t ON t.code = r.team_code")
    else:
        columns = ", ".join(f"{name} {'date' if name in ('birth_date', 'opened_on', 'closed_on') else 'text'}"
                            for name in CLIENT_HEADER)
        insert = ("INSERT INTO clients (client_no, name, id_type, id_number, birth_date, sex, phone, email, branch_id,"
                  " opened_on, manager_id, closed_on, created_at, lowest_category, investor_category)"
                  " SELECT r.client_no, r.name, r.id_type, r.id_number, r.birth_date, r.sex, r.phone, r.email, b.id,"
                  " r.opened_on, m.id, r.closed_on, now(), false, 'ordinary' FROM bench_reference r"
                  " JOIN branches b ON b.code = r.branch LEFT JOIN managers m ON m.employee_no = r.manager_employee_no")
    with psycopg.connect(_plain(url)) as conn:
        conn.execute(f"CREATE UNLOGGED TABLE bench_reference ({columns})")
        start = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as source:
            with cursor.copy("COPY bench_reference FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        conn.execute(insert)
        seconds = time.perf_counter() - start
        conn.rollback()
    return seconds


def _import(app, kind: str, path: Path, commit: bool = True) -> tuple[float, dict]:
    """Seconds for the import operation in-process, committed (or rolled back: a rehearsal)."""
    from models import db
    from portal.imports.onboarding import import_file

    with app.app_context():
        start = time.perf_counter()
        result = import_file(kind, path, source="cli", limit=200)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        seconds = time.perf_counter() - start
        db.engine.dispose()
    return seconds, result.as_dict()


def _vacuum(url: str) -> None:
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) branches, teams, managers, clients, client_assignments, level_changes, users")


def run(report, url: str | None = None) -> None:
    """`url` (the foundation's database) is not used: these imports need an empty database of their own."""
    from portal import create_app
    from portal.rules.calendar import business_today

    own = fresh_database("portal_bench_onboarding")
    flask(["db", "upgrade"], own)
    os.environ["DATABASE_URL"] = own
    app = create_app({"DATABASE_URL": own, "PORTAL_ENV": "development"})
    with app.app_context():
        today = business_today()
    clients = "clients" in PARTS
    with tempfile.TemporaryDirectory(prefix="bench-onboarding-") as directory:
        paths = write_files(Path(directory), today, clients=clients)
        _import(app, "branches", paths["branches"])
        _vacuum(own)
        # Both sides the best of two runs on the same empty tables: the reference rolled back twice, the import
        # rehearsed (rolled back) and then committed.
        staff_reference = min(_reference(own, paths["staff"], "managers") for _ in range(2))
        rehearsal, _counts = _import(app, "staff", paths["staff"], commit=False)
        staff_seconds, staff = _import(app, "staff", paths["staff"])
        staff_first = max(rehearsal, staff_seconds)
        staff_seconds = min(rehearsal, staff_seconds)
        if clients:
            _vacuum(own)
            clients_reference = _reference(own, paths["clients"], "clients")
            full_seconds, full = _import(app, "clients", paths["clients"])
            _vacuum(own)
            delta_seconds, delta = _import(app, "clients", paths["delta"])
    if staff["created"] != STAFF:
        raise RuntimeError(f"the import created {staff['created']} staff")
    report("onboarding_staff_s", round(staff_seconds, 2),
           f"import-staff of {STAFF:,} rows, teams and level history (s)")
    report("onboarding_staff_reference_s", round(staff_reference, 2),
           "reference: raw COPY of the roster + one INSERT ... SELECT into managers (s)")
    report("onboarding_staff_ratio", round(staff_seconds / staff_reference, 2),
           "import-staff / reference, each the best of two runs (target <= 3)")
    report("onboarding_staff_slower_s", round(staff_first, 2), "import-staff, the slower of its two runs (s)")
    if not clients:
        return
    if full["created"] != CLIENTS:
        raise RuntimeError(f"the import created {full['created']} clients")
    if (delta["reassigned"], delta["closed"], delta["created"]) != (DELTA["reassigned"], DELTA["closed"], DELTA["new"]):
        raise RuntimeError(f"the delta did not do what it carries: {delta}")
    report("onboarding_clients_s", round(full_seconds, 2), f"import-clients of {CLIENTS:,} new clients (s)")
    report("onboarding_clients_reference_s", round(clients_reference, 2),
           "reference: raw COPY of the master + one INSERT ... SELECT into clients (s)")
    report("onboarding_clients_ratio", round(full_seconds / clients_reference, 2),
           "import-clients / reference (target <= 3)")
    report("onboarding_delta_s", round(delta_seconds, 2),
           f"daily delta of {sum(DELTA.values()):,} rows ({DELTA['reassigned']:,} reassigned, {DELTA['closed']} closed)"
           f" on {CLIENTS:,} clients (s)")
    report("onboarding_delta_ratio", round(delta_seconds / full_seconds, 4),
           "delta import / full import (target <= 0.05)")


if __name__ == "__main__":
    def _print(key, value, label):
        print(f"{label:<90} {value}", flush=True)

    run(_print)
