"""A leaver's clients moved in the same staff import: the roster's optional `reassign_to` column (files and the API)
names who takes them — refused without it, every successor checked, the moves in both books and the history."""
from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import select

from models import Client, ClientAssignment, DataImport, Manager, User, db
from portal.imports.onboarding import import_file
from tests.test_onboarding import (
    SAMPLES,
    STAFF_HEADER,
    onboard,
    refused,
    staff,
    table_counts,
    write_csv,
)

HEADER = [*STAFF_HEADER, "reassign_to"]


@pytest.fixture
def client(app):
    """Messages are asserted in English, the catalog's source language."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


def sample_roster() -> dict[str, list[str]]:
    """The sample roster's rows by employee number, each with an empty reassign_to."""
    rows = list(csv.reader((SAMPLES / "staff.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == STAFF_HEADER
    return {row[0]: [*row, ""] for row in rows[1:]}


def leaving(row: list[str], successor: str = "") -> list[str]:
    row = list(row)
    row[HEADER.index("status")], row[HEADER.index("reassign_to")] = "left", successor
    return row


def new_hire(employee_no: str, status: str = "active", successor: str = "") -> list[str]:
    return [employee_no, "新员工", "BJ01", "BJ-WM1", "北京财富管理一组", "no", "junior", "2025-01-06", "2025-01-06",
            status, "", "", successor]


def as_objects(rows: list[list[str]]) -> list[dict]:
    return [dict(zip(HEADER, (value if value != "" else None for value in row))) for row in rows]


def admin_headers(token_for) -> dict:
    from tests.conftest import Factory

    Factory().user("admin", "admin")
    db.session.commit()
    return {"Authorization": f"Bearer {token_for('admin')}"}


def clients_of(employee_no: str) -> set[str]:
    """The open clients in this person's book."""
    db.session.expire_all()
    return set(db.session.scalars(select(Client.client_no).join(Manager, Client.manager_id == Manager.id).where(
        Manager.employee_no == employee_no, Client.closed_on.is_(None))))


def test_refused_without_a_successor_then_moved_to_one_hired_in_the_same_file(app, client, auth, tmp_path):
    onboard()
    from tests.conftest import Factory

    Factory().user("admin", "admin")
    login = Factory().user("li_fang", "rm", manager=staff("E10002"))
    db.session.commit()
    roster = sample_roster()
    # Without the column, and with it left empty: the leaver is a bad row naming how many clients they have.
    body = [row[:-1] for row in roster.values()]
    body[1][STAFF_HEADER.index("status")] = "left"
    for path in (write_csv(tmp_path, "plain.csv", STAFF_HEADER, body),
                 write_csv(tmp_path, "empty.csv", HEADER, [leaving(roster["E10002"]) if no == "E10002" else row
                                                           for no, row in roster.items()])):
        problem = refused("staff", path)
        assert [(p.line, p.key, p.field, p.code, p.detail) for p in problem.problems] == [
            (3, "E10002", "status", "leaver_has_clients", "2")]
        assert "2 clients" in problem.problems[0].message
    # 李芳 (E10002) leaves; her two clients go to 周杰 (E10009), hired in the same file.
    rows = [leaving(row, "e10009") if no == "E10002" else row for no, row in roster.items()]
    path = write_csv(tmp_path, "roster.csv", HEADER, [*rows, new_hire("E10009")])
    before = table_counts()
    dry = import_file("staff", path, options=_options(dry_run=True))
    db.session.rollback()
    assert dry.as_dict() == {"created": 1, "updated": 1, "unchanged": 6, "reassigned": 2, "left": 1,
                             "import_id": None, "dry_run": True}
    assert table_counts() == before  # a dry run writes nothing
    result = import_file("staff", path)
    db.session.commit()
    assert (result.created, result.updated, result.reassigned, result.left) == (1, 1, 2, 1)
    assert clients_of("E10009") == {"K202600001", "K202600002"} and clients_of("E10002") == set()
    assert staff("E10002").status == "left" and db.session.get(User, login.id).active is False
    moves = db.session.scalars(select(ClientAssignment).order_by(ClientAssignment.client_id)).all()
    assert [(m.client.client_no, m.from_manager.employee_no, m.to_manager.employee_no, m.reason) for m in moves] == [
        ("K202600001", "E10002", "E10009", f"import #{result.import_id}"),
        ("K202600002", "E10002", "E10009", f"import #{result.import_id}")]
    # Both books and the assignment history, as the portal shows them.
    auth.login("admin")
    successor_book = client.get("/managers/E10009/book").get_data(as_text=True)
    assert "K202600001" in successor_book and "K202600002" in successor_book
    assert "K202600001" not in client.get("/managers/E10002/book").get_data(as_text=True)
    assert f"import #{result.import_id}" in client.get("/clients/K202600001/assignments").get_data(as_text=True)
    assert "status,email,phone[,reassign_to]" in client.get("/admin/imports").get_data(as_text=True)
    # The same file again changes nothing: the leaver has no clients left to move.
    again = import_file("staff", path)
    db.session.commit()
    assert (again.created, again.updated, again.unchanged, again.reassigned) == (0, 0, 8, 0)


def _options(**options):
    from portal.imports.onboarding import Options

    return Options(**options)


def test_from_the_api_each_leaver_to_their_own_successor_and_the_rest_to_the_option(app, client, token_for):
    onboard()
    headers = admin_headers(token_for)
    roster = sample_roster()
    chen_jing = clients_of("E10005")
    assert len(chen_jing) == 3
    rows = as_objects([leaving(roster["E10005"], "E10004"), leaving(roster["E10002"])])
    refusal = client.post("/api/v1/staff", json=rows, headers=headers)
    assert refusal.status_code == 400
    assert [(r["index"], r["key"], r["code"]) for r in refusal.get_json()["error"]["rows"]] == [
        (1, "E10002", "leaver_has_clients")]
    before = table_counts()
    dry = client.post("/api/v1/staff?dry_run=1&reassign_to=E10001", json=rows, headers=headers)
    assert dry.status_code == 200, dry.get_json()
    assert (dry.get_json()["reassigned"], dry.get_json()["dry_run"]) == (5, True)
    assert table_counts() == before
    done = client.post("/api/v1/staff?reassign_to=E10001", json=rows, headers=headers)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["updated"], body["reassigned"], body["left"]) == (2, 5, 2)
    assert clients_of("E10004") == chen_jing and clients_of("E10001") == {"K202600001", "K202600002"}
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    moves = db.session.scalars(select(ClientAssignment)).all()
    assert {(m.from_manager.employee_no, m.to_manager.employee_no) for m in moves} == {
        ("E10005", "E10004"), ("E10002", "E10001")}
    assert len(moves) == 5
    assert {(m.reason, m.assigned_by_id) for m in moves} == {(f"import #{body['import_id']}", admin.id)}
    assert db.session.get(DataImport, body["import_id"]).counts["reassigned"] == 5


def bad_successor_rows() -> list[list[str]]:
    """Each leaver's successor is wrong in its own way (E10008 has left, E10003 is on leave: see the fixture)."""
    roster = sample_roster()
    return [
        leaving(roster["E10001"], "E10008"),     # manager_left: left before this import
        leaving(roster["E10002"], "E10002"),     # reassign_to_self
        leaving(roster["E10004"], "E10003"),     # manager_not_active: on leave, not in the file
        leaving(roster["E10005"], "E99999"),     # unknown_manager
        leaving(roster["E10006"], "E10007"),     # reassign_to_leaving: leaves in this file too
        leaving(roster["E10007"], "E10004"),     # reassign_to_leaving
        new_hire("E20050", successor="E10001"),  # reassign_to_but_active
        new_hire("E20051", "left", "E 1"),       # invalid_code
    ]


EXPECTED = {"E10001": "manager_left", "E10002": "reassign_to_self", "E10004": "manager_not_active",
            "E10005": "unknown_manager", "E10006": "reassign_to_leaving", "E10007": "reassign_to_leaving",
            "E20050": "reassign_to_but_active", "E20051": "invalid_code"}


@pytest.fixture
def with_leaver_and_on_leave(app, tmp_path):
    onboard()
    import_file("staff", write_csv(tmp_path, "leaver.csv", STAFF_HEADER, [
        ["E10008", "孙八", "SZ01", "", "", "no", "junior", "2021-01-04", "2021-01-04", "left", "", ""]]))
    staff("E10003").status = "on_leave"
    db.session.commit()


def test_bad_successors_are_refused_with_their_codes_from_a_file(with_leaver_and_on_leave, tmp_path):
    before = table_counts()
    problem = refused("staff", write_csv(tmp_path, "bad.csv", HEADER, bad_successor_rows()))
    assert problem.code == "invalid_rows"
    assert {p.key: (p.field, p.code) for p in problem.problems} == {
        key: ("reassign_to", code) for key, code in EXPECTED.items()}
    assert problem.total == len(EXPECTED)
    by_key = {p.key: p for p in problem.problems}
    assert by_key["E10006"].line == 6 and by_key["E10006"].message == (
        "E10007 leaves in this import too: name someone who stays.")
    assert table_counts() == before


def test_bad_successors_are_refused_with_their_codes_from_the_api(with_leaver_and_on_leave, client, token_for):
    headers = admin_headers(token_for)
    answer = client.post("/api/v1/staff?reassign_to=E10001", json=as_objects(bad_successor_rows()), headers=headers)
    assert answer.status_code == 400
    rows = answer.get_json()["error"]["rows"]
    assert {row["key"]: (row["field"], row["code"]) for row in rows} == {
        key: ("reassign_to", code) for key, code in EXPECTED.items()}
    assert next(row["index"] for row in rows if row["key"] == "E20050") == 6
    assert db.session.scalar(select(Manager).where(Manager.employee_no == "E20050")) is None


def test_the_column_may_be_left_out_but_not_named_twice(app, tmp_path):
    onboard(("branches",))
    result = import_file("staff", SAMPLES / "staff.csv")  # no reassign_to column: as before
    db.session.rollback()
    assert result.created == 7
    roster = list(sample_roster().values())
    problem = refused("staff", write_csv(tmp_path, "twice.csv", [*HEADER, "reassign_to"],
                                         [[*row, ""] for row in roster]))
    assert problem.code == "bad_header" and "reassign_to" in problem.message


def test_dry_run_from_the_command_line_with_the_column(app, runner, tmp_path):
    onboard()
    roster = sample_roster()
    path = write_csv(tmp_path, "roster.csv", HEADER, [leaving(roster["E10007"], "E10006")])
    before = table_counts()
    result = runner.invoke(args=["import-staff", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output.strip().splitlines()[-1])
    assert (counts["reassigned"], counts["left"], counts["import_id"]) == (2, 1, None)
    assert table_counts() == before
    applied = runner.invoke(args=["import-staff", str(path)])
    assert applied.exit_code == 0, applied.output
    assert clients_of("E10006") == {"K202600005", "K202600006"}
