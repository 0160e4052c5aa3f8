"""A deadline for every request, so that a request a worker cannot finish is answered by the portal itself.

gunicorn kills a sync worker that has been busy longer than its `timeout` and the client gets a bare
answer from gunicorn, without the portal's security headers and with the transaction cut wherever it
was. Under gunicorn (gunicorn.conf.py sets REQUEST_DEADLINE_SECONDS a little below the worker timeout),
each request arms a SIGALRM timer when its view starts; when it rings, `RequestDeadlineExceeded` is
raised in the view's code, the transaction is rolled back, and the request is answered 503 with a
Retry-After, through the portal's error page (or JSON error on the API) and its after_request hooks,
security headers included. The timer is disarmed as soon as the view has returned, so a response
being streamed is not cut.

`RequestDeadlineExceeded` derives from BaseException, not Exception: the `except Exception` blocks
that turn a library's failure into a user's message (an unreadable file) must not swallow it.
A sync worker serves its requests on the main thread; elsewhere (threads, the development server's
threads, tests) no timer is armed unless the setting is given and the thread is the main one.
"""
from __future__ import annotations

import signal
import threading
from contextlib import suppress

from flask import Flask, current_app, request
from flask_babel import gettext as _

from models import db


class RequestDeadlineExceeded(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """The request ran past REQUEST_DEADLINE_SECONDS."""


def _ring(_signum, _frame):
    raise RequestDeadlineExceeded()


def _can_arm(seconds: float) -> bool:
    return seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _deadline_answer():
    from portal.errors import _answer

    current_app.logger.warning("request %s %s ran past its deadline of %ss; answered 503", request.method,
                               request.path, current_app.config["REQUEST_DEADLINE_SECONDS"])
    with suppress(Exception):  # the connection may have been cut mid-statement: then it is discarded
        db.session.rollback()
    with suppress(Exception):
        db.session.invalidate()
    return _answer(503, _("The request took too long and was stopped; nothing was changed. Please retry, or "
                          "split the work into smaller parts."), "timeout")


def install(app: Flask) -> None:
    """Wrap the app's request dispatch with the deadline (a no-op where REQUEST_DEADLINE_SECONDS is 0)."""
    dispatch = app.full_dispatch_request

    def full_dispatch_request():
        seconds = float(app.config.get("REQUEST_DEADLINE_SECONDS") or 0)
        if not _can_arm(seconds):
            return dispatch()
        previous = signal.signal(signal.SIGALRM, _ring)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return dispatch()
        except RequestDeadlineExceeded:
            _disarm()
            return app.finalize_request(_deadline_answer())
        finally:
            _disarm()
            signal.signal(signal.SIGALRM, previous)

    app.full_dispatch_request = full_dispatch_request
