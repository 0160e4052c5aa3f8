"""The compliance matrix: the twelve cells and the no-profile column, drill-downs, lists and exports."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("compliance", __name__)
