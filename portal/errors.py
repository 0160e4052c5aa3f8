"""Error pages and JSON errors: the user's language, never a stack trace."""
from __future__ import annotations

from contextlib import suppress

from flask import Response, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from models import db
from portal.access import api_error, is_api_request


def _messages():
    return {
        400: ("bad_request", _("The request could not be understood.")),
        401: ("unauthorized", _("Please sign in.")),
        403: ("forbidden", _("You may not use this page.")),
        404: ("not_found", _("Nothing was found at this address.")),
        405: ("method_not_allowed", _("This address does not accept that method.")),
        413: ("too_large", _("The upload is too large.")),
        429: ("too_many_requests", _("Too many attempts. Please wait a minute and try again.")),
        500: ("internal_error", _("Something went wrong on our side. It has been logged.")),
        503: ("unavailable", _("The service is briefly unavailable. Please retry in a moment.")),
    }


def _answer(status: int, message: str | None = None, code: str | None = None, **extra):
    default_code, default_message = _messages().get(status, ("error", _("The request failed.")))
    message = message or default_message
    code = code or default_code
    if is_api_request() or request.accept_mimetypes.best == "application/json":
        response, status = api_error(status, code, message, **extra)
        if status == 503:
            response.headers["Retry-After"] = "5"
        return response, status
    if status == 503:
        # The database is away: the standalone page never asks it for the signed-in user.
        return render_template("errors/unavailable.html", message=message), 503, {"Retry-After": "5"}
    return render_template("errors/error.html", status=status, message=message), status


def register_errorhandlers(app):
    @app.teardown_appcontext
    def release_session(_exc=None):
        """End the request's session before Flask-SQLAlchemy's own teardown does (teardowns run last-in first).

        When the connection is lost after the view finished (the database restarting), the closing ROLLBACK
        fails: the answer is already made, and the server-side transaction is gone with the connection, so the
        failure is logged and the dead connection dropped rather than raised (a 500 from the server).
        """
        try:
            db.session.remove()
        except DBAPIError as error:
            app.logger.warning("database connection lost at the end of a request: %s", error)
            with suppress(DBAPIError):
                db.session.remove()

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("The form has expired or was not sent from this site. Please reload the page and try again.")
        return _answer(400, message, "csrf")

    @app.errorhandler(SecurityError)
    def untrusted_host(_error):
        """A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page with links either."""
        return Response(_("The request could not be understood.") + "\n", 400, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(error):
        message = None
        if error.code == 400 and error.description and getattr(error, "user_message", False):
            message = error.description
        field = getattr(error, "field", None)  # JsonRefused names where in the body the problem is
        return _answer(error.code or 500, message, getattr(error, "api_code", None),
                       **({"field": field} if field else {}))

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        app.logger.warning("database unavailable: %s", error)
        g.database_unavailable = True
        db.session.rollback()
        return _answer(503)

    @app.errorhandler(DBAPIError)
    def database_error(error):
        app.logger.exception("database error")
        db.session.rollback()
        if getattr(error, "connection_invalidated", False):
            g.database_unavailable = True
            return _answer(503)
        return _answer(500)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return _answer(500)
