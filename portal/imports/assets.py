"""Asset snapshot and monthly revenue imports: one validation for the upload page, the CLI and the API.

Every route loads its rows with their line number (file; the header is line 1) or index (API batch,
from 0) into a temporary staging table; the checks then run in SQL over the whole table (unknown
client by join, missing value, negative amount, more than 2 decimal places, amount too large,
future or malformed date, duplicate (client, period) inside the import); every bad row is listed and
nothing is imported when any row is bad. Otherwise, in the same transaction, the rows are replaced
and inserted set-based and the clients they touch are re-tiered set-based.

On PostgreSQL a CSV file goes into staging by a raw `COPY` of its bytes (the fast route for a
million rows), the amounts straight into `numeric` columns: PostgreSQL's own number parser is the
format check. A file that COPY refuses as a whole (text that is not a number, a malformed line, bad
UTF-8, a line break inside a field) is read again line by line, which names each bad line. XLSX
files, SQLite and API batches are streamed into staging in batches, each amount parsed with the
same grammar as PostgreSQL's (digits with an optional point, optional sign and exponent).

Re-importing — a *file* (upload page or CLI) replaces every row of each statistics date (snapshots)
or month (revenue) it contains, atomically: the file is the whole statement of those dates. An
*API batch* replaces only the rows of the (client, date) or (client, month) pairs it carries, so a
large date can arrive in several batches.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Protocol

from flask_babel import gettext as _
from sqlalchemy import Date, bindparam, text

from models import db, utcnow
from models.tiering import ASSET_PARTS
from models.types import UTCDateTime
from portal import bulk
from portal.audit import record
from portal.imports import readers
from portal.imports.codes import asset_row_message
from portal.operations.tiering import dates_touched_by_months, retier_at, take_lock
from portal.rules.calendar import business_today
from portal.rules.tiering import month_start

API_MAX_ROWS = 10_000
# Below 10^14 with at most 2 decimal places: 24 amounts of a client's year still fit Numeric(18, 2).
AMOUNT_LIMIT = 10 ** 14
# The grammar of PostgreSQL's numeric input (NaN and Infinity aside), so that every route reads alike.
_NUMBER = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*", re.ASCII)
TEMP_TABLES = ("import_rows", "import_periods", "import_checked", "import_errors", "tier_scope")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True)
class ImportKind:
    """What one import carries: the header names, the target table and the period it is keyed by."""

    name: str
    table: str
    period_field: str
    period_column: str
    amounts: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The header names, in the documented order."""
        return ("client_no", self.period_field, *self.amounts)


ASSETS = ImportKind("assets", "asset_snapshots", "date", "stat_date", ASSET_PARTS)
REVENUE = ImportKind("revenue", "revenue_records", "month", "month", ("net_commission", "other_income"))
KINDS = {kind.name: kind for kind in (ASSETS, REVENUE)}


@dataclass(frozen=True)
class Problem:
    """One bad row: `line` is the file's line number (header = 1) or the API batch index (from 0)."""

    line: int | None
    client_no: str | None
    field: str | None
    code: str
    message: str


class ImportRejected(Exception):
    """Nothing was imported. `message` says why; `problems` lists the first bad rows, `total` counts them all."""

    def __init__(self, message: str, problems: Sequence[Problem] = (), total: int = 0, code: str = "invalid_rows"):
        super().__init__(message)
        self.message, self.problems, self.total, self.code = message, list(problems), total, code


@dataclass
class ImportResult:
    """What an import changed."""

    kind: str
    rows: int
    clients: int
    periods: list[date] = field(default_factory=list)
    replaced: int = 0
    retiered: int = 0
    retier_dates: list[date] = field(default_factory=list)

    def as_dict(self) -> dict:
        key = "dates" if self.kind == "assets" else "months"
        periods = [p.isoformat() if self.kind == "assets" else p.strftime("%Y-%m") for p in self.periods]
        return {"kind": self.kind, "rows": self.rows, "clients": self.clients, key: periods,
                "replaced": self.replaced, "retiered": self.retiered,
                "retier_dates": [d.isoformat() for d in self.retier_dates]}


class Progress(Protocol):
    """How an import reports progress (the CLI draws a bar; web routes pass nothing)."""

    def start(self, total: int | None, label: str) -> None: ...

    def advance(self, amount: int) -> None: ...

    def finish(self) -> None: ...

    def phase(self, label: str) -> None: ...


class _Silent:
    def start(self, total: int | None, label: str) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass

    def phase(self, label: str) -> None:
        pass


# --- staging ---------------------------------------------------------------------------------------

def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _temp(name: str) -> str:
    return f"pg_temp.{name}" if _postgres() else f"temp.{name}"


def _trim(expr: str) -> str:
    return f"btrim({expr})" if _postgres() else f"trim({expr})"


def _staging_columns(kind: ImportKind) -> tuple[str, ...]:
    return ("client_no", "period", *kind.amounts)


def _drop_temp_tables() -> None:
    for name in TEMP_TABLES:
        db.session.execute(text(f"DROP TABLE IF EXISTS {_temp(name)}"))
    if _postgres():
        db.session.execute(text("DROP SEQUENCE IF EXISTS pg_temp.import_line_seq"))


def _begin(kind: ImportKind) -> None:
    """Take the import lock and create empty staging tables for this transaction."""
    take_lock()
    _drop_temp_tables()
    # Amounts are numeric on PostgreSQL (COPY parses them); SQLite keeps the canonical text for exact checks.
    amount_type = "numeric" if _postgres() else "text"
    columns = ", ".join(["client_no text", "period text", *(f"{name} {amount_type}" for name in kind.amounts)])
    if _postgres():
        db.session.execute(text("CREATE TEMP SEQUENCE import_line_seq START 2"))
        db.session.execute(text(
            f"CREATE TEMP TABLE import_rows (line bigint DEFAULT nextval('import_line_seq'), {columns})"))
    else:
        db.session.execute(text(f"CREATE TEMP TABLE import_rows (line bigint, {columns})"))
    db.session.execute(text(
        "CREATE TEMP TABLE import_errors (line bigint, client_no text, field text, code text, detail bigint)"))


class _Errors:
    """Problems found while reading, before SQL sees the row; written to import_errors when reading ends.

    Reading goes in line order, so keeping the first `keep` of them is enough for a listing of the
    first `keep` problems; the rest are only counted (a file of a million bad lines stays small here).
    """

    def __init__(self, keep: int | None):
        self.keep, self.rows, self.dropped = keep, [], 0

    def add(self, line: int, client_no: str | None, field_name: str | None, code: str,
            detail: int | None = None) -> None:
        if self.keep is not None and len(self.rows) >= self.keep:
            self.dropped += 1
            return
        shown = None if client_no is None else _without_nul(str(client_no)[:100])
        self.rows.append((line, shown, field_name, code, detail))

    def flush(self) -> None:
        """Write the kept problems (never while a COPY into staging is open on the connection)."""
        if self.rows:
            bulk.write_rows("import_errors", ("line", "client_no", "field", "code", "detail"), self.rows)
            self.rows = []


def _without_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def parse_amount(raw: object) -> tuple[Decimal | None, str | None]:
    """An amount from a file cell or a JSON value: (value, None), (None, None) when empty, or (None, code)."""
    if raw is None:
        return None, None
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = Decimal(raw)
    elif isinstance(raw, str):
        if not raw.strip():
            return None, None
        if not _NUMBER.fullmatch(raw):
            return None, "not_a_number"
        value = Decimal(raw.strip())
    else:
        return None, "not_a_number"
    if not value.is_finite():
        return None, "not_a_number"
    if value.is_zero():
        value = abs(value)  # -0.00 is not a negative amount
    if value.adjusted() >= 14:
        return None, "too_large"  # checked here too: a huge exponent must not become a huge string
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01"), rounding="ROUND_DOWN"):
        return None, "too_many_decimals"
    return value, None


class _Stager:
    """Writes rows read line by line into staging, amounts parsed; unreadable amounts become problems."""

    def __init__(self, kind: ImportKind, order: Sequence[str], write: Callable, errors: _Errors):
        self.write, self.errors = write, errors
        self.amount_at = [(position, name) for position, name in enumerate(order) if name in kind.amounts]
        self.as_text = not _postgres()

    def add(self, line: int, values: list, client_no: str | None) -> None:
        for position, value in enumerate(values):
            # PostgreSQL text cannot hold NUL: such a value is a problem of its row, never a failed COPY.
            if isinstance(value, str) and "\x00" in value:
                values[position] = _without_nul(value)
                self.errors.add(line, client_no, None, "control_characters")
        for position, name in self.amount_at:
            value, code = parse_amount(values[position])
            if code:
                self.errors.add(line, client_no, name, code)
            if value is not None and self.as_text:
                value = format(value, "f")
            values[position] = value
        self.write((line, *values))


def _header(kind: ImportKind, names: Sequence[object]) -> list[str]:
    """The staging column of each file column, in file order; ImportRejected for a wrong header."""
    cleaned = [str(name).strip().lstrip("\ufeff").strip().lower() if name is not None else "" for name in names]
    while cleaned and cleaned[-1] == "":
        cleaned.pop()
    refused = readers.header_problem(cleaned, kind.columns)
    if refused:
        raise ImportRejected(refused[1], code=refused[0])
    return ["period" if name == kind.period_field else name for name in cleaned]


# --- reading files ---------------------------------------------------------------------------------

class _Counting(io.RawIOBase):
    """A binary stream that reports the bytes read through it (the CLI's progress bar)."""

    def __init__(self, stream: IO[bytes], progress: Progress):
        self.stream, self.progress = stream, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        self.progress.advance(len(data))
        return len(data)


def _copy_csv(stream: IO[bytes], order: list[str], progress: Progress, limits: readers.Limits,
              errors: _Errors) -> bool:
    """PostgreSQL: COPY the data lines as they are; False when the file must be read line by line."""
    import psycopg

    connection = db.session.connection().connection.driver_connection
    newlines, last = 0, b""
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT import_copy")
        try:
            with cursor.copy(f"COPY import_rows ({', '.join(order)}) FROM STDIN WITH (FORMAT csv)") as copy:
                while chunk := stream.read(1 << 20):
                    newlines += chunk.count(b"\n")
                    last = chunk[-1:]
                    copy.write(chunk)
                    progress.advance(len(chunk))
        except psycopg.Error:  # a malformed line, bad UTF-8: the line-by-line reader names the bad lines
            cursor.execute("ROLLBACK TO SAVEPOINT import_copy")
            return False
        copied = cursor.rowcount
        cursor.execute("RELEASE SAVEPOINT import_copy")
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    if copied != lines:  # a quoted line break: record numbers are not line numbers
        db.session.execute(text("DELETE FROM import_rows"))
        return False
    if copied + 1 > limits.max_rows:
        raise readers.too_many_rows(limits)
    # COPY takes text of any length: the reader's field cap, applied to the staged text columns.
    for line, client_no in db.session.execute(text(
            "SELECT line, substr(client_no, 1, :cap) FROM import_rows"
            " WHERE length(client_no) > :cap OR length(period) > :cap ORDER BY line"),
            {"cap": limits.max_field_chars}):
        errors.add(line, client_no, None, readers.FIELD_TOO_LONG)
    db.session.execute(text("UPDATE import_rows SET client_no = substr(client_no, 1, :cap),"
                            " period = substr(period, 1, :cap) WHERE length(client_no) > :cap"
                            " OR length(period) > :cap"), {"cap": limits.max_field_chars})
    return True


def _read_csv(kind: ImportKind, stream: IO[bytes], progress: Progress, errors: _Errors,
              limits: readers.Limits) -> None:
    header_line = stream.readline(limits.max_field_chars * len(kind.columns) + 1024)
    progress.advance(len(header_line))
    names = next(csv.reader([header_line.decode("utf-8", errors="replace")]), [])
    order = _header(kind, names)
    data_start = stream.tell()
    counted: IO[bytes] = io.BufferedReader(_Counting(stream, progress))
    if _postgres():
        if _copy_csv(stream, order, progress, limits, errors):
            return
        stream.seek(data_start)
        counted = stream  # the bar has been filled once already
    expected = len(order)
    client_at = order.index("client_no")
    rows = readers.csv_rows(counted, limits=limits, encoding="utf-8", bad_encoding="row")
    with bulk.writer("import_rows", ("line", *order)) as write:
        stager = _Stager(kind, order, write, errors)
        for data_line, row in rows:
            line = data_line + 1  # the header is line 1
            if isinstance(row, readers.BadRow):
                client_no = row.values[client_at] if len(row.values) > client_at else None
                errors.add(line, client_no, None, row.code)
                continue
            client_no = row[client_at] if len(row) > client_at else None
            if len(row) != expected:
                errors.add(line, client_no, None, "field_count", len(row))
            elif any("\x00" in cell for cell in row):
                errors.add(line, client_no, None, "unreadable")
            else:
                stager.add(line, row, client_no)


def _cell_text(value: object, column: str) -> str | None:
    """An XLSX cell as the text a CSV would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            return value.isoformat()
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if column == "client_no" and value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _read_xlsx(kind: ImportKind, path: str | Path, progress: Progress, errors: _Errors,
               limits: readers.Limits) -> None:
    with readers.xlsx_rows(path, limits=limits) as rows:
        first = next(rows, None)
        header = first[1] if first is not None and first[0] == 1 else None
        if isinstance(header, readers.BadRow):
            header = header.values
        order = _header(kind, header or [])
        if kind.period_field == "month":
            period_text = _month_cell_text
        else:
            period_text = _cell_text
        progress.start(rows.total, _("rows"))
        expected = len(order)
        client_at = order.index("client_no")
        with bulk.writer("import_rows", ("line", *order)) as write:
            stager = _Stager(kind, order, write, errors)
            for line, values in rows:
                progress.advance(1)
                if isinstance(values, readers.BadRow):
                    cells = values.values
                    client_no = _cell_text(cells[client_at], "client_no") if len(cells) > client_at else None
                    errors.add(line, client_no, None, values.code)
                    continue
                cells = list(values)
                while len(cells) > expected and cells[-1] in (None, ""):
                    cells.pop()
                cells += [None] * (expected - len(cells))
                client_no = _cell_text(cells[client_at], "client_no")
                if len(cells) != expected:
                    errors.add(line, client_no, None, "field_count", len(cells))
                    continue
                texts = [period_text(cell, column) if column == "period" else _cell_text(cell, column)
                         for cell, column in zip(cells, order)]
                if any(t is not None and "\x00" in t for t in texts):
                    errors.add(line, client_no, None, "unreadable")
                    continue
                stager.add(line, texts, client_no)


def _month_cell_text(value: object, column: str) -> str | None:
    # A month typed into Excel becomes a date on its first day.
    if isinstance(value, datetime) and (value.hour, value.minute, value.second) == (0, 0, 0):
        value = value.date()
    if isinstance(value, date) and value.day == 1:
        return value.strftime("%Y-%m")
    return _cell_text(value, column)


def file_format(path: str | Path, filename: str | None = None) -> str:
    """"xlsx" for a workbook (a ZIP container), "csv" otherwise; ImportRejected for other spreadsheets."""
    try:
        return readers.file_format(path, filename)
    except readers.FileRefused as refused:
        raise ImportRejected(refused.message, code=refused.code) from None


# --- the checks ------------------------------------------------------------------------------------

def _period_codes(kind: ImportKind, raws: Sequence[str], today: date) -> list[tuple[str, date | None, str | None]]:
    """Each distinct period text with its date, or the error it is."""
    result = []
    current_month = month_start(today)
    for raw in raws:
        day, code = None, None
        if raw == "":
            code = "missing"
        elif kind.period_field == "date":
            try:
                day = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
            except ValueError:
                day = None
            if day is None:
                code = "invalid_date"
            elif day > today:
                day, code = None, "future_date"
        else:
            match = _MONTH.fullmatch(raw)
            if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1:
                day = date(int(match.group(1)), int(match.group(2)), 1)
                if day > current_month:
                    day, code = None, "future_month"
            else:
                code = "invalid_month"
        result.append((raw, day, code))
    return result


def _amount_bad(column: str) -> str:
    """SQL true when a staged amount is missing, negative, too large or has more than 2 decimal places."""
    if _postgres():  # NaN sorts above every number, so the range test catches it too
        return f"({column} IS NULL OR NOT ({column} >= 0 AND {column} < {AMOUNT_LIMIT}) OR scale({column}) > 2)"
    return (f"({column} IS NULL OR {column} LIKE '-%' OR CAST({column} AS REAL) >= {AMOUNT_LIMIT}"
            f" OR (instr({column}, '.') > 0 AND length({column}) - instr({column}, '.') > 2))")


def _amount_code(column: str) -> str:
    """SQL naming what is wrong with an amount `_amount_bad` caught."""
    if _postgres():
        return (f"CASE WHEN {column} IS NULL THEN 'missing' WHEN {column} IN ('NaN', 'Infinity', '-Infinity')"
                " THEN 'not_a_number'"
                f" WHEN {column} < 0 THEN 'negative' WHEN {column} >= {AMOUNT_LIMIT} THEN 'too_large'"
                " ELSE 'too_many_decimals' END")
    return (f"CASE WHEN {column} IS NULL THEN 'missing' WHEN {column} LIKE '-%' THEN 'negative'"
            f" WHEN CAST({column} AS REAL) >= {AMOUNT_LIMIT} THEN 'too_large' ELSE 'too_many_decimals' END")


def _money(column: str) -> str:
    """A checked staged amount as the value to store."""
    return column if _postgres() else f"CAST({column} AS NUMERIC)"


def _analyze(*tables: str) -> None:
    if _postgres():  # temporary tables get no autovacuum statistics; the planner needs them at 1M rows
        for table in tables:
            db.session.execute(text(f"ANALYZE {table}"))


def _check(kind: ImportKind, errors: _Errors, today: date, limit: int | None, batch: bool) -> None:
    """Run every check over the staged rows; ImportRejected (nothing imported) when any row is bad."""
    errors.flush()
    loaded = db.session.execute(text("SELECT COUNT(*) FROM import_rows")).scalar_one()
    found_early = db.session.execute(text("SELECT COUNT(*) FROM import_errors")).scalar_one() + errors.dropped
    if loaded == 0 and found_early == 0:
        raise ImportRejected(_("The file has no data rows: nothing was imported."), code="empty_file")
    _analyze("import_rows")
    trim = _trim
    raws = list(db.session.scalars(text(f"SELECT DISTINCT COALESCE({trim('period')}, '') FROM import_rows")))  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
    db.session.execute(text("CREATE TEMP TABLE import_periods (raw text, period date, code text)"))
    period_rows = _period_codes(kind, raws, today)
    bulk.write_rows("import_periods", ("raw", "period", "code"), period_rows)
    amounts = ", ".join(f"r.{a}" for a in kind.amounts)
    db.session.execute(text(
        f"CREATE TEMP TABLE import_checked AS SELECT r.line, {trim('r.client_no')} AS client_no,"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
        f" c.id AS client_id, p.period, p.code AS period_code, {amounts}"
        f" FROM import_rows r LEFT JOIN clients c ON c.client_no = {trim('r.client_no')}"
        f" LEFT JOIN import_periods p ON p.raw = COALESCE({trim('r.period')}, '')"))
    _analyze("import_checked")
    any_amount_bad = " OR ".join(_amount_bad(a) for a in kind.amounts)
    bad_clients, bad_periods, bad_amounts = db.session.execute(text(
        "SELECT COALESCE(SUM(CASE WHEN client_id IS NULL THEN 1 ELSE 0 END), 0),"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
        " COALESCE(SUM(CASE WHEN period_code IS NOT NULL THEN 1 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN {any_amount_bad} THEN 1 ELSE 0 END), 0) FROM import_checked")).one()
    insert = "INSERT INTO import_errors (line, client_no, field, code, detail) "
    if bad_clients:
        db.session.execute(text(
            insert + "SELECT line, client_no, 'client_no', CASE WHEN client_no IS NULL OR client_no = ''"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
            " THEN 'missing' ELSE 'unknown_client' END, NULL FROM import_checked WHERE client_id IS NULL"))
    if bad_periods:
        db.session.execute(text(
            insert + f"SELECT line, client_no, '{kind.period_field}', period_code, NULL FROM import_checked"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
            " WHERE period_code IS NOT NULL"))
    if bad_amounts:
        for amount in kind.amounts:
            # An amount the reader could not parse is staged empty and already has its problem.
            db.session.execute(text(
                insert + f"SELECT line, client_no, '{amount}', {_amount_code(amount)}, NULL FROM import_checked c"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
                f" WHERE {_amount_bad(amount)} AND NOT EXISTS (SELECT 1 FROM import_errors e"
                f" WHERE e.line = c.line AND e.field = '{amount}')"))
    duplicated = db.session.execute(text(
        "SELECT 1 FROM import_checked WHERE period IS NOT NULL AND client_no <> ''"
        " GROUP BY client_no, period HAVING COUNT(*) > 1 LIMIT 1")).first()
    if duplicated:
        db.session.execute(text(
            insert + "SELECT line, client_no, 'client_no', 'duplicate', first_line FROM ("  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
            " SELECT line, client_no, MIN(line) OVER (PARTITION BY client_no, period) AS first_line"
            " FROM import_checked WHERE period IS NOT NULL AND client_no <> '') d WHERE line <> first_line"))
    total = db.session.execute(text("SELECT COUNT(*) FROM import_errors")).scalar_one() + errors.dropped
    if total == 0:
        return
    order = {name: position for position, name in enumerate((None, *kind.columns))}
    sql = "SELECT line, substr(client_no, 1, 40), field, code, detail FROM import_errors ORDER BY line, field"
    rows = db.session.execute(text(sql + (" LIMIT :limit" if limit else "")),
                              {"limit": limit} if limit else {}).all()
    problems = sorted((Problem(line, client_no, name, code,
                               asset_row_message(code, name, client_no, detail, batch=batch, columns=len(kind.columns)))
                       for line, client_no, name, code, detail in rows),
                      key=lambda p: (p.line if p.line is not None else -1, order.get(p.field, 99)))
    raise ImportRejected(_("Nothing was imported: %(n)d problems in the rows listed.", n=total), problems, total)


# --- applying --------------------------------------------------------------------------------------

def _apply(kind: ImportKind, replace_whole_periods: bool, progress: Progress) -> ImportResult:
    periods = sorted(db.session.scalars(
        text("SELECT DISTINCT period FROM import_checked").columns(period=Date())))
    rows, clients = db.session.execute(text(
        "SELECT COUNT(*), COUNT(DISTINCT client_id) FROM import_checked")).one()
    now = utcnow()
    target, period_column = kind.table, kind.period_column
    in_periods = text(f"DELETE FROM {target} WHERE {period_column} IN :periods").bindparams(  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
        bindparam("periods", expanding=True, type_=Date()))
    same_pairs = (f"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM import_checked c"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
                  f" WHERE c.client_id = {target}.client_id AND c.period = {target}.{period_column})")
    progress.phase(_("Replacing and inserting %(n)d rows…", n=rows))
    if kind is REVENUE:
        db.session.execute(text("CREATE TEMP TABLE tier_scope (client_id integer)"))
        if replace_whole_periods:  # clients who lose a month's revenue are re-tiered too
            db.session.execute(text(
                f"INSERT INTO tier_scope SELECT client_id FROM {target} WHERE {period_column} IN :periods")  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
                .bindparams(bindparam("periods", expanding=True, type_=Date())), {"periods": periods})
        db.session.execute(text("INSERT INTO tier_scope SELECT client_id FROM import_checked"))
        _analyze("tier_scope")
    if replace_whole_periods:
        replaced = db.session.execute(in_periods, {"periods": periods}).rowcount
    else:
        replaced = db.session.execute(text(same_pairs)).rowcount
    columns = ", ".join(kind.amounts)
    values = ", ".join(_money(a) for a in kind.amounts)
    stamp = bindparam("now", type_=UTCDateTime())
    if kind is ASSETS:
        total = "ROUND(" + " + ".join(_money(a) for a in kind.amounts) + ", 2)"
        db.session.execute(text(
            f"INSERT INTO asset_snapshots (client_id, stat_date, {columns}, total_assets, imported_at)"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
            f" SELECT client_id, period, {values}, {total}, :now FROM import_checked").bindparams(stamp),
            {"now": now})
    else:
        db.session.execute(text(
            f"INSERT INTO revenue_records (client_id, month, {columns}, imported_at)"  # nosec B608 - only table/column names from the ImportKind constants are spliced, values bound
            f" SELECT client_id, period, {values}, :now FROM import_checked").bindparams(stamp), {"now": now})
    progress.phase(_("Re-tiering…"))
    retiered = 0
    if kind is ASSETS:
        retier_dates = periods
        for day in periods:
            if replace_whole_periods:
                retiered += retier_at(day)
            else:
                retiered += retier_at(day, "SELECT client_id FROM import_checked WHERE period = :day")
    else:
        retier_dates = dates_touched_by_months(periods)
        for day in retier_dates:
            retiered += retier_at(day, "SELECT client_id FROM tier_scope")
    return ImportResult(kind.name, rows, clients, periods, replaced, retiered, retier_dates)


def _audit(kind: ImportKind, result: ImportResult, source: str, filename: str | None, by_user) -> None:
    record(f"{kind.name}.import", kind.table, None, actor=by_user,
           after={"source": source, "filename": filename, **result.as_dict()})


# --- the three routes in ---------------------------------------------------------------------------

def import_file(kind: ImportKind, path: str | Path, *, source: str = "cli", filename: str | None = None,
                by_user=None, progress: Progress | None = None, limit: int | None = 200,
                today: date | None = None) -> ImportResult:
    """Import a CSV or XLSX file; every row of each date (month) in it replaces that date's rows.

    Raises ImportRejected, having imported nothing, when the file or any row is bad; the caller
    rolls back (it commits on success). `limit` bounds the problems listed (the total is exact).
    """
    progress = progress or _Silent()
    today = today or business_today()
    limits = readers.Limits.current()
    fmt = file_format(path, filename)
    errors = _Errors(limit)
    try:
        readers.check_size(path, fmt, limits)
        _begin(kind)
        if fmt == "xlsx":
            _read_xlsx(kind, path, progress, errors, limits)
        else:
            progress.start(Path(path).stat().st_size, _("bytes"))
            with open(path, "rb") as stream:
                _read_csv(kind, stream, progress, errors, limits)
    except readers.FileRefused as refused:
        raise ImportRejected(refused.message, code=refused.code) from None
    progress.finish()
    progress.phase(_("Checking every row…"))
    _check(kind, errors, today, limit, batch=False)
    result = _apply(kind, True, progress)
    _audit(kind, result, source, filename or Path(path).name, by_user)
    _drop_temp_tables()
    db.session.flush()
    return result


def import_rows(kind: ImportKind, rows: object, *, by_user=None, today: date | None = None) -> ImportResult:
    """Import an API batch (a list of objects); it replaces the (client, period) rows it carries.

    Raises ImportRejected naming every bad row by index (from 0), having imported nothing.
    """
    today = today or business_today()
    if not isinstance(rows, list):
        raise ImportRejected(_("The body must be a JSON array of rows."), code="invalid_body")
    if not rows:
        raise ImportRejected(_("The array is empty: send at least one row."), code="empty")
    if len(rows) > API_MAX_ROWS:
        raise ImportRejected(_("At most %(n)d rows may be sent at once; send the rest in further batches.",
                               n=API_MAX_ROWS), code="too_many_rows")
    _begin(kind)
    errors = _Errors(None)
    columns = kind.columns
    known = set(columns)
    with bulk.writer("import_rows", ("line", *_staging_columns(kind))) as write:
        stager = _Stager(kind, _staging_columns(kind), write, errors)
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.add(index, None, None, "not_an_object")
                continue
            client_no = row.get("client_no")
            shown = client_no if isinstance(client_no, str) else None
            bad = False
            for name in sorted(set(row) - known, key=str):
                errors.add(index, shown, str(name)[:60], "unknown_field")
                bad = True
            values: list = []
            for name in columns:
                value = row.get(name)
                textual = name in ("client_no", kind.period_field)
                if value is not None and (isinstance(value, bool) or not isinstance(
                        value, str if textual else (str, int, Decimal))):
                    errors.add(index, shown, name, "wrong_type")
                    bad = True
                values.append(value)
            if bad:
                continue
            if any(isinstance(v, str) and "\x00" in v for v in values):
                errors.add(index, shown, None, "unreadable")
                continue
            stager.add(index, values, shown)
    _check(kind, errors, today, None, batch=True)
    result = _apply(kind, False, _Silent())
    _audit(kind, result, "api", None, by_user)
    _drop_temp_tables()
    db.session.flush()
    return result
