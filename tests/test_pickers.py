"""Searchable pickers: staff records found by number, name or pinyin, within what the caller may see,
offered on the forms and reports that take an employee number."""
from __future__ import annotations

import re

import pytest

from tests.helpers import Auth


@pytest.fixture
def named(app, world):
    from models import Manager, db

    for no, name, pinyin in (("RMA1", "欧阳娜", "Ouyang Na"), ("RMA2", "艾米", "Ai Mi"), ("RMB1", "何伟", "He Wei")):
        manager = db.session.scalar(db.select(Manager).where(Manager.employee_no == no))
        manager.name, manager.name_pinyin = name, pinyin
    db.session.commit()
    return world


def search(client, q):
    response = client.get("/pickers/managers", query_string={"q": q})
    assert response.status_code == 200
    return [r["employee_no"] for r in response.get_json()]


def test_admin_finds_staff_by_number_name_or_pinyin(client, named):
    Auth(client).login("admin")
    assert search(client, "rma") == ["RMA2", "RMA1"]  # by number, in pinyin order (Ai Mi, Ouyang Na)
    assert search(client, "何") == ["RMB1"]
    assert search(client, "ouyang") == ["RMA1"]
    assert search(client, "%") == []  # a wildcard is a character here
    record = client.get("/pickers/managers?q=RMA2").get_json()[0]
    assert record["name"] == "艾米" and record["team"] == "TEAMA" and "艾米" in record["label"]


def test_a_supervisor_sees_only_their_team(client, named):
    Auth(client).login("sup_a")
    found = search(client, "")
    assert "RMA1" in found and "RMA2" in found and "RMB1" not in found
    assert search(client, "何") == []


@pytest.mark.parametrize("login", ["rm_a", "client_a"])
def test_managers_and_clients_have_no_picker(client, named, login):
    Auth(client).login(login)
    assert client.get("/pickers/managers?q=R").status_code in (403, 404)


@pytest.mark.parametrize("path,field", [
    ("/reports/trend", "manager"), ("/targets", "employee_no"), ("/targets/new", "employee_no"),
    ("/admin/teams", "supervisor"), ("/admin/users/new", "employee_no"),
])
def test_forms_and_reports_offer_the_picker(client, named, path, field):
    Auth(client).login("admin")
    page = client.get(path).get_data(as_text=True)
    tag = re.search(rf'<input[^>]*\bid="{field}"[^>]*>', page).group(0)
    assert 'data-picker="/pickers/managers"' in tag
    list_id = re.search(r'list="([^"]+)"', tag).group(1)
    assert f'<datalist id="{list_id}">' in page
    assert '<script src="/static/js/picker.js" defer></script>' in page
