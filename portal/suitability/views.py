"""Product catalogue, service packages of the twelve cells, recommendations and subscriptions with their checks."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("suitability", __name__)
