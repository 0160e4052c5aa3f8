"""DATABASE_REPLICA_URL: reports read through a second engine bind; without it, the primary."""
from __future__ import annotations

import sqlite3

from sqlalchemy import text

from models import db
from portal.config import Config
from portal.replica import has_replica, report_connection
from tests.conftest import make_app


def test_without_a_replica_reports_read_the_primary(app):
    with app.test_request_context():
        assert not has_replica()
        assert report_connection() is db.session.connection()


def test_with_a_replica_reports_read_the_replica_bind(database_url, tmp_path):
    replica_path = tmp_path / "replica.db"
    with sqlite3.connect(replica_path) as replica:
        replica.execute("CREATE TABLE marker (name TEXT)")
        replica.execute("INSERT INTO marker VALUES ('replica')")
    app = make_app(database_url, DATABASE_REPLICA_URL=f"sqlite:///{replica_path}")
    with app.test_request_context():
        assert has_replica()
        connection = report_connection()
        assert connection.execute(text("SELECT name FROM marker")).scalar() == "replica"
        assert report_connection() is connection  # one per request
    assert connection.closed  # the request's teardown gave it back
    with app.app_context():
        db.engines["replica"].dispose()


def test_the_replica_url_comes_from_the_environment():
    config = Config({"PORTAL_ENV": "testing"}, environ={"DATABASE_REPLICA_URL": "postgresql://r@replica:5432/portal"})
    assert config.SQLALCHEMY_BINDS == {"replica": "postgresql+psycopg://r@replica:5432/portal"}
    assert Config({"PORTAL_ENV": "testing"}, environ={}).SQLALCHEMY_BINDS == {}
