"""Migration 0010 turns each client's branch text into a branch record and back, losing nothing."""
from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, insert, select

from models import Branch, Client, Team, db

pytestmark = pytest.mark.commits  # a downgrade and an upgrade on their own connections

MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0010_branches_and_imports.py"


def _previous_revision() -> str:
    spec = importlib.util.spec_from_file_location("branches_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.down_revision


def _tables() -> dict:
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    return metadata.tables


def _reset() -> None:
    db.session.remove()
    db.engine.dispose()


def test_branch_texts_become_records_and_go_back_to_texts(app):
    previous = _previous_revision()
    downgrade(revision=previous)
    _reset()
    t = _tables()
    now = datetime(2026, 1, 5, tzinfo=UTC)
    texts = {"C1": "上海陆家嘴营业部", "C2": "北京建国门营业部", "C3": "北京建国门营业部", "C4": "上海陆家嘴营业部",
             "C5": "上海陆家嘴营业部"}
    with db.engine.begin() as connection:
        team_id = connection.execute(insert(t["teams"]).values(code="T1", name="一组", created_at=now)
                                     .returning(t["teams"].c.id)).scalar_one()
        manager_id = connection.execute(insert(t["managers"]).values(
            employee_no="M1", name="经理", level="junior", level_since=date(2025, 1, 1), hire_date=date(2025, 1, 1),
            status="active", team_id=team_id, created_at=now).returning(t["managers"].c.id)).scalar_one()
        for number, (client_no, branch) in enumerate(texts.items()):
            connection.execute(insert(t["clients"]).values(
                client_no=client_no, name=f"客户{number}", birth_date=date(1949, 12, 31), id_type="resident_id",
                id_number="11010519491231002X" if number == 0 else f"P{number}", branch=branch,
                opened_on=date(2015, 3, 1), manager_id=manager_id if number != 1 else None, created_at=now,
                lowest_category=False, investor_category="ordinary"))

    upgrade()
    _reset()
    branches = {b.code: b.name for b in db.session.scalars(select(Branch))}
    assert branches == {"B0001": "上海陆家嘴营业部", "B0002": "北京建国门营业部"}  # in name order
    assert {c.client_no: c.branch.name for c in db.session.scalars(select(Client))} == texts
    assert db.session.scalar(select(Client.sex).where(Client.client_no == "C1")) == "F"  # from the ID number
    assert db.session.scalar(select(Client.sex).where(Client.client_no == "C2")) is None  # not a resident ID
    team = db.session.scalar(select(Team).where(Team.code == "T1"))
    assert team.branch.name == "上海陆家嘴营业部"  # where most of its clients are

    _reset()
    downgrade(revision=previous)
    _reset()
    back = _tables()["clients"]
    with db.engine.connect() as connection:
        assert dict(connection.execute(select(back.c.client_no, back.c.branch)).all()) == texts
    upgrade()  # leave the database at head for the fixture's teardown
