"""The audit log: written by the operations that change data, browsable, and immutable in the database."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from models import AuditEntry, db
from portal.audit import record


def _one_entry():
    record("test.entry", "thing", "1", before={"a": 1}, after={"a": 2})
    db.session.commit()
    return db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'tampered' WHERE id = :id",
    "UPDATE audit_log SET after = NULL WHERE id = :id",
    "DELETE FROM audit_log WHERE id = :id",
    "DELETE FROM audit_log",
])
def test_the_database_refuses_to_change_audit_rows(app, statement):
    entry_id = _one_entry()
    with pytest.raises(DatabaseError):
        db.session.execute(text(statement), {"id": entry_id})
        db.session.flush()
    db.session.rollback()
    row = db.session.get(AuditEntry, entry_id)
    assert row.action == "test.entry" and row.after == {"a": 2}


def test_postgres_refuses_truncate(app, backend):
    if backend != "postgresql":
        pytest.skip("TRUNCATE is a PostgreSQL statement")
    _one_entry()
    with pytest.raises(DatabaseError):
        db.session.execute(text("TRUNCATE audit_log"))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) >= 1


def test_orm_cannot_edit_an_entry_either(app):
    entry_id = _one_entry()
    entry = db.session.get(AuditEntry, entry_id)
    entry.action = "tampered"
    with pytest.raises(DatabaseError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry_id).action == "test.entry"


def test_changes_and_their_audit_rows_commit_or_roll_back_together(app, make):
    from models import Team

    make.team("ROLLME")
    db.session.rollback()
    assert db.session.scalar(select(Team.id).where(Team.code == "ROLLME")) is None
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.object_id == "ROLLME")) is None


def test_entries_record_who_what_before_and_after(client, auth, world):
    from tests.helpers import csrf_token

    auth.login("sup_a")
    client.post("/clients/CA0001/reassign", data={"to_manager": "RMA2", "reason": "客户要求",
                                                   "csrf_token": csrf_token(client, "/clients/CA0001/reassign")})
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.reassign"))
    assert entry.actor_username == "sup_a" and entry.actor_role == "supervisor"
    assert entry.object_type == "client" and entry.object_id == "CA0001"
    assert entry.before == {"manager": "RMA1"} and entry.after == {"manager": "RMA2", "reason": "客户要求"}
    assert entry.at.tzinfo is not None and entry.outcome == "ok"


def test_browser_filters(client, auth, world):
    auth.login("rm_a")
    auth.login("rm_b", "wrong-password-123")
    auth.login("compliance")
    page = client.get("/audit?action=auth.sign_in&outcome=failed").get_data(as_text=True)
    assert "rm_b" in page and ">rm_a<" not in page
    page = client.get("/audit?actor=rm_a").get_data(as_text=True)
    assert "auth.sign_in" in page
    assert "user.create" not in client.get("/audit?actor=rm_a").get_data(as_text=True)
    assert client.get("/audit?from=not-a-date&to=2020-13-45&page=-3").status_code == 200
    empty = client.get("/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "auth.sign_in" not in empty


def test_browser_has_no_way_to_change_entries(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("auditlog.")]
    assert rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)
