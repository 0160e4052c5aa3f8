"""JSON API: see the issue this module belongs to; PATHS is merged into the OpenAPI document."""
from __future__ import annotations

from portal.api import bp  # noqa: F401

PATHS: dict = {}
SCHEMAS: dict = {}
