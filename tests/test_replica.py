"""DATABASE_REPLICA_URL: reports read through a second engine bind; without it, the primary."""
from __future__ import annotations

import shutil
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

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


def test_the_matrix_reads_the_replica_when_one_is_configured(app, world, make, database_url, backend, tmp_path,
                                                             token_for):
    """A replica that lags by one client: the matrix API counts what the replica holds."""
    if backend != "sqlite":
        pytest.skip("the lagging replica is made by copying the SQLite file")
    token = token_for("compliance")
    db.session.commit()
    replica_path = tmp_path / "lagging-replica.db"
    shutil.copyfile(make_url(database_url).database, replica_path)
    make.client(world["a"]["rm"], client_no="CA0999", name="新客户")  # on the primary only
    db.session.commit()

    primary_view = app.test_client().get("/api/v1/suitability-matrix", headers={"Authorization": f"Bearer {token}"})
    assert primary_view.get_json()["total_clients"] == 7
    lagging = make_app(database_url, DATABASE_REPLICA_URL=f"sqlite:///{replica_path}")
    replica_view = lagging.test_client().get("/api/v1/suitability-matrix",
                                             headers={"Authorization": f"Bearer {token}"})
    assert replica_view.status_code == 200
    assert replica_view.get_json()["total_clients"] == 6
