"""The password policy as a pure rule: which problems a new password has, as stable codes.

OWASP ASVS 4.0 V2.1: at least 12 characters (2.1.1), up to 128 allowed (2.1.2), any character including
spaces and Chinese (2.1.4), no composition rules, and a check against breached and common passwords
(2.1.7). The list shipped in `data/passwords/common-passwords.txt.gz` holds the 100,000 most common
passwords of SecLists' "10-million-password-list-top-100000" plus every entry of 12 characters or more
of the larger SecLists collection it came with, lower-cased (108,088 entries; source and licence in
`data/passwords/README.md`). Passwords are compared ignoring case and surrounding spaces, and a common
password followed by digits or punctuation ("password2026!") counts as that common password.
"""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
# Fewer different characters than this is a pattern, not a secret ("aaaaaaaaaaaa", eleven spaces and a letter).
MIN_DISTINCT = 5
COMMON_LIST = Path(__file__).resolve().parents[2] / "data" / "passwords" / "common-passwords.txt.gz"

TOO_SHORT = "too_short"
TOO_LONG = "too_long"
COMMON = "common"
CONTAINS_USERNAME = "contains_username"
REPETITIVE = "repetitive"
SEQUENCE = "sequence"
CODES = (TOO_SHORT, TOO_LONG, COMMON, CONTAINS_USERNAME, REPETITIVE, SEQUENCE)

_TRAILING = re.compile(r"[\d\W_]+$")
_REPEATED_UNIT = re.compile(r"(.+?)\1+", re.DOTALL)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process."""
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as stream:
        return frozenset(line.rstrip("\n") for line in stream if line.strip())


def is_common(password: str) -> bool:
    """In the list, ignoring case and surrounding spaces, or a listed word with digits or symbols added."""
    common = common_passwords()
    folded = password.strip().lower()
    if folded in common:
        return True
    base = _TRAILING.sub("", folded)
    return len(base) >= 4 and base != folded and base in common


def _step(before: str, after: str) -> int | None:
    if before.isdigit() and after.isdigit():  # 9 -> 0 continues a run of digits ("1234567890123")
        difference = (int(after) - int(before)) % 10
        return 1 if difference == 1 else -1 if difference == 9 else None
    difference = ord(after.lower()) - ord(before.lower())
    return difference if difference in (1, -1) else None


def is_sequence(password: str) -> bool:
    """Every character the next of the one before ("123456789012", "abcdefghijkl", "zyxwvu...")."""
    steps = {_step(a, b) for a, b in zip(password, password[1:])}
    return len(password) > 2 and len(steps) == 1 and None not in steps


def password_problems(password: str, username: str, *, min_length: int = MIN_LENGTH) -> list[str]:
    """What is wrong with `password` as a new password for `username`, as codes of CODES (empty: none)."""
    password = password or ""
    problems = []
    if len(password) < min_length:
        problems.append(TOO_SHORT)
    if len(password) > MAX_LENGTH:
        problems.append(TOO_LONG)
        return problems  # not worth comparing further
    folded = password.strip().lower()
    name = (username or "").strip().lower()
    if len(name) >= 3 and (name in folded or name[::-1] in folded):
        problems.append(CONTAINS_USERNAME)
    if len(set(password)) < MIN_DISTINCT or _REPEATED_UNIT.fullmatch(folded):
        problems.append(REPETITIVE)
    elif is_sequence(folded):
        problems.append(SEQUENCE)
    if is_common(password):
        problems.append(COMMON)
    return problems
