"""Retention: closing a client's account, and anonymising a departed client's personal data.

Suitability records (questionnaire submissions, profiles, warnings, confirmations) and audit rows are
never deleted or changed — the database refuses it — and anonymisation does not try: it replaces the
personal data held on the client's own record and login (name, ID number, phone, exact birth date),
and keeps the birth year, branch, dates and every record that refers to the client by its number.
The audit row it writes names the fields it cleared, never their values.
"""
from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from models import Client, User, db
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules.calendar import business_today

ANONYMISED_NAME = "已匿名客户"
ANONYMISED_PINYIN = "Anonymised client"
PERSONAL_FIELDS = ("name", "name_pinyin", "id_number", "phone", "birth_date")


def close_account(client: Client, closed_on: date | None = None) -> None:
    """Record that the client's account closed on `closed_on` (default today) and end their login."""
    closed_on = closed_on or business_today()
    if client.closed_on is not None:
        raise OperationError(_("This account was closed on %(day)s already.", day=client.closed_on.isoformat()),
                             "closed_on", "already_closed")
    if closed_on > business_today():
        raise OperationError(_("The closing date cannot be in the future."), "closed_on", "future_date")
    if closed_on < client.opened_on:
        raise OperationError(_("The closing date cannot be before the account was opened."), "closed_on")
    client.closed_on = closed_on
    for user in db.session.scalars(select(User).where(User.client_id == client.id)):
        user.active = False
        user.session_version += 1  # any open session ends now
    record("client.close_account", "client", client.client_no, after={"closed_on": closed_on})
    db.session.flush()


def anonymise_client(client: Client) -> None:
    """Replace a closed account's personal data; suitability and audit records stay as they are."""
    if client.closed_on is None:
        raise OperationError(_("Only a closed account can be anonymised; close the account first."),
                             "client_no", "not_closed")
    if client.anonymised_at is not None:
        raise OperationError(_("This client was anonymised already."), "client_no", "already_anonymised")
    client.name = ANONYMISED_NAME
    client.name_pinyin = ANONYMISED_PINYIN
    client.id_number = ""
    client.phone = None
    client.birth_date = date(client.birth_date.year, 1, 1)  # the year keeps age-band statistics possible
    client.anonymised_at = datetime.now(UTC)
    cleared_logins = []
    for user in db.session.scalars(select(User).where(User.client_id == client.id)):
        cleared_logins.append(user.id)
        user.username = f"anonymised-{client.id}"
        user.display_name = ANONYMISED_NAME
        user.password_hash = "!" + secrets.token_hex(16)  # matches no password
        user.active = False
        user.preferred_language = None
        user.session_version += 1
    record("client.anonymise", "client", client.client_no,
           after={"fields_cleared": list(PERSONAL_FIELDS), "logins_cleared": cleared_logins})
    db.session.flush()
