"""Writing the audit log: in the request's transaction for changes, on its own for refusals."""
from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert

from models import AuditEntry, db, utcnow

log = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _actor(actor=None) -> dict:
    user = actor
    if user is None and has_request_context():
        user = current_user if current_user and current_user.is_authenticated else None
    entry = {"actor_id": None, "actor_username": None, "actor_role": None}
    if user is not None:
        entry = {"actor_id": user.id, "actor_username": user.username, "actor_role": user.role}
    entry["ip"] = request.remote_addr if has_request_context() else None
    return entry


def _row(action, object_type, object_id, before, after, outcome, actor, actor_username=None) -> dict:
    row = _actor(actor)
    if actor_username and not row["actor_username"]:
        row["actor_username"] = actor_username[:64]
    row.update(
        at=utcnow(),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
        outcome=outcome,
    )
    return row


def record(action: str, object_type: str | None = None, object_id: Any = None, *, before: Any = None,
           after: Any = None, outcome: str = "ok", actor=None) -> None:
    """Add an audit row to the current transaction: it commits, or rolls back, with the change."""
    db.session.add(AuditEntry(**_row(action, object_type, object_id, before, after, outcome, actor)))


def record_now(action: str, object_type: str | None = None, object_id: Any = None, *, before: Any = None,
               after: Any = None, outcome: str = "denied", actor=None, actor_username: str | None = None) -> None:
    """Write an audit row at once on its own connection (refusals, failed sign-ins): it survives the abort."""
    row = _row(action, object_type, object_id, before, after, outcome, actor, actor_username)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(AuditEntry.__table__).values(**row))
    except Exception:  # the refusal itself must still reach the user
        log.exception("could not write audit row %s", action)
