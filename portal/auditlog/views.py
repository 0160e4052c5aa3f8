"""The audit log browser, read-only, with filters and an export of what the filters select."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import Select, select

from models import AuditEntry, db
from portal.access import allow
from portal.auditlog import words
from portal.exports import download
from portal.formatting import fmt_datetime
from portal.labels import labels
from portal.pagination import page_arg

bp = Blueprint("auditlog", __name__)


@bp.app_template_filter("audit_action")
def audit_action(code: str) -> str:
    """An audit action in words, wherever an entry is shown (the administrator's home lists the latest)."""
    return words.action_words(code)


@bp.app_template_filter("audit_object")
def audit_object(object_type: str | None) -> str:
    return words.object_words(object_type)

# An export holds at most this many entries, newest first; narrower dates give the rest.
EXPORT_LIMIT = 50_000


def _parse_day(value: str | None):
    """A YYYY-MM-DD filter date; anything unreadable or absurd is ignored rather than refused."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date() if value else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 9000 else None


def _china_midnight(day: date) -> datetime:
    """The UTC instant a China-time calendar day starts: the log's dates are the dates people see."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _filtered() -> tuple[Select, dict]:
    """The entries the request's filters select (newest first) and the filters as the form shows them."""
    args = request.args
    filters = {k: (args.get(k) or "").strip()[:64] for k in ("actor", "action", "object_type", "object_id", "outcome")}
    day_from, day_to = _parse_day(args.get("from")), _parse_day(args.get("to"))
    stmt = select(AuditEntry)
    if filters["actor"]:
        stmt = stmt.where(AuditEntry.actor_username == filters["actor"].lower())
    if filters["action"]:
        stmt = stmt.where(AuditEntry.action.like(filters["action"].replace("%", "").replace("_", "\\_") + "%",
                                                 escape="\\"))
    if filters["object_type"]:
        stmt = stmt.where(AuditEntry.object_type == filters["object_type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEntry.object_id == filters["object_id"])
    if filters["outcome"] in ("ok", "denied", "failed"):
        stmt = stmt.where(AuditEntry.outcome == filters["outcome"])
    if day_from:
        stmt = stmt.where(AuditEntry.at >= _china_midnight(day_from))
    if day_to:
        stmt = stmt.where(AuditEntry.at < _china_midnight(day_to + timedelta(days=1)))
    return stmt.order_by(AuditEntry.id.desc()), {**filters, "from": day_from, "to": day_to}


@bp.route("/audit")
@allow("admin", "compliance")
def browse():
    stmt, filters = _filtered()
    pagination = db.paginate(stmt, page=page_arg(), per_page=current_app.config["PER_PAGE"], error_out=False)
    gettext = words.request_translations().ugettext
    groups = {prefix: gettext(text) for prefix, text in words.ACTION_GROUPS.items()}
    if filters["action"] and filters["action"] not in groups:
        groups[filters["action"]] = words.action_words(filters["action"])
    object_types = {code: gettext(text) for code, text in words.OBJECT_TYPES.items()}
    rows = [{"entry": e, "action": words.action_words(e.action), "object": words.object_words(e.object_type),
             "link": words.object_link(e), "changes": words.changes(e.before, e.after)} for e in pagination.items]
    export_args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("auditlog/browse.html", pagination=pagination, rows=rows, filters=filters,
                           groups=groups, object_types=object_types, export_args=export_args,
                           outcome_classes=words.OUTCOME_CLASSES, export_limit=EXPORT_LIMIT)


@bp.route("/audit/export")
@allow("admin", "compliance")
def export():
    """The entries the filters select as CSV or XLSX: times in China time, actions and objects in words."""
    stmt, _filters = _filtered()
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    role_words, outcome_words = labels()["role"], labels()["outcome"]
    header = [_("When"), _("Who"), _("Role"), _("Action"), _("Action code"), _("Object type"), _("Object"),
              _("Outcome"), _("Changes"), _("Address")]
    entries = db.session.execute(stmt.limit(EXPORT_LIMIT)).scalars()
    rows = ([fmt_datetime(e.at), e.actor_username, role_words.get(e.actor_role or "", e.actor_role),
             words.action_words(e.action), e.action, words.object_words(e.object_type), e.object_id,
             outcome_words.get(e.outcome, e.outcome), words.changes_text(e.before, e.after), e.ip]
            for e in entries)
    return download(fmt, "audit-log", header, rows, title=_("Audit log"))
