"""The database out of reach: a 503 that says to retry (page or JSON), never a 500 or a stack trace."""
from __future__ import annotations

import pytest

from portal import create_app

DEAD = "postgresql://postgres@127.0.0.1:9/nowhere?connect_timeout=2"


@pytest.fixture
def dead_app():
    return create_app({"PORTAL_ENV": "testing", "DATABASE_URL": DEAD})


@pytest.mark.parametrize("path", ["/login", "/healthz", "/book"])
def test_pages_answer_503_with_retry_after(dead_app, path):
    response = dead_app.test_client().get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "psycopg" not in text


def test_the_page_is_in_the_users_language(dead_app):
    response = dead_app.test_client().get("/login", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 503
    assert "服务暂时不可用，请稍后重试。" in response.get_data(as_text=True)


def test_the_api_answers_503_json(dead_app):
    response = dead_app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
