"""Onboarding imports (branches, staff roster, client master) through files, the CLI and the API: one validation,
every bad row named by its stable code, all or nothing; upserts, reassignments, leavers, closures, dry runs, --full."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import (
    AuditEntry,
    Branch,
    Client,
    ClientAssignment,
    DataImport,
    LevelChange,
    Manager,
    Team,
    User,
    db,
)
from portal.imports.onboarding import ImportRefused, Options, import_file
from portal.rules.calendar import business_today
from portal.rules.identity import check_character

pytestmark = pytest.mark.language("en")

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
STAFF_HEADER = ["employee_no", "name", "branch", "team_code", "team_name", "team_head", "level", "level_since",
                "hire_date", "status", "email", "phone"]
CLIENT_HEADER = ["client_no", "name", "id_type", "id_number", "birth_date", "sex", "phone", "email", "branch",
                 "opened_on", "manager_employee_no", "status", "closed_on"]
BRANCH_HEADER = ["code", "name", "name_en", "city"]


def resident_id(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + check_character(body)


def write_csv(directory: Path, name: str, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = directory / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def table_counts() -> dict[str, int]:
    """Rows of every table of the schema."""
    return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def onboard(kinds=("branches", "staff", "clients")) -> dict:
    results = {}
    for kind in kinds:
        results[kind] = import_file(kind, SAMPLES / f"{kind}.csv").as_dict()
        db.session.commit()
    return results


def staff(employee_no: str) -> Manager:
    return db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))


def customer(client_no: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def refused(kind: str, path: Path, **options) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        import_file(kind, path, options=Options(**options))
    db.session.rollback()
    return caught.value


def codes_of(problems) -> set[str]:
    return {p.code if hasattr(p, "code") else p["code"] for p in problems}


# --- the samples, in order ----------------------------------------------------------------------------------

def test_sample_files_import_in_order_and_a_second_run_is_all_unchanged(app):
    first = onboard()
    assert first["branches"] == {"created": 3, "updated": 0, "unchanged": 0, "import_id": first["branches"]["import_id"]}
    assert first["staff"]["created"] == 7 and first["clients"]["created"] == 10
    bj = db.session.scalar(select(Branch).where(Branch.code == "BJ01"))
    assert (bj.name, bj.name_en, bj.city) == ("北京建国门营业部", "Beijing Jianguomen Branch", "北京")  # BOM file
    team = db.session.scalar(select(Team).where(Team.code == "BJ-WM1"))
    assert team.name == "北京财富管理一组" and team.supervisor.employee_no == "E10001" and team.branch_id == bj.id
    assert staff("E10002").team_id == team.id and staff("E10002").level == "mid" and staff("E10002").branch_id == bj.id
    sun = customer("K202600001")
    assert (sun.name, sun.sex, sun.branch.code, sun.manager.employee_no) == ("孙丽", "F", "BJ01", "E10002")
    assert customer("K202600008").manager_id is None  # an empty manager: the unassigned pool
    assert customer("K202600010").closed_on == date(2024, 12, 31)
    kinds = {change.kind for change in db.session.scalars(select(LevelChange))}
    assert kinds == {"initial"}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action.like("import.%"))) == 3
    second = onboard()
    for kind, total in (("branches", 3), ("staff", 7), ("clients", 10)):
        counts = second[kind]
        assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 0, total), (kind, counts)
        assert counts.get("reassigned", 0) == 0 and counts.get("closed", 0) == 0


def test_gb18030_file_reads_the_same_as_the_utf8_one(app):
    onboard(("branches", "staff"))
    result = import_file("clients", SAMPLES / "clients-gb18030.csv").as_dict()
    db.session.commit()
    assert result["created"] == 10
    assert customer("K202600002").name == "周强" and customer("K202600002").sex == "M"  # 男 read from GB18030
    again = import_file("clients", SAMPLES / "clients.csv").as_dict()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 10)


def test_a_csv_in_neither_utf8_nor_gb18030_is_one_clear_error(app, tmp_path):
    onboard(("branches",))
    path = tmp_path / "latin.csv"
    path.write_bytes(",".join(BRANCH_HEADER).encode() + b"\nBJ09,caf\xe9\xff\x80,,x\n")
    problem = refused("branches", path)
    assert problem.code == "encoding" and problem.problems == []
    assert "neither UTF-8 nor GB18030" in problem.message


def test_utf8_with_bom_and_full_width_values(app, tmp_path):
    path = tmp_path / "branches.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "code,name,name_en,city\n\u3000ＧＺ０１ ,广州天河营业部,,广州\n".encode())
    assert import_file("branches", path).created == 1
    assert db.session.scalar(select(Branch.code).where(Branch.name == "广州天河营业部")) == "GZ01"


def test_excel_date_cells_and_serial_numbers(app, tmp_path):
    onboard(("branches",))
    book = Workbook()
    sheet = book.active
    sheet.append(STAFF_HEADER)
    sheet.append(["E30001", "钱七", "BJ01", None, None, "no", "junior", datetime(2024, 9, 2), datetime(2024, 9, 2),
                  "active", None, 13800138001])
    sheet.append(["E30002", "钱八", "BJ01", None, None, None, "mid", 45352, date(2020, 1, 6), "active", None, None])
    path = tmp_path / "staff.xlsx"
    book.save(path)
    assert import_file("staff", path).created == 2
    assert staff("E30001").hire_date == date(2024, 9, 2) and staff("E30001").phone == "13800138001"
    assert staff("E30002").level_since == date(2024, 3, 1)  # serial 45352


# --- every bad row, from a file ------------------------------------------------------------------------------

def bad_staff_rows(today: date) -> list[list]:
    soon = (today + timedelta(days=5)).isoformat()
    ok = ["BJ01", "", "", "no", "junior", "2020-01-06", "2020-01-06", "active", "", ""]
    return [
        ["E20001", "", *ok],                                                           # missing
        ["E 2", "甲", *ok],                                                             # invalid_code
        ["E20003", "乙", "XX99", *ok[1:]],                                              # unknown_branch
        ["E20004", "丙", "BJ01", "NEWT", "", *ok[3:]],                                  # unknown_team
        ["E20005", "丁", *ok[:4], "expert", *ok[5:]],                                   # unknown_level
        ["E20006", "戊", *ok[:5], "2019-01-01", "2020-01-01", *ok[7:]],                 # level_before_hire
        ["E20007", "己", *ok[:5], soon, (today - timedelta(days=9)).isoformat(), *ok[7:]],  # level_after_today
        ["E20008", "庚", *ok[:6], "2020/01/01", *ok[7:]],                               # invalid_date
        ["E20009", "辛", *ok[:6], soon, *ok[7:]],                                       # future_date
        ["E20010", "壬", *ok[:7], "gone", "", ""],                                      # invalid_choice
        ["E20011", "癸", "BJ01", "", "", "maybe", *ok[4:]],                             # invalid_yes_no
        ["E20012", "子", *ok[:8], "", "12345"],                                         # invalid_mobile
        ["E20013", "丑", *ok[:8], "x@", ""],                                            # invalid_email
        ["E20014", "寅", *ok],                                                          # duplicate (with the next)
        ["E20014", "卯", *ok],
        ["E20015", "辰", "BJ01", "T2H", "二组", "yes", *ok[4:]],                         # two_heads (with the next)
        ["E20016", "巳", "BJ01", "T2H", "二组", "yes", *ok[4:]],
        ["E20017", "午", "BJ01", "T3N", "甲组", "no", *ok[4:]],                          # team_name_differs
        ["E20018", "未", "BJ01", "T3N", "乙组", "no", *ok[4:]],
        ["E10002", "李芳", "BJ01", "BJ-WM1", "北京财富管理一组", "no", "mid", "2022-01-01", "2018-06-04", "left", "",
         ""],                                                                          # leaver_has_clients (2)
        ["E20019", "申" * 101, *ok],                                                    # too_long
        ["E20020", "酉\x01", *ok],                                                      # control_characters
    ]


STAFF_FILE_CODES = {"missing", "invalid_code", "unknown_branch", "unknown_team", "unknown_level", "level_before_hire",
                    "level_after_today", "invalid_date", "future_date", "invalid_choice", "invalid_yes_no",
                    "invalid_mobile", "invalid_email", "duplicate", "two_heads", "team_name_differs",
                    "leaver_has_clients", "too_long", "control_characters"}


def bad_client_rows(today: date) -> list[list]:
    born = date(1980, 5, 17)
    woman, man = resident_id("110105", born, 124), resident_id("110105", born, 135)
    ok = [woman, born.isoformat(), "F", "13800138000", "", "BJ01", "2015-03-01", "E10002", "open", ""]
    tail = ok[3:]
    return [
        ["K30001", "甲", "driving_licence", *ok],                                       # invalid_id_type
        ["K30002", "乙", "resident_id", woman, born.isoformat(), "X", *tail],           # invalid_sex
        ["K30003", "丙", "resident_id", "12345", born.isoformat(), "F", *tail],         # id_number_form
        ["K30004", "丁", "resident_id", woman[:17] + ("0" if woman[17] != "0" else "1"), born.isoformat(), "F", *tail],
        ["K30005", "戊", "resident_id", woman, "1980-05-18", "F", *tail],               # id_birth_date_mismatch
        ["K30006", "己", "resident_id", man, born.isoformat(), "F", *tail],             # id_sex_mismatch
        ["K30007", "庚", "resident_id", *ok[:6], (today + timedelta(days=3)).isoformat(), "E10002", "open", ""],
        ["K30008", "辛", "resident_id", *ok[:6], "2015-03-01", "", "closed", "2015-02-01"],  # closed_before_opened
        ["K30009", "壬", "resident_id", *ok[:6], "2015-03-01", "", "closed", ""],        # closed_without_date
        ["K30010", "癸", "resident_id", *ok[:6], "2015-03-01", "", "open", "2020-01-01"],  # closed_on_but_open
        ["K30011", "子", "resident_id", *ok[:7], "E99999", "open", ""],                 # unknown_manager
        ["K30012", "丑", "resident_id", *ok[:7], "E10008", "open", ""],                 # manager_left
        ["K30013", "寅", "resident_id", *ok[:7], "E10003", "open", ""],                 # manager_not_active
        ["K202600010", "许婉", "resident_id", resident_id("440304", date(1968, 3, 3), 124), "1968-03-03", "女", "", "",
         "SZ01", "2009-05-20", "", "open", ""],                                          # already_closed
        ["K30014", "卯", "resident_id", *ok[:5], "ZZ01", *ok[6:]],                      # unknown_branch
        ["K30015", "辰", "resident_id", *ok],                                           # duplicate (with the next)
        ["K30015", "巳", "resident_id", *ok],
        ["K30016", "午", "resident_id", *ok[:3], "555", *ok[4:]],                       # invalid_mobile
        ["K30017", "未", "resident_id", *ok[:4], "not-an-address", *ok[5:]],            # invalid_email
        ["K30018", "申", "resident_id", *ok[:1], "1980-02-30", *ok[2:]],                # invalid_date
    ]


CLIENT_FILE_CODES = {"invalid_id_type", "invalid_sex", "id_number_form", "id_check_digit", "id_birth_date_mismatch",
                     "id_sex_mismatch", "opened_in_future", "closed_before_opened", "closed_without_date",
                     "closed_on_but_open", "unknown_manager", "manager_left", "manager_not_active", "already_closed",
                     "unknown_branch", "duplicate", "invalid_mobile", "invalid_email", "invalid_date"}


@pytest.fixture
def onboarded(app, tmp_path):
    """The samples, plus a leaver without clients (E10008) and a manager on leave (E10003)."""
    onboard()
    leaver = import_file("staff", write_csv(tmp_path, "leaver.csv", STAFF_HEADER, [
        ["E10008", "孙八", "SZ01", "", "", "no", "junior", "2021-01-04", "2021-01-04", "left", "", ""]]))
    assert leaver.created == 1
    staff("E10003").status = "on_leave"
    db.session.commit()
    return business_today()


def test_every_staff_bad_row_code_from_a_file(onboarded, tmp_path):
    before = table_counts()
    rows = bad_staff_rows(onboarded)
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, rows)
    with path.open("a", encoding="utf-8") as extra:
        extra.write("E20099,short line\n")  # field_count
    problem = refused("staff", path)
    assert problem.code == "invalid_rows"
    assert codes_of(problem.problems) == STAFF_FILE_CODES | {"field_count"}
    by_code = {p.code: p for p in problem.problems}
    assert by_code["leaver_has_clients"].detail == "2" and "2 clients" in by_code["leaver_has_clients"].message
    assert (by_code["duplicate"].line, by_code["duplicate"].detail) == (16, "15")  # line 16 repeats line 15
    assert by_code["field_count"].line == len(rows) + 2
    assert table_counts() == before  # nothing written


def test_every_client_bad_row_code_from_a_file(onboarded, tmp_path):
    before = table_counts()
    problem = refused("clients", write_csv(tmp_path, "clients.csv", CLIENT_HEADER, bad_client_rows(onboarded)))
    assert codes_of(problem.problems) == CLIENT_FILE_CODES
    lines = {p.code: p.line for p in problem.problems}
    assert lines["invalid_id_type"] == 2 and lines["id_check_digit"] == 5 and lines["already_closed"] == 15
    assert table_counts() == before


def test_a_branch_name_held_by_another_code(app, tmp_path):
    onboard(("branches",))
    problem = refused("branches", write_csv(tmp_path, "b.csv", BRANCH_HEADER, [
        ["BJ02", "北京建国门营业部", "", "北京"], ["GZ01", "广州营业部", "", "广州"], ["GZ02", "广州营业部", "", "广州"],
        ["", "无代码营业部", "", "广州"]]))
    assert [(p.line, p.code) for p in problem.problems] == [(2, "name_taken"), (4, "name_taken"), (5, "missing")]


def test_a_wrong_header_refuses_the_file(app, tmp_path):
    path = write_csv(tmp_path, "b.csv", ["code", "name", "town"], [["BJ01", "x", "y"]])
    problem = refused("branches", path)
    assert problem.code == "bad_header" and "missing columns: name_en, city" in problem.message


# --- every bad row, from the API -----------------------------------------------------------------------------

def _as_objects(header: list[str], rows: list[list]) -> list[dict]:
    return [dict(zip(header, (value if value != "" else None for value in row))) for row in rows]


def _admin_and_compliance() -> None:
    from tests.helpers import Factory

    Factory().user("admin", "admin")
    Factory().user("compliance", "compliance")
    db.session.commit()


def test_every_bad_row_code_from_the_api(onboarded, client, token_for):
    _admin_and_compliance()
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    before = table_counts()
    staff_rows = _as_objects(STAFF_HEADER, bad_staff_rows(onboarded))
    staff_rows += [{"employee_no": "E20030", "name": 7}, {**staff_rows[1], "employee_no": "E20031", "nickname": "x"},
                   "not an object"]
    answer = client.post("/api/v1/staff", json=staff_rows, headers=headers)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_rows"
    assert codes_of(error["rows"]) == STAFF_FILE_CODES | {"wrong_type", "unknown_field", "not_an_object"}
    first = next(row for row in error["rows"] if row["code"] == "missing")
    assert first == {"index": 0, "key": "E20001", "field": "name", "code": "missing", "message": "name is required."}
    duplicate = next(row for row in error["rows"] if row["code"] == "duplicate")
    assert duplicate["index"] == 14 and duplicate["message"] == "The same employee_no is in row 13 too."

    client_rows = _as_objects(CLIENT_HEADER, bad_client_rows(onboarded))
    client_rows[13]["sex"] = "F"  # 女 is read in files only; the API takes M or F
    client_rows.append({**client_rows[0], "client_no": "K30019", "id_type": "resident_id", "sex": "男"})
    client_rows.append({**client_rows[0], "client_no": "K3\u00000", "id_type": "resident_id"})  # NUL in the key
    answer = client.post("/api/v1/clients", json=client_rows, headers=headers)
    rows = answer.get_json()["error"]["rows"]
    assert codes_of(rows) == CLIENT_FILE_CODES | {"control_characters", "missing", "invalid_code"}
    assert {row["code"] for row in rows if row["index"] == len(client_rows) - 2} == {"invalid_sex"}
    assert {row["code"] for row in rows if row["index"] == len(client_rows) - 1} == {
        "control_characters", "missing", "invalid_code"}

    answer = client.post("/api/v1/branches", json=[{"code": "BJ02", "name": "北京建国门营业部", "city": "北京"}],
                         headers=headers)
    assert codes_of(answer.get_json()["error"]["rows"]) == {"name_taken"}
    assert table_counts() == {**before, "data_imports": before["data_imports"] + 3,
                              "audit_log": before["audit_log"] + 3}  # the refusals are recorded, nothing else


def test_api_answers_counts_dry_runs_and_limits(onboarded, client, token_for):
    _admin_and_compliance()
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    rows = [{"code": "GZ01", "name": "广州天河营业部", "name_en": "Guangzhou Tianhe Branch", "city": "广州"},
            {"code": "BJ01", "name": "北京建国门营业部", "name_en": "Beijing Jianguomen Branch", "city": "北京"}]
    before = table_counts()
    dry = client.post("/api/v1/branches?dry_run=1", json=rows, headers=headers)
    assert dry.status_code == 200 and dry.get_json() == {"created": 1, "updated": 0, "unchanged": 1,
                                                         "import_id": None, "dry_run": True}
    assert table_counts() == before
    done = client.post("/api/v1/branches", json=rows, headers=headers)
    assert done.status_code == 200
    body = done.get_json()
    assert (body["created"], body["unchanged"]) == (1, 1) and db.session.get(DataImport, body["import_id"]).sha256
    too_many = client.post("/api/v1/branches", json=[rows[0]] * 10_001, headers=headers)
    assert too_many.status_code == 413 and too_many.get_json()["error"]["code"] == "too_many_rows"
    assert client.post("/api/v1/branches", json=rows, headers={
        "Authorization": f"Bearer {token_for('compliance')}"}).status_code == 403
    assert client.post("/api/v1/branches", data="[", headers={**headers, "Content-Type": "application/json"}
                       ).get_json()["error"]["code"] == "invalid_json"


# --- what the writes do --------------------------------------------------------------------------------------

def test_a_reassignment_by_import_shows_in_both_books_and_the_history(app, client, auth, tmp_path):
    onboard()
    from tests.helpers import Factory

    Factory().user("li_fang", "rm", manager=staff("E10002"))
    Factory().user("zhang_wei", "rm", manager=staff("E10003"))
    db.session.commit()
    rows = list(csv.reader((SAMPLES / "clients.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    body[0][header.index("manager_employee_no")] = "E10003"  # 孙丽 moves from 李芳 to 张伟
    result = import_file("clients", write_csv(tmp_path, "moved.csv", header, body))
    db.session.commit()
    assert (result.reassigned, result.updated, result.unchanged) == (1, 1, 9)
    moved = db.session.scalars(select(ClientAssignment).where(
        ClientAssignment.client_id == customer("K202600001").id)).all()
    assert [(m.from_manager.employee_no, m.to_manager.employee_no, m.reason) for m in moved] == [
        ("E10002", "E10003", f"import #{result.import_id}")]
    auth.login("li_fang")
    assert "K202600001" not in client.get("/book").get_data(as_text=True)
    auth.logout()
    auth.login("zhang_wei")
    assert "K202600001" in client.get("/book").get_data(as_text=True)


def test_a_leaver_with_clients_is_refused_then_accepted_with_reassign_to(app, runner, tmp_path):
    onboard()
    from tests.helpers import Factory

    login = Factory().user("li_fang", "rm", manager=staff("E10002"))
    db.session.commit()
    rows = list(csv.reader((SAMPLES / "staff.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    body[1][header.index("status")] = "left"  # 李芳 (E10002) leaves with two clients
    path = write_csv(tmp_path, "staff.csv", header, body)
    before = table_counts()
    refusal = runner.invoke(args=["import-staff", str(path)])
    assert refusal.exit_code == 1
    assert "line 3 [E10002] status: leaver_has_clients" in refusal.output and "2 clients" in refusal.output
    assert {k: v for k, v in table_counts().items() if k not in ("data_imports", "audit_log")} == {
        k: v for k, v in before.items() if k not in ("data_imports", "audit_log")}
    assert db.session.scalar(select(DataImport.outcome).order_by(DataImport.id.desc()).limit(1)) == "refused"
    accepted = runner.invoke(args=["import-staff", str(path), "--reassign-to", "E10001"])
    assert accepted.exit_code == 0, accepted.output
    counts = json.loads(accepted.output.strip().splitlines()[-1])
    assert (counts["updated"], counts["reassigned"], counts["left"]) == (1, 2, 1)
    db.session.expire_all()
    leaver = staff("E10002")
    assert leaver.status == "left"  # the record is kept
    assert {c.manager.employee_no for c in (customer("K202600001"), customer("K202600002"))} == {"E10001"}
    assert db.session.scalar(select(func.count()).select_from(ClientAssignment)
                             .where(ClientAssignment.from_manager_id == leaver.id)) == 2
    assert db.session.get(User, login.id).active is False


def test_a_roster_level_change_goes_to_the_level_history(app, tmp_path):
    onboard(("branches", "staff"))
    rows = list(csv.reader((SAMPLES / "staff.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    body[2][header.index("level")] = "mid"
    body[2][header.index("level_since")] = "2025-09-01"
    result = import_file("staff", write_csv(tmp_path, "staff.csv", header, body))
    db.session.commit()
    assert (result.updated, result.unchanged) == (1, 6)
    change = db.session.scalars(select(LevelChange).where(LevelChange.kind == "roster")).one()
    assert (change.manager.employee_no, change.from_level, change.to_level, change.effective_date) == (
        "E10003", "junior", "mid", date(2025, 9, 1))
    assert change.nomination_id is None and change.approved_by_id is None


def test_closing_by_import_closes_the_account_as_close_account_does(app, tmp_path):
    onboard()
    from tests.helpers import Factory

    login = Factory().user("sun_li", "client", client=customer("K202600001"))
    db.session.commit()
    rows = list(csv.reader((SAMPLES / "clients.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    body[0][header.index("status")] = "closed"
    body[0][header.index("closed_on")] = "2025-06-30"
    result = import_file("clients", write_csv(tmp_path, "c.csv", header, body))
    db.session.commit()
    assert (result.closed, result.updated) == (1, 1)
    assert customer("K202600001").closed_on == date(2025, 6, 30)
    assert db.session.get(User, login.id).active is False


def test_dry_run_writes_nothing(app, runner, tmp_path):
    onboard(("branches",))
    for kind in ("staff", "clients"):
        before = table_counts()
        result = runner.invoke(args=[f"import-{kind}", str(SAMPLES / f"{kind}.csv"), "--dry-run"])
        assert result.exit_code == 0, result.output
        counts = json.loads(result.output.strip().splitlines()[-1])
        assert counts["created"] > 0 and counts["import_id"] is None and counts["dry_run"] is True
        assert table_counts() == before
        import_file(kind, SAMPLES / f"{kind}.csv")
        db.session.commit()


def test_full_lists_missing_records_and_apply_missing_marks_them(app, runner, tmp_path):
    onboard()
    rows = list(csv.reader((SAMPLES / "clients.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    kept = [row for row in body if row[0] not in ("K202600003", "K202600004")]
    path = write_csv(tmp_path, "master.csv", header, kept)
    listed = runner.invoke(args=["import-clients", str(path), "--full"])
    assert listed.exit_code == 0 and "2 records are not in the file" in listed.output
    assert "K202600003, K202600004" in listed.output
    db.session.expire_all()
    assert customer("K202600003").closed_on is None  # listed, left alone
    applied = runner.invoke(args=["import-clients", str(path), "--full", "--apply-missing"])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.output.strip().splitlines()[-1])["closed"] == 2
    db.session.expire_all()
    assert customer("K202600003").closed_on == business_today() and customer("K202600004").closed_on is not None
    # Staff: a roster without 陈静 (E10005, who has clients) — refused, unless their clients go to someone.
    rows = list(csv.reader((SAMPLES / "staff.csv").read_text(encoding="utf-8").splitlines()))
    roster = write_csv(tmp_path, "roster.csv", rows[0], [row for row in rows[1:] if row[0] != "E10005"])
    refusal = runner.invoke(args=["import-staff", str(roster), "--full", "--apply-missing"])
    assert refusal.exit_code == 1 and "not in the file [E10005] status: leaver_has_clients" in refusal.output
    applied = runner.invoke(args=["import-staff", str(roster), "--full", "--apply-missing", "--reassign-to", "E10004"])
    assert applied.exit_code == 0, applied.output
    db.session.expire_all()
    assert staff("E10005").status == "left" and customer("K202600009").manager.employee_no == "E10004"
    assert runner.invoke(args=["import-staff", str(roster), "--apply-missing"]).exit_code != 0  # needs --full


def test_formula_looking_text_is_stored_as_text_and_neutralised_in_exports(app, client, auth, tmp_path):
    onboard()
    rows = list(csv.reader((SAMPLES / "clients.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    body[0][1] = "=HYPERLINK(\"http://x\",\"y\")"
    import_file("clients", write_csv(tmp_path, "c.csv", header, body))
    db.session.commit()
    assert customer("K202600001").name == "=HYPERLINK(\"http://x\",\"y\")"
    from tests.helpers import Factory

    Factory().user("compliance", "compliance")
    db.session.commit()
    auth.login("compliance")
    exported = client.get("/matrix/clients?export=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in exported and "\n=HYPERLINK" not in exported and ",=HYPERLINK" not in exported


def test_the_history_page_lists_refused_imports_with_their_bad_rows(onboarded, client, auth, tmp_path):
    from portal.imports.history import refused_imports
    from tests.helpers import Factory

    Factory().user("admin", "admin")
    db.session.commit()
    auth.login("admin")
    path = write_csv(tmp_path, "bad.csv", CLIENT_HEADER, bad_client_rows(onboarded)[:2])
    from tests.helpers import csrf_token

    token = csrf_token(client, "/admin/imports")
    answer = client.post("/admin/imports", data={"kind": "clients", "csrf_token": token,
                                                 "file": (io.BytesIO(path.read_bytes()), "bad.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and "invalid_id_type" in answer.get_data(as_text=True)
    latest = refused_imports(limit=5)
    assert latest[0].outcome == "refused" and latest[0].filename == "bad.csv" and latest[0].problem_total == 2
    page = client.get("/admin/imports/history").get_data(as_text=True)
    assert "bad.csv" in page and 'data-outcome="refused"' in page
    detail = client.get(f"/admin/imports/{latest[0].id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "invalid_sex" in detail and "bad.csv" in detail
