"""Asset and revenue imports (upload page), tier thresholds (versioned), retiering."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tiering", __name__)
