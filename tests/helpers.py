"""Helpers every test module may use: signing in, CSRF tokens, API headers, finding and building records.

Fixtures live in tests/conftest.py; the plain functions and classes they and the tests share live here.
"""
from __future__ import annotations

import re
from datetime import date

TEST_PASSWORD = "correct-horse-battery"
# Cheap hashing in tests; the production parameters are asserted in test_security.py.
FAST_HASH = "scrypt:1024:8:1"

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form on `path`."""
    response = client.get(path)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, page: str = "/"):
    """POST a form to `path` with the CSRF token read from `page`."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})})


def bearer(token: str) -> dict:
    """The Authorization header of an API token."""
    return {"Authorization": f"Bearer {token}"}


class Auth:
    """Signs a test client in and out through the real login form."""

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


def api_token(username: str) -> str:
    """A new API token of `username`, committed."""
    from sqlalchemy import select

    from models import User, db
    from portal.operations.users import create_api_token

    user = db.session.scalar(select(User).where(User.username == username))
    token = create_api_token(user)
    db.session.commit()
    return token


# --- finding records --------------------------------------------------------------------------------

def user(username: str):
    """The login of this username, or None."""
    from sqlalchemy import select

    from models import User, db

    return db.session.scalar(select(User).where(User.username == username))


def manager(employee_no: str):
    """The relationship manager of this employee number, or None."""
    from sqlalchemy import select

    from models import Manager, db

    return db.session.scalar(select(Manager).where(Manager.employee_no == employee_no))


def client_record(client_no: str):
    """The client of this client number, or None."""
    from sqlalchemy import select

    from models import Client, db

    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def team(code: str):
    """The team of this code, or None."""
    from sqlalchemy import select

    from models import Team, db

    return db.session.scalar(select(Team).where(Team.code == code))


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


def client_in(app, language: str):
    """A test client of `app` asking for `language` (Accept-Language)."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return test_client
