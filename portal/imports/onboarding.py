"""Onboarding imports — branches, the staff roster, the client master — one validation for file, CLI and API.

Each route reads its rows (a file through portal.imports.readers, whatever its encoding; an API batch
as JSON objects), checks each row's own values with the pure rules (portal/rules/identity.py) and
streams the typed values into a temporary staging table (COPY on PostgreSQL). The checks that need
other rows or the database run in SQL over the whole table: a key twice in one file, an unknown branch,
team or manager, a manager who has left, two heads for a team, a leaver who still has clients, an
account closed earlier. Every bad row is named (line or index, column, stable code) and nothing is
written when any row is bad.

Otherwise the plan — which rows are new, changed, unchanged, reassigned or closed — is one more table,
and the records are written from it set-based, in the caller's transaction: INSERT … SELECT for new
records, UPDATE … FROM for changed ones, the assignment history and the level history as INSERT …
SELECT. A daily delta costs what its rows cost: every statement is driven by the staging table and
reaches the big tables through their unique keys.

`--full` (files only) treats the file as the whole roster or master: the records missing from it are
listed; with `apply_missing` they are added to the plan as leavers (staff) or closures (clients) and
go through the same checks and the same writes.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, text

from models import db, utcnow
from models.types import UTCDateTime
from portal import bulk
from portal.audit import record
from portal.imports import history, readers
from portal.imports.codes import row_message
from portal.rules import identity
from portal.rules.vocabulary import LEVELS

API_MAX_ROWS = 10_000
LOCK_KEY = 72110415  # one onboarding import at a time (PostgreSQL advisory lock)
MISSING_LISTED = 200
STAFF_STATUSES = ("active", "left")
CLIENT_STATUSES = ("open", "closed")
TEMP_TABLES = ("onboarding_rows", "onboarding_errors", "onboarding_plan", "onboarding_teams", "onboarding_leavers",
               "onboarding_moves")


# --- results and refusals ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One bad row: `line` is the file's line (header = 1), the API index (from 0), or None for a record
    the file left out (`--full --apply-missing`); `key` the row's key as written."""

    line: int | None
    key: str | None
    field: str | None
    code: str
    detail: str | None
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "key": self.key, "field": self.field, "code": self.code, "detail": self.detail}


class ImportRefused(Exception):
    """Nothing was imported. `code` says why (`invalid_rows`, a file code, …), `message` in the user's
    language; `problems` lists the first bad rows, `total` counts them all."""

    def __init__(self, code: str, message: str, problems: Sequence[Problem] = (), total: int = 0):
        super().__init__(message)
        self.code, self.message, self.problems, self.total = code, message, list(problems), total


@dataclass
class ImportResult:
    """What an import changed (or, dry, would change)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reassigned: int | None = None
    closed: int | None = None
    left: int | None = None
    missing: int | None = None
    missing_keys: list[str] = field(default_factory=list)
    import_id: int | None = None
    dry_run: bool = False

    def as_dict(self) -> dict:
        body: dict[str, Any] = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        for name in ("reassigned", "closed", "left", "missing"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if self.missing is not None:
            body["missing_keys"] = self.missing_keys
        body["import_id"] = self.import_id
        if self.dry_run:
            body["dry_run"] = True
        return body


@dataclass(frozen=True)
class Options:
    """How an import runs: `full` (the file is the whole roster/master), `apply_missing`, `reassign_to`."""

    dry_run: bool = False
    full: bool = False
    apply_missing: bool = False
    reassign_to: str | None = None

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "full": self.full, "apply_missing": self.apply_missing,
                "reassign_to": self.reassign_to}


# --- the kinds ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of an import: its header name, its staging type, its longest text, whether a value is required,
    and whether the header may leave the column out (then every row reads it as empty)."""

    name: str
    sql_type: str = "text"
    length: int | None = None
    required: bool = False
    may_be_absent: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    key: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


BRANCHES = Kind("branches", "code", (
    Column("code", length=20, required=True), Column("name", length=60, required=True),
    Column("name_en", length=100), Column("city", length=40, required=True)))
STAFF = Kind("staff", "employee_no", (
    Column("employee_no", length=20, required=True), Column("name", length=100, required=True),
    Column("branch", length=20, required=True), Column("team_code", length=20), Column("team_name", length=100),
    Column("team_head", "boolean"), Column("level", required=True), Column("level_since", "date", required=True),
    Column("hire_date", "date", required=True), Column("status", required=True), Column("email", length=254),
    Column("phone", length=30), Column("reassign_to", length=20, may_be_absent=True)))
CLIENTS = Kind("clients", "client_no", (
    Column("client_no", length=20, required=True), Column("name", length=100, required=True),
    Column("id_type", required=True), Column("id_number", length=40, required=True),
    Column("birth_date", "date", required=True), Column("sex", required=True), Column("phone", length=30),
    Column("email", length=254), Column("branch", length=20, required=True),
    Column("opened_on", "date", required=True), Column("manager_employee_no", length=20),
    Column("status", required=True), Column("closed_on", "date")))
KINDS = {kind.name: kind for kind in (BRANCHES, STAFF, CLIENTS)}
LEVEL_WORDS = {"初级": "junior", "中级": "mid", "高级": "senior", "资深": "principal"}
ID_TYPE_WORDS = {"居民身份证": "resident_id", "身份证": "resident_id", "护照": "passport",
                 "港澳居民来往内地通行证": "hk_macau_permit", "台湾居民来往大陆通行证": "taiwan_permit",
                 "外国人永久居留身份证": "foreign_permanent"}


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab may stand in a field; no other control character


# --- reading one row ----------------------------------------------------------------------------------

class RowErrors:
    """Problems found in Python while reading; the first `keep` are kept, the rest counted."""

    def __init__(self, keep: int | None):
        self.keep, self.rows, self.dropped = keep, [], 0

    def add(self, line: int | None, key: str | None, field_name: str | None, code: str,
            detail: object = None) -> None:
        if self.keep is not None and len(self.rows) >= self.keep:
            self.dropped += 1
            return
        self.rows.append((line, None if key is None else str(key)[:40].replace("\x00", "\ufffd"), field_name, code,
                          None if detail is None else str(detail)[:200]))


def _text(value: object) -> str:
    """A cell or JSON value as trimmed, normalised text (whole-number floats of a workbook without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return identity.normalise(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return identity.normalise(str(value))


class RowReader:
    """Turns one row's raw values (by column name) into the typed staging tuple of its kind, or problems."""

    def __init__(self, kind: Kind, today: date, errors: RowErrors, words: bool):
        self.kind, self.today, self.errors, self.words = kind, today, errors, words
        self.parse = {"branches": self._branch, "staff": self._staff, "clients": self._client}[kind.name]
        self.specs = [(c.name, c.sql_type == "date", c.required, c.length) for c in kind.columns]
        self.names = tuple(c.name for c in kind.columns)

    def read(self, line: int, raw: dict[str, object]) -> tuple:
        """The staging tuple: line, whether a problem was found, then the typed values in column order."""
        values: dict[str, Any] = {}
        bad = False
        self.bad_fields: set[str] = set()
        add = self.errors.add
        # One search over the row's text finds control characters; only a row with some is searched per column.
        try:
            row_text = "".join(raw.values())  # a CSV row: text only
        except TypeError:
            row_text = "".join(v for v in raw.values() if type(v) is str)
        controlled = _CONTROL.search(row_text) is not None
        # The key as stored and shown: a control character in it is replaced (the row is bad for it anyway).
        key = raw.get(self.kind.key)
        key = key.strip() if type(key) is str and key.isascii() else _text(key)
        if controlled:
            key = _CONTROL.sub("\ufffd", key)
        key = key.upper()
        for name, is_date, required, length in self.specs:
            value = raw.get(name)
            if is_date:
                day, code = identity.parse_date(value)
                if code:
                    add(line, key, name, code)
                    self.bad_fields.add(name)
                    bad = True
                elif day is None and required:
                    add(line, key, name, "missing")
                    bad = True
                values[name] = day
                continue
            words = value.strip() if type(value) is str and value.isascii() else _text(value)
            if controlled and _CONTROL.search(words):
                add(line, key, name, "control_characters")
                bad, words = True, ""
            if not words:
                if required:
                    add(line, key, name, "missing")
                    bad = True
            elif length and len(words) > length:
                add(line, key, name, "too_long", length)
                bad, words = True, words[:length]
            values[name] = words
        if key and not identity.is_code(key):
            self.errors.add(line, key, self.kind.key, "invalid_code")
            bad = True
        bad = self.parse(line, key, values) or bad
        return (line, bad, *map(values.__getitem__, self.names))

    # Each returns True when it found a problem; it normalises `values` in place.
    def _branch(self, line: int, key: str, values: dict) -> bool:
        values["code"] = key
        values["name_en"] = values["name_en"] or None
        return False

    def _staff(self, line: int, key: str, values: dict) -> bool:
        add, bad = self.errors.add, False
        values["employee_no"] = key
        values["branch"] = values["branch"].upper()
        values["team_code"] = values["team_code"].upper() or None
        values["team_name"] = values["team_name"] or None
        if values["team_code"] and not identity.is_code(values["team_code"]):
            add(line, key, "team_code", "invalid_code")
            bad = True
        head = identity.parse_yes_no(values["team_head"] or "")
        if head is None:
            add(line, key, "team_head", "invalid_yes_no")
            bad, head = True, False
        values["team_head"] = head
        level = values["level"]
        level = LEVEL_WORDS.get(level, level.lower())
        if values["level"] and level not in LEVELS:
            add(line, key, "level", "unknown_level")
            bad = True
        values["level"] = level
        status = values["status"].lower()
        if values["status"] and status not in STAFF_STATUSES:
            add(line, key, "status", "invalid_choice", "active, left")
            bad = True
        values["status"] = status
        hired, since = values["hire_date"], values["level_since"]
        if hired and hired > self.today:
            add(line, key, "hire_date", "future_date")
            bad = True
        if since and hired and since < hired:
            add(line, key, "level_since", "level_before_hire")
            bad = True
        if since and since > self.today:
            add(line, key, "level_since", "level_after_today")
            bad = True
        successor = values["reassign_to"].upper() or None
        values["reassign_to"] = successor
        if successor:
            if not identity.is_code(successor):
                add(line, key, "reassign_to", "invalid_code")
                bad = True
            elif successor == key:
                add(line, key, "reassign_to", "reassign_to_self")
                bad = True
            elif status == "active":
                add(line, key, "reassign_to", "reassign_to_but_active")
                bad = True
        return self._contact(line, key, values) or bad

    def _contact(self, line: int, key: str, values: dict) -> bool:
        bad = False
        phone = values["phone"]
        if not phone:
            phone = None
        elif len(phone) == 11 and phone[0] == "1" and phone.isascii() and phone.isdigit():
            pass  # the common case, already as stored
        elif identity.is_mobile(phone):
            phone = identity.mobile_digits(phone)
        else:
            self.errors.add(line, key, "phone", "invalid_mobile")
            bad = True
        values["phone"] = phone
        if values["email"] and not identity.is_email(values["email"]):
            self.errors.add(line, key, "email", "invalid_email")
            bad = True
        values["email"] = values["email"] or None
        return bad

    def _client(self, line: int, key: str, values: dict) -> bool:
        add, bad = self.errors.add, False
        values["client_no"] = key
        values["branch"] = values["branch"].upper()
        values["manager_employee_no"] = values["manager_employee_no"].upper() or None
        id_type = values["id_type"]
        id_type = ID_TYPE_WORDS.get(id_type, id_type.lower()) if self.words else id_type
        if values["id_type"] and id_type not in identity.ID_TYPES:
            add(line, key, "id_type", "invalid_id_type", ", ".join(identity.ID_TYPES))
            bad, id_type = True, None
        values["id_type"] = id_type
        sex = identity.parse_sex(values["sex"], self.words) if values["sex"] else None
        if values["sex"] and sex is None:
            add(line, key, "sex", "invalid_sex")
            bad = True
        values["sex"] = sex
        number = values["id_number"].replace(" ", "").upper()
        values["id_number"] = number
        if number and id_type:
            code = identity.id_number_problem(id_type, number, values["birth_date"], sex)
            if code:
                add(line, key, "id_number", code)
                bad = True
        born, opened, closed = values["birth_date"], values["opened_on"], values["closed_on"]
        if born and born > self.today:
            add(line, key, "birth_date", "future_date")
            bad = True
        if opened and opened > self.today:
            add(line, key, "opened_on", "opened_in_future")
            bad = True
        status = values["status"].lower()
        if values["status"] and status not in CLIENT_STATUSES:
            add(line, key, "status", "invalid_choice", "open, closed")
            bad = True
        values["status"] = status
        if status == "closed" and closed is None and "closed_on" not in self.bad_fields:
            add(line, key, "closed_on", "closed_without_date")
            bad = True
        if status == "open" and closed is not None:
            add(line, key, "closed_on", "closed_on_but_open")
            bad = True
        if closed and opened and closed < opened:
            add(line, key, "closed_on", "closed_before_opened")
            bad = True
        if closed and closed > self.today:
            add(line, key, "closed_on", "future_date")
            bad = True
        return self._contact(line, key, values) or bad


# --- staging ------------------------------------------------------------------------------------------

def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _exec(sql: str, params: dict | None = None):
    return db.session.execute(text(sql), params or {})


def _drop_temp_tables() -> None:
    if _postgres():  # one statement for all of them (SQLite drops one table a statement)
        _exec("DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{name}" for name in TEMP_TABLES))
        return
    for name in TEMP_TABLES:
        _exec(f"DROP TABLE IF EXISTS temp.{name}")


def _staging_type(column: Column) -> str:
    if column.sql_type == "date":
        return "date"
    if column.sql_type == "boolean":
        return "boolean"
    return "text"


def _begin(kind: Kind) -> None:
    """The import lock and empty staging tables for this transaction."""
    if _postgres():
        _exec("SELECT pg_advisory_xact_lock(:key)", {"key": LOCK_KEY})
    _drop_temp_tables()
    columns = ", ".join(f"{column.name} {_staging_type(column)}" for column in kind.columns)
    _exec(f"CREATE TEMP TABLE onboarding_rows (line bigint, bad boolean, {columns})")
    _exec("CREATE TEMP TABLE onboarding_errors (line bigint, key text, field text, code text, detail text)")


def _flush_errors(errors: RowErrors) -> None:
    if errors.rows:
        bulk.write_rows("onboarding_errors", ("line", "key", "field", "code", "detail"), errors.rows)
        errors.rows = []


def _header(kind: Kind, names: Sequence[object]) -> list[str | None]:
    """The column of each file position (None for an empty trailing one); ImportRefused for a wrong header."""
    cleaned = [_text(name).lstrip("\ufeff").strip().lower() for name in names]
    while cleaned and cleaned[-1] == "":
        cleaned.pop()
    expected = [column.name for column in kind.columns if not column.may_be_absent or column.name in cleaned]
    refused = readers.header_problem(cleaned, expected)
    if refused:
        raise ImportRefused(*refused)
    return cleaned


# --- the checks in SQL ----------------------------------------------------------------------------------

_ERRORS = "INSERT INTO onboarding_errors (line, key, field, code, detail) "


ANALYZE_FROM = 20_000


def _analyze(*tables: str, rows: int | None = None) -> None:
    """Statistics for temporary tables (autovacuum never visits them), where their size makes plans differ: a
    small staging table is planned as one (index lookups into the big tables), a large one needs its figures."""
    if _postgres() and (rows is None or rows >= ANALYZE_FROM):
        for table in tables:
            _exec(f"ANALYZE {table}")


def _duplicates(kind: Kind) -> None:
    key = kind.key
    if _exec(f"SELECT 1 FROM onboarding_rows WHERE {key} <> '' GROUP BY {key} HAVING COUNT(*) > 1 LIMIT 1").first():  # nosec B608 - column names are this module's constants
        _exec(_ERRORS + f"SELECT line, {key}, '{key}', 'duplicate', CAST(first_line AS text) FROM ("  # nosec B608 - column names are this module's constants
              f" SELECT line, {key}, MIN(line) OVER (PARTITION BY {key}) AS first_line FROM onboarding_rows"
              f" WHERE {key} <> '') d WHERE line <> first_line")


def _unknown_branches(kind: Kind) -> None:
    _exec(_ERRORS + f"SELECT r.line, r.{kind.key}, 'branch', 'unknown_branch', r.branch FROM onboarding_rows r"  # nosec B608 - column names are this module's constants
          " WHERE r.branch <> '' AND NOT EXISTS (SELECT 1 FROM branches b WHERE b.code = r.branch)")


def _check_branches(options: Options) -> None:
    _duplicates(BRANCHES)
    # A name held by another branch, in the database or in the file.
    _exec(_ERRORS + "SELECT r.line, r.code, 'name', 'name_taken', b.code FROM onboarding_rows r"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " JOIN branches b ON b.name = r.name AND b.code <> r.code"
          " WHERE NOT EXISTS (SELECT 1 FROM onboarding_rows o WHERE o.code = b.code AND o.name <> r.name)")
    _exec(_ERRORS + "SELECT line, code, 'name', 'name_taken', first_code FROM ("  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " SELECT line, code, FIRST_VALUE(code) OVER (PARTITION BY name ORDER BY line) AS first_code"
          " FROM onboarding_rows WHERE name <> '') d WHERE code <> first_code")


def _check_staff(options: Options) -> None:
    _duplicates(STAFF)
    _successors()
    _leavers(options)
    _unknown_branches(STAFF)
    _exec(_ERRORS + "SELECT r.line, r.employee_no, 'team_code', 'unknown_team', r.team_code FROM onboarding_rows r"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " WHERE r.team_code IS NOT NULL AND r.team_name IS NULL"
          " AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.code = r.team_code)")
    _exec(_ERRORS + "SELECT line, employee_no, 'team_head', 'two_heads', CAST(first_line AS text) FROM ("  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " SELECT line, employee_no, MIN(line) OVER (PARTITION BY team_code) AS first_line FROM onboarding_rows"
          " WHERE team_head AND team_code IS NOT NULL) d WHERE line <> first_line")
    _exec(_ERRORS + "SELECT line, employee_no, 'team_name', 'team_name_differs', CAST(first_line AS text) FROM ("  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " SELECT line, employee_no, team_name, FIRST_VALUE(team_name) OVER w AS first_name,"
          " FIRST_VALUE(line) OVER w AS first_line FROM onboarding_rows"
          " WHERE team_code IS NOT NULL AND team_name IS NOT NULL"
          " WINDOW w AS (PARTITION BY team_code ORDER BY line)) d WHERE team_name <> first_name")


def _check_clients(options: Options) -> None:
    _duplicates(CLIENTS)
    _unknown_branches(CLIENTS)
    _exec(_ERRORS + "SELECT r.line, r.client_no, 'manager_employee_no',"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " CASE WHEN m.id IS NULL THEN 'unknown_manager' WHEN m.status = 'left' THEN 'manager_left'"
          " ELSE 'manager_not_active' END, r.manager_employee_no"
          " FROM onboarding_rows r LEFT JOIN managers m ON m.employee_no = r.manager_employee_no"
          " LEFT JOIN clients c ON c.client_no = r.client_no"
          " WHERE r.manager_employee_no IS NOT NULL AND (m.id IS NULL OR (r.status = 'open' AND ("
          " m.status = 'left' OR (m.status <> 'active' AND (c.manager_id IS NULL OR c.manager_id <> m.id)))))")
    _exec(_ERRORS + "SELECT r.line, r.client_no, 'status', 'already_closed', CAST(c.closed_on AS text)"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " FROM onboarding_rows r JOIN clients c ON c.client_no = r.client_no"
          " WHERE c.closed_on IS NOT NULL AND (r.status = 'open' OR r.closed_on <> c.closed_on)")


def _problems(kind: Kind, errors: RowErrors, limit: int | None, batch: bool) -> None:
    """ImportRefused, naming the first `limit` bad rows, when any row is bad."""
    total = _exec("SELECT COUNT(*) FROM onboarding_errors").scalar_one() + errors.dropped
    if total == 0:
        return
    order = {name: position for position, name in enumerate(kind.header)}
    sql = ("SELECT line, key, field, code, detail FROM onboarding_errors"
           " ORDER BY CASE WHEN line IS NULL THEN 1 ELSE 0 END, line, key")
    rows = _exec(sql + (" LIMIT :limit" if limit else ""), {"limit": limit} if limit else {}).all()
    problems = sorted((Problem(line, key, name, code, detail, row_message(code, name, detail, batch))
                       for line, key, name, code, detail in rows),
                      key=lambda p: (p.line is None, p.line or 0, p.key or "", order.get(p.field, 99)))
    raise ImportRefused("invalid_rows", _("Nothing was imported: %(n)d problems in the rows listed.", n=total),
                        problems, total)


# --- the plan and the writes ---------------------------------------------------------------------------

def _distinct(a: str, b: str) -> str:
    """SQL: the two values differ, NULLs compared as values."""
    return f"({a} IS DISTINCT FROM {b})" if _postgres() else f"({a} IS NOT {b})"


def _count(sql: str, params: dict | None = None) -> int:
    return int(_exec(sql, params).scalar_one() or 0)


def _missing(kind: Kind, options: Options) -> tuple[int, list[str]]:
    """Records the file leaves out (with `full`): how many, and the first keys."""
    table, key, live = {"branches": ("branches", "code", "1 = 1"),
                        "staff": ("managers", "employee_no", "status <> 'left'"),
                        "clients": ("clients", "client_no", "closed_on IS NULL")}[kind.name]
    where = (f"FROM {table} t WHERE {live} AND NOT EXISTS"  # nosec B608 - names are this module's constants
             f" (SELECT 1 FROM onboarding_rows r WHERE r.{kind.key} = t.{key})")
    count = _count(f"SELECT COUNT(*) {where}")
    keys = list(_exec(f"SELECT t.{key} {where} ORDER BY t.{key} LIMIT {MISSING_LISTED}").scalars())
    return count, keys


def _add_missing(kind: Kind, today: date) -> None:
    """`--full --apply-missing`: the records the file leaves out join the staging table as leavers or closures."""
    if kind is STAFF:
        _exec("INSERT INTO onboarding_rows (line, bad, employee_no, name, branch, team_code, team_name, team_head,"
              " level, level_since, hire_date, status, email, phone)"
              " SELECT NULL, false, m.employee_no, m.name, COALESCE(b.code, ''), t.code, t.name, false, m.level,"
              " m.level_since, m.hire_date, 'left', m.email, m.phone FROM managers m"
              " LEFT JOIN branches b ON b.id = m.branch_id LEFT JOIN teams t ON t.id = m.team_id"
              " WHERE m.status <> 'left' AND NOT EXISTS"
              " (SELECT 1 FROM onboarding_rows r WHERE r.employee_no = m.employee_no)")
        # A leaver who headed a team stops heading it: the synthetic rows are not heads.
    elif kind is CLIENTS:
        _exec("INSERT INTO onboarding_rows (line, bad, client_no, name, id_type, id_number, birth_date, sex,"
              " phone, email, branch, opened_on, manager_employee_no, status, closed_on)"
              " SELECT NULL, false, c.client_no, c.name, c.id_type, c.id_number, c.birth_date, c.sex, c.phone,"
              " c.email, b.code, c.opened_on, m.employee_no, 'closed', :today FROM clients c"
              " JOIN branches b ON b.id = c.branch_id LEFT JOIN managers m ON m.id = c.manager_id"
              " WHERE c.closed_on IS NULL AND NOT EXISTS"
              " (SELECT 1 FROM onboarding_rows r WHERE r.client_no = c.client_no)",
              {"today": today if _postgres() else today.isoformat()})


def _plan_branches() -> ImportResult:
    _exec("CREATE TEMP TABLE onboarding_plan AS SELECT r.code, r.name, r.name_en, r.city, b.id AS branch_id,"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          f" CASE WHEN b.id IS NULL THEN 'new' WHEN {_distinct('b.name', 'r.name')}"
          f" OR {_distinct('b.name_en', 'r.name_en')} OR {_distinct('b.city', 'r.city')} THEN 'changed'"
          " ELSE 'same' END AS action FROM onboarding_rows r LEFT JOIN branches b ON b.code = r.code")
    return _tally("branches")


def _tally(kind: str) -> ImportResult:
    counts = dict(_exec("SELECT action, COUNT(*) FROM onboarding_plan GROUP BY action").all())
    return ImportResult(kind, created=counts.get("new", 0), updated=counts.get("changed", 0),
                        unchanged=counts.get("same", 0))


def _apply_branches(now) -> None:
    stamp = bindparam("now", type_=UTCDateTime())
    db.session.execute(text("UPDATE branches SET name = p.name, name_en = p.name_en, city = p.city"
                            " FROM onboarding_plan p WHERE p.branch_id = branches.id AND p.action = 'changed'"))
    db.session.execute(text("INSERT INTO branches (code, name, name_en, city, created_at)"
                            " SELECT code, name, name_en, city, :now FROM onboarding_plan WHERE action = 'new'"
                            " ORDER BY code").bindparams(stamp), {"now": now})


def _plan_staff() -> ImportResult:
    changed = " OR ".join(_distinct(f"m.{name}", value) for name, value in (
        ("name", "r.name"), ("branch_id", "b.id"), ("team_id", "t.id"), ("level", "r.level"),
        ("level_since", "r.level_since"), ("hire_date", "r.hire_date"), ("status", "r.status"),
        ("email", "r.email"), ("phone", "r.phone")))
    # Teams named in the file: created, renamed, moved to a branch; their head from the rows.
    _exec("CREATE TEMP TABLE onboarding_teams AS SELECT r.team_code AS code, MIN(r.team_name) AS name,"
          " MIN(CASE WHEN r.team_head THEN r.employee_no END) AS head_no, t.id AS team_id,"
          " COALESCE(MIN(CASE WHEN r.team_head THEN b.id END), MIN(b.id)) AS branch_id"
          " FROM onboarding_rows r JOIN branches b ON b.code = r.branch LEFT JOIN teams t ON t.code = r.team_code"
          " WHERE r.team_code IS NOT NULL AND r.line IS NOT NULL GROUP BY r.team_code, t.id")
    # A person is also changed when their team is renamed or moved, or when whom they head changes.
    _exec("CREATE TEMP TABLE onboarding_plan AS SELECT r.line, r.employee_no, r.name, b.id AS branch_id,"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " r.team_code, t.id AS team_id, r.team_head, r.level, r.level_since, r.hire_date, r.status, r.email,"
          " r.phone, m.id AS manager_id, m.level AS old_level, m.status AS old_status,"
          f" CASE WHEN m.id IS NULL THEN 'new' WHEN {changed}"
          f" OR (o.name IS NOT NULL AND ({_distinct('t.name', 'o.name')} OR {_distinct('t.branch_id', 'o.branch_id')}))"
          f" OR (r.team_head AND {_distinct('t.supervisor_id', 'm.id')})"
          " OR (NOT r.team_head AND EXISTS (SELECT 1 FROM teams s WHERE s.supervisor_id = m.id))"
          " THEN 'changed' ELSE 'same' END AS action"
          " FROM onboarding_rows r LEFT JOIN branches b ON b.code = r.branch"
          " LEFT JOIN teams t ON t.code = r.team_code LEFT JOIN onboarding_teams o ON o.code = r.team_code"
          " LEFT JOIN managers m ON m.employee_no = r.employee_no")
    result = _tally("staff")
    result.left = _count("SELECT COUNT(*) FROM onboarding_plan WHERE status = 'left'"
                         " AND (old_status IS NULL OR old_status <> 'left')")
    return result


def _successors() -> None:
    """The `reassign_to` of a leaver's row names who takes their clients: someone in the file or the database who
    is active after this import (the per-row checks — form, not the leaver, only on a leaver's row — ran in Python)."""
    if not _exec("SELECT 1 FROM onboarding_rows WHERE reassign_to IS NOT NULL LIMIT 1").first():
        return
    _exec(_ERRORS + "SELECT r.line, r.employee_no, 'reassign_to',"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " CASE WHEN f.employee_no IS NULL AND m.id IS NULL THEN 'unknown_manager'"
          " WHEN f.status = 'left' AND (m.id IS NULL OR m.status <> 'left') THEN 'reassign_to_leaving'"
          " WHEN COALESCE(f.status, m.status) = 'left' THEN 'manager_left' ELSE 'manager_not_active' END,"
          " r.reassign_to FROM onboarding_rows r"
          " LEFT JOIN (SELECT employee_no, MIN(status) AS status FROM onboarding_rows GROUP BY employee_no) f"
          " ON f.employee_no = r.reassign_to"
          " LEFT JOIN managers m ON m.employee_no = r.reassign_to"
          " WHERE r.reassign_to IS NOT NULL AND NOT r.bad AND r.status = 'left'"
          " AND (f.status = 'left' OR (f.employee_no IS NULL AND (m.id IS NULL OR m.status <> 'active')))")


def _leavers(options: Options) -> None:
    """Leavers who still have open clients: bad rows naming how many, unless their row's `reassign_to` or the
    import's `reassign_to` option names who takes them."""
    _exec("CREATE TEMP TABLE onboarding_leavers AS SELECT r.line, r.employee_no, m.id AS manager_id,"
          " r.reassign_to AS successor, COUNT(c.id) AS clients"
          " FROM onboarding_rows r JOIN managers m ON m.employee_no = r.employee_no"
          " JOIN clients c ON c.manager_id = m.id AND c.closed_on IS NULL"
          " WHERE r.status = 'left' GROUP BY r.line, r.employee_no, m.id, r.reassign_to")
    if not options.reassign_to:
        _exec(_ERRORS + "SELECT line, employee_no, 'status', 'leaver_has_clients', CAST(clients AS text)"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
              " FROM onboarding_leavers WHERE successor IS NULL")


def _reassign_target(options: Options) -> int:
    """The staff record `--reassign-to` names: it must be active now and stay active in this import."""
    number = (options.reassign_to or "").strip().upper()
    row = _exec("SELECT m.id, m.status, p.status FROM managers m LEFT JOIN onboarding_plan p ON p.manager_id = m.id"
                " WHERE m.employee_no = :no", {"no": number}).first()
    if row is None:
        planned = _exec("SELECT status FROM onboarding_plan WHERE employee_no = :no", {"no": number}).first()
        if planned is None:
            raise ImportRefused("reassign_to_unknown", _("--reassign-to: no staff record has the employee number "
                                                         "%(no)s.", no=number))
        raise ImportRefused("reassign_to_not_active", _("--reassign-to: %(no)s is new in this file; clients can "
                                                        "be moved to them once they are imported.", no=number))
    manager_id, status, planned_status = row
    if status != "active" or (planned_status or "active") != "active":
        raise ImportRefused("reassign_to_not_active", _("--reassign-to: %(no)s is not an active staff member.",
                                                        no=number))
    return manager_id


def _apply_staff(result: ImportResult, options: Options, import_id: int, by_user, now) -> None:
    stamp = bindparam("now", type_=UTCDateTime())
    # Teams first (staff records point at them), without heads (heads are staff records).
    _exec("UPDATE teams SET name = o.name, branch_id = o.branch_id FROM onboarding_teams o"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          " WHERE o.team_id = teams.id AND o.name IS NOT NULL AND ("
          f"{_distinct('teams.name', 'o.name')} OR {_distinct('teams.branch_id', 'o.branch_id')})")
    db.session.execute(text("INSERT INTO teams (code, name, branch_id, created_at) SELECT code, name, branch_id, :now"
                            " FROM onboarding_teams WHERE team_id IS NULL ORDER BY code").bindparams(stamp),
                       {"now": now})
    # Each row's team found by its code: every team of the file exists now.
    if result.updated:
        _exec("UPDATE managers SET name = p.name, branch_id = p.branch_id, team_id = t.id, level = p.level,"
              " level_since = p.level_since, hire_date = p.hire_date, status = p.status, email = p.email,"
              " phone = p.phone FROM onboarding_plan p LEFT JOIN teams t ON t.code = p.team_code"
              " WHERE p.manager_id = managers.id AND p.action = 'changed'")
    # New records, then the level history's first entry of each (kind `initial`), found by employee number.
    reason = f"roster import #{import_id}"
    history_columns = ("INSERT INTO level_changes (manager_id, kind, from_level, to_level, effective_date, reason,"
                       " created_at)")
    if result.created:
        db.session.execute(text(
            "INSERT INTO managers (employee_no, name, level, level_since, hire_date, status, team_id, branch_id,"
            " email, phone, created_at) SELECT p.employee_no, p.name, p.level, p.level_since, p.hire_date,"
            " p.status, t.id, p.branch_id, p.email, p.phone, :now FROM onboarding_plan p"
            " LEFT JOIN teams t ON t.code = p.team_code WHERE p.action = 'new' ORDER BY p.line").bindparams(stamp),
            {"now": now})
        db.session.execute(text(
            f"{history_columns} SELECT m.id, 'initial', NULL, p.level, p.level_since, :reason, :now"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
            " FROM onboarding_plan p JOIN managers m ON m.employee_no = p.employee_no WHERE p.action = 'new'")
            .bindparams(stamp), {"now": now, "reason": reason})
    # A changed level of a record that was there: kind `roster`, effective on level_since (not a promotion).
    if result.updated:
        db.session.execute(text(
            f"{history_columns} SELECT manager_id, 'roster', old_level, level, level_since, :reason, :now"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
            " FROM onboarding_plan WHERE action = 'changed' AND level <> old_level").bindparams(stamp),
            {"now": now, "reason": reason})
    # Leavers' clients go to their row's `reassign_to` (who may be new in this file), else to the option's.
    if result.reassigned:
        target = _reassign_target(options) if options.reassign_to else None
        _reassign("SELECT c.id AS client_id, c.manager_id AS from_id, COALESCE(s.id, :target) AS to_id FROM clients c"
                  " JOIN onboarding_leavers l ON l.manager_id = c.manager_id"
                  " LEFT JOIN managers s ON s.employee_no = l.successor WHERE c.closed_on IS NULL",
                  {"target": target}, import_id, by_user, now)
    # Heads: the row marked head heads its team; a head marked `no` (or leaving) stops heading it.
    # (Only a record that existed before this import can head a team yet: its id is in the plan.)
    _exec("UPDATE teams SET supervisor_id = NULL WHERE supervisor_id IN (SELECT manager_id FROM onboarding_plan"
          " WHERE manager_id IS NOT NULL AND (NOT team_head OR status = 'left'))")
    _exec("UPDATE teams SET supervisor_id = m.id FROM onboarding_teams o JOIN managers m ON m.employee_no = o.head_no"  # nosec B608 - only this module's table/column names and SQL fragments are spliced; values are bound
          f" WHERE o.code = teams.code AND {_distinct('teams.supervisor_id', 'm.id')}")
    # A leaver's login stops working, as a closed client's does.
    _exec("UPDATE users SET active = false, session_version = session_version + 1 WHERE manager_id IN ("
          " SELECT manager_id FROM onboarding_plan WHERE status = 'left' AND old_status <> 'left')")


def _reassign(moves_sql: str, params: dict, import_id: int, by_user, now, move: bool = True) -> None:
    """Move clients set-based as the portal's reassignment does: the assignment history, then (unless the caller's
    own UPDATE of the same rows moves them) the book."""
    stamp = bindparam("now", type_=UTCDateTime())
    _exec("CREATE TEMP TABLE onboarding_moves (client_id integer, from_id integer, to_id integer)")
    _exec(f"INSERT INTO onboarding_moves {moves_sql}", params)  # nosec B608 - SQL built from this module's constants
    _analyze("onboarding_moves", rows=db.session.info.get("onboarding_rows"))
    db.session.execute(text(
        "INSERT INTO client_assignments (client_id, from_manager_id, to_manager_id, assigned_at, assigned_by_id,"
        " reason) SELECT client_id, from_id, to_id, :now, :by, :reason FROM onboarding_moves ORDER BY client_id")
        .bindparams(stamp), {"now": now, "by": by_user.id if by_user is not None else None,
                             "reason": f"import #{import_id}"})
    if move:
        _exec("UPDATE clients SET manager_id = m.to_id FROM onboarding_moves m WHERE m.client_id = clients.id")
    _exec(f"DROP TABLE {'pg_temp' if _postgres() else 'temp'}.onboarding_moves")


def _plan_clients() -> ImportResult:
    fields = (("name", "name"), ("id_type", "id_type"), ("id_number", "id_number"), ("birth_date", "birth_date"),
              ("sex", "sex"), ("phone", "phone"), ("email", "email"), ("branch_id", "branch_id"),
              ("opened_on", "opened_on"))
    _exec("CREATE TEMP TABLE onboarding_plan AS SELECT r.line, r.client_no, r.name, r.id_type, r.id_number,"
          " r.birth_date, r.sex, r.phone, r.email, b.id AS branch_id, r.opened_on, m.id AS manager_id, r.status,"
          " r.closed_on, c.id AS client_id, c.manager_id AS old_manager_id,"
          " CASE WHEN c.id IS NULL THEN 'new' WHEN "
          + " OR ".join(_distinct(f"c.{a}", f"{'b.id' if b == 'branch_id' else 'r.' + b}") for a, b in fields)
          + f" OR {_distinct('c.manager_id', 'm.id')} OR {_distinct('c.closed_on', 'r.closed_on')}"
          " THEN 'changed' ELSE 'same' END AS action,"
          f" CASE WHEN c.id IS NOT NULL AND {_distinct('c.manager_id', 'm.id')} THEN 1 ELSE 0 END AS reassigned,"
          " CASE WHEN c.id IS NOT NULL AND c.closed_on IS NULL AND r.closed_on IS NOT NULL THEN 1 ELSE 0 END"
          " AS closing"
          " FROM onboarding_rows r JOIN branches b ON b.code = r.branch"
          " LEFT JOIN managers m ON m.employee_no = r.manager_employee_no"
          " LEFT JOIN clients c ON c.client_no = r.client_no")
    _analyze("onboarding_plan", rows=db.session.info.get("onboarding_rows"))
    result = _tally("clients")
    result.reassigned, result.closed = (int(v or 0) for v in _exec(
        "SELECT SUM(reassigned), SUM(closing) FROM onboarding_plan").one())
    return result


def _apply_clients(result: ImportResult, import_id: int, by_user, now) -> None:
    stamp = bindparam("now", type_=UTCDateTime())
    if result.reassigned:
        _reassign("SELECT client_id, old_manager_id AS from_id, manager_id AS to_id FROM onboarding_plan"
                  " WHERE reassigned = 1", {}, import_id, by_user, now, move=False)
    if result.updated:
        _exec("UPDATE clients SET name = p.name, id_type = p.id_type, id_number = p.id_number,"
              " birth_date = p.birth_date, sex = p.sex, phone = p.phone, email = p.email, branch_id = p.branch_id,"
              " opened_on = p.opened_on, manager_id = p.manager_id, closed_on = p.closed_on"
              " FROM onboarding_plan p WHERE p.client_id = clients.id AND p.action = 'changed'")
    if result.closed:  # as close-account does: the client's login stops working now
        _exec("UPDATE users SET active = false, session_version = session_version + 1 WHERE client_id IN ("
              " SELECT client_id FROM onboarding_plan WHERE closing = 1)")
    if result.created:
        db.session.execute(text(
            "INSERT INTO clients (client_no, name, id_type, id_number, birth_date, sex, phone, email, branch_id,"
            " opened_on, manager_id, closed_on, created_at, lowest_category, investor_category)"
            " SELECT client_no, name, id_type, id_number, birth_date, sex, phone, email, branch_id, opened_on,"
            " manager_id, closed_on, :now, false, 'ordinary' FROM onboarding_plan WHERE action = 'new'")
            .bindparams(stamp), {"now": now})


# --- running one import ------------------------------------------------------------------------------

def _check(kind: Kind, options: Options, errors: RowErrors, limit: int | None, batch: bool) -> None:
    _flush_errors(errors)
    staged = _count("SELECT COUNT(*) FROM onboarding_rows")
    db.session.info["onboarding_rows"] = staged
    if not staged and not _count("SELECT COUNT(*) FROM onboarding_errors") and not errors.dropped:
        raise ImportRefused("empty_file", _("The file has no data rows: nothing was imported."))
    _analyze("onboarding_rows", rows=staged)
    {"branches": _check_branches, "staff": _check_staff, "clients": _check_clients}[kind.name](options)
    _problems(kind, errors, limit, batch)


def _run(kind: Kind, stage: Callable[[RowErrors], None], *, source: str, filename: str | None, sha256: str,
         by_user, options: Options, limit: int | None, batch: bool, today: date) -> ImportResult:
    """Stage, check, plan and (unless dry) write; ImportRefused (nothing written) when anything is bad."""
    _begin(kind)
    errors = RowErrors(limit)
    stage(errors)
    missing = None
    if options.full:
        _flush_errors(errors)
        missing = _missing(kind, options)
        if options.apply_missing and kind is not BRANCHES:
            _add_missing(kind, today)
    _check(kind, options, errors, limit, batch)
    result = {"branches": _plan_branches, "staff": _plan_staff, "clients": _plan_clients}[kind.name]()
    if kind is STAFF:
        if options.reassign_to:
            _reassign_target(options)
        # Every leaver left in the table has a successor: one without is a bad row unless `reassign_to` is given.
        result.reassigned = _count("SELECT COALESCE(SUM(clients), 0) FROM onboarding_leavers")
    if missing is not None:
        result.missing, result.missing_keys = missing
    result.dry_run = options.dry_run
    if options.dry_run:
        _drop_temp_tables()
        return result
    now = utcnow()
    entry = history.record_applied(kind.name, source, filename, sha256, by_user, options.as_dict(), now)
    result.import_id = entry.id
    if kind is BRANCHES:
        _apply_branches(now)
    elif kind is STAFF:
        _apply_staff(result, options, entry.id, by_user, now)
    else:
        _apply_clients(result, entry.id, by_user, now)
    entry.counts = result.as_dict()
    record(f"import.{kind.name}", "data_import", entry.id, actor=by_user,
           after={"source": source, "filename": filename, "sha256": sha256, **options.as_dict(), **result.as_dict()})
    _drop_temp_tables()
    db.session.flush()
    return result


def _file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(kind_name: str, path: str | Path, *, source: str = "cli", filename: str | None = None, by_user=None,
                options: Options | None = None, limit: int | None = 200, progress=None,
                today: date | None = None) -> ImportResult:
    """Import a CSV (UTF-8 with or without BOM, or GB18030) or XLSX file; ImportRefused, having written
    nothing, when the file or any row is bad. The caller commits (or rolls back)."""
    from portal.imports.readers import BadRow, FileRefused, open_rows
    from portal.rules.calendar import business_today

    kind = KINDS[kind_name]
    options = options or Options()
    today = today or business_today()
    filename = filename or Path(path).name
    sha256 = _file_sha256(path)

    def stage(errors: RowErrors) -> None:
        try:
            rows = open_rows(path, filename)
        except FileRefused as refused:
            raise ImportRefused(refused.code, refused.message) from None
        with rows:
            if progress is not None:
                progress.start(rows.total if rows.total is not None else _line_count(path), _("rows"))
            try:
                header = next(rows, None)
                if header is None or isinstance(header[1], BadRow):
                    raise ImportRefused("empty_file", _("The file is empty: the first line must name the columns "
                                                        "%(columns)s.", columns=", ".join(kind.header)))
                order = _header(kind, header[1])
                _stage_rows(kind, rows, order, errors, today, progress)
            except FileRefused as refused:
                raise ImportRefused(refused.code, refused.message) from None
        if progress is not None:
            progress.finish()
            progress.phase(_("Checking every row…"))

    return _run(kind, stage, source=source, filename=filename, sha256=sha256, by_user=by_user, options=options,
                limit=limit, batch=False, today=today)


def _line_count(path: str | Path) -> int:
    """The lines of a CSV file, for the progress bar (a quick count of newlines, not a parse)."""
    count, last = 0, b""
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (1 if last not in (b"", b"\n") else 0)


def _stage_rows(kind: Kind, rows: Iterable, order: list[str], errors: RowErrors, today: date, progress) -> None:
    from portal.imports.readers import BadRow

    reader = RowReader(kind, today, errors, words=True)
    workbook = getattr(rows, "format", "csv") == "xlsx"
    expected = len(order)
    key_at = order.index(kind.key)
    with bulk.writer("onboarding_rows", ("line", "bad", *kind.header)) as write:
        for line, values in rows:
            if progress is not None:
                progress.advance(1)
            if isinstance(values, BadRow):
                key = values.values[key_at] if len(values.values) > key_at else None
                errors.add(line, _text(key) or None, None, values.code, values.detail)
                continue
            if len(values) > expected:
                while len(values) > expected and values[-1] in (None, ""):
                    values = values[:-1]
            elif workbook and len(values) < expected:  # a sheet's row ends at its last filled cell
                values = [*values, *([None] * (expected - len(values)))]
            if len(values) != expected:
                key = values[key_at] if len(values) > key_at else None
                errors.add(line, _text(key) or None, None, "field_count", f"{len(values)}/{expected}")
                continue
            staged = reader.read(line, dict(zip(order, values)))
            if staged is not None:
                write(staged)


def _api_sha256(rows: object) -> str:
    import json

    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def import_rows(kind_name: str, rows: object, *, by_user=None, options: Options | None = None,
                today: date | None = None, sha256: str | None = None) -> ImportResult:
    """Import an API batch (a list of objects, at most API_MAX_ROWS); ImportRefused naming every bad row by
    index (from 0), having written nothing."""
    from portal.rules.calendar import business_today

    kind = KINDS[kind_name]
    options = options or Options()
    today = today or business_today()
    if not isinstance(rows, list):
        raise ImportRefused("invalid_body", _("The body must be a JSON array of rows."))
    if not rows:
        raise ImportRefused("empty", _("The array is empty: send at least one row."))
    if len(rows) > API_MAX_ROWS:
        raise ImportRefused("too_many_rows", _("At most %(n)d rows may be sent at once; send the rest in further "
                                               "batches.", n=API_MAX_ROWS))
    known = set(kind.header)

    def stage(errors: RowErrors) -> None:
        reader = RowReader(kind, today, errors, words=False)
        with bulk.writer("onboarding_rows", ("line", "bad", *kind.header)) as write:
            for index, row in enumerate(rows):
                if not isinstance(row, dict):
                    errors.add(index, None, None, "not_an_object")
                    continue
                key = row.get(kind.key)
                shown = key if isinstance(key, str) else None
                bad = False
                for name in sorted(set(row) - known, key=str):
                    errors.add(index, shown, str(name)[:60], "unknown_field")
                    bad = True
                for name in kind.header:
                    value = row.get(name)
                    allowed = (str, bool) if name == "team_head" else (str,)
                    if value is not None and not isinstance(value, allowed):
                        errors.add(index, shown, name, "wrong_type")
                        bad = True
                if not bad:
                    write(reader.read(index, row))

    return _run(kind, stage, source="api", filename=None, sha256=sha256 or _api_sha256(rows), by_user=by_user,
                options=options, limit=None, batch=True, today=today)
