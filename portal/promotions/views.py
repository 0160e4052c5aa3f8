"""The level ladder, weights and rules editing, eligibility, nominations (maker/checker), level history, reports."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("promotions", __name__)
