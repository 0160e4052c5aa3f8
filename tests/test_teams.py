"""The supervisor's team page and reassignment of clients between managers of the team."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.helpers import Auth, csrf_token

pytestmark = pytest.mark.language("en")


@pytest.fixture
def team_world(world, make):
    """The two-team world with distinct names and uneven books: RMA1 2, RMA2 3, RMA3 0 clients."""
    from models import db

    names = {"SUPA": "甲主管", "RMA1": "钱一", "RMA2": "孙二", "SUPB": "乙主管", "RMB1": "周三", "RMB2": "吴四"}
    for side in ("a", "b"):
        for key in ("supervisor", "rm", "rm2"):
            manager = world[side][key]
            manager.name = names[manager.employee_no]
    make.client(world["a"]["rm2"], client_no="CA0004")
    make.client(world["a"]["rm2"], client_no="CA0005")
    make.manager(world["a"]["team"], employee_no="RMA3")
    make.client(world["b"]["rm"], client_no="CB0004")
    db.session.commit()
    return world


@pytest.fixture
def supervisor(client, auth, team_world):
    assert auth.login("sup_a").status_code == 302
    return client


def count(model) -> int:
    from models import db

    return db.session.scalar(select(func.count()).select_from(model))


def manager_of(client_no: str) -> str | None:
    from models import Client, db

    db.session.expire_all()
    client = db.session.scalar(select(Client).where(Client.client_no == client_no))
    return client.manager.employee_no if client.manager else None


def audit(action: str, object_id: str | None = None) -> list:
    from models import AuditEntry, db

    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def book_sizes(page: str) -> dict[str, int]:
    """Employee number → book size, read from the team page's table rows."""
    sizes = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
        if cells:
            sizes[cells[0].strip()] = int(cells[-1].strip())
    return sizes


def reassign(client, client_no: str, to_manager: str, reason: str = "", follow: bool = False):
    token = csrf_token(client, "/")
    return client.post(f"/clients/{client_no}/reassign", data={"to_manager": to_manager, "reason": reason,
                                                                 "csrf_token": token}, follow_redirects=follow)


def field_errors(page: str, field_id: str) -> list[str]:
    pattern = rf'<div class="invalid-feedback[^"]*" id="{re.escape(field_id)}-error">(.*?)</div>'
    return [html.unescape(m) for m in re.findall(pattern, page, re.DOTALL)]


# --- the team page ---------------------------------------------------------------------------------

def test_team_page_lists_the_teams_managers_with_their_book_sizes(supervisor):
    response = supervisor.get("/team")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "TEAMA" in page and "TEAMB" not in page
    sizes = book_sizes(page)
    assert sizes == {"RMA1": 2, "RMA2": 3, "RMA3": 0}
    assert "钱一" in page and "孙二" in page
    for other in ("RMB1", "RMB2", "SUPB", "周三", "吴四"):
        assert other not in page
    assert "3 managers, 5 clients" in page


def test_team_page_follows_reassignments(supervisor):
    assert reassign(supervisor, "CA0001", "RMA3").status_code == 302
    assert book_sizes(supervisor.get("/team").get_data(as_text=True)) == {"RMA1": 1, "RMA2": 3, "RMA3": 1}


def test_other_supervisor_sees_only_their_team(client, auth, team_world):
    auth.login("sup_b")
    page = client.get("/team").get_data(as_text=True)
    assert book_sizes(page) == {"RMB1": 3, "RMB2": 1}
    assert "RMA1" not in page and "钱一" not in page


@pytest.mark.parametrize("username", ["rm_a", "client_a", "compliance", "admin"])
def test_only_supervisors_open_the_team_page(client, auth, team_world, username):
    auth.login(username)
    assert client.get("/team").status_code == 403


# --- reassignment -----------------------------------------------------------------------------------

def test_reassign_form_offers_the_other_managers_of_the_team(supervisor):
    response = supervisor.get("/clients/CA0001/reassign")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"', page)
    assert set(options) == {"RMA2", "RMA3"}  # not the current manager, not the supervisor, not team B


def test_supervisor_reassigns_a_client_with_history_and_audit(supervisor, app):
    from models import ClientAssignment, User, db

    response = reassign(supervisor, "CA0001", "RMA2", reason="平衡工作量")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/clients/CA0001")
    assert manager_of("CA0001") == "RMA2"

    history = db.session.scalars(select(ClientAssignment)).all()
    assert len(history) == 1
    move = history[0]
    sup = db.session.scalar(select(User).where(User.username == "sup_a"))
    assert move.client.client_no == "CA0001"
    assert move.from_manager.employee_no == "RMA1" and move.to_manager.employee_no == "RMA2"
    assert move.assigned_by_id == sup.id and move.reason == "平衡工作量"
    assert move.assigned_at is not None

    rows = audit("client.reassign", "CA0001")
    assert len(rows) == 1
    assert rows[0].actor_username == "sup_a" and rows[0].actor_role == "supervisor" and rows[0].outcome == "ok"
    assert rows[0].before == {"manager": "RMA1"}
    assert rows[0].after["manager"] == "RMA2"

    # The client's page shows the move: from, to, by, why.
    page = supervisor.get("/clients/CA0001/assignments").get_data(as_text=True)
    history_part = page.split('id="assignment-history"', 1)[1]
    row = re.search(r"<tbody>(.*?)</tbody>", history_part, re.DOTALL).group(1)
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)]
    assert cells[1:] == ["钱一", "孙二", sup.display_name, "平衡工作量"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[0])

    # The books follow: RMA1 no longer sees the client, RMA2 does.
    rm1 = app.test_client()
    Auth(rm1).login("rm_a")
    assert "CA0001" not in rm1.get("/book").get_data(as_text=True)
    assert rm1.get("/clients/CA0001").status_code == 404
    rm2 = app.test_client()
    Auth(rm2).login("rm2_a")
    assert "CA0001" in rm2.get("/book").get_data(as_text=True)


def test_reassigning_back_adds_a_second_history_row(supervisor):
    from models import ClientAssignment

    assert reassign(supervisor, "CA0001", "RMA2").status_code == 302
    assert reassign(supervisor, "CA0001", "RMA1").status_code == 302
    assert manager_of("CA0001") == "RMA1"
    assert count(ClientAssignment) == 2
    assert len(audit("client.reassign", "CA0001")) == 2


def assert_nothing_changed(client_no: str, manager: str):
    from models import ClientAssignment

    assert manager_of(client_no) == manager
    assert count(ClientAssignment) == 0
    assert audit("client.reassign") == []


def test_reassigning_to_a_manager_of_another_team_is_refused(supervisor):
    response = reassign(supervisor, "CA0001", "RMB1")
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert field_errors(response.get_data(as_text=True), "to_manager")
    assert_nothing_changed("CA0001", "RMA1")


def test_reassigning_to_the_other_teams_supervisor_is_refused(supervisor):
    response = reassign(supervisor, "CA0001", "SUPB")
    assert response.status_code in (200, 403)
    assert_nothing_changed("CA0001", "RMA1")


def test_reassigning_to_an_unknown_manager_is_refused(supervisor):
    response = reassign(supervisor, "CA0001", "NOBODY")
    assert response.status_code in (200, 400)
    assert_nothing_changed("CA0001", "RMA1")


def test_reassigning_to_the_current_manager_shows_a_message(supervisor):
    response = reassign(supervisor, "CA0001", "RMA1")
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "to_manager")
    assert_nothing_changed("CA0001", "RMA1")


def test_reassigning_to_a_manager_who_left_is_refused(supervisor, app):
    from models import Manager, db

    rma3 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA3"))
    rma3.status = "left"
    db.session.commit()
    response = reassign(supervisor, "CA0001", "RMA3")
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "to_manager")
    assert_nothing_changed("CA0001", "RMA1")


def test_reassigning_a_client_of_another_team_is_404(supervisor):
    assert supervisor.get("/clients/CB0001/reassign").status_code == 404
    assert reassign(supervisor, "CB0001", "RMA2").status_code == 404
    assert reassign(supervisor, "CB0001", "RMB2").status_code == 404
    assert manager_of("CB0001") == "RMB1"
    refusals = audit("access.refused", "CB0001")
    assert refusals and all(r.actor_username == "sup_a" and r.outcome == "denied" for r in refusals)
    assert supervisor.get("/clients/NOSUCH/reassign").status_code == 404


@pytest.mark.parametrize("username", ["rm_a", "rm2_a", "client_a", "compliance", "admin"])
def test_only_supervisors_can_reassign(client, auth, team_world, username):
    auth.login(username)
    assert client.get("/clients/CA0001/reassign").status_code == 403
    token = csrf_token(client, "/")
    response = client.post("/clients/CA0001/reassign", data={"to_manager": "RMA2", "csrf_token": token})
    assert response.status_code == 403
    assert_nothing_changed("CA0001", "RMA1")


def test_reassign_without_csrf_token_is_refused(supervisor):
    response = supervisor.post("/clients/CA0001/reassign", data={"to_manager": "RMA2"})
    assert response.status_code == 400
    assert_nothing_changed("CA0001", "RMA1")


def test_overlong_reason_is_refused(supervisor):
    response = reassign(supervisor, "CA0001", "RMA2", reason="理" * 201)
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "reason")
    assert_nothing_changed("CA0001", "RMA1")
