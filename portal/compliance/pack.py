"""The half-yearly suitability self-inspection pack (适当性自查) for a past date D: one PDF, one XLSX.

The parts, each with the rule it checks and its figures (the half-year is the six months ending D,
i.e. business dates after D minus 6 months, up to D):
1. the suitability matrix on D (the matrix page's definitions, clients whose account was open by D);
2. profiles expired, expiring within 30 days, and never assessed, on D;
3. mismatches on D (the matrix page's definition);
4. special risk warnings issued in the half-year: confirmed by the end of D, awaiting (the profile they were
   checked against still in force on D), lapsed (that profile no longer in force on D);
5. subscriptions of R4–R5 products by clients aged 65 and over in the half-year, with the extra-care record;
6. clients of the lowest risk-tolerance category on D holding any subscription above R1 (up to D);
7. professional-investor applications decided in the half-year;
8. grades raised on retake in the half-year (within 30 days of the previous submission).

Everything is read from dated history (profiles by effective date, tiers by statistics date, records by
business date, confirmations and decisions by time), never from today's copies, so a pack for D is the same
whenever it is built: the PDF is written invariant (no build time or random id) and the XLSX carries a
SHA-256 of its data sheets. Built with ReportLab (the PDF, CJK font embedded, text selectable) and
openpyxl (the XLSX).
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import aliased

from models import (
    Client,
    Manager,
    Product,
    ProfessionalApplication,
    RiskProfile,
    SuitabilityConfirmation,
    SuitabilityRecord,
)
from models.clients import mask_id_number
from portal.clients.queries import branch_name
from portal.compliance.queries import (
    NO_PROFILE,
    SUBSCRIBED_OUTCOMES,
    AsOf,
    Matrix,
    Scope,
    client_list,
    matrix,
    mismatch_list,
    retake_raises,
)
from portal.exports import neutralise
from portal.labels import RISK_CLASS
from portal.replica import report_connection
from portal.rules.calendar import BUSINESS_TZ, add_months, business_today, end_of_business_day
from portal.rules.profile import EXPIRING_DAYS
from portal.rules.suitability import ELDERLY_AGE, ELDERLY_LEVELS
from portal.rules.vocabulary import RISK_CLASSES, TIERS

PARTS = ("matrix", "profiles", "mismatches", "warnings", "elderly", "lowest", "professional", "retakes")
LANGUAGES = ("zh_CN", "en")
# A list longer than this is cut in the pack (the first rows by client number), with its full count stated;
# the matrix pages export every row of the same list as of D (CSV).
SHEET_ROWS_MAX = 10_000
PDF_ROWS = 15  # rows of each list shown in the PDF; the workbook holds the lists
COLUMNS = (*RISK_CLASSES, NO_PROFILE)
# The whole firm: the pack is compliance's own document.
FIRM = SimpleNamespace(role="compliance", id=None, manager=None, manager_id=None, client_id=None)


class PackDateError(ValueError):
    """The date asked for is not a past business date."""


@dataclass
class Part:
    """One part of the pack: its figures (label key → value) and its list (header keys, rows)."""

    key: str
    figures: dict[str, object]
    header: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    total_rows: int = 0


@dataclass
class PackData:
    day: date
    since: date
    grid: Matrix
    parts: dict[str, Part]


def check_day(day: date) -> date:
    """A pack is for a past date: today's figures are still moving."""
    if day >= business_today():
        raise PackDateError(_("The inspection pack is built for a past date (before %(today)s).",
                              today=business_today().isoformat()))
    return day


def _rows(stmt, convert, limit: int = SHEET_ROWS_MAX) -> tuple[list[list], int]:
    """The first `limit` rows of a list (converted) and how many there are in all."""
    connection = report_connection()
    rows = [convert(row) for row in connection.execute(stmt.limit(limit + 1)).all()]
    total = len(rows)
    if total > limit:
        total = connection.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = rows[:limit]
    return rows, total


def _client_cells(row) -> list:
    return [row.client_no, row.name, mask_id_number(row.id_number), row.branch, row.manager_no or "", row.tier,
            row.grade or "", Decimal(row.assets).quantize(Decimal("0.01")), row.valid_until]


CLIENT_HEADER = ["client_no", "name", "id_number", "branch", "manager_no", "tier", "grade", "assets", "valid_until"]


def collect(day: date) -> PackData:
    """Every figure and row of the pack for `day` (a past date), from dated history only."""
    check_day(day)
    since = add_months(day, -6)
    as_of = AsOf(day, business_today(), opened_only=True)  # a past day: read from history, never today's copies
    grid = matrix(FIRM, Scope(), day, business_today(), as_of=as_of)
    parts: dict[str, Part] = {}

    parts["matrix"] = Part("matrix", {"clients": grid.total.clients, "assets": grid.total.assets,
                                      "no_profile": grid.no_profile().clients})
    parts["matrix"].header = ["tier", *[f"{c}:clients" for c in COLUMNS], *[f"{c}:assets" for c in COLUMNS]]
    for tier in TIERS:
        parts["matrix"].rows.append([tier, *[grid.cell(tier, c).clients for c in COLUMNS],
                                     *[grid.cell(tier, c).assets for c in COLUMNS]])

    profiles = Part("profiles", {"expired": grid.expired_total().clients, "expiring": grid.expiring.clients,
                                 "never": grid.never_total().clients}, ["list", *CLIENT_HEADER])
    # One pass over the clients for the three lists, the first rows of each by client number (their counts are
    # the grid's).
    listed = client_list(FIRM, Scope(), as_of).where(as_of.valid_until.is_(None) | (as_of.valid_until <= day +
                                                                                    timedelta(days=EXPIRING_DAYS)))
    position = func.row_number().over(partition_by=as_of.status, order_by=Client.client_no).label("position")
    ranked = listed.add_columns(position).order_by(None).subquery("listed")
    status_order = case((ranked.c.status == "expired", 0), (ranked.c.status == "expiring", 1), else_=2)
    for row in report_connection().execute(select(ranked).where(ranked.c.position <= SHEET_ROWS_MAX)
                                           .order_by(status_order, ranked.c.client_no)):
        profiles.rows.append([row.status, *_client_cells(row)])
    profiles.total_rows = sum(profiles.figures.values())
    parts["profiles"] = profiles

    mismatches = Part("mismatches", {}, [*CLIENT_HEADER, "max_level", "allowed_level", "unconfirmed"])
    mismatches.rows, mismatches.total_rows = _rows(
        mismatch_list(FIRM, Scope(), as_of),
        lambda row: [*_client_cells(row), row.max_level, row.allowed_level, row.unconfirmed])
    mismatches.figures["clients"] = mismatches.total_rows
    parts["mismatches"] = mismatches

    parts["warnings"] = _warnings(day, since)
    parts["elderly"] = _elderly(day, since)
    parts["lowest"] = _lowest(day, as_of)
    parts["professional"] = _professional(day, since)

    retakes = Part("retakes", {}, ["client_no", "name", "branch", "manager_no", "old_grade", "old_score",
                                   "old_submitted", "new_grade", "new_score", "new_submitted"])

    def moment(value: datetime) -> str:
        return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")

    retakes.rows, retakes.total_rows = _rows(
        retake_raises(FIRM, Scope(), day, since).where(Client.opened_on <= day),
        lambda r: [r.client_no, r.name, r.branch, r.manager_no or "", r.old_grade, r.old_score,
                   moment(r.old_submitted_at), r.new_grade, r.new_score, moment(r.new_submitted_at)])
    retakes.figures["submissions"] = retakes.total_rows
    parts["retakes"] = retakes
    return PackData(day, since, grid, parts)


def _latest_profile_id(day: date):
    """The id of the newest profile effective on or before `day` of the record's client (correlated)."""
    return (select(RiskProfile.id).where(RiskProfile.client_id == SuitabilityRecord.client_id,
                                         RiskProfile.effective_on <= day)
            .order_by(RiskProfile.effective_on.desc(), RiskProfile.id.desc()).limit(1)
            .correlate(SuitabilityRecord).scalar_subquery())


def _warnings(day: date, since: date) -> Part:
    record, confirmation = SuitabilityRecord, SuitabilityConfirmation
    used = aliased(RiskProfile, name="used_profile")
    cutoff = end_of_business_day(day)
    status = case((confirmation.id.is_not(None), "confirmed"),
                  (and_(used.valid_until >= day, record.profile_id == _latest_profile_id(day)), "awaiting"),
                  else_="lapsed")
    stmt = (select(Client.client_no, Client.name, Product.code, record.product_risk_level, record.client_grade,
                   record.business_date, status.label("status"))
            .select_from(record).join(Client, Client.id == record.client_id)
            .join(Product, Product.id == record.product_id)
            .outerjoin(used, used.id == record.profile_id)
            .outerjoin(confirmation, and_(confirmation.record_id == record.id, confirmation.confirmed_at < cutoff))
            .where(record.outcome == "warning", record.business_date > since, record.business_date <= day)
            .order_by(record.business_date, record.id))
    statuses = stmt.order_by(None).subquery()
    counts = dict(report_connection().execute(
        select(statuses.c.status, func.count()).group_by(statuses.c.status)).all())
    part = Part("warnings", {"issued": sum(counts.values()), "confirmed": counts.get("confirmed", 0),
                             "awaiting": counts.get("awaiting", 0), "lapsed": counts.get("lapsed", 0)},
                ["client_no", "name", "product", "level", "grade", "business_date", "status"])
    part.rows, part.total_rows = _rows(stmt, list)
    return part


def _elderly(day: date, since: date) -> Part:
    record = SuitabilityRecord
    stmt = (select(Client.client_no, Client.name, Product.code, record.product_risk_level, record.client_age,
                   record.business_date, record.outcome, record.elderly_prompt, record.extra_care_given)
            .select_from(record).join(Client, Client.id == record.client_id)
            .join(Product, Product.id == record.product_id)
            .where(record.action == "subscription", record.outcome.in_(SUBSCRIBED_OUTCOMES),
                   record.product_risk_level >= min(ELDERLY_LEVELS), record.client_age >= ELDERLY_AGE,
                   record.business_date > since, record.business_date <= day)
            .order_by(record.business_date, record.id))
    part = Part("elderly", {}, ["client_no", "name", "product", "level", "age", "business_date", "outcome",
                                "elderly_prompt", "extra_care_given"])
    part.rows, part.total_rows = _rows(stmt, list)
    with_care = report_connection().scalar(select(func.count()).select_from(
        stmt.where(record.extra_care_given == true()).order_by(None).subquery())) or 0
    part.figures = {"sales": part.total_rows, "extra_care": with_care, "without": part.total_rows - with_care}
    return part


def _lowest(day: date, as_of: AsOf) -> Part:
    record = SuitabilityRecord
    held = (select(record.client_id.label("client_id"), func.max(record.product_risk_level).label("max_level"))
            .where(record.action == "subscription", record.outcome.in_(SUBSCRIBED_OUTCOMES),
                   record.business_date <= day).group_by(record.client_id).subquery("held"))
    stmt = as_of.select_from(select(Client.client_no, Client.name, Client.id_number, branch_name.label("branch"),
                                    Manager.employee_no.label("manager_no"), as_of.tier.label("tier"),
                                    as_of.grade.label("grade"), as_of.assets.label("assets"),
                                    as_of.valid_until.label("valid_until"), held.c.max_level))
    stmt = (stmt.join(held, held.c.client_id == Client.id).outerjoin(Manager, Manager.id == Client.manager_id)
            .where(as_of.lowest == true(), as_of.valid_until >= day, held.c.max_level > 1)
            .order_by(Client.client_no))
    part = Part("lowest", {}, [*CLIENT_HEADER, "max_level"])
    part.rows, part.total_rows = _rows(stmt, lambda row: [*_client_cells(row), row.max_level])
    part.figures["clients"] = part.total_rows
    return part


def _professional(day: date, since: date) -> Part:
    app = ProfessionalApplication
    start, cutoff = end_of_business_day(since), end_of_business_day(day)
    stmt = (select(Client.client_no, Client.name, app.applied_at, app.decided_at, app.status, app.reason)
            .select_from(app).join(Client, Client.id == app.client_id)
            .where(app.status.in_(("approved", "rejected")), app.decided_at >= start, app.decided_at < cutoff)
            .order_by(app.decided_at, app.id))

    def cells(row) -> list:
        return [row.client_no, row.name, row.applied_at.astimezone(BUSINESS_TZ).date(),
                row.decided_at.astimezone(BUSINESS_TZ).date(), row.status, row.reason or ""]

    part = Part("professional", {}, ["client_no", "name", "applied_on", "decided_on", "status", "reason"])
    part.rows, part.total_rows = _rows(stmt, cells)
    approved = sum(1 for row in part.rows if row[4] == "approved")
    part.figures = {"decided": part.total_rows, "approved": approved, "rejected": part.total_rows - approved}
    return part


# --- words (in the edition's language) ------------------------------------------------------------------

def part_titles() -> dict[str, str]:
    return {
        "matrix": _("Suitability matrix"),
        "profiles": _("Profiles expired, expiring and never assessed"),
        "mismatches": _("Mismatches"),
        "warnings": _("Special risk warnings"),
        "elderly": _("R4–R5 sales to clients aged 65 and over"),
        "lowest": _("Lowest-category clients holding products above R1"),
        "professional": _("Professional investor approvals"),
        "retakes": _("Grade raised on retake"),
    }


def definitions(data: PackData) -> dict[str, str]:
    day, since = data.day.isoformat(), data.since.isoformat()
    return {
        "matrix": _("Clients whose account was open on %(day)s, by asset tier on that date (the latest statistics "
                    "date on or before it; none yet: tier 4) and risk class of the profile in force on that date; "
                    "clients without a valid profile in their own column.", day=day),
        "profiles": _("On %(day)s: the profile in force had expired; it expires within 30 days; the client was "
                      "never assessed.", day=day),
        "mismatches": _("Subscriptions up to %(day)s of a product above what the profile in force on %(day)s allows "
                        "(grade Cn: up to Rn; lowest category: R1; professional investors: any), or a special risk "
                        "warning not confirmed by the client by the end of that day.", day=day),
        "warnings": _("Special risk warnings recorded after %(since)s up to %(day)s: confirmed by the client by the "
                      "end of %(day)s; awaiting (the profile they were checked against still in force); lapsed (that "
                      "profile no longer in force).", since=since, day=day),
        "elderly": _("Subscriptions of R4 and R5 products by clients aged 65 or over, recorded after %(since)s up to "
                     "%(day)s, and whether the manager recorded the extra-care explanation.", since=since, day=day),
        "lowest": _("Clients in the lowest risk-tolerance category on %(day)s (they may take R1 only) with a "
                    "subscription above R1 up to that day.", day=day),
        "professional": _("Applications for professional-investor status decided after %(since)s up to %(day)s.",
                          since=since, day=day),
        "retakes": _("Questionnaire submissions after %(since)s up to %(day)s that raised the client's grade within "
                     "30 days of the client's previous submission.", since=since, day=day),
    }


def figure_labels() -> dict[str, str]:
    return {
        "clients": _("Clients"), "assets": _("Assets (CNY)"), "no_profile": _("No valid profile"),
        "expired": _("Expired"), "expiring": _("Expiring within 30 days"), "never": _("Never assessed"),
        "issued": _("Issued"), "confirmed": _("Confirmed"), "awaiting": _("Awaiting confirmation"),
        "lapsed": _("Lapsed"), "sales": _("Subscriptions"), "extra_care": _("With the extra-care record"),
        "without": _("Without the extra-care record"), "decided": _("Decided"), "approved": _("Approved"),
        "rejected": _("Rejected"), "submissions": _("Submissions"),
    }


def column_labels() -> dict[str, str]:
    classes = {**{code: str(label) for code, label in RISK_CLASS.items()}, NO_PROFILE: _("No valid profile")}
    words = {
        "tier": _("Tier"), "client_no": _("Client number"), "name": _("Name"), "id_number": _("ID number"),
        "branch": _("Branch"), "manager_no": _("Manager number"), "grade": _("Grade"), "assets": _("Total assets"),
        "valid_until": _("Profile valid until"), "list": _("List"), "max_level": _("Highest level subscribed"),
        "allowed_level": _("Highest level allowed"), "unconfirmed": _("Unconfirmed warnings"),
        "product": _("Product"), "level": _("Risk level"), "business_date": _("Business date"),
        "status": _("Status"), "age": _("Age"), "outcome": _("Outcome"), "elderly_prompt": _("Extra-care prompt"),
        "extra_care_given": _("Extra-care explanation recorded"), "applied_on": _("Applied on"),
        "decided_on": _("Decided on"), "reason": _("Reason"), "old_grade": _("Previous grade"),
        "old_score": _("Previous score"), "old_submitted": _("Previous submission"), "new_grade": _("New grade"),
        "new_score": _("New score"), "new_submitted": _("New submission"),
    }
    for column, label in classes.items():
        words[f"{column}:clients"] = f"{label}: {_('clients')}"
        words[f"{column}:assets"] = f"{label}: {_('assets')}"
    return words


def value_words() -> dict[str, str]:
    """Codes in the lists, in words."""
    return {"expired": _("Expired"), "expiring": _("Expiring within 30 days"), "none": _("Never assessed"),
            "confirmed": _("Confirmed"), "awaiting": _("Awaiting confirmation"), "lapsed": _("Lapsed"),
            "approved": _("Approved"), "rejected": _("Rejected"), "allowed": _("Allowed"),
            "warning": _("With a special risk warning")}


# --- the XLSX -------------------------------------------------------------------------------------------

def _canonical(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# _canonical by exact type, for the types the lists hold (a pack's sheets have some 300,000 cells).
_CANONICAL_BY_TYPE = {str: str, int: str, type(None): _canonical, bool: _canonical, Decimal: _canonical,
                      date: date.isoformat, datetime: datetime.isoformat}


def data_digest(sheets: list[tuple[str, list[str], list[list]]]) -> str:
    """SHA-256 over the data sheets in order: each sheet's name, header and rows as tab-separated text."""
    digest = hashlib.sha256()
    canonical = _CANONICAL_BY_TYPE.get
    for name, header, rows in sheets:
        digest.update(f"#{name}\n".encode())
        digest.update("".join("\t".join([canonical(type(v), _canonical)(v) for v in row]) + "\n"
                              for row in [header, *rows]).encode())
    return digest.hexdigest()


def build_xlsx(data: PackData, language: str = "zh_CN") -> tuple[bytes, str]:
    """The workbook: an index sheet (date, definitions, figures, the SHA-256) and one data sheet per part."""
    from openpyxl import Workbook

    with force_locale(language):
        titles, defs, figs, cols, words = (part_titles(), definitions(data), figure_labels(), column_labels(),
                                           value_words())
        sheets = []
        for n, key in enumerate(PARTS, start=1):
            part = data.parts[key]
            rows = [[words.get(v, v) if isinstance(v, str) else v for v in row] for row in part.rows]
            sheets.append((f"{n} {titles[key]}"[:31], [cols.get(h, h) for h in part.header], rows))
        digest = data_digest(sheets)
        workbook = Workbook(write_only=True)
        # Fixed document times: the same date gives the same workbook.
        moment = datetime.combine(data.day, time(0), UTC).replace(tzinfo=None)
        workbook.properties.created = workbook.properties.modified = moment
        index = workbook.create_sheet(_("Index")[:31])
        index.append([_("Suitability self-inspection pack")])
        index.append([_("As of"), data.day.isoformat()])
        index.append([_("Half-year"), f"{data.since.isoformat()} – {data.day.isoformat()}"])
        index.append([_("SHA-256 of the data sheets"), digest])
        index.append([])
        for n, key in enumerate(PARTS, start=1):
            part = data.parts[key]
            index.append([f"{n}. {titles[key]}", defs[key]])
            for name, value in part.figures.items():
                index.append(["", figs[name], value])
            if part.total_rows > len(part.rows):
                index.append(["", _("This workbook holds the first %(n)s of %(total)s rows.",
                                    n=f"{len(part.rows):,}", total=f"{part.total_rows:,}")])
        for name, header, rows in sheets:
            sheet = workbook.create_sheet(name)
            sheet.append([neutralise(h) for h in header])
            for row in rows:
                sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), digest


# --- the PDF --------------------------------------------------------------------------------------------

FONT = "PackCJK"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        path = current_app.config["PACK_FONT"]
        options = {"subfontIndex": 0} if str(path).lower().endswith(".ttc") else {}
        pdfmetrics.registerFont(TTFont(FONT, path, **options))


def _bars(items: list[tuple[str, int]], colour: str):
    """A horizontal bar chart like the portal's: label, bar (share of the largest), value."""
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors

    width, row, label_width = 440, 14, 150
    top = max((value for _label, value in items), default=0)
    drawing = Drawing(width, row * len(items) + 4)
    for n, (label, value) in enumerate(items):
        y = row * (len(items) - n - 1) + 2
        drawing.add(String(0, y + 3, label, fontName=FONT, fontSize=7))
        bar = (width - label_width - 50) * value / top if top else 0
        drawing.add(Rect(label_width, y + 1, bar, row - 4, fillColor=colors.HexColor(colour), strokeColor=None))
        drawing.add(String(label_width + bar + 4, y + 3, f"{value:,}", fontName=FONT, fontSize=7))
    return drawing


def _edition(data: PackData, language: str, styles: dict) -> list:
    from reportlab.lib import colors
    from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

    story: list = []
    with force_locale(language):
        titles, defs, figs, cols, words = (part_titles(), definitions(data), figure_labels(), column_labels(),
                                           value_words())
        story.append(Paragraph(_("Suitability self-inspection pack"), styles["title"]))
        story.append(Paragraph(_("As of %(day)s; the half-year from %(since)s to %(day)s.",
                                 day=data.day.isoformat(), since=data.since.isoformat()), styles["body"]))
        story.append(Spacer(1, 8))
        grid = data.grid
        for n, key in enumerate(PARTS, start=1):
            part = data.parts[key]
            story.append(Paragraph(f"{n}. {titles[key]}", styles["heading"]))
            story.append(Paragraph(defs[key], styles["body"]))
            figures = [[figs[name], f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"]
                       for name, value in part.figures.items()]
            table = Table(figures, colWidths=[220, 120], hAlign="LEFT")
            table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
                                       ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                                       ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
            story.append(table)
            if key == "matrix":
                header = [cols["tier"], *[cols[f"{c}:clients"] for c in COLUMNS]]
                body = [[_("Tier %(n)d", n=t), *[f"{grid.cell(t, c).clients:,}" for c in COLUMNS]] for t in TIERS]
                story.append(Spacer(1, 4))
                story.append(_table([header, *body], styles))
                story.append(Spacer(1, 4))
                story.append(_bars([(_("Tier %(n)d", n=t), grid.row(t).clients) for t in TIERS], "#0d6efd"))
                story.append(_bars([(cols[f"{c}:clients"].split(":")[0], grid.column(c).clients) for c in COLUMNS],
                                   "#198754"))
            elif part.figures and key in ("warnings", "elderly", "profiles"):
                story.append(_bars([(figs[name], int(value)) for name, value in part.figures.items()], "#fd7e14"))
            if key != "matrix" and part.total_rows:
                shown = part.rows[:PDF_ROWS]
                story.append(Spacer(1, 4))
                story.append(Paragraph(ngettext("%(num)d row; the workbook lists it.",
                                                "%(num)d rows; the first are shown, the workbook lists them all.",
                                                part.total_rows), styles["small"]))
                header = [cols.get(h, h) for h in part.header]
                body = [[_pdf_value(words.get(v, v) if isinstance(v, str) else v) for v in row] for row in shown]
                story.append(_table([header, *body], styles))
            elif key != "matrix":
                story.append(Paragraph(_("No row."), styles["small"]))
            story.append(Spacer(1, 10))
        story.append(PageBreak())
    return story


def _pdf_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _table(rows: list[list], styles: dict):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [[Paragraph(str(v), styles["cell"]) for v in row] for row in rows]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def build_pdf(data: PackData) -> bytes:
    """One PDF: the Chinese edition, then the English one; the CJK font is embedded (subset), text selectable."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import SimpleDocTemplate

    _register_font()
    styles = {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, spaceAfter=6),
        "heading": ParagraphStyle("heading", fontName=FONT, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=12, wordWrap="CJK"),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7, leading=9, wordWrap="CJK"),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=6, leading=7.5, wordWrap="CJK"),
    }
    buffer = io.BytesIO()
    # invariant: no build time and no random document id, so that the same D gives the same file.
    document = SimpleDocTemplate(buffer, pagesize=A4, invariant=1, leftMargin=36, rightMargin=36, topMargin=36,
                                 bottomMargin=36, title=f"Suitability self-inspection {data.day.isoformat()}",
                                 author="", creator="", producer="", subject="")
    story: list = []
    for language in LANGUAGES:
        story += _edition(data, language, styles)
    document.build(story[:-1])  # no blank page after the last edition
    return buffer.getvalue()


@dataclass(frozen=True)
class PackFiles:
    pdf: Path
    xlsx: Path
    digest: str


def file_stem(day: date) -> str:
    return f"inspection-pack-{day.isoformat()}"


def write_pack(day: date, directory: Path, language: str = "zh_CN") -> PackFiles:
    """Build the pack for `day` and write `inspection-pack-D.pdf` and `.xlsx` into `directory`."""
    data = collect(day)
    directory.mkdir(parents=True, exist_ok=True)
    xlsx, digest = build_xlsx(data, language)
    pdf_path, xlsx_path = directory / f"{file_stem(day)}.pdf", directory / f"{file_stem(day)}.xlsx"
    pdf_path.write_bytes(build_pdf(data))
    xlsx_path.write_bytes(xlsx)
    return PackFiles(pdf_path, xlsx_path, digest)

