"""The one JSON reader of request bodies: every `request.get_json()` / `request.json` of every view goes
through `PortalRequest`, so no API module has to guard its own body.

Before parsing, the body's nesting is measured without recursion (Python's parser recurses once per
level: 5,000 nested arrays were a RecursionError and a 500). After parsing, every key and text value
is checked for control characters (C0 other than tab, line feed and carriage return; DEL; NUL, which
PostgreSQL text cannot hold) and lone surrogates (no database encoding holds them), and every number
for being finite and within a 64-bit integer (no column holds more). Each refusal is a 400 with a
stable code, also under `get_json(silent=True)`: a refused body is not a body that failed to parse.

Codes: `too_deeply_nested` (deeper than JSON_MAX_DEPTH), `control_characters`, `number_out_of_range`.
A view that parses a body itself (Decimal amounts) calls `load_json(data, decimals=True)` for the same checks.
"""
from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from flask import Request, current_app, has_app_context
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

DEFAULT_MAX_DEPTH = 20
INT64 = 2 ** 63 - 1
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
# C0 controls but tab, LF and CR; DEL; lone surrogates (a JSON "\ud800" escape).
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # refused even where a caller names control characters itself


class JsonRefused(BadRequest):
    """A JSON body refused as a whole: `api_code` is the error code of the answer, `field` where it is."""

    user_message = True

    def __init__(self, api_code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.api_code, self.field = api_code, field


def max_depth() -> int:
    return int(current_app.config.get("JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)) if has_app_context() \
        else DEFAULT_MAX_DEPTH


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays and objects in JSON `text` nest deeper than `limit` (strings are skipped)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _where(path: list) -> str | None:
    """The top-level field the problem is in (the name a form or an API error names)."""
    return str(path[0]) if path else None


def check_values(value: Any, path: list | None = None, *, text: bool = True) -> None:
    """JsonRefused for text with control characters (unless `text` is False) or a number no column holds,
    anywhere in `value`."""
    path = path or []
    if isinstance(value, str):
        if (_BAD_TEXT if text else _SURROGATE).search(value):
            raise JsonRefused("control_characters", _(
                "Text may not contain control characters such as NUL."), _where(path))
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > INT64:
            raise JsonRefused("number_out_of_range", _("The number is too large."), _where(path))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise JsonRefused("number_out_of_range", _("The number is too large."), _where(path))
    elif isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() > len(str(INT64)):
            raise JsonRefused("number_out_of_range", _("The number is too large."), _where(path))
    elif isinstance(value, dict):
        for key, item in value.items():
            if (_BAD_TEXT if text else _SURROGATE).search(key):
                raise JsonRefused("control_characters", _(
                    "Text may not contain control characters such as NUL."), _where(path))
            check_values(item, [*path, key], text=text)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_values(item, [*path, index], text=text)


def _too_deep(limit: int) -> JsonRefused:
    return JsonRefused("too_deeply_nested", _("The JSON body is nested more than %(n)d levels deep.", n=limit))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def load_json(data: bytes | str, *, decimals: bool = False, check_text: bool = True) -> Any:
    """Parse a JSON document with the request body's checks; `decimals` reads every number with a point
    or exponent as a Decimal (money stays exact) and refuses NaN and Infinity. `check_text=False` leaves
    control characters to a caller that names the row holding them (the batch imports).

    JsonRefused for a body the checks refuse; ValueError when `data` is not JSON at all.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes | bytearray) else data
    limit = max_depth()
    if nesting_depth_exceeds(text, limit):
        raise _too_deep(limit)
    try:
        if decimals:
            body = json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant)
        else:
            body = json.loads(data)
    except RecursionError:  # unreachable after the measure above; never a 500 all the same
        raise _too_deep(limit) from None
    check_values(body, text=check_text)
    return body


class PortalRequest(Request):
    """Flask's request with a JSON body reader that refuses deep nesting, control characters and huge numbers."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            return super().get_json(force=force, silent=silent, cache=cache)
        data = self.get_data(cache=True)  # read once: the parser below reads the same cached bytes
        limit = max_depth()
        if nesting_depth_exceeds(data.decode("utf-8", errors="replace"), limit):
            raise _too_deep(limit)
        try:
            body = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:  # the measure above makes this unreachable; never a 500 all the same
            raise _too_deep(limit) from None
        check_values(body)
        return body
