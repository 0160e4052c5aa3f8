"""Retention: anonymising a departed client keeps every suitability record and audit row intact."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from models import AuditEntry, Client, QuestionnaireVersion, RiskAssessment, RiskProfile, User, db
from portal.operations.retention import ANONYMISED_NAME
from portal.operations.risk import submit_assessment
from portal.rules.calendar import business_today

RECORD_TABLES = ("risk_assessments", "risk_profiles", "audit_log", "client_assignments")


def snapshot() -> dict:
    """Every row of the record tables, as the database holds them."""
    return {table: [tuple(row) for row in db.session.execute(text(f"SELECT * FROM {table} ORDER BY id"))]  # noqa: S608
            for table in RECORD_TABLES}


@pytest.fixture
def departed(app, world, runner):
    """Client CA0001 (with a login, a submission and a profile) whose account closes today."""
    client = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    version = db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.status == "active"))
    user = db.session.scalar(select(User).where(User.username == "client_a"))
    answers = {q["id"]: q["options"][-1]["id"] for q in version.definition["questions"]
               if q["group"] != "age" or "min_age" not in q["options"][0]}  # age: from the birth date on file
    submit_assessment(client, answers, user, assisted=False)
    db.session.commit()
    return client


def test_anonymising_keeps_every_record_and_clears_the_personal_data(app, departed, runner):
    before = snapshot()
    assert before["risk_assessments"] and before["risk_profiles"] and before["audit_log"]
    assert runner.invoke(args=["close-account", "CA0001"]).exit_code == 0
    result = runner.invoke(args=["anonymise-client", "CA0001"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    after = snapshot()
    for table in ("risk_assessments", "risk_profiles", "client_assignments"):
        assert after[table] == before[table], table
    # The audit log only grew: every earlier row is unchanged, and the new rows name no personal value.
    assert after["audit_log"][: len(before["audit_log"])] == before["audit_log"]
    new_rows = db.session.scalars(select(AuditEntry).where(AuditEntry.id > before["audit_log"][-1][0])).all()
    assert [row.action for row in new_rows] == ["client.close_account", "client.anonymise"]
    assert "张三a" not in str([(row.before, row.after) for row in new_rows])

    client = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    assert client.name == ANONYMISED_NAME and client.id_number == "" and client.phone is None
    assert client.birth_date == date(1980, 1, 1) and client.anonymised_at is not None
    assert client.closed_on == business_today()
    assert client.profile_id is not None  # the profile record still points at the same submission
    login = db.session.scalar(select(User).where(User.client_id == client.id))
    assert login.username.startswith("anonymised-") and not login.active


def test_the_departed_client_can_no_longer_sign_in(app, departed, runner, client, auth):
    assert runner.invoke(args=["close-account", "CA0001"]).exit_code == 0
    response = auth.login("client_a")
    assert response.status_code == 200  # the form again, not a redirect into the portal
    assert client.get("/me").status_code in (302, 401)


def test_an_open_account_cannot_be_anonymised(app, departed, runner):
    result = runner.invoke(args=["anonymise-client", "CA0001"])
    assert result.exit_code != 0 and "close the account first" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Client.name).where(Client.client_no == "CA0001")) == "张三a"


def test_closing_refuses_a_future_date_and_a_second_close(app, departed, runner):
    assert runner.invoke(args=["close-account", "CA0001", "--on", "2999-01-01"]).exit_code != 0
    assert runner.invoke(args=["close-account", "CA0001"]).exit_code == 0
    again = runner.invoke(args=["close-account", "CA0001"])
    assert again.exit_code != 0 and "closed on" in again.output
    assert runner.invoke(args=["anonymise-client", "CA0001"]).exit_code == 0
    assert runner.invoke(args=["anonymise-client", "CA0001"]).exit_code != 0


def test_records_cannot_be_deleted_even_for_an_anonymised_client(app, departed, runner):
    runner.invoke(args=["close-account", "CA0001"])
    runner.invoke(args=["anonymise-client", "CA0001"])
    for table in ("risk_assessments", "risk_profiles", "audit_log"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        db.session.rollback()
    assert db.session.scalar(select(func.count(RiskAssessment.id))) == 1
    assert db.session.scalar(select(func.count(RiskProfile.id))) == 1
