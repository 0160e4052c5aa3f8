"""The suitability matrix: the twelve cells and the no-profile column, drill-downs, lists, charts and exports.

Compliance and admin see every client; a manager their own book; a supervisor their team(s). The
definitions (profile and tier on a date, mismatch) are in `portal.compliance.queries`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from models import Manager, Team, db
from models.clients import mask_id_number
from portal.access import allow, scope_managers, supervised_team_ids
from portal.compliance.pack import PackDateError, build_pdf, build_xlsx, check_day, collect, file_stem
from portal.compliance.queries import (
    LIST_STATUSES,
    NO_PROFILE,
    AsOf,
    FilterError,
    Matrix,
    Scope,
    branches,
    client_list,
    count,
    in_chunks,
    matrix,
    mismatch_list,
    parse_as_of,
    resolve_scope,
    retake_raises,
)
from portal.exports import XLSX_TYPE, download, plain_cell
from portal.formatting import portal_language
from portal.labels import labels
from portal.pagination import page_arg, paginate
from portal.reads import read_only
from portal.replica import report_connection
from portal.rules.calendar import BUSINESS_TZ, business_today
from portal.rules.vocabulary import RISK_CLASSES, TIERS

bp = Blueprint("compliance", __name__)

STAFF = ("rm", "supervisor", "compliance", "admin")
COLUMNS = (*RISK_CLASSES, NO_PROFILE)
XLSX_MAX_ROWS = 100_000  # a workbook of a longer list is cut here, with a note; the CSV always has every row
CSV_CHUNK = 5000


# --- request parsing -------------------------------------------------------------------------------

@dataclass
class Filters:
    """The matrix filters of a request: the date (None when refused), the resolved scope, and the errors."""

    today: date
    day: date | None
    scope: Scope
    errors: dict
    raw: dict

    @property
    def args(self) -> dict:
        """Query arguments that reproduce the filters (as_of only when it is not today)."""
        args = dict(self.scope.args)
        if self.day and self.day != self.today:
            args["as_of"] = self.day.isoformat()
        return args


def _filters() -> Filters:
    today = business_today()
    raw = {key: (request.args.get(key) or "").strip()[:60] for key in ("as_of", "branch", "team", "manager")}
    errors, day, scope = {}, today, Scope()
    try:
        day = parse_as_of(raw["as_of"], today)
    except FilterError as error:
        errors[error.field], day = error.message, None
    try:
        scope = resolve_scope(current_user, raw["branch"], raw["team"], raw["manager"])
    except FilterError as error:
        errors[error.field] = error.message
    return Filters(today, day, scope, errors, raw)


def _filter_choices() -> dict:
    """What the filter form offers in the caller's scope: a supervisor picks among their teams and managers."""
    keep = {key: request.args[key] for key in ("tier", "class", "status") if request.args.get(key)}
    choices = {"branches": branches(current_user), "teams": None, "managers": None,
               "clear_url": url_for(request.endpoint, **keep)}
    if current_user.role == "supervisor":
        team_ids = supervised_team_ids(current_user)
        choices["teams"] = db.session.scalars(select(Team).where(Team.id.in_(team_ids or [-1]))
                                              .order_by(Team.code)).all()
        choices["managers"] = db.session.scalars(scope_managers(select(Manager), current_user)
                                                 .order_by(Manager.employee_no)).all()
    return choices


def _export_format() -> str | None:
    fmt = request.args.get("export")
    return fmt if fmt in ("csv", "xlsx") else None


def _export_url(fmt: str) -> str:
    return url_for(request.endpoint, **{**request.args.to_dict(), "export": fmt, "page": None})


# --- words -----------------------------------------------------------------------------------------

def tier_label(tier: int) -> str:
    return _("Tier %(n)d", n=tier)


def column_label(column: str) -> str:
    return _("No valid profile") if column == NO_PROFILE else labels()["risk_class"][column]


def filter_words(filters: Filters) -> str:
    """`branch=…; team=…; manager=…` for an export's note row."""
    scope = filters.scope
    parts = [f"{_('As of')}: {filters.day.isoformat()}"]
    if scope.branch is not None:
        parts.append(f"{_('Branch')}: {scope.branch.code} {scope.branch.name}")
    if scope.team is not None:
        parts.append(f"{_('Team')}: {scope.team.code}")
    if scope.manager is not None:
        parts.append(f"{_('Manager')}: {scope.manager.employee_no}")
    return "; ".join(parts)


# --- charts ----------------------------------------------------------------------------------------

class Links:
    """Drill-down URLs of the grid, built once in Python (a Jinja macro per cell costs more than the cell)."""

    def __init__(self, filters_args: dict):
        self.base, self.args = url_for("compliance.cell_clients"), filters_args

    def __call__(self, **extra) -> str:
        query = urlencode({**self.args, **{("class" if k == "risk_class" else k): v for k, v in extra.items()}})
        return f"{self.base}?{query}" if query else self.base

    def grid(self) -> dict:
        links = {"all": self(), "mismatches": url_for("compliance.mismatches") + (
            f"?{urlencode(self.args)}" if self.args else "")}
        for tier in TIERS:
            links[tier] = self(tier=tier)
            for column in COLUMNS:
                links[(tier, column)] = self(tier=tier, risk_class=column)
            for status in LIST_STATUSES:
                links[(tier, "status", status)] = self(tier=tier, status=status)
        for column in COLUMNS:
            links[column] = self(risk_class=column)
        for status in LIST_STATUSES:
            links[("status", status)] = self(status=status)
        return links


def bars(items: list[tuple[str, int, str, str]]) -> list[dict]:
    """Bars of a horizontal SVG chart: label, value, width as a share of the largest (0–100), colour, link."""
    top = max((item[1] for item in items), default=0)
    return [{"label": label, "value": value, "width": round(100 * value / top, 1) if top else 0, "colour": colour,
             "url": url} for label, value, colour, url in items]


COLOURS = {"conservative": "#198754", "balanced": "#0d6efd", "aggressive": "#dc3545", NO_PROFILE: "#6c757d"}


def charts(grid: Matrix, links: dict) -> list[dict]:
    cells = [(f"{tier_label(t)} · {column_label(c)}", grid.cell(t, c).clients, COLOURS[c], links[(t, c)])
             for t in TIERS for c in COLUMNS]
    tiers = [(tier_label(t), grid.row(t).clients, "#0d6efd", links[t]) for t in TIERS]
    columns = [(column_label(c), grid.column(c).clients, COLOURS[c], links[c]) for c in COLUMNS]
    return [{"id": "chart-cells", "title": _("Clients per cell"), "bars": bars(cells)},
            {"id": "chart-tiers", "title": _("Clients per tier"), "bars": bars(tiers)},
            {"id": "chart-classes", "title": _("Clients per risk class"), "bars": bars(columns)}]


# --- the grid --------------------------------------------------------------------------------------

@bp.route("/matrix")
@allow(*STAFF)
@read_only
def matrix_page():
    filters = _filters()
    fmt = _export_format()
    if filters.errors:
        return render_template("compliance/matrix.html", filters=filters, grid=None, choices=_filter_choices(),
                               **_words()), 400
    grid = matrix(current_user, filters.scope, filters.day, filters.today)
    if fmt:
        return _grid_export(fmt, grid, filters)
    links = Links(filters.args).grid()
    return render_template("compliance/matrix.html", filters=filters, grid=grid, choices=_filter_choices(),
                           links=links, charts=charts(grid, links), export_url=_export_url, **_words())


def matrix_title() -> str:
    """The page's name for the caller: the whole matrix, a book's or a team's."""
    return {"rm": _("Book matrix"), "supervisor": _("Team matrix")}.get(current_user.role, _("Suitability matrix"))


def _words() -> dict:
    return {"page_title": matrix_title(), "tiers": TIERS, "columns": COLUMNS, "classes": RISK_CLASSES,
            "tier_label": tier_label, "column_label": column_label}


def grid_table(grid: Matrix) -> tuple[list[str], list[list]]:
    """The grid as a sheet: a row per tier and a total row; clients and assets per column."""
    header = [_("Tier")]
    for column in COLUMNS:
        header += [f"{column_label(column)}: {_('clients')}", f"{column_label(column)}: {_('assets')}"]
    header += [_("Total clients"), _("Total assets"), _("No valid profile: expired"),
               _("No valid profile: never assessed")]
    rows = []
    for tier in TIERS:
        row = [tier_label(tier)]
        for column in COLUMNS:
            cell = grid.cell(tier, column)
            row += [cell.clients, cell.assets]
        total = grid.row(tier)
        rows.append([*row, total.clients, total.assets, grid.expired[tier].clients, grid.never[tier].clients])
    row = [_("Total")]
    for column in COLUMNS:
        cell = grid.column(column)
        row += [cell.clients, cell.assets]
    total = grid.total
    rows.append([*row, total.clients, total.assets, grid.expired_total().clients, grid.never_total().clients])
    return header, rows


def _grid_export(fmt: str, grid: Matrix, filters: Filters) -> Response:
    header, rows = grid_table(grid)
    rows += [[], [filter_words(filters)],
             [_("Clients with no tier yet count in tier 4 with assets 0.")]]
    return download(fmt, f"suitability-matrix-{filters.day.isoformat()}", header, rows,
                    title=f"{_('Matrix')} {filters.day.isoformat()}")


# --- drill-downs and lists -------------------------------------------------------------------------

def _selection() -> tuple[dict, str | None]:
    """tier / class / status of a drill-down, validated; returns (selection, error message)."""
    selection, error = {}, None
    tier = request.args.get("tier")
    if tier:
        if tier in {str(t) for t in TIERS}:
            selection["tier"] = int(tier)
        else:
            error = _("The tier must be 1, 2, 3 or 4.")
    risk_class = request.args.get("class")
    if risk_class:
        if risk_class in COLUMNS:
            selection["risk_class"] = risk_class
        else:
            error = _("Unknown risk class %(value)s.", value=risk_class[:20])
    status = request.args.get("status")
    if status:
        if status in LIST_STATUSES:
            selection["status"] = status
        else:
            error = _("Unknown list %(value)s.", value=status[:20])
    return selection, error


def selection_title(selection: dict) -> str:
    status = selection.get("status")
    parts = []
    if "tier" in selection:
        parts.append(tier_label(selection["tier"]))
    if "risk_class" in selection:
        parts.append(column_label(selection["risk_class"]))
    if status == "expired":
        parts.append(_("Expired profiles"))
    elif status == "expiring":
        parts.append(_("Profiles expiring within 30 days"))
    elif status == "none":
        parts.append(_("Never assessed"))
    return " · ".join(parts) or _("All clients")


def _row_cells(row, reason: str | None = None) -> list:
    names = labels()
    cells = [row.client_no, row.name, mask_id_number(row.id_number), row.branch, row.tier,
             names["risk_class"].get(row.risk_class, "") if row.risk_class else "", row.grade or "",
             Decimal(row.assets).quantize(Decimal("0.01")), row.valid_until, names["profile_status"][row.status],
             row.manager_no or "", row.manager_name or ""]
    if reason is not None:
        cells.append(reason)
    return cells


def list_header(with_reason: bool = False) -> list[str]:
    header = [_("Client number"), _("Name"), _("ID number"), _("Branch"), _("Tier"), _("Risk class"), _("Grade"),
              _("Total assets"), _("Profile valid until"), _("Profile status"), _("Manager number"),
              _("Manager")]
    return [*header, _("Why")] if with_reason else header


def mismatch_reason(row, day) -> str:
    """Each reason a client is on the mismatch list, in words."""
    reasons = []
    if row.allowed_level and row.max_level > row.allowed_level:
        if row.lowest_category:
            reasons.append(_("Subscribed an R%(level)d product; the lowest risk-tolerance category allows R1 only.",
                             level=row.max_level))
        else:
            reasons.append(_("Subscribed an R%(level)d product; the profile in force on %(day)s (%(grade)s) "
                             "allows up to R%(allowed)d.", level=row.max_level, day=day.isoformat(),
                             grade=row.grade, allowed=row.allowed_level))
    if row.unconfirmed:
        reasons.append(ngettext("%(num)d special risk warning without the client's confirmation.",
                                "%(num)d special risk warnings without the client's confirmation.",
                                row.unconfirmed))
    return " ".join(reasons)


def _list_export(fmt: str, stmt, filters: Filters, name: str, title: str, reason=None) -> Response:
    header = list_header(reason is not None)
    filename = f"{name}-{filters.day.isoformat()}"

    def cells(row):
        return _row_cells(row, reason(row) if reason else None)

    if fmt == "csv":
        return _csv_stream(filename, header, (cells(row) for row in in_chunks(stmt, CSV_CHUNK)))
    rows = [cells(row) for row in in_chunks(stmt, CSV_CHUNK, limit=XLSX_MAX_ROWS + 1)]
    if len(rows) > XLSX_MAX_ROWS:
        total = count(stmt)
        rows = rows[:XLSX_MAX_ROWS]
        rows.append([_("This workbook holds the first %(n)s of %(total)s rows; the CSV export holds all of them.",
                       n=f"{XLSX_MAX_ROWS:,}", total=f"{total:,}")])
    rows += [[], [filter_words(filters)]]
    return download("xlsx", filename, header, rows, title=title)


def _csv_stream(filename: str, header: list[str], rows) -> Response:
    """A CSV streamed in chunks (any length, bounded memory), neutralised like portal.exports.download."""
    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([plain_cell(name) for name in header])
        yield ("\ufeff" + _drain(buffer)).encode("utf-8")
        for n, row in enumerate(rows, 1):
            writer.writerow([plain_cell(value) for value in row])
            if n % 1000 == 0:
                yield _drain(buffer).encode("utf-8")
        yield _drain(buffer).encode("utf-8")

    response = Response(stream_with_context(generate()), mimetype="text/csv")  # Werkzeug adds the one charset
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


@bp.route("/matrix/clients")
@allow(*STAFF)
@read_only
def cell_clients():
    """The clients of a cell, a row or a column of the grid, or of a profile-status list (expired, expiring)."""
    filters = _filters()
    selection, error = _selection()
    if error:
        filters.errors["selection"] = error
    title = selection_title(selection)
    if filters.errors:
        return render_template("compliance/clients.html", filters=filters, title=title, pagination=None,
                               selection=selection, choices=_filter_choices(), mismatches=False, **_words()), 400
    as_of = AsOf(filters.day, filters.today)
    stmt = client_list(current_user, filters.scope, as_of, **selection)
    fmt = _export_format()
    if fmt:
        name = {"expired": "expired-profiles", "expiring": "expiring-profiles"}.get(selection.get("status"),
                                                                                   "matrix-clients")
        return _list_export(fmt, stmt, filters, name, title)
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    return render_template("compliance/clients.html", filters=filters, title=title, pagination=pagination,
                           selection=selection, choices=_filter_choices(), export_url=_export_url,
                           mismatches=False, **_words())


@bp.route("/matrix/mismatches")
@allow(*STAFF)
@read_only
def mismatches():
    """Clients whose subscriptions do not fit their profile on the day, each with its reasons."""
    filters = _filters()
    title = _("Mismatched clients")
    if filters.errors:
        return render_template("compliance/clients.html", filters=filters, title=title, pagination=None,
                               selection={}, choices=_filter_choices(), mismatches=True, **_words()), 400
    as_of = AsOf(filters.day, filters.today)
    stmt = mismatch_list(current_user, filters.scope, as_of)
    fmt = _export_format()
    if fmt:
        return _list_export(fmt, stmt, filters, "mismatched-clients", title,
                            reason=lambda row: mismatch_reason(row, filters.day))
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    reasons = [mismatch_reason(row, filters.day) for row in pagination.items]
    return render_template("compliance/clients.html", filters=filters, title=title, pagination=pagination,
                           selection={}, choices=_filter_choices(), export_url=_export_url, mismatches=True,
                           reasons=reasons, **_words())


# --- grade raised on retake ---------------------------------------------------------------------------

def retake_raise_header() -> list[str]:
    return [_("Client number"), _("Name"), _("ID number"), _("Branch"), _("Manager number"), _("Manager"),
            _("Previous grade"), _("Previous score"), _("Previous submission"), _("Previous channel"),
            _("New grade"), _("New score"), _("New submission"), _("New channel"), _("Entered by")]


def retake_raise_cells(row) -> list:
    """One row of the list as export cells; times in China time, as on screen."""
    channel = {"self": _("Self-service"), "assisted": _("Assisted by a manager")}

    def moment(value):
        return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")

    return [row.client_no, row.name, mask_id_number(row.id_number), row.branch, row.manager_no or "",
            row.manager_name or "", row.old_grade, row.old_score, moment(row.old_submitted_at),
            str(channel.get(row.old_channel, row.old_channel)), row.new_grade, row.new_score,
            moment(row.new_submitted_at), str(channel.get(row.new_channel, row.new_channel)), row.entered_by or ""]


def retake_raise_rows(stmt, chunk: int = CSV_CHUNK, limit: int | None = None):
    """Every row of the list, newest first, fetched `chunk` at a time by (submitted_at, id) keys."""
    sent, last = 0, None
    while True:
        take = chunk if limit is None else min(chunk, limit - sent)
        if take <= 0:
            return
        page_stmt = stmt
        if last is not None:
            page_stmt = stmt.where(stmt.selected_columns.new_submitted_at <= last[0]).where(
                (stmt.selected_columns.new_submitted_at < last[0]) | (stmt.selected_columns.assessment_id < last[1]))
        rows = report_connection().execute(page_stmt.limit(take)).all()
        yield from rows
        sent += len(rows)
        if len(rows) < take:
            return
        last = (rows[-1].new_submitted_at, rows[-1].assessment_id)


@bp.route("/matrix/retake-raises")
@allow("compliance", "admin", "supervisor", "rm")
@read_only
def retake_raise_list():
    """Submissions that raised the grade within 30 days of the previous one: both results side by side."""
    filters = _filters()
    title = _("Grade raised on retake")
    if filters.errors:
        return render_template("compliance/retake_raises.html", filters=filters, title=title, pagination=None,
                               choices=_filter_choices(), **_words()), 400
    stmt = retake_raises(current_user, filters.scope, filters.day)
    fmt = _export_format()
    if fmt:
        filename = f"grade-raised-on-retake-{filters.day.isoformat()}"
        if fmt == "csv":
            return _csv_stream(filename, retake_raise_header(), (retake_raise_cells(row)
                                                                 for row in retake_raise_rows(stmt)))
        rows = [retake_raise_cells(row) for row in retake_raise_rows(stmt, limit=XLSX_MAX_ROWS + 1)]
        if len(rows) > XLSX_MAX_ROWS:
            total = count(stmt)
            rows = rows[:XLSX_MAX_ROWS]
            rows.append([_("This workbook holds the first %(n)s of %(total)s rows; the CSV export holds all of them.",
                           n=f"{XLSX_MAX_ROWS:,}", total=f"{total:,}")])
        rows += [[], [filter_words(filters)]]
        return download("xlsx", filename, retake_raise_header(), rows, title=title)
    pagination = paginate(stmt, page_arg(), current_app.config["PER_PAGE"], rows=True)
    return render_template("compliance/retake_raises.html", filters=filters, title=title, pagination=pagination,
                           choices=_filter_choices(), export_url=_export_url,
                           cells=[retake_raise_cells(row) for row in pagination.items], **_words())


# --- the inspection pack -----------------------------------------------------------------------------------

def _pack_day() -> tuple[date | None, str | None]:
    """The pack's date from `?as_of=` (yesterday when empty), or the message saying why it is refused."""
    raw = (request.args.get("as_of") or "").strip()[:20]
    if not raw:
        return business_today() - timedelta(days=1), None
    try:
        return check_day(date.fromisoformat(raw)), None
    except ValueError as error:
        if isinstance(error, PackDateError):
            return None, str(error)
        return None, _("The date must be written YYYY-MM-DD.")


@bp.route("/compliance/inspection-pack")
@allow("compliance", "admin")
@read_only
def inspection_pack():
    """Choose a past date; the pack's PDF (both editions) and XLSX are built when downloaded."""
    day, error = _pack_day()
    return render_template("compliance/inspection_pack.html", day=day, error=error,
                           raw=request.args.get("as_of", ""), today=business_today()), 400 if error else 200


@bp.route("/compliance/inspection-pack/download")
@allow("compliance", "admin")
@read_only
def inspection_pack_download():
    """The pack for `as_of` as `format=pdf` or `format=xlsx` (the workbook in the page's language)."""
    day, error = _pack_day()
    fmt = request.args.get("format")
    if error or fmt not in ("pdf", "xlsx"):
        abort(400)
    data = collect(day)
    if fmt == "pdf":
        body, mimetype = build_pdf(data), "application/pdf"
    else:
        body, mimetype = build_xlsx(data, portal_language())[0], XLSX_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_stem(day)}.{fmt}"'
    return response
