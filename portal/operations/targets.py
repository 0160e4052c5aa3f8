"""Managers' targets per period (net commission, asset growth, new clients): set one, or import a CSV file.

An import is checked whole first: every bad line is reported by its number and nothing is stored.
Importing a period again replaces that period's targets (within what the importer may change).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, delete, insert, select, tuple_

from models import Manager, ManagerTarget, Team, db, utcnow
from portal.audit import record
from portal.imports import readers
from portal.operations.errors import OperationError
from portal.operations.evaluations import CONTROL_CHARACTERS

CSV_COLUMNS = ("employee_no", "period_start", "period_end", "net_commission", "asset_growth", "new_clients")
MONEY_MAX = Decimal("9999999999999999.99")  # Numeric(18, 2)
NEW_CLIENTS_MAX = 1_000_000
MAX_ROWS = 50_000
CHUNK = 500


class TargetsImportError(OperationError):
    """A file with bad lines: `problems` lists each as {"line", "message"}, in line order."""

    def __init__(self, problems: list[dict]):
        super().__init__(problems[0]["message"], "file", "invalid_rows")
        self.problems = problems


@dataclass(frozen=True)
class TargetRow:
    """One checked target: whose, for which period, and the three figures."""

    manager_id: int
    employee_no: str
    period_start: date
    period_end: date
    net_commission: Decimal
    asset_growth: Decimal
    new_clients: int


def parse_money(raw: Any, label: Any, field: str) -> Decimal:
    """An amount in CNY, 0 or more, at most 2 decimals (a Decimal, never a float)."""
    if isinstance(raw, bool) or isinstance(raw, float):
        raise OperationError(_("%(label)s must be an amount such as 12000.50.", label=label), field, "invalid_amount")
    if isinstance(raw, Decimal | int):
        value = Decimal(raw)
    else:
        text = str(raw if raw is not None else "").strip().replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise OperationError(_("%(label)s must be an amount such as 12000.50.", label=label), field,
                                 "invalid_amount") from None
    if not value.is_finite():
        raise OperationError(_("%(label)s must be an amount such as 12000.50.", label=label), field, "invalid_amount")
    if value < 0:
        raise OperationError(_("%(label)s cannot be negative.", label=label), field, "negative_amount")
    if value != value.quantize(Decimal("0.01")) or value > MONEY_MAX:
        raise OperationError(_("%(label)s must have at most 2 decimals and 16 digits before the point.",
                               label=label), field, "invalid_amount")
    return value.quantize(Decimal("0.01"))


def parse_count(raw: Any, label: Any, field: str) -> int:
    """A whole number 0 or more."""
    if isinstance(raw, bool):
        raise OperationError(_("%(label)s must be a whole number, 0 or more.", label=label), field, "invalid_count")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not text.isascii() or not text.lstrip("-").isdigit():
            raise OperationError(_("%(label)s must be a whole number, 0 or more.", label=label), field,
                                 "invalid_count")
        value = int(text)
    if value < 0:
        raise OperationError(_("%(label)s cannot be negative.", label=label), field, "negative_amount")
    if value > NEW_CLIENTS_MAX:
        raise OperationError(_("%(label)s is too large.", label=label), field, "invalid_count")
    return value


def parse_period(raw_start: Any, raw_end: Any) -> tuple[date, date]:
    """(start, end) from YYYY-MM-DD values; the end may not be before the start."""
    days = []
    for raw, field in ((raw_start, "period_start"), (raw_end, "period_end")):
        if isinstance(raw, date):
            days.append(raw)
            continue
        try:
            days.append(date.fromisoformat(str(raw or "").strip()))
        except ValueError:
            label = _("Period start") if field == "period_start" else _("Period end")
            raise OperationError(_("%(label)s must be a date written YYYY-MM-DD.", label=label), field,
                                 "invalid_date") from None
    if days[1] < days[0]:
        raise OperationError(_("The period ends before it starts."), "period_end", "invalid_period")
    return days[0], days[1]


class _Label:
    """A field's display name, translated only when a message needs it (imports check thousands of rows)."""

    def __init__(self, field: str):
        self.field = field

    def __str__(self) -> str:
        return {"net_commission": _("Net commission target"), "asset_growth": _("Asset growth target"),
                "new_clients": _("New clients target")}[self.field]


def check_figures(net_commission: Any, asset_growth: Any, new_clients: Any) -> tuple[Decimal, Decimal, int]:
    return (parse_money(net_commission, _Label("net_commission"), "net_commission"),
            parse_money(asset_growth, _Label("asset_growth"), "asset_growth"),
            parse_count(new_clients, _Label("new_clients"), "new_clients"))


def target_snapshot(row: ManagerTarget | TargetRow) -> dict:
    return {"period_start": row.period_start, "period_end": row.period_end, "net_commission": row.net_commission,
            "asset_growth": row.asset_growth, "new_clients": row.new_clients}


def set_target(manager: Manager, period_start: Any, period_end: Any, net_commission: Any, asset_growth: Any,
               new_clients: Any, by_user) -> ManagerTarget:
    """Set (or replace) one manager's targets for one period."""
    start, end = parse_period(period_start, period_end)
    commission, growth, clients = check_figures(net_commission, asset_growth, new_clients)
    target = db.session.scalar(select(ManagerTarget).where(ManagerTarget.manager_id == manager.id,
                                                           ManagerTarget.period_start == start,
                                                           ManagerTarget.period_end == end))
    before = target_snapshot(target) if target is not None else None
    if target is None:
        target = ManagerTarget(manager_id=manager.id, period_start=start, period_end=end)
        db.session.add(target)
    target.net_commission, target.asset_growth, target.new_clients = commission, growth, clients
    target.updated_at = utcnow()
    target.updated_by_id = by_user.id if by_user is not None else None
    db.session.flush()
    record("target.set", "manager", manager.employee_no, before=before, after=target_snapshot(target),
           actor=by_user)
    return target


def _file_error(refused: readers.FileRefused) -> OperationError:
    code = "invalid_file" if refused.code == readers.ENCODING else refused.code
    return OperationError(refused.message, "file", code)


def _read_lines(content: bytes | str) -> tuple[list[tuple[int, list[str]]], list[dict]]:
    """The data lines (stripped) and the lines that cannot be read; OperationError for a bad header."""
    rows = readers.csv_rows(content)
    first = next(rows, None)
    header = first[1] if first is not None and first[0] == 1 else None
    if not isinstance(header, list) or [h.strip().lower() for h in header] != list(CSV_COLUMNS):
        raise OperationError(_("The first line must be the header: %(header)s", header=",".join(CSV_COLUMNS)),
                             "file", "invalid_header")
    raw_rows: list[tuple[int, list[str]]] = []
    problems: list[dict] = []
    for line, row in rows:
        if len(raw_rows) + len(problems) >= MAX_ROWS:
            raise OperationError(_("A file may hold at most %(n)d targets.", n=MAX_ROWS), "file", "too_many_rows")
        if isinstance(row, readers.BadRow):
            if row.code == readers.FIELD_TOO_LONG:
                message = _("Line %(n)d: a value is longer than %(max)d characters.", n=line,
                            max=readers.Limits.current().max_field_chars)
            else:
                message = _("Line %(n)d: the line could not be read as CSV.", n=line)
            problems.append({"line": line, "code": row.code, "message": message})
            continue
        if len(row) != len(CSV_COLUMNS):
            problems.append({"line": line, "message": _("Line %(n)d: expected %(want)d values (%(header)s), found "
                                                        "%(got)d.", n=line, want=len(CSV_COLUMNS),
                                                        header=",".join(CSV_COLUMNS), got=len(row))})
            continue
        if any(ch in CONTROL_CHARACTERS for cell in row for ch in cell):
            problems.append({"line": line, "message": _("Line %(n)d: contains control characters.", n=line)})
            continue
        raw_rows.append((line, [cell.strip() for cell in row]))
    return raw_rows, problems


def parse_targets_csv(content: bytes | str, allowed_team_ids: list[int] | None,
                      excluded_manager_ids: Iterable[int] = ()) -> list[TargetRow]:
    """Every row checked; TargetsImportError lists every bad line by number (the caller stores nothing then).

    `allowed_team_ids` None: any manager (an administrator); otherwise only managers of those teams,
    and never `excluded_manager_ids` (a supervisor's own record, or the teams' heads).
    """
    try:
        raw_rows, problems = _read_lines(content)
    except readers.FileRefused as refused:
        raise _file_error(refused) from None
    if not raw_rows and not problems:
        raise OperationError(_("The file has no targets."), "file", "empty_file")
    numbers = {cells[0].upper() for _line, cells in raw_rows if cells[0]}
    managers: dict[str, tuple[int, int | None]] = {}
    ordered = sorted(numbers)
    for index in range(0, len(ordered), CHUNK):
        for manager_id, employee_no, team_id in db.session.execute(
                select(Manager.id, Manager.employee_no, Manager.team_id)
                .where(Manager.employee_no.in_(ordered[index:index + CHUNK]))):
            managers[employee_no] = (manager_id, team_id)
    excluded = set(excluded_manager_ids)
    seen: dict[tuple[str, date, date], int] = {}
    rows: list[TargetRow] = []
    for line, (employee_no, start_raw, end_raw, commission_raw, growth_raw, clients_raw) in raw_rows:
        employee_no = employee_no.upper()
        try:
            if not employee_no:
                raise OperationError(_("the employee number is missing."), "employee_no")
            found = managers.get(employee_no)
            if found is None:
                raise OperationError(_("no staff record has the employee number %(no)s.", no=employee_no),
                                     "employee_no")
            manager_id, team_id = found
            if allowed_team_ids is not None and (team_id not in allowed_team_ids or manager_id in excluded):
                raise OperationError(_("%(no)s is not a manager of your team.", no=employee_no), "employee_no")
            start, end = parse_period(start_raw, end_raw)
            commission, growth, clients = check_figures(commission_raw, growth_raw, clients_raw)
        except OperationError as error:
            problems.append({"line": line, "message": _("Line %(n)d: %(message)s", n=line, message=error.message)})
            continue
        key = (employee_no, start, end)
        if key in seen:
            problems.append({"line": line, "message": _(
                "Line %(n)d: %(no)s already has targets for %(start)s to %(end)s on line %(first)d.", n=line,
                no=employee_no, start=start.isoformat(), end=end.isoformat(), first=seen[key])})
            continue
        seen[key] = line
        rows.append(TargetRow(manager_id, employee_no, start, end, commission, growth, clients))
    if problems:
        raise TargetsImportError(sorted(problems, key=lambda p: p["line"]))
    return rows


def import_targets(content: bytes | str, by_user, allowed_team_ids: list[int] | None = None,
                   excluded_manager_ids: Iterable[int] = ()) -> dict:
    """Check the whole file, then replace the targets of every period it holds (within the importer's scope).

    Returns {"imported": n, "replaced": m, "periods": [...]}. Set-based: one DELETE and batched INSERTs.
    """
    rows = parse_targets_csv(content, allowed_team_ids, excluded_manager_ids)
    periods = sorted({(row.period_start, row.period_end) for row in rows})
    replaced = 0
    for index in range(0, len(periods), CHUNK):
        chunk = periods[index:index + CHUNK]
        stmt = delete(ManagerTarget).where(tuple_(ManagerTarget.period_start, ManagerTarget.period_end).in_(chunk))
        if allowed_team_ids is not None:
            team_managers = select(Manager.id).where(Manager.team_id.in_(allowed_team_ids or [-1]))
            stmt = stmt.where(ManagerTarget.manager_id.in_(team_managers))
            if excluded_manager_ids:
                stmt = stmt.where(ManagerTarget.manager_id.not_in(list(excluded_manager_ids)))
        replaced += db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0
    now, by_id = utcnow(), (by_user.id if by_user is not None else None)
    values = [{"manager_id": row.manager_id, "period_start": row.period_start, "period_end": row.period_end,
               "net_commission": row.net_commission, "asset_growth": row.asset_growth,
               "new_clients": row.new_clients, "updated_at": now, "updated_by_id": by_id} for row in rows]
    for index in range(0, len(values), CHUNK):
        db.session.execute(insert(ManagerTarget.__table__), values[index:index + CHUNK])
    summary = {"imported": len(rows), "replaced": replaced,
               "periods": [f"{start.isoformat()}..{end.isoformat()}" for start, end in periods]}
    record("target.import", "manager_targets", None, after=summary, actor=by_user)
    return summary


def targets_query(allowed_team_ids: list[int] | None, period: tuple[date, date] | None = None,
                  employee_no: str | None = None) -> Select:
    """Targets with their manager and team, newest period first, limited to the caller's teams."""
    stmt = (select(ManagerTarget.period_start, ManagerTarget.period_end, ManagerTarget.net_commission,
                   ManagerTarget.asset_growth, ManagerTarget.new_clients, ManagerTarget.updated_at,
                   Manager.employee_no, Manager.name, Team.code.label("team_code"))
            .join(Manager, Manager.id == ManagerTarget.manager_id)
            .outerjoin(Team, Team.id == Manager.team_id))
    if allowed_team_ids is not None:
        stmt = stmt.where(Manager.team_id.in_(allowed_team_ids or [-1]))
    if period is not None:
        stmt = stmt.where(ManagerTarget.period_start == period[0], ManagerTarget.period_end == period[1])
    if employee_no:
        stmt = stmt.where(Manager.employee_no == employee_no.strip().upper())
    return stmt.order_by(ManagerTarget.period_end.desc(), ManagerTarget.period_start.desc(), Manager.employee_no)


def periods_in_use(allowed_team_ids: list[int] | None, limit: int = 40) -> list[tuple[date, date]]:
    """The distinct target periods (newest first), for the list page's filter."""
    stmt = select(ManagerTarget.period_start, ManagerTarget.period_end).distinct()
    if allowed_team_ids is not None:
        stmt = stmt.join(Manager, Manager.id == ManagerTarget.manager_id).where(
            Manager.team_id.in_(allowed_team_ids or [-1]))
    return [(row[0], row[1]) for row in db.session.execute(
        stmt.order_by(ManagerTarget.period_end.desc(), ManagerTarget.period_start.desc()).limit(limit))]
