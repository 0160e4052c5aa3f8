"""Evaluation cycles: create, open, score, self-assess, close; client service ratings; targets."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evaluations", __name__)
