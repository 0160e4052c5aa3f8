"""The stable codes of the imports' bad rows, and their messages in the reader's language.

Two tables: the onboarding imports (branches, staff, clients) and the asset snapshot and revenue
imports. A code is a contract (API answers, the CLI, the import history keep it); its message is
worded when it is shown, from the code, the column and one detail (a line number, a count, a date,
a value). Some codes stand in both tables with each import's own wording.
"""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from portal.imports.readers import Limits
from portal.rules.calendar import business_today

# Every code a bad row can carry, in the order the guide lists them.
ROW_CODES = (
    "missing", "too_long", "invalid_code", "invalid_date", "future_date", "invalid_choice", "unknown_level",
    "invalid_yes_no", "invalid_sex", "invalid_id_type", "id_number_form", "id_check_digit",
    "id_birth_date_mismatch", "id_sex_mismatch", "invalid_mobile", "invalid_email", "level_before_hire",
    "level_after_today", "opened_in_future", "closed_before_opened", "closed_without_date",
    "closed_on_but_open", "duplicate", "unknown_branch", "unknown_team", "unknown_manager", "manager_left",
    "manager_not_active", "two_heads", "team_name_differs", "name_taken", "leaver_has_clients",
    "reassign_to_but_active", "reassign_to_self", "reassign_to_leaving", "already_closed", "field_count",
    "field_too_long", "unreadable", "encoding", "control_characters",
    "wrong_type", "unknown_field", "not_an_object",
)


def _messages() -> dict[str, Callable[[str, str, bool], str]]:
    """code → message(field, detail, batch); built per call so that each is translated for the current reader."""
    return {
        "missing": lambda f, d, b: _("%(field)s is required.", field=f),
        "too_long": lambda f, d, b: _("%(field)s is longer than %(n)s characters.", field=f, n=d),
        "invalid_code": lambda f, d, b: _(
            "%(field)s must be 2–20 letters, digits, dash or underscore (letters are read in upper case).",
            field=f),
        "invalid_date": lambda f, d, b: _("%(field)s must be a real date written YYYY-MM-DD, or a date cell.",
                                          field=f),
        "future_date": lambda f, d, b: _("%(field)s is later than today.", field=f),
        "invalid_choice": lambda f, d, b: _("%(field)s must be one of: %(choices)s.", field=f, choices=d),
        "unknown_level": lambda f, d, b: _("The level must be one of junior, mid, senior, principal."),
        "invalid_yes_no": lambda f, d, b: _("%(field)s must be yes or no (是 or 否).", field=f),
        "invalid_sex": lambda f, d, b: _("The sex must be M or F (男 or 女 in files)."),
        "invalid_id_type": lambda f, d, b: _("The ID type must be one of: %(choices)s.", choices=d),
        "id_number_form": lambda f, d, b: _("The ID number does not have the form of this ID type."),
        "id_check_digit": lambda f, d, b: _(
            "The resident ID number's last character is not its check digit (GB 11643): check the number."),
        "id_birth_date_mismatch": lambda f, d, b: _(
            "The birth date does not agree with the birth date in the resident ID number."),
        "id_sex_mismatch": lambda f, d, b: _("The sex does not agree with the resident ID number."),
        "invalid_mobile": lambda f, d, b: _(
            "%(field)s must be a mainland mobile number: 11 digits starting with 1, or empty.", field=f),
        "invalid_email": lambda f, d, b: _("%(field)s is not an e-mail address.", field=f),
        "level_before_hire": lambda f, d, b: _("level_since is before hire_date."),
        "level_after_today": lambda f, d, b: _("level_since is later than today."),
        "opened_in_future": lambda f, d, b: _("opened_on is later than today."),
        "closed_before_opened": lambda f, d, b: _("closed_on is before opened_on."),
        "closed_without_date": lambda f, d, b: _("A closed account needs its closed_on date."),
        "closed_on_but_open": lambda f, d, b: _("closed_on is given but the status is open: write closed, "
                                               "or leave closed_on empty."),
        "duplicate": lambda f, d, b: (_("The same %(field)s is in row %(n)s too.", field=f, n=d) if b else
                                      _("The same %(field)s is on line %(n)s too.", field=f, n=d)),
        "unknown_branch": lambda f, d, b: _("No branch has the code %(code)s: import the branches first.",
                                            code=d),
        "unknown_team": lambda f, d, b: _("No team has the code %(code)s: give team_name to create it.", code=d),
        "unknown_manager": lambda f, d, b: _("No staff record has the employee number %(no)s.", no=d),
        "manager_left": lambda f, d, b: _("%(no)s has left: clients cannot be assigned to them.", no=d),
        "manager_not_active": lambda f, d, b: _("%(no)s is not active (on leave): clients can only be assigned "
                                                "to an active manager.", no=d),
        "two_heads": lambda f, d, b: (_("The team already has a head in row %(n)s.", n=d) if b else
                                      _("The team already has a head on line %(n)s.", n=d)),
        "team_name_differs": lambda f, d, b: (
            _("The team is named differently in row %(n)s.", n=d) if b else
            _("The team is named differently on line %(n)s.", n=d)),
        "name_taken": lambda f, d, b: _("Branch %(code)s already has this name.", code=d),
        "leaver_has_clients": lambda f, d, b: _(
            "This person leaves but still has %(n)s clients: name who takes them in reassign_to, move them "
            "first, or import with --reassign-to EMPLOYEE_NO.", n=d),
        "reassign_to_but_active": lambda f, d, b: _(
            "reassign_to is given but the status is active: only a leaver's clients are moved. Write left, or "
            "leave reassign_to empty."),
        "reassign_to_self": lambda f, d, b: _("reassign_to names the leaver themself: name who takes their clients."),
        "reassign_to_leaving": lambda f, d, b: _("%(no)s leaves in this import too: name someone who stays.", no=d),
        "already_closed": lambda f, d, b: _("The account was closed on %(day)s; a closed account is not reopened "
                                            "or closed again on another date.", day=d),
        "field_count": lambda f, d, b: _("The line has %(found)s fields; the header has %(expected)s.",
                                         found=(d or "/").split("/")[0], expected=(d or "/").split("/")[1]),
        "field_too_long": lambda f, d, b: _("A field of this line is too long (column %(n)s).", n=d),
        "unreadable": lambda f, d, b: _("The line could not be read as CSV."),
        "encoding": lambda f, d, b: _("The line is not valid text in the file's encoding."),
        "control_characters": lambda f, d, b: _("%(field)s contains control characters (such as NUL).", field=f),
        "wrong_type": lambda f, d, b: _("%(field)s must be a string (or null).", field=f),
        "unknown_field": lambda f, d, b: _("%(field)s is not a field of this import.", field=f),
        "not_an_object": lambda f, d, b: _("Each row must be an object with the import's fields."),
    }


def row_message(code: str, field: str | None, detail: str | None, batch: bool = False) -> str:
    """The message of one bad row in the current reader's language (the line or index is shown beside it)."""
    worded = _messages().get(code)
    if worded is None:
        return _("This value is not valid.")
    return worded(field or "", detail or "", batch)


# Every code a bad row of the asset snapshot or revenue import can carry.
ASSET_ROW_CODES = (
    "missing", "unknown_client", "invalid_date", "future_date", "invalid_month", "future_month", "negative",
    "too_many_decimals", "too_large", "not_a_number", "wrong_type", "duplicate", "field_count", "encoding",
    "unreadable", "field_too_long", "control_characters", "unknown_field", "not_an_object",
)


def _asset_messages() -> dict[str, Callable[[str, str | None, int, bool, int], str]]:
    """code → message(field, client_no, detail, batch, columns); built per call, for the current reader."""
    return {
        "missing": lambda f, c, d, b, n: _("%(field)s is missing.", field=f),
        "unknown_client": lambda f, c, d, b, n: _("No client has the number %(client_no)s.", client_no=c),
        "invalid_date": lambda f, c, d, b, n: _("The date must be a real date written YYYY-MM-DD."),
        "future_date": lambda f, c, d, b, n: _("The statistics date is later than today (%(today)s).",
                                               today=business_today().isoformat()),
        "invalid_month": lambda f, c, d, b, n: _("The month must be written YYYY-MM, e.g. 2026-03."),
        "future_month": lambda f, c, d, b, n: _("The month is later than the current month (%(month)s).",
                                                month=business_today().strftime("%Y-%m")),
        "negative": lambda f, c, d, b, n: _("%(field)s must not be negative.", field=f),
        "too_many_decimals": lambda f, c, d, b, n: _("%(field)s has more than 2 decimal places.", field=f),
        "too_large": lambda f, c, d, b, n: _("%(field)s is too large (at most 99999999999999.99).", field=f),
        "not_a_number": lambda f, c, d, b, n: _(
            "%(field)s is not an amount: write digits with at most 2 decimal places, e.g. 1234.50.", field=f),
        "wrong_type": lambda f, c, d, b, n: _("%(field)s must be text or, for an amount, a number.", field=f),
        "duplicate": lambda f, c, d, b, n: (
            _("The same client and period appear in row %(index)d too.", index=d) if b else
            _("The same client and period appear on line %(line)d too.", line=d)),
        "field_count": lambda f, c, d, b, n: _("The line has %(found)d fields; the header has %(expected)d.",
                                               found=d, expected=n),
        "encoding": lambda f, c, d, b, n: _("The line is not valid UTF-8 text."),
        "unreadable": lambda f, c, d, b, n: _("The line could not be read as CSV."),
        "field_too_long": lambda f, c, d, b, n: _("A field of this row is longer than %(n)d characters.",
                                                  n=Limits.current().max_field_chars),
        "control_characters": lambda f, c, d, b, n: _(
            "The row contains control characters (such as NUL), which no field may hold."),
        "unknown_field": lambda f, c, d, b, n: _("%(field)s is not a field of this import.", field=f),
        "not_an_object": lambda f, c, d, b, n: _("Each row must be an object with the import's fields."),
    }


def asset_row_message(code: str, field: str | None, client_no: str | None, detail: int | None, *,
                      batch: bool = False, columns: int = 0) -> str:
    """The message of one bad row of the asset or revenue import (the line or index is shown beside it).

    `detail` is the other line (row) of a duplicate or the field count of a line; `columns` the header's.
    """
    worded = _asset_messages().get(code)
    if worded is None:
        return _("This value is not valid.")
    return worded(field or "", client_no, detail or 0, batch, columns)
