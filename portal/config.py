"""Every setting in one place, read from the environment (microblog's Config)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from portal.rules.calendar import BUSINESS_TZ

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-never-used-in-production"
ENVIRONMENTS = ("development", "production", "testing")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the portal may start with."""


def _sqlite_default() -> str:
    instance = BASE_DIR / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'portal.db'}"


def normalise_database_url(url: str) -> str:
    """Route PostgreSQL URLs through psycopg 3 whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings for one app instance; `overrides` (tests) win over the environment."""

    def __init__(self, overrides: dict | None = None, environ: dict | None = None):
        env = dict(os.environ if environ is None else environ)
        overrides = dict(overrides or {})
        self.PORTAL_ENV = overrides.pop("PORTAL_ENV", env.get("PORTAL_ENV", "development"))
        if self.PORTAL_ENV not in ENVIRONMENTS:
            raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.PORTAL_ENV!r}")
        production = self.PORTAL_ENV == "production"
        development = self.PORTAL_ENV == "development"

        secret = env.get("SECRET_KEY")
        if production and (not secret or secret == DEV_SECRET_KEY or len(secret) < 32):
            raise ConfigError("production refuses to start without its own SECRET_KEY (32 characters or more)")
        self.SECRET_KEY = secret or DEV_SECRET_KEY

        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(env.get("DATABASE_URL") or _sqlite_default())
        # No pre-ping round trip per request: a connection lost in a database restart fails one
        # request (answered 503, "retry"), SQLAlchemy then discards the whole pool and reconnects.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False}
        self.TESTING = self.PORTAL_ENV == "testing"
        # An optional read replica for compliance reports and exports (portal/replica.py); without it
        # they read the primary.
        replica = env.get("DATABASE_REPLICA_URL")
        self.SQLALCHEMY_BINDS = {"replica": normalise_database_url(replica)} if replica else {}

        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        # Sign-in throttles: per username and per client address.
        self.LOGIN_LIMIT_PER_USERNAME = env.get("LOGIN_LIMIT_PER_USERNAME", "5 per minute;20 per hour")
        self.LOGIN_LIMIT_PER_ADDRESS = env.get("LOGIN_LIMIT_PER_ADDRESS", "30 per minute")
        # Wrong passwords are counted per (username, address), per address and site-wide (portal/throttle.py).
        self.LOGIN_LIMIT_GLOBAL = env.get("LOGIN_LIMIT_GLOBAL", "600 per minute")

        # scrypt with N = 2^16 (OWASP ASVS 2.4.3 asks for at least 2^16 with r=8, p=1).
        self.PASSWORD_HASH_METHOD = "scrypt:65536:8:1"
        self.PASSWORD_MIN_LENGTH = 12

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = not (development or self.TESTING)
        self.SESSION_COOKIE_NAME = "portal_session"
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
        # The idle clock lives in the session itself (portal/security.py); no re-signing on every request.
        self.SESSION_REFRESH_EACH_REQUEST = False
        self.STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
        self.SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)

        self.WTF_CSRF_TIME_LIMIT = None  # the CSRF token lives as long as the session
        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        self.BABEL_DEFAULT_TIMEZONE = BUSINESS_TZ.key  # pages show China time, the business day's zone
        self.BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
        self.LANGUAGES = ("zh_CN", "en")
        self.PER_PAGE = 25
        # The result page's "higher than N% of clients" reads the score distribution (one GROUP BY over the
        # score index, ~100 ms at a million clients) kept this many seconds per process; 0 reads it each time.
        self.SCORE_DISTRIBUTION_SECONDS = int(env.get("SCORE_DISTRIBUTION_SECONDS", "0" if self.TESTING else "300"))
        # Rendered client-book bodies kept per process, served while the book is unchanged
        # (portal/clients/cache.py); 0 renders every book page anew.
        self.BOOK_CACHE_ENTRIES = int(env.get("BOOK_CACHE_ENTRIES", "512"))
        self.MAX_CONTENT_LENGTH = 32 * 1024 * 1024
        self.PROXY_FIX_HOPS = int(env.get("PROXY_FIX_HOPS", "0"))
        # The host names the portal answers to (comma-separated; ".example.com" also takes its subdomains).
        # A request naming another Host is refused (400) before any view runs, so every absolute URL the
        # portal writes (the .ics export's links) carries one of these, never a Host an attacker sent.
        hosts = [h.strip() for h in env.get("TRUSTED_HOSTS", "").split(",") if h.strip()]
        self.TRUSTED_HOSTS = hosts or None
        # Seconds a request may run before the portal answers 503 itself (portal/deadline.py); gunicorn.conf.py
        # sets it below the worker timeout; 0 (the default elsewhere) arms no timer.
        self.REQUEST_DEADLINE_SECONDS = float(env.get("REQUEST_DEADLINE_SECONDS", "0"))
        # API bearer tokens expire this many days after they are issued (`flask create-api-token --days`).
        self.API_TOKEN_LIFETIME_DAYS = int(env.get("API_TOKEN_LIFETIME_DAYS", "90"))
        # Request JSON nested deeper than this is refused with 400 too_deeply_nested (portal/json_input.py).
        self.JSON_MAX_DEPTH = int(env.get("JSON_MAX_DEPTH", "20"))
        # Import files (portal/imports/readers.py): refused whole past these, before they are parsed.
        self.IMPORT_MAX_BYTES = int(env.get("IMPORT_MAX_BYTES", str(1024 * 1024 * 1024)))
        self.IMPORT_MAX_ROWS = int(env.get("IMPORT_MAX_ROWS", "2000000"))
        self.IMPORT_MAX_FIELD_CHARS = int(env.get("IMPORT_MAX_FIELD_CHARS", "10000"))
        # The staff directory (portal/auth/directory.py, docs/DEPLOY.md); LDAP_URL unset: local passwords only.
        self.LDAP_URL = env.get("LDAP_URL", "")
        self.LDAP_START_TLS = env.get("LDAP_START_TLS", "").lower() in ("1", "true", "yes")
        self.LDAP_CA_FILE = env.get("LDAP_CA_FILE", "")
        self.LDAP_BIND_DN = env.get("LDAP_BIND_DN", "")
        self.LDAP_BIND_PASSWORD = env.get("LDAP_BIND_PASSWORD", "")
        self.LDAP_SEARCH_BASE = env.get("LDAP_SEARCH_BASE", "")
        self.LDAP_USER_FILTER = env.get("LDAP_USER_FILTER", "(uid={username})")
        self.LDAP_EMPLOYEE_NUMBER_ATTRIBUTE = env.get("LDAP_EMPLOYEE_NUMBER_ATTRIBUTE", "employeeNumber")
        self.LDAP_DISPLAY_NAME_ATTRIBUTE = env.get("LDAP_DISPLAY_NAME_ATTRIBUTE", "displayName")
        self.LDAP_GROUP_MEMBER_FILTER = env.get("LDAP_GROUP_MEMBER_FILTER", "(member={dn})")
        self.LDAP_ADMIN_GROUP = env.get("LDAP_ADMIN_GROUP", "")
        self.LDAP_COMPLIANCE_GROUP = env.get("LDAP_COMPLIANCE_GROUP", "")
        self.LDAP_SUPERVISOR_GROUP = env.get("LDAP_SUPERVISOR_GROUP", "")
        self.LDAP_TIMEOUT = int(env.get("LDAP_TIMEOUT", "5"))
        # One-time links and codes: staff invitations, client activation codes, password resets.
        self.INVITATION_VALID = timedelta(days=7)
        self.ACTIVATION_CODE_VALID = timedelta(hours=72)
        self.PASSWORD_RESET_VALID = timedelta(hours=24)
        # Where the links printed by `invite-staff` point (the CLI has no request to take the host from).
        self.PORTAL_BASE_URL = env.get("PORTAL_BASE_URL", "http://localhost:5000").rstrip("/")
        # The CJK font the inspection pack's PDF embeds (TrueType, or a .ttc collection: its first face).
        self.PACK_FONT = env.get("PACK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
        # E-mail reminders (`flask send-reminders`, docs/REMINDERS.md): the SMTP server and the sender, and the
        # address the portal is reached at, for the links in the messages.
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(env.get("MAIL_PORT", "25"))
        self.MAIL_USE_TLS = _flag(env.get("MAIL_USE_TLS") or env.get("MAIL_STARTTLS"))  # STARTTLS on a plain port
        self.MAIL_USE_SSL = _flag(env.get("MAIL_USE_SSL"))  # TLS from the first byte (port 465)
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_SENDER = env.get("MAIL_SENDER") or None
        self.MAIL_TIMEOUT = float(env.get("MAIL_TIMEOUT", "30"))
        # A CA bundle to trust for the server's certificate (an intranet CA); unset: the system's.
        self.MAIL_CA_FILE = env.get("MAIL_CA_FILE") or None
        self.PORTAL_URL = (env.get("PORTAL_URL") or "http://127.0.0.1:5000").rstrip("/")

        for key, value in overrides.items():
            setattr(self, key, value)
        if "DATABASE_URL" in overrides:
            self.SQLALCHEMY_DATABASE_URI = normalise_database_url(overrides["DATABASE_URL"])
        if "DATABASE_REPLICA_URL" in overrides:
            replica = overrides["DATABASE_REPLICA_URL"]
            self.SQLALCHEMY_BINDS = {"replica": normalise_database_url(replica)} if replica else {}

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
