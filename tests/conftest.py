"""Fixtures shared by every test (flaskr's conftest: app, client, runner, auth)."""
from __future__ import annotations

import pytest

from tests.databases import PostgresFactory, SQLiteFactory, backends, postgres_url
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


@pytest.fixture
def database_url(request, backend, tmp_path):
    factory = request.getfixturevalue("sqlite_factory" if backend == "sqlite" else "postgres_factory")
    url = factory.create(tmp_path)
    yield url
    factory.drop(url)


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


@pytest.fixture
def app(database_url, app_overrides):
    app = make_app(database_url, **app_overrides)
    with app.app_context():
        yield app
        from models import db

        db.session.remove()
        db.engine.dispose()


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
