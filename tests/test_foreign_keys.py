"""Declared foreign keys hold on both databases: SQLite connections turn key checks on (models/__init__.py)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from models import ClientAssignment, FollowupLog, db


def test_every_connection_enforces_keys(app, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL always enforces its keys")
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_row_naming_a_missing_client_is_refused(app, backend):
    missing = (db.session.scalar(select(func.max(FollowupLog.client_id))) or 0) + 1_000_000
    db.session.add(FollowupLog(client_id=missing, logged_on=date(2026, 1, 5), channel="phone", grade="B",
                               next_due=date(2026, 1, 12)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FollowupLog)) == 0


def test_a_client_with_history_cannot_be_removed_from_under_it(app, backend, make):
    client = make.client(make.manager())
    db.session.flush()
    db.session.add(ClientAssignment(client_id=client.id, from_manager_id=None, to_manager_id=client.manager_id,
                                    reason="test"))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("DELETE FROM clients WHERE id = :id"), {"id": client.id})
        db.session.flush()
    db.session.rollback()
    assert db.session.get(type(client), client.id) is not None
