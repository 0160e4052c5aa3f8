"""Read-only views: on PostgreSQL their GETs run without a transaction, saving the BEGIN and ROLLBACK round trips.

A signed-in list page costs a handful of database round trips (the user, a count, a page); psycopg sends
BEGIN before the first and SQLAlchemy a ROLLBACK after the last, which makes up a large share of the
time of a page. A view marked `@read_only` reads in autocommit mode instead: each statement sees the
database as of its own start, which is all a page of a list needs (at worst the count and the page
differ by a row written in between). The connection goes back to the pool in its normal transactional
mode. A write attempted during such a request is refused loudly (`ReadOnlyRequestError`), so a
read-only marking can never turn a write into a non-atomic one.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from models import db

READ_METHODS = ("GET", "HEAD")


class ReadOnlyRequestError(RuntimeError):
    """A view marked read-only tried to write: a programming error, never a user's."""


def read_only(view=None, *, methods: tuple[str, ...] = READ_METHODS):
    """Mark a view whose requests of these methods (GET and HEAD unless named) never write.

    `@read_only` or `@read_only(methods=("GET", "HEAD", "POST"))` — the latter for a form step that
    only keeps its answers in the session cookie.
    """
    def mark(function):
        function.read_only = frozenset(methods)
        return function
    return mark(view) if view is not None else mark


def _is_read_only_request() -> bool:
    return has_request_context() and bool(g.get("read_only"))


def start_read_only():
    """before_request, registered first: a read-only GET takes an autocommit connection before any query."""
    if request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if request.method not in getattr(view, "read_only", ()):
        return None
    g.read_only = True
    # (A session already in a transaction — a test sharing its session with the request — keeps it.)
    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return None


@event.listens_for(Session, "do_orm_execute")
def _refuse_statements(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and _is_read_only_request():
        raise ReadOnlyRequestError(f"{request.endpoint} is marked read-only but executed a write")


@event.listens_for(Session, "before_flush")
def _refuse_flush(session, _context, _instances) -> None:
    if (session.new or session.dirty or session.deleted) and _is_read_only_request():
        raise ReadOnlyRequestError(f"{request.endpoint} is marked read-only but flushed changes")
