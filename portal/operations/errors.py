"""The one error operations raise for input a user can correct."""
from __future__ import annotations


class OperationError(ValueError):
    """Bad input: `field` names what to fix (None for the whole request), `code` is for the API."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
