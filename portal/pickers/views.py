"""Searchable pickers: the staff records a signed-in user may choose, found by number, name or pinyin.

Forms and reports that take an employee number offer these as suggestions while one types
(static/js/picker.js fills the field's datalist); typing the number still works without the script.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import or_, select

from models import Manager, Team, db
from portal.access import allow, scope_managers
from portal.collation import by_pinyin
from portal.labels import labels

bp = Blueprint("pickers", __name__)

PICKER_LIMIT = 20


@bp.route("/pickers/managers")
@allow("supervisor", "admin", "compliance")
def managers():
    """Up to 20 staff records in the caller's scope whose number starts with, or name or pinyin holds, `q`."""
    q = (request.args.get("q") or "").strip()[:40]
    stmt = scope_managers(select(Manager.employee_no, Manager.name, Manager.level, Manager.status, Team.code)
                          .outerjoin(Team, Team.id == Manager.team_id), current_user)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(Manager.employee_no.like(f"{escaped.upper()}%", escape="\\"),
                              Manager.name.like(f"%{escaped}%", escape="\\"),
                              Manager.name_pinyin.ilike(f"%{escaped}%", escape="\\")))
    rows = db.session.execute(stmt.order_by(*by_pinyin(Manager.name, Manager.name_pinyin), Manager.employee_no)
                              .limit(PICKER_LIMIT)).all()
    level_words, status_words = labels()["level"], labels()["status"]
    return jsonify([{"employee_no": r.employee_no, "name": r.name, "team": r.code,
                     "label": " · ".join(part for part in (r.name, r.code, level_words.get(r.level, r.level),
                                                           status_words.get(r.status, r.status)) if part)}
                    for r in rows])
