"""The audit log browser, read-only, with filters."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from models import AuditEntry, db
from portal.access import allow
from portal.pagination import page_arg

bp = Blueprint("auditlog", __name__)


def _parse_day(value: str | None):
    """A YYYY-MM-DD filter date; anything unreadable or absurd is ignored rather than refused."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date() if value else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 9000 else None


@bp.route("/audit")
@allow("admin", "compliance")
def browse():
    args = request.args
    filters = {k: (args.get(k) or "").strip()[:64] for k in ("actor", "action", "object_type", "object_id", "outcome")}
    day_from, day_to = _parse_day(args.get("from")), _parse_day(args.get("to"))
    stmt = select(AuditEntry)
    if filters["actor"]:
        stmt = stmt.where(AuditEntry.actor_username == filters["actor"].lower())
    if filters["action"]:
        stmt = stmt.where(AuditEntry.action.like(filters["action"].replace("%", "") + "%"))
    if filters["object_type"]:
        stmt = stmt.where(AuditEntry.object_type == filters["object_type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEntry.object_id == filters["object_id"])
    if filters["outcome"] in ("ok", "denied", "failed"):
        stmt = stmt.where(AuditEntry.outcome == filters["outcome"])
    if day_from:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(day_from, time.min, UTC))
    if day_to:
        stmt = stmt.where(AuditEntry.at < datetime.combine(day_to + timedelta(days=1), time.min, UTC))
    stmt = stmt.order_by(AuditEntry.id.desc())
    page = page_arg()
    pagination = db.paginate(stmt, page=page, per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("auditlog/browse.html", pagination=pagination, filters=filters,
                           day_from=day_from, day_to=day_to)
