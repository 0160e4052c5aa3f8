"""Managers' targets: the form, the CSV import (every bad line named, nothing saved), replacement, the CLI."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import AuditEntry, Manager, ManagerTarget, User, db
from portal.operations import targets as ops
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

HEADER = "employee_no,period_start,period_end,net_commission,asset_growth,new_clients\n"


def targets():
    return db.session.execute(select(Manager.employee_no, ManagerTarget.period_start, ManagerTarget.period_end,
                                     ManagerTarget.net_commission, ManagerTarget.asset_growth,
                                     ManagerTarget.new_clients)
                              .join(Manager, Manager.id == ManagerTarget.manager_id)
                              .order_by(Manager.employee_no, ManagerTarget.period_start)).all()


def upload(client, text, page="/targets"):
    return client.post("/targets/import", data={"csrf_token": csrf_token(client, page),
                                                "file": (io.BytesIO(text.encode("utf-8")), "targets.csv")},
                       content_type="multipart/form-data")


# --- the operations ---------------------------------------------------------------------------------

def test_set_target_creates_then_replaces_and_audits(app, world):
    rma1 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    ops.set_target(rma1, "2026-01-01", "2026-03-31", "20000.5", "1000000", "3", admin)
    ops.set_target(rma1, date(2026, 1, 1), date(2026, 3, 31), "25,000", "0", 4, admin)
    db.session.commit()
    assert targets() == [("RMA1", date(2026, 1, 1), date(2026, 3, 31), Decimal("25000.00"), Decimal("0.00"), 4)]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "target.set")
                                 .order_by(AuditEntry.id)).all()
    assert entries[0].before is None and entries[1].before["net_commission"] == "20000.50"
    assert entries[1].after["new_clients"] == 4


@pytest.mark.parametrize("args, field", [
    (("2026-03-31", "2026-01-01", "1", "1", "1"), "period_end"),
    (("2026-01-01", "2026-02-30", "1", "1", "1"), "period_end"),
    (("2026-01-01", "2026-03-31", "-1", "1", "1"), "net_commission"),
    (("2026-01-01", "2026-03-31", "1.001", "1", "1"), "net_commission"),
    (("2026-01-01", "2026-03-31", "1", "abc", "1"), "asset_growth"),
    (("2026-01-01", "2026-03-31", "1", "NaN", "1"), "asset_growth"),
    (("2026-01-01", "2026-03-31", "1", "1", "-2"), "new_clients"),
    (("2026-01-01", "2026-03-31", "1", "1", "2.5"), "new_clients"),
])
def test_set_target_refuses_bad_values(app, world, args, field):
    from portal.operations.errors import OperationError

    rma1 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))
    with pytest.raises(OperationError) as raised:
        ops.set_target(rma1, *args, None)
    assert raised.value.field == field
    db.session.rollback()
    assert targets() == []


def test_import_replaces_the_periods_it_holds_and_keeps_others(app, world):
    ops.import_targets(HEADER + "RMA1,2026-01-01,2026-03-31,100,200,1\nRMA2,2026-01-01,2026-03-31,100,200,1\n"
                       "RMA1,2025-10-01,2025-12-31,5,5,5\n", None)
    summary = ops.import_targets(HEADER + "rma1,2026-01-01,2026-03-31,300.25,400,2\n", None)
    db.session.commit()
    assert summary == {"imported": 1, "replaced": 2, "periods": ["2026-01-01..2026-03-31"]}
    assert targets() == [("RMA1", date(2025, 10, 1), date(2025, 12, 31), Decimal("5.00"), Decimal("5.00"), 5),
                         ("RMA1", date(2026, 1, 1), date(2026, 3, 31), Decimal("300.25"), Decimal("400.00"), 2)]


def test_every_bad_line_is_named_and_nothing_is_saved(app, world):
    ops.import_targets(HEADER + "RMA2,2026-01-01,2026-03-31,1,1,1\n", None)
    db.session.commit()
    text = (HEADER
            + "RMA1,2026-01-01,2026-03-31,100,200,1\n"  # 2: fine
            + "NOBODY,2026-01-01,2026-03-31,100,200,1\n"  # 3: unknown employee
            + "RMA1,2026-03-31,2026-01-01,100,200,1\n"  # 4: end before start
            + "RMA1,2026-04-01,2026-06-30,-5,200,1\n"  # 5: negative amount
            + "RMA1,2026-04-01,2026-06-30,abc,200,1\n"  # 6: bad amount
            + "RMA1,2026-01-01,2026-03-31,100,200,1\n"  # 7: duplicate of line 2
            + "RMA1,2026-01-01\n"  # 8: too few values
            + ",2026-01-01,2026-03-31,1,1,1\n"  # 9: no employee number
            + "RMA1,2026-07-01,2026-09-30,1,1,-1\n"  # 10: negative count
            + "RM\x00A1,2026-07-01,2026-09-30,1,1,1\n")  # 11: a control character
    with pytest.raises(ops.TargetsImportError) as raised:
        ops.import_targets(text, None)
    lines = [p["line"] for p in raised.value.problems]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    messages = [p["message"] for p in raised.value.problems]
    assert messages[0] == "Line 3: no staff record has the employee number NOBODY."
    assert "ends before it starts" in messages[1] and "cannot be negative" in messages[2]
    assert "already has targets" in messages[4] and "line 2" in messages[4]
    db.session.rollback()
    assert [t[0] for t in targets()] == ["RMA2"]  # nothing saved, nothing replaced


@pytest.mark.parametrize("content, code", [
    ("", "invalid_header"),
    ("employee,start\nRMA1,2026-01-01\n", "invalid_header"),
    (HEADER, "empty_file"),
    (b"\xff\xfe\x00bad", "invalid_file"),
])
def test_bad_files_are_refused(app, world, content, code):
    from portal.operations.errors import OperationError

    with pytest.raises(OperationError) as raised:
        ops.import_targets(content, None)
    assert raised.value.code == code


def test_a_supervisor_imports_only_within_their_team(app, world):
    from portal.access import supervised_team_ids

    sup = db.session.scalar(select(User).where(User.username == "sup_a"))
    teams = supervised_team_ids(sup)
    with pytest.raises(ops.TargetsImportError) as raised:
        ops.import_targets(HEADER + "RMA1,2026-01-01,2026-03-31,1,1,1\nRMB1,2026-01-01,2026-03-31,1,1,1\n"
                           "SUPA,2026-01-01,2026-03-31,1,1,1\n", sup, teams, [sup.manager_id])
    assert [(p["line"], p["message"]) for p in raised.value.problems] == [
        (3, "Line 3: RMB1 is not a manager of your team."), (4, "Line 4: SUPA is not a manager of your team.")]
    db.session.rollback()
    # The other team's targets for the same period are not replaced by this supervisor's import.
    ops.import_targets(HEADER + "RMB1,2026-01-01,2026-03-31,9,9,9\n", None)
    summary = ops.import_targets(HEADER + "RMA1,2026-01-01,2026-03-31,1,1,1\n", sup, teams, [sup.manager_id])
    db.session.commit()
    assert summary["replaced"] == 0
    assert [t[0] for t in targets()] == ["RMA1", "RMB1"]


# --- pages -----------------------------------------------------------------------------------------------

def test_supervisor_sets_a_target_with_the_form(client, auth, world):
    auth.login("sup_a")
    page = client.get("/targets/new").get_data(as_text=True)
    assert 'value="RMA1"' in page and 'value="RMB1"' not in page and 'value="SUPA"' not in page
    response = client.post("/targets/new", data={
        "csrf_token": csrf_token(client, "/targets/new"), "employee_no": "rma1", "period_start": "2026-01-01",
        "period_end": "2026-03-31", "net_commission": "12000.50", "asset_growth": "300000", "new_clients": "3"})
    assert response.status_code == 302
    assert targets() == [("RMA1", date(2026, 1, 1), date(2026, 3, 31), Decimal("12000.50"), Decimal("300000.00"), 3)]
    listed = client.get("/targets").get_data(as_text=True)
    assert 'data-employee="RMA1"' in listed and "12,000.50" in listed


@pytest.mark.parametrize("employee_no, overrides, message", [
    ("RMB1", {}, "RMB1 is not a manager whose targets you set."),
    ("SUPA", {}, "SUPA is not a manager whose targets you set."),
    ("RMA1", {"net_commission": "-1"}, "Net commission target cannot be negative."),
    ("RMA1", {"period_end": "2025-12-31"}, "The period ends before it starts."),
    ("RMA1", {"new_clients": "x"}, "New clients target must be a whole number, 0 or more."),
])
def test_the_form_refuses_with_a_message(client, auth, world, employee_no, overrides, message):
    auth.login("sup_a")
    data = {"csrf_token": csrf_token(client, "/targets/new"), "employee_no": employee_no,
            "period_start": "2026-01-01", "period_end": "2026-03-31", "net_commission": "1",
            "asset_growth": "1", "new_clients": "1", **overrides}
    response = client.post("/targets/new", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert targets() == []


def test_import_page_lists_every_bad_line(client, auth, world):
    auth.login("sup_a")
    response = upload(client, HEADER + "RMA1,2026-01-01,2026-03-31,1,1,1\nRMB1,2026-01-01,2026-03-31,1,1,1\n"
                      "RMA2,2026-01-01,2026-03-31,-1,1,1\n")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was imported: 2 lines have errors." in html
    assert "Line 3: RMB1 is not a manager of your team." in html and "Line 4:" in html
    assert targets() == []
    ok = upload(client, HEADER + "RMA1,2026-01-01,2026-03-31,1,1,1\nRMA2,2026-01-01,2026-03-31,2,2,2\n")
    assert ok.status_code == 302
    assert [t[0] for t in targets()] == ["RMA1", "RMA2"]


def test_import_without_a_file(client, auth, world):
    auth.login("admin")
    response = client.post("/targets/import", data={"csrf_token": csrf_token(client, "/targets")})
    assert response.status_code == 400 and "Choose a CSV file to import." in response.get_data(as_text=True)


def test_who_sees_which_targets(client, auth, world):
    ops.import_targets(HEADER + "RMA1,2026-01-01,2026-03-31,1,1,1\nRMB1,2026-01-01,2026-03-31,1,1,1\n", None)
    db.session.commit()
    auth.login("sup_b")
    page = client.get("/targets").get_data(as_text=True)
    assert 'data-employee="RMB1"' in page and 'data-employee="RMA1"' not in page
    auth.login("compliance")
    page = client.get("/targets?period=2026-01-01..2026-03-31").get_data(as_text=True)
    assert 'data-employee="RMB1"' in page and 'data-employee="RMA1"' in page and 'id="import-form"' not in page
    assert client.get("/targets/new").status_code == 403
    auth.login("rm_a")
    assert client.get("/targets").status_code == 403


# --- the command -------------------------------------------------------------------------------------------

def test_import_targets_command(app, world, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "targets.csv"
    good.write_text(HEADER + "RMA1,2026-01-01,2026-03-31,100,200,1\n", encoding="utf-8")
    result = runner.invoke(args=["import-targets", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 targets" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "RMA1,2026-04-01,2026-06-30,100,200,1\nNOBODY,2026-04-01,2026-06-30,1,1,1\n",
                   encoding="utf-8")
    result = runner.invoke(args=["import-targets", str(bad)])
    assert result.exit_code != 0
    assert "Line 3: no staff record has the employee number NOBODY." in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(ManagerTarget.id))) == 1


CELL = st.one_of(st.text(max_size=12), st.sampled_from(["RMA1", "RMB1", "2026-01-01", "2026-03-31", "2026-02-30",
                                                        "-1", "1e9", "NaN", "0.001", "1,000", "", "\x00"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=7), min_size=1, max_size=6))
def test_fuzzed_imports_store_all_or_nothing(app, world, rows):
    import csv as csv_module

    from portal.operations.errors import OperationError

    buffer = io.StringIO()
    buffer.write(HEADER)
    csv_module.writer(buffer).writerows(rows)
    before = db.session.scalar(select(func.count(ManagerTarget.id)))
    try:
        summary = ops.import_targets(buffer.getvalue(), None)
    except OperationError:
        db.session.rollback()
        assert db.session.scalar(select(func.count(ManagerTarget.id))) == before
    else:
        db.session.commit()
        assert summary["imported"] >= 1
