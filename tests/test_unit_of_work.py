"""The unit of work (portal/unit_of_work.py): the block's writes are committed on success; on an operation's
refusal nothing of them is stored (audit row included) and the refusal is answered where the request came
from — beside the form field or flashed on a page, JSON with its status on the API, a ClickException in a
command."""
from __future__ import annotations

import click
import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select

from models import AuditEntry, FollowupLog, Team, db
from portal.api import ApiInputError, _bad_input
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules.calendar import business_today
from portal.unit_of_work import unit_of_work

# What a unit of work commits is read back from a second connection, which sees only real commits.
pytestmark = pytest.mark.commits


class Refusal(OperationError):
    """An operation's richer refusal that the caller answers itself."""


def stored(code: str) -> tuple[int, int]:
    """(teams with the code, their audit rows) as another connection sees them: only what was committed."""
    with db.engine.connect() as conn:
        teams = conn.scalar(select(func.count()).select_from(Team).where(Team.code == code))
        audit = conn.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == code))
    return teams, audit


def write_team(code: str) -> None:
    db.session.add(Team(code=code, name="Unit of work"))
    db.session.flush()
    record("team.create", "team", code, after={"code": code})
    db.session.flush()


def test_success_commits_the_blocks_writes(app):
    with app.test_request_context("/teams", method="POST"):
        with unit_of_work() as work:
            write_team("UOW1")
        assert work.ok and work.error is None
        assert get_flashed_messages() == []
    assert stored("UOW1") == (1, 1)


def test_a_return_inside_the_block_commits_before_the_value_is_used(app):
    def view():
        with unit_of_work():
            write_team("UOW2")
            return "answer"

    with app.test_request_context("/teams", method="POST"):
        assert view() == "answer"
    assert stored("UOW2") == (1, 1)


def test_a_refusal_on_a_page_stores_nothing_and_is_flashed(app):
    with app.test_request_context("/teams", method="POST"):
        with unit_of_work(flash=True) as work:
            write_team("UOW3")
            raise OperationError("No such team.", None, "no_team")
        assert not work.ok and work.error.code == "no_team"
        assert db.session.scalar(select(func.count(Team.id)).where(Team.code == "UOW3")) == 0
        assert get_flashed_messages(with_categories=True) == [("danger", "No such team.")]
    assert stored("UOW3") == (0, 0)


def test_a_refusal_on_a_page_goes_beside_the_field_it_names(app):
    from forms.admin import TeamForm

    with app.test_request_context("/teams", method="POST", data={"code": "UOW4", "name": "Unit of work"}):
        form = TeamForm(meta={"csrf": False})
        with unit_of_work(form) as work:
            write_team("UOW4")
            raise OperationError("Team UOW4 already exists.", "code", "duplicate")
        assert not work.ok
        assert form.code.errors == ["Team UOW4 already exists."]
        assert get_flashed_messages() == []
    with app.test_request_context("/teams", method="POST", data={"code": "UOW4", "name": "Unit of work"}):
        form = TeamForm(meta={"csrf": False})
        with unit_of_work(form):
            raise OperationError("Something about the whole form.")
        assert get_flashed_messages(with_categories=True) == [("danger", "Something about the whole form.")]
    assert stored("UOW4") == (0, 0)


def test_a_page_that_answers_itself_gets_the_error_and_nothing_is_shown(app):
    with app.test_request_context("/teams", method="POST"):
        with unit_of_work(flash=True, answer_here=(Refusal,)) as work:
            write_team("UOW5")
            raise Refusal("Answered by the view.", None, "own")
        assert isinstance(work.error, Refusal)
        with unit_of_work() as silent:  # neither form nor flash: the view reads work.error
            raise OperationError("Shown by the view.")
        assert silent.error.message == "Shown by the view."
        assert get_flashed_messages() == []
    assert stored("UOW5") == (0, 0)


def test_any_other_exception_rolls_back_and_propagates(app):
    with app.test_request_context("/teams", method="POST"):
        with pytest.raises(RuntimeError), unit_of_work(flash=True):
            write_team("UOW6")
            raise RuntimeError("a bug")
        assert get_flashed_messages() == []
    assert stored("UOW6") == (0, 0)


def test_a_dry_run_keeps_nothing_even_on_success(app):
    with app.test_request_context("/teams", method="POST"):
        with unit_of_work(commit=False) as work:
            write_team("UOW7")
        assert work.ok
    assert stored("UOW7") == (0, 0)


def test_a_refusal_in_the_api_is_answered_400_with_its_field(app):
    with app.test_request_context("/api/v1/teams", method="POST"):
        with pytest.raises(ApiInputError) as raised, unit_of_work(flash=True):
            write_team("UOW8")
            raise OperationError("Enter the code.", "code", "invalid_code")
        response, status = _bad_input(raised.value)
        assert status == 400
        assert response.get_json() == {"error": {"code": "invalid_code", "message": "Enter the code.",
                                                 "field": "code"}}
        assert get_flashed_messages() == []  # the API never flashes
    assert stored("UOW8") == (0, 0)


@pytest.mark.parametrize("conflicts", [True, ("not_open",)])
def test_a_state_conflict_in_the_api_is_answered_409_without_a_field(app, conflicts):
    with app.test_request_context("/api/v1/cycles/1/close", method="POST"):
        with pytest.raises(ApiInputError) as raised, unit_of_work(conflicts=conflicts):
            write_team("UOW9")
            raise OperationError("Only an open cycle can be closed.", "state", "not_open")
        response, status = _bad_input(raised.value)
        assert status == 409
        assert response.get_json() == {"error": {"code": "not_open", "message": "Only an open cycle can be closed."}}
        with pytest.raises(ApiInputError) as other, unit_of_work(conflicts=("not_open",)):
            raise OperationError("Enter a name.", "name", "invalid_name")
        assert other.value.status == 400 and other.value.field == "name"
    assert stored("UOW9") == (0, 0)


def test_a_refusal_in_a_command_is_a_click_exception(app):
    with pytest.raises(click.ClickException) as raised, unit_of_work():
        write_team("UOWA")
        raise OperationError("No client has that number.")
    assert raised.value.message == "No client has that number."
    assert stored("UOWA") == (0, 0)


def test_through_the_api_a_refused_write_stores_nothing_and_a_good_one_is_committed(client, world, token_for):
    headers = {"Authorization": f"Bearer {token_for('rm_a')}", "Accept-Language": "en"}
    client_no = "CA0001"  # rm_a's client
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    refused = client.post(f"/api/v1/clients/{client_no}/follow-ups", headers=headers,
                          json={"date": business_today().isoformat(), "channel": "phone", "note": "x",
                                "grade": "Z"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "grade"
    db.session.rollback()
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before
    logged = client.post(f"/api/v1/clients/{client_no}/follow-ups", headers=headers,
                         json={"date": business_today().isoformat(), "channel": "phone", "note": "x", "grade": "B"})
    assert logged.status_code == 201
    db.session.rollback()
    assert db.session.scalar(select(func.count(FollowupLog.id))) == 1
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "followup.log")) == 1
