"""Deploy-time behaviour: several nodes running `flask db upgrade` at once on one PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.databases import postgres_url, require_postgres

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def empty_postgres():
    url = postgres_url()
    if not url:
        if require_postgres():
            pytest.fail("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL not tested")
    admin = make_url(url)
    name = f"portal_deploy_{uuid.uuid4().hex[:8]}"
    conninfo = psycopg.conninfo.make_conninfo(host=admin.host or "127.0.0.1", port=admin.port or 5432,
                                              user=admin.username, dbname=admin.database)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield admin.set(database=name).render_as_string(hide_password=False), conninfo.replace(
        f"dbname={admin.database}", f"dbname={name}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_three_nodes_upgrading_at_once_migrate_once(empty_postgres):
    url, conninfo = empty_postgres
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "testing"}
    flask = [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"]
    nodes = [subprocess.Popen(flask, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(3)]
    outputs = [node.communicate(timeout=240)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0, 0], outputs
    # Exactly one node ran the migrations; the others waited and found the database current.
    assert sum("Running upgrade 0001" in output for output in outputs) == 1
    with psycopg.connect(conninfo) as conn:
        heads = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert len(heads) == 1
