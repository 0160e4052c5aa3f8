"""The application factory: start-up reads like a table of contents (cookiecutter-flask)."""
from __future__ import annotations

import logging

from flask import Flask, g, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from models import db
from portal.config import BASE_DIR, Config


def create_app(config: dict | None = None) -> Flask:
    """Build the portal; `config` overrides the environment (tests use it)."""
    settings = Config(config)
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_mapping(settings.as_dict())
    from portal.json_input import PortalRequest

    app.request_class = PortalRequest  # every request.get_json: nesting, control characters, number range
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = DatabaseInt  # before any route is registered
    register_hooks(app)  # first: authorisation is decided before CSRF and rate-limit checks run
    register_extensions(app)
    register_blueprints(app)
    from portal.errors import register_errorhandlers

    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    from portal.deadline import install as install_deadline

    install_deadline(app)  # a request past REQUEST_DEADLINE_SECONDS is answered 503 by the portal, not killed
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    if app.config["PORTAL_ENV"] == "production" and not app.config["TRUSTED_HOSTS"]:
        app.logger.warning("TRUSTED_HOSTS is not set: absolute URLs (the .ics export) copy the request's Host header")
    return app


class DatabaseInt(IntegerConverter):
    """`<int:…>` in a URL matches only ids a database row can have (1 to 2^31 − 1); anything else is a 404.

    A larger number would otherwise reach the database, which refuses to compare it (a 500).
    """

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def select_locale() -> str:
    """The user's saved choice, then the session's, then the browser's language."""
    languages = ["zh_CN", "en"]
    if not has_request_context():  # CLI commands: messages in the default language
        return "en"
    # With the database away (a 503 page), the signed-in user cannot be loaded: use the cookie's choice.
    signed_in = not g.get("database_unavailable") and current_user and getattr(current_user, "is_authenticated", False)
    if signed_in and current_user.preferred_language in languages:
        return current_user.preferred_language
    if session.get("lang") in languages:
        return session["lang"]
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best in ("zh", "zh_CN"):
        return "zh_CN"
    return best or "zh_CN"


def install_template_gettext(app: Flask) -> None:
    """Templates call `_()` dozens of times a page; each call used to look the catalog up again."""
    from portal.formatting import request_translations as _request_translations

    app.jinja_env.install_gettext_callables(
        lambda s: _request_translations().ugettext(s),
        lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
    )


def register_extensions(app: Flask) -> None:
    from portal.auth.loaders import register_loaders
    from portal.extensions import babel, csrf, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    register_loaders(app)
    from portal.operations.users import prepare_dummy_hash

    prepare_dummy_hash(app.config["PASSWORD_HASH_METHOD"])  # sign-in never computes it: same work for every name


def register_hooks(app: Flask) -> None:
    from portal.access import enforce_policy
    from portal.auth.loaders import load_api_user
    from portal.reads import start_read_only
    from portal.security import enforce_session_lifetime, refuse_control_characters, set_security_headers

    app.before_request(start_read_only)  # first: before any hook queries the database
    app.before_request(refuse_control_characters)
    app.before_request(load_api_user)
    app.before_request(enforce_session_lifetime)
    app.before_request(enforce_policy)
    app.after_request(set_security_headers)


def register_blueprints(app: Flask) -> None:
    from portal.admin.views import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.auditlog.views import bp as audit_bp
    from portal.auth.views import bp as auth_bp
    from portal.clients.views import bp as clients_bp
    from portal.compliance.views import bp as compliance_bp
    from portal.credit.views import bp as credit_bp
    from portal.evaluations.views import bp as evaluations_bp
    from portal.extensions import csrf
    from portal.followups.views import bp as followups_bp
    from portal.home.views import bp as home_bp
    from portal.investor.views import bp as investor_bp
    from portal.promotions.views import bp as promotions_bp
    from portal.questionnaire.admin import bp as questionnaire_admin_bp
    from portal.questionnaire.views import bp as questionnaire_bp
    from portal.suitability.views import bp as suitability_bp
    from portal.teams.views import bp as teams_bp
    from portal.tiering.views import bp as tiering_bp

    for blueprint in (auth_bp, home_bp, clients_bp, teams_bp, admin_bp, audit_bp, questionnaire_bp,
                      questionnaire_admin_bp, investor_bp, followups_bp, credit_bp, tiering_bp, suitability_bp,
                      compliance_bp, evaluations_bp, promotions_bp):
        app.register_blueprint(blueprint)
    from portal.imports.views import bp as onboarding_bp

    app.register_blueprint(onboarding_bp)
    from portal.activation.views import bp as activation_bp

    app.register_blueprint(activation_bp)
    from portal.account.views import bp as account_bp

    app.register_blueprint(account_bp)
    from portal.pickers.views import bp as pickers_bp

    app.register_blueprint(pickers_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token, never by cookie
    app.register_blueprint(api_bp)


def register_commands(app: Flask) -> None:
    """Each feature's commands, a module-level group in its cli.py, as top-level `flask` commands."""
    from portal import cli
    from portal.activation import cli as activation_cli
    from portal.clients import cli as clients_cli
    from portal.compliance import cli as compliance_cli
    from portal.evaluations import cli as evaluations_cli
    from portal.imports import cli as imports_cli
    from portal.promotions import cli as promotions_cli
    from portal.questionnaire import cli as questionnaire_cli
    from portal.reminders import cli as reminders_cli
    from portal.tiering import cli as tiering_cli

    for feature in (cli, questionnaire_cli, tiering_cli, evaluations_cli, promotions_cli, imports_cli, activation_cli,
                    compliance_cli, reminders_cli, clients_cli):
        for command in feature.cli.commands.values():
            app.cli.add_command(command)


def register_template_helpers(app: Flask) -> None:
    from portal import formatting
    from portal.labels import labels

    app.jinja_env.filters.update(formatting.FILTERS)

    @app.context_processor
    def inject():
        return {"current_locale": formatting.portal_language(), "labels": labels()}

    @app.teardown_request
    def _forget(_exc=None):
        # Per-request state (user, CSRF token, scopes) must not outlive the request, even where
        # an app context is reused across requests (the test client inside an app context).
        from portal.replica import close_replica_connection

        close_replica_connection()
        for key in list(g):
            g.pop(key, None)
