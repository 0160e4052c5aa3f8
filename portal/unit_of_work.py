"""One transaction around a request's writes: commit when the work succeeds, roll back and answer when it fails.

Operations flush and write their audit row but never commit (portal/operations/); the unit of work is the one
layer that does, as Indico's `RH.process` commits once per request:

    with unit_of_work(form) as work:
        cycle = operations.create_cycle(...)
    if work.ok:
        flash(...)
        return redirect(...)
    return render_template(...), 400

On success the block's changes are committed when it ends. On `OperationError` they are rolled back and the
error is answered where the request came from:

- the JSON API (`/api/...`): `400 {"error": {"code", "message", "field"}}`, or `409` without the field for
  the codes listed in `conflicts` (every code with `conflicts=True`);
- a page: beside the form field the error names (`form=`, via `attach_error`), or flashed as `danger`
  (`flash=True`), or left to the view, which reads `work.error` after the block;
- a command (no request): `click.ClickException` with the message.

Errors of the types in `answer_here` (an operation's richer refusal such as a list of bad lines, or an
import's own exception) are rolled back and kept in `work.error` for the caller to answer, on every path.
Any other exception rolls back and propagates. `commit=False` (a dry run) rolls back even on success.

A `return` inside the block commits before the value is returned, so an API answer built there is complete
before the commit (a connection lost after the commit cannot make the caller retry a stored write). A write
that must outlive the request's refusal (the audit of a refused attempt, a refused import's history row) is
made in a second unit of work after the first has rolled back.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

import click
from flask import flash as flash_message
from flask import has_request_context

from models import db
from portal.access import is_api_request
from portal.operations.errors import OperationError, attach_error


class UnitOfWork:
    """What a `with unit_of_work(...)` block did: `error` is the refusal that rolled it back, or None."""

    def __init__(self) -> None:
        self.error: Exception | None = None

    @property
    def ok(self) -> bool:
        """True when the block ran to its end: its writes are committed (rolled back with `commit=False`)."""
        return self.error is None


@contextmanager
def unit_of_work(form=None, *, flash: bool = False, conflicts: bool | Collection[str] = (),
                 answer_here: tuple[type[Exception], ...] = (), commit: bool = True) -> Iterator[UnitOfWork]:
    """Commit the block's writes, or roll them back and answer its `OperationError` (see the module)."""
    work = UnitOfWork()
    try:
        yield work
    except answer_here as error:
        db.session.rollback()
        work.error = error
    except OperationError as error:
        db.session.rollback()
        work.error = error
        _answer(error, form, flash, conflicts)
    except BaseException:
        db.session.rollback()
        raise
    else:
        if commit:
            db.session.commit()
        else:
            db.session.rollback()


def _answer(error: OperationError, form, flash: bool, conflicts: bool | Collection[str]) -> None:
    if not has_request_context():
        raise click.ClickException(error.message) from None
    if is_api_request():
        from portal.api import ApiInputError  # the API package imports this module

        if conflicts is True or (conflicts and error.code in conflicts):
            raise ApiInputError(error.message, None, error.code, status=409) from None
        raise ApiInputError(error.message, error.field, error.code) from None
    if form is not None:
        attach_error(form, error)
    elif flash:
        flash_message(error.message, "danger")
