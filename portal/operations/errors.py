"""The one error operations raise for input a user can correct."""
from __future__ import annotations


class OperationError(ValueError):
    """Bad input: `field` names what to fix (None for the whole request), `code` is for the API."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


def attach_error(form, error: OperationError) -> None:
    """Show an operation's message beside the form field it names, or above the form."""
    from flask import flash

    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "danger")
