"""Test databases on SQLite and (when configured) PostgreSQL, built by the real migrations (so the append-only
triggers are always there).

Each factory migrates one template per process and hands out two kinds of database:
- `shared()`: one database per process and backend, in which most tests run inside a transaction that is rolled
  back at their end (tests/conftest.py);
- `create()`: a fresh copy per test, for the tests that need real commits. SQLite copies the template file;
  PostgreSQL clones the template database with CREATE DATABASE ... TEMPLATE.
"""
from __future__ import annotations

import functools
import itertools
import os
import shutil
import threading
import traceback
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
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

    def shared(self) -> str:
        """The database the rolled-back tests share, copied from the template on first use."""
        target = self.template.with_name("shared.db")
        if not target.exists():
            shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

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
        self._shared: str | None = None

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

    def shared(self) -> str:
        """The database the rolled-back tests share, cloned from the template on first use (the template itself
        must stay unconnected: CREATE DATABASE ... TEMPLATE refuses a template with sessions)."""
        if self._shared is None:
            self._shared = f"portal_s_{RUN_ID}"
            self._admin(f'CREATE DATABASE "{self._shared}" TEMPLATE "{self.template}"')
        return self._url(self._shared)

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
        if self._shared is not None:
            self._admin(f'DROP DATABASE IF EXISTS "{self._shared}" WITH (FORCE)')
        self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


# --- a test inside a transaction that is rolled back --------------------------------------------------------

class NeedsCommits(RuntimeError):
    """A rolled-back test opened a second database connection: it needs a fresh database."""


@functools.cache
def _joined_session_class():
    from flask_sqlalchemy.session import Session

    class JoinedSession(Session):
        """Flask-SQLAlchemy's session bound to the test's connection.

        Flask-SQLAlchemy chooses the app's engine in get_bind and so would ignore `bind`; this session always
        answers the test's connection. An isolation level asked for a statement (read-only requests ask
        AUTOCOMMIT on PostgreSQL) cannot be set inside the test's transaction: the statement runs in it.
        """

        def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
            return bind if bind is not None else self.bind

        def connection(self, bind_arguments=None, execution_options=None):
            if execution_options and "isolation_level" in execution_options:
                execution_options = {k: v for k, v in execution_options.items() if k != "isolation_level"}
            return super().connection(bind_arguments=bind_arguments, execution_options=execution_options or None)

    return JoinedSession


def sqlite_savepoints(engine) -> None:
    """Make pysqlite leave transactions to SQLAlchemy, so that SAVEPOINT and ROLLBACK mean what they say.

    pysqlite opens a transaction only before a data change and commits on its own before DDL; a SAVEPOINT
    issued outside a transaction then starts one that its RELEASE commits, beyond the test's rollback. This is
    the recipe of SQLAlchemy's SQLite documentation ("Serializable isolation / Savepoints / Transactional DDL").
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


@contextmanager
def rolled_back(db, engine):
    """Run the body on one connection inside a transaction that is rolled back at the end.

    `db.session` (every scoped session, the test's and each request's) is bound to that connection with
    join_transaction_mode="create_savepoint": a commit releases a savepoint, a rollback returns to it, and the
    outer transaction is rolled back afterwards (SQLAlchemy 2's "joining a session into an external
    transaction"; Indico's session-scoped database).

    `engine.begin()` on the test's thread — the portal writes a row on a connection of its own where the row must
    survive the request's rollback (refusals and failed sign-ins in the audit trail, an API token's last use) —
    runs in a savepoint of the test's connection: the row is there for the test to read, and goes with the
    test's rollback (a test asserting that such a row outlives a rollback of the request needs real commits).
    Anything else that would reach the database beside the test's connection — `engine.connect()` (a second
    Session on the engine, a connection with its own isolation level), another thread, a raw connection from
    the pool — is refused, and the test fails at its end even where the code under test swallowed the error:
    such a test needs `@pytest.mark.commits`.
    """
    from sqlalchemy import event

    connection = engine.connect()
    outer = connection.begin()
    connection.exec_driver_sql("SELECT 1")  # psycopg sends BEGIN with the first statement: open it now
    refused: list[str] = []
    test_thread = threading.get_ident()

    def _refuse(what: str):
        refused.append(f"{what}, at:\n" + "".join(traceback.format_stack(limit=14)[:-2]))
        raise NeedsCommits(f"{what} inside a rolled-back test: mark the test @pytest.mark.commits (tests/README.md)")

    def _connect(*_args, **_kwargs):
        _refuse("a second database connection (engine.connect)")

    @contextmanager
    def _begin(*_args, **_kwargs):
        if threading.get_ident() != test_thread:
            _refuse("a database connection on another thread")
        with connection.begin_nested():
            yield connection

    def _checkout(*_args):
        _refuse("a second database connection from the pool")

    engine.connect, engine.begin = _connect, _begin
    event.listen(engine, "checkout", _checkout)
    original = db.session
    db.session = db._make_scoped_session({"bind": connection, "join_transaction_mode": "create_savepoint",
                                          "class_": _joined_session_class()})
    try:
        yield connection
        if not _still_in_transaction(connection):  # something committed beyond the test: later tests would see it
            refused.append("the test's own transaction was ended by the code under test (a COMMIT outside "
                           "the session)")
    finally:
        db.session.remove()
        db.session = original
        event.remove(engine, "checkout", _checkout)
        del engine.connect, engine.begin
        if outer.is_active:
            outer.rollback()
        connection.close()
    if refused:
        pytest.fail("this test needs real commits: mark it @pytest.mark.commits (tests/README.md). Refused: "
                    + refused[0], pytrace=False)


def _still_in_transaction(connection) -> bool:
    """Whether the database itself (not only SQLAlchemy's bookkeeping) still holds the test's transaction open."""
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        return driver.in_transaction
    import psycopg

    return driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
