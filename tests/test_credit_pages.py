"""Credit screening pages: entry form, CSV import (all or nothing), override, history, the book column."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from models import AuditEntry, Client, CreditAccount, CreditScreening, User, db
from portal.operations import credit as operations
from portal.operations.errors import OperationError
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

CLEAN = "N" * 24
TWO_LATE = "N" * 20 + "11NN"  # 2 overdue months at level 1: blemished
BARRED_CARD = "N" * 23 + "G"


def _screenings() -> int:
    return db.session.scalar(select(func.count(CreditScreening.id)))


def _client(client_no):
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def _book_row(html: str, client_no: str) -> str:
    return next(chunk.split("</tr>")[0] for chunk in html.split("<tr>") if f">{client_no}</a>" in chunk)


def _form(token, rows, **extra):
    data = {"csrf_token": token, **extra}
    for i, (kind, status, overdue, history) in enumerate(rows):
        data.update({f"kind-{i}": kind, f"status-{i}": status, f"current_overdue-{i}": overdue,
                     f"history-{i}": history})
    return data


def test_store_operation_records_accounts_class_and_audit(app, world):
    rm = db.session.scalar(select(User).where(User.username == "rm_a"))
    c = _client("CA0001")
    screening = operations.store_screening(c, [
        {"kind": "card", "status": "normal", "current_overdue": 0, "history": TWO_LATE},
        {"kind": "loan", "status": "closed", "current_overdue": 0, "history": CLEAN}], rm)
    db.session.commit()
    assert screening.computed_class == screening.final_class == "blemished"
    assert [a.position for a in screening.accounts] == [1, 2] and c.credit_class == "blemished"
    assert any(r["code"] == "blemished.worst_level" for r in screening.reasons)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "credit.screen"))
    assert audit.after["final_class"] == "blemished" and audit.object_id == "CA0001"


def test_override_must_be_worse_and_have_a_reason(app, world):
    c = _client("CA0001")
    accounts = [{"kind": "card", "status": "normal", "current_overdue": 0, "history": CLEAN}]
    with pytest.raises(OperationError, match="worse"):
        operations.store_screening(c, accounts, None, override_class="normal", override_reason="x")
    with pytest.raises(OperationError) as raised:
        operations.store_screening(c, accounts, None, override_class="subprime", override_reason=" ")
    assert raised.value.field == "override_reason"
    db.session.rollback()
    screening = operations.store_screening(c, accounts, None, override_class="subprime", override_reason="司法查询")
    assert (screening.computed_class, screening.final_class, screening.override_reason) == \
        ("normal", "subprime", "司法查询")


@pytest.mark.parametrize("table", ["credit_screenings", "credit_accounts"])
def test_screenings_are_append_only(app, world, table):
    operations.store_screening(_client("CA0001"), [
        {"kind": "card", "status": "normal", "current_overdue": 0, "history": CLEAN}], None)
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text(f"DELETE FROM {table}"))
        db.session.flush()
    db.session.rollback()


def test_manager_screens_by_form_and_sees_class_and_clauses(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    response = client.post("/clients/CA0001/credit", data=_form(token, [
        ("card", "normal", "0", TWO_LATE), ("", "", "", ""), ("loan", "settled", "0", CLEAN)]))
    assert response.status_code == 302
    html = client.get("/clients/CA0001/credit").get_data(as_text=True)
    assert 'data-class="blemished"' in html and 'data-code="blemished.worst_level"' in html
    assert 'id="credit-eligible">eligible<' in html
    screening = db.session.scalar(select(CreditScreening))
    assert len(screening.accounts) == 2  # the empty row is ignored
    row = _book_row(client.get("/book").get_data(as_text=True), "CA0001")
    assert "eligible" in row and "not eligible" not in row


def test_bad_form_row_names_the_row_and_position_and_stores_nothing(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    response = client.post("/clients/CA0001/credit", data=_form(token, [
        ("card", "normal", "0", CLEAN), ("loan", "normal", "0", "N" * 10 + "X" + "N" * 13)]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Row 2" in html and "position 11" in html
    assert _screenings() == 0


def test_csv_import_stores_every_account(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    content = f"kind,status,current_overdue,history\ncard,normal,0,{CLEAN}\nloan,normal,0,{BARRED_CARD}\n"
    response = client.post("/clients/CA0001/credit/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "report.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    screening = db.session.scalar(select(CreditScreening))
    assert screening.final_class == "barred" and screening.source == "csv" and len(screening.accounts) == 2
    assert _client("CA0001").credit_class == "barred"
    row = _book_row(client.get("/book").get_data(as_text=True), "CA0001")
    assert "not eligible" in row


def test_csv_import_names_every_bad_line_and_stores_nothing(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    content = ("kind,status,current_overdue,history\n"
               f"card,normal,0,{CLEAN}\n"
               f"card,normal,0,{'N' * 4}Q{'N' * 19}\n"
               f"boat,normal,0,{CLEAN}\n"
               f"loan,normal,0,{'N' * 23}\n"
               "loan,normal\n")
    response = client.post("/clients/CA0001/credit/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "report.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was stored: 4 lines have errors." in html
    assert "Line 3" in html and "position 5" in html
    assert "Line 4" in html and "boat" in html
    assert "Line 5" in html and "24 characters" in html
    assert "Line 6" in html
    assert "Line 2:" not in html
    assert _screenings() == 0 and db.session.scalar(select(func.count(CreditAccount.id))) == 0


def test_csv_without_the_header_is_refused(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    response = client.post("/clients/CA0001/credit/import", data={
        "csrf_token": token, "file": (io.BytesIO(f"card,normal,0,{CLEAN}\n".encode()), "r.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "header" in response.get_data(as_text=True)
    assert _screenings() == 0


def test_override_page_adds_a_new_screening(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    client.post("/clients/CA0001/credit", data=_form(token, [("card", "normal", "0", CLEAN)]))
    first = db.session.scalar(select(CreditScreening))
    refused = client.post(f"/clients/CA0001/credit/{first.id}/override",
                          data={"csrf_token": token, "override_class": "subprime", "override_reason": ""})
    assert refused.status_code == 400 and _screenings() == 1
    response = client.post(f"/clients/CA0001/credit/{first.id}/override",
                           data={"csrf_token": token, "override_class": "subprime", "override_reason": "涉诉"})
    assert response.status_code == 302
    latest = db.session.scalar(select(CreditScreening).order_by(CreditScreening.id.desc()))
    assert (latest.computed_class, latest.final_class, latest.source) == ("normal", "subprime", "override")
    html = client.get("/clients/CA0001/credit").get_data(as_text=True)
    assert 'data-class="subprime"' in html and "涉诉" in html
    assert html.count("<tr>") >= 3  # header + two screenings in the history


def test_scoping_of_the_credit_pages(client, auth, world):
    auth.login("rm_a")
    token = csrf_token(client, "/clients/CA0001/credit")
    assert client.get("/clients/CB0001/credit").status_code == 404
    assert client.post("/clients/CB0001/credit", data=_form(token, [("card", "normal", "0", CLEAN)])).status_code == 404
    assert _screenings() == 0
    auth.login("sup_a")
    page = client.get("/clients/CA0001/credit")
    assert page.status_code == 200 and 'id="accounts-form"' not in page.get_data(as_text=True)
    assert client.get("/clients/CB0001/credit").status_code == 404
    auth.login("compliance")
    assert client.get("/clients/CB0001/credit").status_code == 200
    auth.login("client_a")
    assert client.get("/clients/CA0001/credit").status_code == 403
