"""Credit-report screenings: check the accounts, screen them (SPEC Part D), store the record."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select

from models import Client, CreditAccount, CreditScreening, db
from portal.audit import record
from portal.imports import readers
from portal.operations.errors import OperationError
from portal.rules import credit as rules

OVERRIDE_REASON_MAX = 500
CSV_COLUMNS = ("kind", "status", "current_overdue", "history")
MAX_ACCOUNTS = 200


class AccountsError(OperationError):
    """One or more accounts that cannot be screened; `problems` lists each with where it is."""

    def __init__(self, problems: list[dict]):
        super().__init__(problems[0]["message"], problems[0].get("field"), problems[0].get("code", "invalid_account"))
        self.problems = problems


def account_message(error: rules.AccountError, raw: Any, label: str | None = None) -> str:
    """The user's-language sentence for a rules AccountError; `label` names the account or CSV line."""
    label = label or _("Account %(n)d", n=error.account_index + 1)
    value = raw.get(error.field) if isinstance(raw, Mapping) and error.field else None
    if error.field == "history" and error.position is not None:
        return _("%(label)s: the repayment string has %(char)s at position %(pos)d; each month must be one of "
                 "N 1-7 G Z D C / * #.", label=label, char=repr(value[error.position - 1]), pos=error.position)
    if error.field == "history" and isinstance(value, str):
        return _("%(label)s: the repayment string must have 24 characters, one a month; it has %(got)d.",
                 label=label, got=len(value))
    if error.field == "history":
        return _("%(label)s: the repayment string must be text of 24 characters.", label=label)
    if error.field == "kind":
        return _("%(label)s: unknown kind %(value)s; use card or loan.", label=label, value=repr(value))
    if error.field == "status":
        return _("%(label)s: unknown status %(value)s; use normal, frozen, stopped, bad_debt, closed or settled.",
                 label=label, value=repr(value))
    if error.field == "current_overdue":
        return _("%(label)s: current overdue periods must be a whole number, 0 or more.", label=label)
    if error.field in rules.FIELDS:
        return _("%(label)s: %(field)s is missing.", label=label, field=error.field)
    return _("%(label)s: expected a record with kind, status, current_overdue and history.", label=label)


def _problem(error: rules.AccountError, raw: Any, label: str | None = None, line: int | None = None) -> dict:
    problem = {"code": "invalid_account", "message": account_message(error, raw, label),
               "account_index": error.account_index, "field": error.field, "position": error.position}
    if line is not None:
        problem["line"] = line
    return problem


def check_accounts(raw_accounts: Iterable[Mapping[str, Any]], labels: list[str] | None = None,
                   lines: list[int] | None = None) -> list[rules.Account]:
    """Every account validated; AccountsError lists every bad one (nothing is screened then)."""
    raw_accounts = list(raw_accounts)
    if len(raw_accounts) > MAX_ACCOUNTS:
        raise OperationError(_("At most %(n)d accounts can be screened at once.", n=MAX_ACCOUNTS), "accounts")
    accounts, problems = [], []
    for index, raw in enumerate(raw_accounts):
        try:
            accounts.append(rules.validate_account(index, raw))
        except rules.AccountError as error:
            problems.append(_problem(error, raw, labels[index] if labels else None,
                                     lines[index] if lines else None))
    if problems:
        raise AccountsError(problems)
    return accounts


def evaluate(raw_accounts: Iterable[Mapping[str, Any]]) -> tuple[list[rules.Account], rules.Screening]:
    """Check and screen accounts; stores nothing."""
    accounts = check_accounts(raw_accounts)
    return accounts, rules.screen(accounts)


def reasons_json(screening: rules.Screening) -> list[dict]:
    return [{"code": c.code, "message": c.message, "observed": c.observed, "required": c.required,
             "account_index": c.account_index} for c in screening.reasons]


def parse_csv(content: bytes | str) -> tuple[list[dict], list[int]]:
    """Rows of a CSV file (header kind,status,current_overdue,history) as raw accounts with their line numbers.

    Every bad line is reported (AccountsError) with its number; the caller stores nothing then.
    """
    try:
        return _parse_csv(content)
    except readers.FileRefused as refused:
        code = "invalid_file" if refused.code == readers.ENCODING else refused.code
        raise OperationError(refused.message, "file", code) from None


def _parse_csv(content: bytes | str) -> tuple[list[dict], list[int]]:
    rows = readers.csv_rows(content)
    first = next(rows, None)
    header = first[1] if first is not None and first[0] == 1 else None
    if not isinstance(header, list) or [h.strip().lower() for h in header] != list(CSV_COLUMNS):
        raise OperationError(_("The first line must be the header: kind,status,current_overdue,history"), "file",
                             "invalid_header")
    raws, lines, problems = [], [], []
    for line, row in rows:
        label = _("Line %(n)d", n=line)
        if isinstance(row, readers.BadRow):
            if row.code == readers.FIELD_TOO_LONG:
                message = _("%(label)s: a value is longer than %(max)d characters.", label=label,
                            max=readers.Limits.current().max_field_chars)
            else:
                message = _("%(label)s: the line could not be read as CSV.", label=label)
            problems.append({"code": row.code, "field": None, "position": None, "line": line,
                             "account_index": len(raws), "message": message})
            raws.append(None)
            lines.append(line)
            continue
        if len(row) != len(CSV_COLUMNS):
            problems.append({"code": "invalid_line", "field": None, "position": None, "line": line,
                             "account_index": len(raws),
                             "message": _("%(label)s: expected 4 values (kind,status,current_overdue,history), "
                                          "found %(n)d.", label=label, n=len(row))})
            raws.append(None)
            lines.append(line)
            continue
        kind, status, overdue, history = (cell.strip() for cell in row)
        try:
            overdue_value: Any = int(overdue)
        except ValueError:
            overdue_value = overdue
        raws.append({"kind": kind, "status": status, "current_overdue": overdue_value, "history": history})
        lines.append(line)
    if not raws:
        raise OperationError(_("The file has no accounts."), "file", "empty_file")
    for index, raw in enumerate(raws):
        if raw is None:
            continue
        try:
            rules.validate_account(index, raw)
        except rules.AccountError as error:
            problems.append(_problem(error, raw, _("Line %(n)d", n=lines[index]), lines[index]))
    if problems:
        raise AccountsError(sorted(problems, key=lambda p: p["line"]))
    return raws, lines


def store_screening(client: Client, raw_accounts: Iterable[Mapping[str, Any]], by_user, *,
                    override_class: str | None = None, override_reason: str | None = None,
                    source: str = "form") -> CreditScreening:
    """Screen and store; an override (a worse class, with a reason) is part of the same record."""
    accounts, result = evaluate(raw_accounts)
    final_class = result.credit_class
    override_reason = (override_reason or "").strip() or None
    if override_class:
        final_class = _checked_override(result.credit_class, override_class, override_reason)
    elif override_reason:
        override_reason = None  # a reason without an override changes nothing
    screening = CreditScreening(client_id=client.id, screened_by_id=by_user.id if by_user is not None else None,
                                computed_class=result.credit_class, final_class=final_class,
                                override_reason=override_reason if override_class else None,
                                reasons=reasons_json(result), source=source)
    screening.accounts = [CreditAccount(position=i, kind=a.kind, status=a.status, current_overdue=a.current_overdue,
                                        history=a.history) for i, a in enumerate(accounts, start=1)]
    db.session.add(screening)
    before = client.credit_class
    client.credit_class = final_class
    db.session.flush()
    record("credit.screen", "client", client.client_no, before={"credit_class": before},
           after={"screening": screening.id, "computed_class": result.credit_class, "final_class": final_class,
                  "override_reason": screening.override_reason, "accounts": len(accounts), "source": source,
                  "reasons": [c.code for c in result.reasons]})
    return screening


def _checked_override(computed: str, new_class: str, reason: str | None) -> str:
    if new_class not in rules.CLASSES:
        raise OperationError(_("Unknown credit class."), "override_class", "unknown_class")
    if not rules.is_worse(new_class, computed):
        raise OperationError(_("An override must be to a worse class than the screened one."), "override_class",
                             "override_not_worse")
    if not reason:
        raise OperationError(_("Give the reason for the override."), "override_reason", "reason_required")
    if len(reason) > OVERRIDE_REASON_MAX:
        raise OperationError(_("The reason may have at most %(n)d characters.", n=OVERRIDE_REASON_MAX),
                             "override_reason")
    return new_class


def override_screening(client: Client, screening: CreditScreening, new_class: str, reason: str | None,
                       by_user) -> CreditScreening:
    """A new screening of the same accounts with a worse final class: the earlier record stays as it was."""
    if screening.client_id != client.id:
        raise OperationError(_("This screening belongs to another client."), code="not_found")
    if new_class in rules.CLASSES and not rules.is_worse(new_class, screening.final_class):
        raise OperationError(_("An override must be to a worse class than the screened one."), "override_class",
                             "override_not_worse")
    raw = [{"kind": a.kind, "status": a.status, "current_overdue": a.current_overdue, "history": a.history}
           for a in screening.accounts]
    return store_screening(client, raw, by_user, override_class=new_class, override_reason=reason,
                           source="override")


def history_query(client: Client) -> Select:
    return (select(CreditScreening).where(CreditScreening.client_id == client.id)
            .order_by(CreditScreening.screened_at.desc(), CreditScreening.id.desc()))


def is_eligible(credit_class: str | None) -> bool | None:
    """Credit business is open to normal and blemished; None when never screened."""
    if credit_class is None:
        return None
    return credit_class in ("normal", "blemished")
