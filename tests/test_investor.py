"""Professional-investor status: the client applies with the figures the portal holds; compliance decides."""
from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

APPLY = "/me/professional"
LIST = "/compliance/professional-applications"


# --- helpers ------------------------------------------------------------------------------------------

def applications(client_no: str | None = None) -> list:
    from models import Client, ProfessionalApplication, db

    db.session.expire_all()
    stmt = select(ProfessionalApplication).order_by(ProfessionalApplication.id)
    if client_no:
        stmt = stmt.join(Client).where(Client.client_no == client_no)
    return list(db.session.scalars(stmt))


def client_named(client_no: str):
    from models import Client, db

    db.session.expire_all()
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def audit(action: str) -> list:
    from models import AuditEntry, db

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def field_errors(page: str, field_id: str) -> list[str]:
    pattern = rf'<div class="invalid-feedback[^"]*"(?: id="{re.escape(field_id)}-error")?>(.*?)</div>'
    return [html.unescape(m) for m in re.findall(pattern, page, re.DOTALL)]


def apply(client):
    token = csrf_token(client, APPLY)
    return client.post(APPLY, data={"declaration": "y", "csrf_token": token})


def decide(client, application_id: int, decision: str | None, reason: str | None):
    path = f"{LIST}/{application_id}"
    data = {"csrf_token": csrf_token(client, path)}
    if decision is not None:
        data["decision"] = decision
    if reason is not None:
        data["reason"] = reason
    return client.post(path, data=data)


@pytest.fixture
def applied(client, auth, world):
    """client_a has applied; returns the application's id."""
    auth.login("client_a")
    assert apply(client).status_code == 302
    return applications("CA0001")[0].id


# --- checks --------------------------------------------------------------------------------------

def test_checks_show_no_data_for_figures_the_portal_lacks(app, world):
    from portal.operations.investor import professional_checks

    client_a = world["a"]["clients"][0]  # account opened 2015-03-01
    checks = professional_checks(client_a, today=date(2026, 6, 1))
    assert checks["assets"]["status"] == "no_data" and checks["assets"]["value"] is None
    assert checks["income"]["status"] == "no_data"
    assert checks["experience"] == {"status": "met", "opened_on": "2015-03-01", "years": 11, "required_years": 2}
    assert checks["overall"] == "no_data"  # experience alone does not qualify; compliance checks the evidence


@pytest.mark.parametrize("opened_on,status", [(date(2024, 6, 1), "met"), (date(2024, 6, 2), "not_met"),
                                              (date(2026, 1, 1), "not_met")])
def test_two_years_of_experience_counts_from_the_opening_date(app, world, opened_on, status):
    from portal.operations.investor import professional_checks

    client_a = world["a"]["clients"][0]
    client_a.opened_on = opened_on
    checks = professional_checks(client_a, today=date(2026, 6, 1))
    assert checks["experience"]["status"] == status
    if status == "not_met":
        assert checks["overall"] == "not_met"


def test_assets_are_read_from_the_newest_snapshot(app, world):
    from models import AssetSnapshot, db
    from portal.operations.investor import professional_checks

    client_a = world["a"]["clients"][0]
    zero = {part: Decimal("0") for part in ("cash", "a_shares", "b_shares", "warrants", "bonds", "collective_products")}
    db.session.add_all([
        AssetSnapshot(client_id=client_a.id, stat_date=date(2026, 3, 31), funds=Decimal("4000000.00"),
                      total_assets=Decimal("4000000.00"), **zero),
        AssetSnapshot(client_id=client_a.id, stat_date=date(2026, 4, 30), funds=Decimal("5000000.00"),
                      total_assets=Decimal("5000000.00"), **zero),
    ])
    db.session.commit()
    checks = professional_checks(client_a, today=date(2026, 6, 1))
    assert checks["assets"]["status"] == "met" and checks["assets"]["as_of"] == "2026-04-30"
    assert checks["assets"]["value"] in ("5000000.00", "5000000")
    assert checks["overall"] == "met"
    other = professional_checks(world["a"]["clients"][1], today=date(2026, 6, 1))
    assert other["assets"]["status"] == "no_data"


# --- applying ----------------------------------------------------------------------------------------

def test_the_page_shows_the_criteria_and_the_figures(client, auth, world):
    auth.login("client_a")
    page = html.unescape(client.get(APPLY).get_data(as_text=True))
    assert "¥5,000,000" in page and "¥500,000" in page
    assert "Not held by the portal; attach evidence in the branch." in page
    assert "No data" in page and "Met" in page
    assert "Ordinary investor" in page


def test_client_applies_and_a_second_application_is_refused_while_pending(client, auth, world):
    auth.login("client_a")
    response = apply(client)
    assert response.status_code == 302
    rows = applications("CA0001")
    assert len(rows) == 1 and rows[0].status == "pending"
    assert rows[0].checks["assets"]["status"] == "no_data"
    assert rows[0].checks["experience"]["status"] == "met"
    assert rows[0].checks["income"]["status"] == "no_data"
    entries = audit("investor.apply")
    assert len(entries) == 1 and entries[0].object_id == "CA0001"
    assert entries[0].before == {"investor_category": "ordinary"} and entries[0].after["status"] == "pending"
    assert "with compliance" in client.get(APPLY).get_data(as_text=True)

    again = apply(client)
    assert again.status_code == 409
    assert "already with compliance" in html.unescape(again.get_data(as_text=True))
    assert len(applications("CA0001")) == 1


def test_applying_needs_the_declaration_and_csrf(client, auth, world):
    auth.login("client_a")
    token = csrf_token(client, APPLY)
    response = client.post(APPLY, data={"csrf_token": token})
    assert response.status_code == 400
    assert "tick the declaration" in " ".join(field_errors(response.get_data(as_text=True), "declaration"))
    assert client.post(APPLY, data={"declaration": "y"}).status_code == 400
    assert applications() == []


# --- deciding ----------------------------------------------------------------------------------------

def test_compliance_approves_with_a_reason(client, auth, applied):
    auth.login("compliance")
    listing = client.get(f"{LIST}?status=pending").get_data(as_text=True)
    assert "CA0001" in listing
    page = client.get(f"{LIST}/{applied}").get_data(as_text=True)
    assert "CA0001" in page and 'name="reason"' in page

    response = decide(client, applied, "approve", "  Bank statements show 6.2m CNY of financial assets.  ")
    assert response.status_code == 302
    row = applications("CA0001")[0]
    assert row.status == "approved" and row.reason == "Bank statements show 6.2m CNY of financial assets."
    assert row.decided_by.username == "compliance" and row.decided_at is not None
    assert client_named("CA0001").investor_category == "professional"
    entry = audit("investor.approve")[-1]
    assert entry.object_id == "CA0001" and entry.actor_username == "compliance"
    assert entry.before == {"status": "pending", "investor_category": "ordinary"}
    assert entry.after["investor_category"] == "professional" and entry.after["status"] == "approved"
    assert "CA0001" in client.get(f"{LIST}?status=approved").get_data(as_text=True)
    assert "CA0001" not in client.get(f"{LIST}?status=pending").get_data(as_text=True)

    # Deciding twice is refused with a message, and changes nothing.
    again = decide(client, applied, "reject", "Second thoughts")
    assert again.status_code == 302
    assert "already been decided" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert applications("CA0001")[0].status == "approved" and audit("investor.reject") == []

    auth.login("client_a")
    page = client.get(APPLY).get_data(as_text=True)
    assert "You are a professional investor." in page and "Bank statements" in page


def test_compliance_rejects_with_a_reason(client, auth, applied):
    auth.login("compliance")
    assert decide(client, applied, "reject", "No evidence of income was provided.").status_code == 302
    row = applications("CA0001")[0]
    assert row.status == "rejected" and row.reason == "No evidence of income was provided."
    assert client_named("CA0001").investor_category == "ordinary"
    entry = audit("investor.reject")[-1]
    assert entry.before["investor_category"] == "ordinary" and entry.after["investor_category"] == "ordinary"
    assert audit("investor.approve") == []

    # The client can apply again once the first is decided.
    auth.login("client_a")
    assert apply(client).status_code == 302
    assert [a.status for a in applications("CA0001")] == ["rejected", "pending"]


@pytest.mark.parametrize("decision,reason,field,message", [
    ("approve", "", "reason", "Give the reason"),
    ("reject", "   ", "reason", "Give the reason"),
    ("approve", "x" * 501, "reason", "at most 500"),
    (None, "A reason", "decision", "Choose approve or reject"),
    ("promote", "A reason", "decision", "Not a valid choice"),
])
def test_a_decision_needs_a_choice_and_a_reason(client, auth, applied, decision, reason, field, message):
    auth.login("compliance")
    response = decide(client, applied, decision, reason)
    assert response.status_code == 400
    errors = " ".join(field_errors(response.get_data(as_text=True), field))
    assert message in errors, errors
    assert applications("CA0001")[0].status == "pending"
    assert client_named("CA0001").investor_category == "ordinary"
    assert audit("investor.approve") == [] and audit("investor.reject") == []


def test_the_operation_refuses_a_blank_reason(app, world):
    from models import User, db
    from portal.operations.errors import OperationError
    from portal.operations.investor import apply as apply_op
    from portal.operations.investor import decide as decide_op

    client_a = world["a"]["clients"][0]
    officer = db.session.scalar(select(User).where(User.username == "compliance"))
    application = apply_op(client_a, None)
    with pytest.raises(OperationError) as error:
        decide_op(application, True, " ", officer)
    assert error.value.field == "reason"
    decide_op(application, False, "No evidence", officer)
    with pytest.raises(OperationError) as error:
        decide_op(application, True, "Changed my mind", officer)
    assert error.value.code == "already_decided"
    assert client_a.investor_category == "ordinary"


# --- who may see what ------------------------------------------------------------------------------

@pytest.mark.parametrize("login", ["rm_a", "sup_a", "client_a", "client_b"])
def test_only_compliance_and_admin_open_the_compliance_pages(client, auth, applied, login):
    auth.login(login)
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}/{applied}").status_code == 403
    token = csrf_token(client, "/")
    response = client.post(f"{LIST}/{applied}", data={"decision": "approve", "reason": "x", "csrf_token": token})
    assert response.status_code == 403
    assert applications("CA0001")[0].status == "pending"


def test_admin_may_view_but_not_decide(client, auth, applied):
    auth.login("admin")
    assert client.get(LIST).status_code == 200
    page = client.get(f"{LIST}/{applied}").get_data(as_text=True)
    assert "CA0001" in page and 'name="reason"' not in page
    token = csrf_token(client, "/")
    response = client.post(f"{LIST}/{applied}", data={"decision": "approve", "reason": "x", "csrf_token": token})
    assert response.status_code == 403
    assert client_named("CA0001").investor_category == "ordinary"


def test_a_client_sees_only_their_own_application(client, auth, applied):
    auth.login("client_b")
    page = client.get(APPLY).get_data(as_text=True)
    assert "CA0001" not in page and "张三a" not in page
    assert "with compliance" not in page and "My applications" not in page
    assert client.get(f"{LIST}/{applied}").status_code == 403


@pytest.mark.parametrize("login", ["rm_a", "compliance", "admin"])
def test_staff_do_not_use_the_client_page(client, auth, world, login):
    auth.login(login)
    assert client.get(APPLY).status_code == 403


def test_list_filters_pages_and_ignores_a_bad_status(client, auth, world, make):
    from models import db
    from portal.operations.investor import apply as apply_op

    manager = world["a"]["rm"]
    for _ in range(30):
        apply_op(make.client(manager), None)
    db.session.commit()
    auth.login("compliance")
    first = client.get(f"{LIST}?status=nonsense").get_data(as_text=True)
    assert "30 applications" in first and "Page 1 of 2" in first
    assert client.get(f"{LIST}?status=pending&page=2").status_code == 200
    assert "0 applications" in client.get(f"{LIST}?status=approved").get_data(as_text=True)
