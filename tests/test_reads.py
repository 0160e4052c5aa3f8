"""Read-only views: no transaction on PostgreSQL, and any write attempted in one is refused."""
from __future__ import annotations

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import func, select

from models import Team, db
from portal.access import public
from portal.extensions import csrf
from portal.reads import read_only

# The read-only connection (AUTOCOMMIT on PostgreSQL) and its return to the pool are what is tested: they
# cannot be seen inside a rolled-back test's transaction.
pytestmark = pytest.mark.commits


@pytest.fixture
def probe_app(app):
    probe = Blueprint("probe", __name__)

    @probe.get("/probe/mode")
    @public
    @read_only
    def mode():
        driver = db.session.connection().connection.driver_connection
        autocommit = getattr(driver, "autocommit", None)
        return jsonify(autocommit=autocommit, teams=db.session.scalar(select(func.count(Team.id))))

    @probe.route("/probe/write", methods=["GET", "POST"])
    @public
    @read_only
    def write():
        db.session.add(Team(code="PROBE", name="probe"))
        db.session.commit()
        return "written"

    @probe.get("/probe/core-write")
    @public
    @read_only
    def core_write():
        db.session.execute(Team.__table__.insert().values(code="PROBE2", name="probe"))
        db.session.commit()
        return "written"

    csrf.exempt(probe)
    app.register_blueprint(probe)
    return app


def test_read_only_view_reads_without_a_transaction_on_postgresql(probe_app, backend):
    db.session.remove()  # as in production, the request starts with no transaction open
    body = probe_app.test_client().get("/probe/mode").get_json()
    assert body["teams"] == 0
    if backend == "postgresql":
        assert body["autocommit"] is True


@pytest.mark.parametrize("path", ["/probe/write", "/probe/core-write"])
def test_a_write_in_a_read_only_get_is_refused_and_nothing_is_stored(probe_app, path):
    response = probe_app.test_client().get(path)
    assert response.status_code == 500
    with probe_app.app_context():
        assert db.session.scalar(select(func.count(Team.id))) == 0


def test_the_same_view_may_write_on_post(probe_app):
    assert probe_app.test_client().post("/probe/write").get_data(as_text=True) == "written"
    with probe_app.app_context():
        assert db.session.scalar(select(func.count(Team.id))) == 1


def test_the_connection_returns_to_the_pool_transactional(probe_app, backend):
    client = probe_app.test_client()
    client.get("/probe/mode")
    with probe_app.app_context():
        driver = db.session.connection().connection.driver_connection
        if backend == "postgresql":
            assert driver.autocommit is False
        db.session.rollback()
