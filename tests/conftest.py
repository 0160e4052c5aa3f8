"""Fixtures shared by every test (flaskr's conftest: app, client, runner, auth)."""
from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy.engine import make_url

from tests.databases import PostgresFactory, SQLiteFactory, backends, postgres_url, rolled_back, sqlite_savepoints
from tests.helpers import (  # noqa: F401  (re-exported: modules import them from here too)
    CSRF_RE,
    FAST_HASH,
    TEST_PASSWORD,
    Auth,
    Factory,
    api_token,
    client_in,
    csrf_token,
)


class Database(NamedTuple):
    url: str
    fresh: bool


@pytest.fixture(scope="session")
def sqlite_factory(tmp_path_factory):
    return SQLiteFactory(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_factory():
    factory = PostgresFactory(postgres_url() or "postgresql://postgres@127.0.0.1:5432/test")
    yield factory
    factory.close()


@pytest.fixture(params=backends())
def backend(request):
    return request.param


def needs_fresh_database(request) -> bool:
    """A test gets its own database when marked `commits`, or when it (or one of its fixtures) asks for
    `database_url`: whatever reaches the database by URL uses connections of its own."""
    return request.node.get_closest_marker("commits") is not None or "database_url" in request.fixturenames


@pytest.fixture
def database(request, backend, tmp_path):
    """The test's database: (url, fresh). Fresh: a copy of the migrated template for this test alone.
    Otherwise: the process's shared database, in which the `app` fixture rolls the test back."""
    factory = request.getfixturevalue("sqlite_factory" if backend == "sqlite" else "postgres_factory")
    if not needs_fresh_database(request):
        yield Database(factory.shared(), fresh=False)
        return
    url = factory.create(tmp_path)
    yield Database(url, fresh=True)
    factory.drop(url)


@pytest.fixture
def database_url(database):
    """The URL of the test's database; asking for it gives the test a fresh database of its own."""
    return database.url


def make_app(database_url: str, **overrides):
    from portal import create_app

    config = {"PORTAL_ENV": "testing", "DATABASE_URL": database_url, "PASSWORD_HASH_METHOD": FAST_HASH,
              "LOGIN_LIMIT_PER_USERNAME": "1000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
              "RATELIMIT_STORAGE_URI": "memory://"}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app_overrides():
    """Override in a test module to change the app's configuration."""
    return {}


def make_rolled_back_app(database_url: str, overrides: dict):
    """An app whose tests run in a transaction rolled back at their end (see `rolled_back`)."""
    from models import db

    app = make_app(database_url, **overrides)
    if make_url(database_url).get_backend_name() == "sqlite":
        with app.app_context():
            sqlite_savepoints(db.engine)
    return app


class SharedApps:
    """The apps of the rolled-back tests, one per database, kept while consecutive tests ask for the same
    overrides.

    create_app re-initialises process-wide extensions (the limiter) from the app's configuration, so the apps
    kept are those of one configuration (they differ only in DATABASE_URL); another configuration, or a fresh
    test's app, starts again. Before each reuse the app's configuration is restored (tests change app.config),
    its per-app caches dropped, the limiter's counts cleared, and the process caches keyed by database URL
    emptied (every rolled-back test has the same URL).
    """

    def __init__(self):
        self.overrides = None
        self.apps: dict[str, tuple] = {}

    def get(self, database_url: str, overrides: dict):
        key = repr(sorted(overrides.items()))
        if key != self.overrides:
            self.forget()
            self.overrides = key
        if database_url not in self.apps:
            app = make_rolled_back_app(database_url, overrides)
            # Routes, blueprints and handlers added by one test would stay for the next: Flask refuses them
            # loudly once an app has served a request, so a kept app is marked as having served one.
            app._got_first_request = True
            self.apps[database_url] = (app, dict(app.config))
        app, config = self.apps[database_url]
        app.config.clear()
        app.config.update(config)
        reset_caches(app)
        return app

    def forget(self):
        from models import db

        for app, _config in self.apps.values():
            with app.app_context():
                db.engine.dispose()
        self.apps, self.overrides = {}, None


def reset_caches(app) -> None:
    """Forget what one test left in the app's and the process's caches (a reused app, one database URL)."""
    from limits.storage import MemoryStorage

    from portal.extensions import limiter
    from portal.operations import risk

    app.extensions.pop("book_cache", None)
    if isinstance(limiter.storage, MemoryStorage):  # a shared store (Redis) is other workers' too
        limiter.storage.reset()
    risk._PUBLISHED.clear()
    risk._DISTRIBUTIONS.clear()


_shared_apps = SharedApps()


@pytest.fixture
def app(request, database, app_overrides):
    """The portal app on the test's database, inside an app context: rolled back at the end of the test, or on a
    fresh database of its own (tests/README.md)."""
    from models import db

    if database.fresh:
        _shared_apps.forget()  # this create_app re-initialises the process-wide extensions
        app = make_app(database.url, **app_overrides)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
        return
    if request.node.get_closest_marker("own_app") is not None:  # the test changes the app itself
        _shared_apps.forget()
        app = make_rolled_back_app(database.url, app_overrides)
        reset_caches(app)
        with app.app_context():
            with rolled_back(db, db.engine):
                yield app
            db.engine.dispose()
        return
    app = _shared_apps.get(database.url, app_overrides)
    with app.app_context():
        with rolled_back(db, db.engine):
            yield app


@pytest.fixture
def language(request):
    """The language the test client asks for (Accept-Language), or None for the browser default.

    A module or test sets it with `pytestmark = pytest.mark.language("en")` or `@pytest.mark.language("en")`,
    or parametrises it: `@pytest.mark.parametrize("language", ["en", "zh-CN"])`.
    """
    marker = request.node.get_closest_marker("language")
    return marker.args[0] if marker else None


@pytest.fixture
def client(app, language):
    return client_in(app, language) if language else app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def make(app):
    return Factory()


@pytest.fixture
def world(app, make):
    """Two teams, each with a supervisor, two managers with clients; one login per role per side."""
    from models import db

    w = {}
    for side in ("a", "b"):
        sup = make.manager(level="senior", employee_no=f"SUP{side.upper()}")
        team = make.team(f"TEAM{side.upper()}", supervisor=sup)
        sup.team = team
        rm1 = make.manager(team, employee_no=f"RM{side.upper()}1")
        rm2 = make.manager(team, level="mid", employee_no=f"RM{side.upper()}2")
        c1 = make.client(rm1, client_no=f"C{side.upper()}0001", name=f"张三{side}")
        c2 = make.client(rm1, client_no=f"C{side.upper()}0002", name=f"李四{side}")
        c3 = make.client(rm2, client_no=f"C{side.upper()}0003", name=f"王五{side}")
        make.user(f"sup_{side}", "supervisor", manager=sup)
        make.user(f"rm_{side}", "rm", manager=rm1)
        make.user(f"rm2_{side}", "rm", manager=rm2)
        make.user(f"client_{side}", "client", client=c1)
        w[side] = {"team": team, "supervisor": sup, "rm": rm1, "rm2": rm2, "clients": [c1, c2, c3]}
    make.user("admin", "admin")
    make.user("compliance", "compliance")
    db.session.commit()
    return w


@pytest.fixture
def token_for(app):
    return api_token
