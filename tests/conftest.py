"""Fixtures shared by every test (flaskr's conftest: app, client, runner, auth)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.databases import PostgresFactory, SQLiteFactory, backends, postgres_url

TEST_PASSWORD = "correct-horse-battery"
# Cheap hashing in tests; the production parameters are asserted in test_security.py.
FAST_HASH = "scrypt:1024:8:1"


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
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    response = client.get(path)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = TEST_PASSWORD, follow: bool = False):
        self.client.delete_cookie("portal_session")  # start as a fresh browser would
        token = csrf_token(self.client)
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                follow_redirects=follow)

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return Auth(client)


# --- building records -----------------------------------------------------------------------------

class Factory:
    """Makes records through the real operations, so audit rows and checks apply."""

    def __init__(self):
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def team(self, code=None, supervisor=None):
        from portal.operations.staff import create_team

        code = code or f"T{self._next():03d}"
        return create_team(code, f"Team {code}", supervisor.employee_no if supervisor else None)

    def manager(self, team=None, level="junior", level_since=date(2022, 1, 1), hire_date=date(2020, 1, 1),
                employee_no=None, status="active"):
        from portal.operations.staff import create_manager

        manager = create_manager(employee_no or f"E{self._next():05d}", f"经理{self.n}", level, level_since,
                                 hire_date, team.code if team else None)
        manager.status = status
        return manager

    def client(self, manager, client_no=None, name=None, birth_date=date(1980, 5, 17), branch="北京建国门营业部"):
        from models import Client, db

        n = self._next()
        client = Client(client_no=client_no or f"C{n:09d}", name=name or f"客户{n}", name_pinyin=f"Kehu {n}",
                        birth_date=birth_date, id_type="resident_id", id_number=f"110105198005{n:04d}123X"[:18],
                        phone="13800138000", branch=self.branch(branch), opened_on=date(2015, 3, 1), manager=manager)
        db.session.add(client)
        db.session.flush()
        return client

    def branch(self, name="北京建国门营业部", code=None, city=None):
        """The branch record of this name, made on first use."""
        from sqlalchemy import func, select

        from models import Branch, db

        branch = db.session.scalar(select(Branch).where(Branch.name == name))
        if branch is None:
            number = (db.session.scalar(select(func.count(Branch.id))) or 0) + 1
            branch = Branch(code=code or f"BR{number:03d}", name=name, city=city or name[:2])
            db.session.add(branch)
            db.session.flush()
        return branch

    def user(self, username, role, manager=None, client=None, password=TEST_PASSWORD):
        from portal.operations.users import create_user

        return create_user(username, username.title(), role, password,
                           employee_no=manager.employee_no if manager else None,
                           client_no=client.client_no if client else None)


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


def api_token(username: str) -> str:
    from sqlalchemy import select

    from models import User, db
    from portal.operations.users import create_api_token

    user = db.session.scalar(select(User).where(User.username == username))
    token = create_api_token(user)
    db.session.commit()
    return token


@pytest.fixture
def token_for(app):
    return api_token
