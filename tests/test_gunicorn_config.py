"""The portal under gunicorn with gunicorn.conf.py, as `make serve` runs it (PostgreSQL, real processes):
no Server banner, request line and header limits, and a request past its deadline answered 503 by the
portal (security headers, nothing written) before gunicorn would kill the worker.

Without TEST_DATABASE_URL these skip with the reason; REQUIRE_POSTGRES=1 makes that a failure.
"""
from __future__ import annotations

import http.client
import importlib.util
import json
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import make_app
from tests.databases import postgres_url, require_postgres
from tests.faults.servers import ROOT, gunicorn, production_env
from tests.helpers import Factory, api_token


@pytest.fixture
def pg_url(request, tmp_path):
    if not postgres_url() and not require_postgres():
        pytest.skip("TEST_DATABASE_URL is not set: the gunicorn tests need PostgreSQL")
    factory = request.getfixturevalue("postgres_factory")
    url = factory.create(tmp_path)
    yield url
    factory.drop(url)


def _world(url: str) -> str:
    """Three clients and an administrator's API token."""
    from models import db

    app = make_app(url)
    with app.app_context():
        make = Factory()
        manager = make.manager(employee_no="RMA1")
        for n in range(1, 4):
            make.client(manager, client_no=f"CA000{n}", name=f"客户{n}")
        make.user("admin", "admin")
        db.session.commit()
        token = api_token("admin")
        db.session.remove()
        db.engine.dispose()
    return token


def _raw(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _snapshots(url: str) -> int:
    u = make_url(url)
    with psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, dbname=u.database,
                         autocommit=True) as connection:
        return connection.execute("SELECT count(*) FROM asset_snapshots").fetchone()[0]


def test_the_config_file_sets_the_limits_and_a_deadline_below_the_worker_timeout():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.timeout == 60 and conf.limit_request_line == 4094 and conf.limit_request_fields == 50
    assert conf.limit_request_field_size == 8190
    assert conf.deadline_for(60) == 50 and conf.deadline_for(30) == 25 and conf.deadline_for(3) == 1


def test_no_server_banner_and_request_limits(pg_url, tmp_path):
    _world(pg_url)
    with gunicorn(production_env(pg_url), tmp_path / "gunicorn.log", workers=1) as (base, _pid):
        status, headers, _body = _raw(base, "GET", "/login")
        assert status == 200 and "server" not in headers
        assert headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"
        status, headers, _body = _raw(base, "GET", "/api/v1/me")
        assert status == 401 and "server" not in headers
        status, _headers, _body = _raw(base, "GET", "/login?q=" + "a" * 5000)
        assert status in (400, 414)
        status, _headers, _body = _raw(base, "GET", "/login", headers={f"X-Extra-{n}": "1" for n in range(60)})
        assert status in (400, 431)
        status, _headers, _body = _raw(base, "GET", "/login", headers={"X-Big": "a" * 9000})
        assert status in (400, 431)


def test_a_request_past_its_deadline_is_answered_503_by_the_portal(pg_url, tmp_path):
    """The finding: a request the worker could not finish got gunicorn's bare 500 without security headers."""
    token = _world(pg_url)
    from portal.rules.calendar import business_today

    day = (business_today().replace(day=1) - timedelta(days=1)).isoformat()
    rows = [{"client_no": f"CA000{1 + n % 3}", "date": day, "cash": "1", "a_shares": "0", "b_shares": "0",
             "funds": "0", "warrants": "0", "bonds": "0", "collective_products": "0"} for n in range(3)]
    body = json.dumps(rows * 3333).encode()  # 9,999 rows, of which most are duplicates: slow to check
    env = production_env(pg_url, REQUEST_DEADLINE_SECONDS="0.25")
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as (base, _pid):
        status, headers, answer = _raw(base, "POST", "/api/v1/asset-snapshots", body,
                                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert status == 503, answer[:300]
        assert json.loads(answer)["error"]["code"] == "timeout"
        assert headers["retry-after"] and headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
        assert _snapshots(pg_url) == 0
        status, _headers, _answer = _raw(base, "GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert status == 200  # the same worker answers the next request
