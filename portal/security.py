"""Response headers, session lifetime, the safe `next` check and how secrets are stored (OWASP ASVS level 2)."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import current_user, logout_user


def hash_token(token: str) -> str:
    """What is stored of a bearer token, sign-in link or code: its SHA-256, never the secret itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def set_security_headers(response):
    """after_request: the same headers on every response, error pages included."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # Pages carry personal data: never cached by the browser or a proxy.
        headers.setdefault("Cache-Control", "no-store")
    return response


# C0 control characters other than tab, newline and carriage return: no form or query needs them,
# and PostgreSQL refuses NUL in text, so they are turned away before any query runs.
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"} | {"\x7f"}


def _has_control(value: str) -> bool:
    return any(ch in _CONTROL for ch in value)


def refuse_control_characters():
    """before_request: a 400 for control characters in the path, the query string or a form field."""
    suspicious = [request.path, *request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        suspicious += [*request.form.keys(), *request.form.values()]
    if any(_has_control(value) for value in suspicious):
        from flask import abort

        abort(400)
    return None


def _now_ts() -> float:
    return datetime.now(UTC).timestamp()


def start_session(user) -> None:
    """At sign-in: a fresh session (the old cookie's contents are dropped) with its clocks started."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    now = _now_ts()
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = True


def enforce_session_lifetime():
    """before_request: end a session idle for too long or older than the absolute limit."""
    if request.path.startswith("/api/") or request.endpoint == "static":
        return None
    if not current_user.is_authenticated:
        return None
    cfg = current_app.config
    now = _now_ts()
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    too_old = now - login_at > cfg["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    idle = now - seen_at > cfg["STAFF_IDLE_TIMEOUT"].total_seconds()
    if too_old or idle:
        logout_user()
        session.clear()
        flash(_("Your session has ended. Please sign in again."), "warning")
        return None
    if now - seen_at > 30:  # refresh the idle clock, but not on every single request
        session["seen_at"] = now
    return None


def safe_next(target: str | None, default: str) -> str:
    """Only a local path may follow sign-in: no scheme, no host, no `//` or backslash tricks."""
    if not target:
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
