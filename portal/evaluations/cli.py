"""Flask commands of this feature."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this feature's commands to `flask --app app`."""
