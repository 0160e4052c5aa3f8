"""Configuration, password storage, and the headers every response carries."""
from __future__ import annotations

import pytest

from portal.config import DEV_SECRET_KEY, Config, ConfigError


def test_production_refuses_to_start_without_its_own_secret_key():
    with pytest.raises(ConfigError):
        Config(environ={"PORTAL_ENV": "production"})
    with pytest.raises(ConfigError):
        Config(environ={"PORTAL_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY})
    with pytest.raises(ConfigError):
        Config(environ={"PORTAL_ENV": "production", "SECRET_KEY": "short"})
    config = Config(environ={"PORTAL_ENV": "production", "SECRET_KEY": "x" * 40,
                             "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    assert config.SESSION_COOKIE_SECURE is True
    assert config.RATELIMIT_STORAGE_URI.startswith("redis://")


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        Config(environ={"PORTAL_ENV": "staging"})


def test_database_url_goes_through_psycopg3():
    config = Config(environ={"DATABASE_URL": "postgresql://u@h/db"})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"
    assert Config(environ={}).SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")


def test_development_cookies_and_defaults():
    config = Config(environ={"PORTAL_ENV": "development"})
    assert config.SESSION_COOKIE_SECURE is False
    assert config.SESSION_COOKIE_HTTPONLY is True and config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.RATELIMIT_STORAGE_URI == "memory://"


def test_passwords_are_hashed_with_scrypt_at_n_2_16(app):
    from werkzeug.security import check_password_hash, generate_password_hash

    method = Config(environ={}).PASSWORD_HASH_METHOD
    algorithm, n, r, p = method.split(":")
    assert algorithm == "scrypt" and int(n) >= 2 ** 16
    stored = generate_password_hash("a-long-password-1", method=method)
    assert stored.startswith(f"scrypt:{n}:{r}:{p}$") and check_password_hash(stored, "a-long-password-1")


def test_password_policy(app):
    from portal.operations.errors import OperationError
    from portal.operations.users import check_password_policy

    with pytest.raises(OperationError):
        check_password_policy("elevenchars")
    with pytest.raises(OperationError):
        check_password_policy("username1234", "username1234")
    check_password_policy("twelve-chars")


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_secure(response):
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, header
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    script = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script


@pytest.mark.parametrize("method,path", [
    ("GET", "/login"), ("GET", "/healthz"), ("GET", "/no-such-page"), ("GET", "/book"), ("POST", "/login"),
    ("GET", "/api/v1/me"), ("GET", "/api/v1/openapi.json"), ("DELETE", "/api/v1/me"),
    ("GET", "/static/css/portal.css"),
])
def test_every_response_carries_the_security_headers(client, method, path):
    response = client.open(path, method=method)
    response.close()  # a static file's body is a file the response holds open
    assert_secure(response)


@pytest.mark.own_app  # adds a route
def test_error_pages_carry_headers_and_leak_nothing(app, client, auth, world):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")
    boom.access_policy = frozenset({"admin"})

    auth.login("admin")
    response = client.get("/boom")
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    assert_secure(response)
    forbidden = client.get("/team")
    assert forbidden.status_code == 403
    assert_secure(forbidden)


def test_templates_carry_no_inline_script_or_style(app):
    from pathlib import Path

    for template in Path(app.template_folder).rglob("*.html"):
        if template.parent.name == "reminders":
            continue  # e-mail bodies, never served as pages: mail readers need their styles inline
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and "onclick=" not in text and "style=" not in text, template
        assert "http://" not in text and "https://" not in text, f"external link in {template}"


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path}/missing-dir/none.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "unavailable"}


@pytest.mark.parametrize("login", [None, "client_a", "rm_a", "sup_a", "compliance", "admin"])
def test_every_route_answers_with_the_security_headers_for_every_role(app, client, auth, world, token_for, login):
    """Every route and method in the url_map, as each role: whatever the status, the headers are there."""
    from tests.test_access import _routes

    headers = {}
    if login:
        auth.login(login)
        headers = {"Authorization": f"Bearer {token_for(login)}"}
    seen = 0
    for _endpoint, method, path in _routes(app):
        response = client.open(path, method=method, headers=headers if path.startswith("/api/") else {})
        assert response.status_code != 500, (login, method, path)
        assert_secure(response)
        seen += 1
    assert seen > 100
