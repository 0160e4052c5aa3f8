"""Bounds of the numbers the database holds, checked before any arithmetic on them.

`Decimal("1e999999")` and a 32-digit amount are valid Decimals, but quantizing them to cents raises
`InvalidOperation` (the result needs more digits than the context holds), and an integer of 2^31
or more does not fit an Integer column ("integer out of range"). Every form, API body and import
checks its numbers here first, so each answers with the field's own message, never a 500.
"""
from __future__ import annotations

from decimal import Decimal

INT32_MAX = 2 ** 31 - 1  # an Integer column
INT64_MAX = 2 ** 63 - 1  # a BigInteger column
MONEY_INTEGER_DIGITS = 16  # Numeric(18, 2)
MONEY_PLACES = 2

TOO_LARGE = "too_large"
TOO_MANY_DECIMALS = "too_many_decimals"
NOT_A_NUMBER = "not_a_number"


def decimal_problem(value: Decimal, integer_digits: int = MONEY_INTEGER_DIGITS,
                    places: int = MONEY_PLACES) -> str | None:
    """None when `value` fits Numeric(integer_digits + places, places) exactly, else a code.

    Works on the digits alone: no quantize, no rounding, whatever the exponent.
    """
    if not value.is_finite():
        return NOT_A_NUMBER
    if value.is_zero():
        return None
    if value.adjusted() >= integer_digits:
        return TOO_LARGE
    _sign, digits, exponent = value.as_tuple()
    fractional = -exponent
    if fractional > places and any(digits[len(digits) - (fractional - places):]):
        return TOO_MANY_DECIMALS
    return None


def whole_number_text_fits(text: str, maximum: int = INT32_MAX) -> bool:
    """True when `text` (digits, an optional sign) is a whole number of at most `maximum` in size.

    Length is checked before `int()`: Python refuses to convert more than 4,300 digits (ValueError).
    """
    digits = text.strip().lstrip("+-")
    if not digits.isascii() or not digits.isdigit():
        return False
    digits = digits.lstrip("0") or "0"
    return len(digits) <= len(str(maximum)) and int(digits) <= maximum
