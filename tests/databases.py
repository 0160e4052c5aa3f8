"""Test databases: every test gets a fresh, migrated database on SQLite and (when configured) PostgreSQL.

SQLite: the migrated template file is copied per test. PostgreSQL: a migrated template database is
cloned per test with CREATE DATABASE ... TEMPLATE. Both are built by the real migrations, so the
append-only triggers are always there.
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

_counter = itertools.count()
RUN_ID = uuid.uuid4().hex[:8]


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL")


def require_postgres() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1"


def backends() -> list:
    """The backends each database test runs on."""
    params = [pytest.param("sqlite", id="sqlite")]
    if postgres_url() or require_postgres():
        params.append(pytest.param("postgresql", id="postgresql"))
    else:
        params.append(pytest.param("postgresql", id="postgresql",
                                   marks=pytest.mark.skip(reason="TEST_DATABASE_URL is not set: PostgreSQL not tested")))
    return params


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        from models import db

        db.engine.dispose()


class SQLiteFactory:
    def __init__(self, workdir: Path):
        self.template = workdir / "template.db"
        migrate(f"sqlite:///{self.template}")

    def create(self, directory: Path) -> str:
        target = directory / f"portal-{next(_counter)}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        Path(make_url(url).database).unlink(missing_ok=True)


class PostgresFactory:
    def __init__(self, url: str):
        self.admin_url = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
        self.template = f"portal_tpl_{RUN_ID}"
        try:
            self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)', f'CREATE DATABASE "{self.template}"')
        except psycopg.OperationalError as error:
            if require_postgres():
                raise
            pytest.skip(f"PostgreSQL unreachable: {error}")
        migrate(self._url(self.template))
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._next: Future | None = None
        self._drops: list[Future] = []

    def _conninfo(self) -> str:
        u = self.admin_url
        return psycopg.conninfo.make_conninfo(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username,
                                              password=u.password or None, dbname=u.database)

    def _url(self, name: str) -> str:
        return self.admin_url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> None:
        with psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=5) as conn:
            for statement in statements:
                conn.execute(statement)

    def _clone(self) -> str:
        name = f"portal_t_{RUN_ID}_{next(_counter)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def create(self, directory: Path) -> str:
        """A fresh clone of the template. The next test's clone is made, and this test's database dropped, by
        one background thread while tests run: a test never waits for CREATE or DROP DATABASE it need not."""
        if self._next is None:
            self._next = self._background.submit(self._clone)
        name = self._next.result()
        self._next = self._background.submit(self._clone)
        return self._url(name)

    def drop(self, url: str) -> None:
        self._drops.append(self._background.submit(
            self._admin, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))

    def close(self) -> None:
        if self._next is not None:
            self._admin(f'DROP DATABASE IF EXISTS "{self._next.result()}" WITH (FORCE)')
        for dropped in self._drops:
            dropped.result()
        self._background.shutdown()
        self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
