"""Credit-report screening for credit business (SPEC Part D, seed section 客户信用报告等级分类).

A manager enters or imports a client's credit-report accounts; :func:`screen` puts the client in one of
four classes and lists the clauses that decided it. Pure rules: standard library only.

Readings of the specification, made explicit here because the seed text is ambiguous:

- **Class order.** :data:`CLASSES` runs from worst to best: ``barred`` < ``subprime`` < ``blemished``
  < ``normal``. :func:`is_worse`, :func:`worse` and :func:`overridden` use that order.
- **Repayment string.** Exactly 24 characters, one per month, **oldest month first, most recent month
  last** (position 1 is 24 months ago, position 24 is the latest month), as the credit report prints it.
  Lower-case letters (the seed writes ``g``, ``z``, ``d``) are accepted and normalised to upper case;
  nothing else is rewritten (no trimming: a stray space is reported at its position).
- **Overdue month.** A character ``1``-``7``; its digit is the month's *level*. ``G``, ``Z``, ``D``,
  ``C``, ``/``, ``*``, ``#`` and ``N`` are not overdue months.
- **Open accounts.** Accounts with status ``closed`` or ``settled`` are history only. The status and
  current-overdue conditions of *normal* and *blemished* apply to open accounts (every other status).
  Every clause about repayment strings (all barred string clauses, "no overdue month", "worst level
  <= 2", "at most 4 overdue months") reads the strings of **all** accounts, closed and settled included:
  the seed defines the 24-month window for closed cards and settled loans precisely so it can be read.
- **Totals are per kind.** "More than 8 overdue months over all cards, or over all loans" is two separate
  totals, one over every card string and one over every loan string; so is the level-3 count and the
  blemished "at most 4".
- **Card versus loan codes.** ``G`` bars either kind; ``Z`` and ``D`` bar only loans (the seed lists
  them for loans only), so a card string with ``Z`` or ``D`` is screened like ``N``.
- **Current overdue.** The SPEC names it only for *normal*; a positive current overdue on an open account
  blocks normal but does not by itself block blemished (the string carries the level).
- **No accounts.** An empty list (no credit history) screens as normal, with the reason ``normal.no_accounts``.
- **Numbering in messages.** ``card #2`` / ``account #2`` is the 1-based position in the list as given
  (the entry or import order); ``AccountError.account_index`` and ``Clause.account_index`` are 0-based.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KINDS: tuple[str, ...] = ("card", "loan")
STATUSES: tuple[str, ...] = ("normal", "frozen", "stopped", "bad_debt", "closed", "settled")
# Statuses that bar the client outright, and those that make an account history only.
BARRING_STATUSES: tuple[str, ...] = ("frozen", "stopped", "bad_debt")
HISTORY_STATUSES: tuple[str, ...] = ("closed", "settled")

# The repayment-string alphabet: N normal, 1-7 months overdue, G closed with balance unpaid,
# Z settled by assets, D paid by guarantor, C settled, / not opened, * no activity, # unknown.
CODES: tuple[str, ...] = ("N", "1", "2", "3", "4", "5", "6", "7", "G", "Z", "D", "C", "/", "*", "#")
OVERDUE_CODES: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7")
HISTORY_LENGTH = 24

# Ordered worst -> best.
CLASSES: tuple[str, ...] = ("barred", "subprime", "blemished", "normal")

FIELDS: tuple[str, ...] = ("kind", "status", "current_overdue", "history")
# What the Integer column holds; any count past it is a typing error, not a report.
MAX_CURRENT_OVERDUE = 2 ** 31 - 1

# The limits of SPEC Part D; the law of the domain, so code rather than settings.
BARRED_LEVEL = 4
BARRED_OVERDUE_MONTHS = 8  # more than this, per kind, bars
BARRED_LEVEL3_MONTHS = 2  # more than this, per kind, bars
BLEMISHED_WORST_LEVEL = 2
BLEMISHED_OVERDUE_MONTHS = 4  # at most this, per kind

_CODE_SET = frozenset(CODES)
_UPPERCASE = {letter.lower(): letter for letter in CODES if letter.isalpha()}
_BARRING_CODES: dict[str, tuple[str, ...]] = {"card": ("G",), "loan": ("G", "Z", "D")}
_CODE_NAMES = {"G": "closed with balance unpaid", "Z": "settled by assets", "D": "paid by guarantor"}
_CODE_CLAUSES = {"G": "closed_unpaid", "Z": "settled_by_assets", "D": "paid_by_guarantor"}


class AccountError(ValueError):
    """One credit-report account that cannot be screened, with where the problem is."""

    def __init__(self, account_index: int, field: str | None, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.account_index = account_index
        self.field = field
        self.position = position
        self.message = message


@dataclass(frozen=True)
class Account:
    """One credit-report account; ``history`` is 24 codes, oldest month first."""

    kind: str
    status: str
    current_overdue: int
    history: str

    @property
    def is_open(self) -> bool:
        """Whether the account is open (not closed or settled)."""
        return self.status not in HISTORY_STATUSES


@dataclass(frozen=True)
class Clause:
    """One clause that decided a screening: a stable code, an English sentence and the figures."""

    code: str
    message: str
    observed: str
    required: str
    account_index: int | None = None


@dataclass(frozen=True)
class Screening:
    """The class a client's credit report falls in and the clauses that decided it."""

    credit_class: str
    reasons: tuple[Clause, ...]


def class_rank(credit_class: str) -> int:
    """Position of a class in CLASSES (0 is worst); ValueError for an unknown class."""
    if credit_class not in CLASSES:
        raise ValueError(f"unknown credit class {credit_class!r}; expected one of {', '.join(CLASSES)}")
    return CLASSES.index(credit_class)


def is_worse(a: str, b: str) -> bool:
    """Whether class ``a`` is strictly worse than class ``b``."""
    return class_rank(a) < class_rank(b)


def worse(a: str, b: str) -> str:
    """The worse of two classes."""
    return a if class_rank(a) <= class_rank(b) else b


def overridden(screening: Screening, new_class: str, reason: str) -> str:
    """The manually chosen class, allowed only when strictly worse than the screening and with a reason."""
    if new_class not in CLASSES:
        raise ValueError(f"unknown credit class {new_class!r}; expected one of {', '.join(CLASSES)}")
    if not is_worse(new_class, screening.credit_class):
        raise ValueError(
            f"a manual override must be worse than the screened class {screening.credit_class!r}; {new_class!r} is not"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("a manual override needs a reason")
    return new_class


def _label(index: int) -> str:
    return f"account #{index + 1}"


def _describe(value: object) -> str:
    shown = repr(value)
    # Keep messages readable when an import hands us a whole row by mistake.
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


def _normalised_history(index: int, history: object) -> str:
    if not isinstance(history, str):
        message = f"{_label(index)}: repayment string must be text, got {_describe(history)}"
        raise AccountError(index, "history", message)
    if len(history) != HISTORY_LENGTH:
        raise AccountError(
            index,
            "history",
            f"{_label(index)}: repayment string must have {HISTORY_LENGTH} characters (one a month), "
            f"got {len(history)}",
        )
    normalised = "".join(_UPPERCASE.get(char, char) for char in history)
    for position, char in enumerate(normalised, start=1):
        if char not in _CODE_SET:
            raise AccountError(
                index,
                "history",
                f"{_label(index)}: repayment string position {position} has {history[position - 1]!r}, "
                f"expected one of N 1-7 G Z D C / * #",
                position=position,
            )
    return normalised


def validate_account(index: int, raw: Mapping[str, Any]) -> Account:
    """Check one raw account (kind, status, current_overdue, history) and return it normalised."""
    if not isinstance(raw, Mapping):
        raise AccountError(index, None, f"{_label(index)}: expected a record of fields, got {type(raw).__name__}")
    missing = [name for name in FIELDS if name not in raw]
    if missing:
        raise AccountError(index, missing[0], f"{_label(index)}: missing field(s) {', '.join(missing)}")

    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise AccountError(index, "kind", f"{_label(index)}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    status = raw["status"]
    if not isinstance(status, str) or status not in STATUSES:
        raise AccountError(
            index, "status", f"{_label(index)}: unknown status {status!r}; expected one of {', '.join(STATUSES)}"
        )
    current_overdue = raw["current_overdue"]
    # bool is a subclass of int; True is not a count of overdue periods.
    if (isinstance(current_overdue, bool) or not isinstance(current_overdue, int) or current_overdue < 0
            or current_overdue > MAX_CURRENT_OVERDUE):
        raise AccountError(
            index,
            "current_overdue",
            f"{_label(index)}: current overdue periods must be a whole number 0 or more, "
            f"got {_describe(current_overdue)}",
        )
    history = _normalised_history(index, raw["history"])
    return Account(kind=kind, status=status, current_overdue=current_overdue, history=history)


def parse_accounts(raw_accounts: Iterable[Mapping[str, Any]]) -> list[Account]:
    """Validate raw accounts in order; the first bad one raises AccountError naming its index."""
    if isinstance(raw_accounts, (str, bytes, Mapping)):
        raise TypeError("parse_accounts expects a list of account records")
    return [validate_account(index, raw) for index, raw in enumerate(raw_accounts)]


def _checked(index: int, account: Account) -> Account:
    if not isinstance(account, Account):
        raise AccountError(index, None, f"{_label(index)}: expected an Account, got {type(account).__name__}")
    return validate_account(index, vars(account))


def _levels(history: str) -> list[int]:
    return [int(char) for char in history if char in OVERDUE_CODES]


def _name(index: int, account: Account) -> str:
    return f"{account.kind} #{index + 1}"


def _barred_clauses(accounts: Sequence[Account]) -> list[Clause]:
    clauses: list[Clause] = []
    for index, account in enumerate(accounts):
        name = _name(index, account)
        if account.status in BARRING_STATUSES:
            clauses.append(
                Clause(
                    "barred.abnormal_status",
                    f"{name}: status {account.status}",
                    account.status,
                    "not frozen, stopped or bad_debt",
                    index,
                )
            )
        for code in _BARRING_CODES[account.kind]:
            if code in account.history:
                position = account.history.index(code) + 1
                clauses.append(
                    Clause(
                        f"barred.{account.kind}_{_CODE_CLAUSES[code]}",
                        f"{name}: repayment string has {code} ({_CODE_NAMES[code]}) at position {position}",
                        code,
                        f"no {code} in a {account.kind} string",
                        index,
                    )
                )
        worst = max(_levels(account.history), default=0)
        if worst >= BARRED_LEVEL:
            clauses.append(
                Clause(
                    f"barred.{account.kind}_level",
                    f"{name}: repayment string reaches overdue level {worst}",
                    str(worst),
                    f"level below {BARRED_LEVEL}",
                    index,
                )
            )
    for kind in KINDS:
        strings = [account.history for account in accounts if account.kind == kind]
        overdue = sum(len(_levels(history)) for history in strings)
        if overdue > BARRED_OVERDUE_MONTHS:
            clauses.append(
                Clause(
                    f"barred.{kind}_overdue_months",
                    f"{overdue} overdue months in total over all {kind}s (more than {BARRED_OVERDUE_MONTHS})",
                    str(overdue),
                    f"at most {BARRED_OVERDUE_MONTHS}",
                )
            )
        level3 = sum(history.count("3") for history in strings)
        if level3 > BARRED_LEVEL3_MONTHS:
            clauses.append(
                Clause(
                    f"barred.{kind}_level3_months",
                    f"{level3} months at level 3 in total over all {kind}s (more than {BARRED_LEVEL3_MONTHS})",
                    str(level3),
                    f"at most {BARRED_LEVEL3_MONTHS}",
                )
            )
    return clauses


def _open_status_clause(prefix: str, accounts: Sequence[Account]) -> Clause:
    count = sum(1 for account in accounts if account.is_open)
    return Clause(
        f"{prefix}.open_status",
        f"every open account has status normal ({count} open)",
        "normal",
        "normal",
    )


def _normal_clauses(accounts: Sequence[Account]) -> list[Clause] | None:
    """The normal conditions if they all hold, else None."""
    open_accounts = [account for account in accounts if account.is_open]
    if any(account.status != "normal" for account in open_accounts):
        return None
    if any(account.current_overdue != 0 for account in open_accounts):
        return None
    if any(_levels(account.history) for account in accounts):
        return None
    return [
        _open_status_clause("normal", accounts),
        Clause("normal.current_overdue", "every open account has current overdue 0", "0", "0"),
        Clause(
            "normal.no_overdue_months",
            f"no overdue month in any repayment string ({len(accounts)} accounts)",
            "0",
            "0",
        ),
    ]


def _blemished_checks(accounts: Sequence[Account]) -> tuple[list[Clause], list[Clause]]:
    """The blemished conditions split into (held, failed), each as clauses."""
    held: list[Clause] = []
    failed: list[Clause] = []
    # Not barred means no open account is frozen, stopped or bad debt, so every open account is normal.
    held.append(_open_status_clause("blemished", accounts))

    worst_by_account = [max(_levels(account.history), default=0) for account in accounts]
    worst = max(worst_by_account, default=0)
    if worst <= BLEMISHED_WORST_LEVEL:
        held.append(
            Clause(
                "blemished.worst_level",
                f"worst overdue level over all repayment strings is {worst}",
                str(worst),
                f"at most {BLEMISHED_WORST_LEVEL}",
            )
        )
    else:
        for index, (account, level) in enumerate(zip(accounts, worst_by_account, strict=True)):
            if level > BLEMISHED_WORST_LEVEL:
                failed.append(
                    Clause(
                        "subprime.worst_level",
                        f"{_name(index, account)}: repayment string reaches overdue level {level} "
                        f"(blemished allows at most {BLEMISHED_WORST_LEVEL})",
                        str(level),
                        f"at most {BLEMISHED_WORST_LEVEL}",
                        index,
                    )
                )
    for kind in KINDS:
        overdue = sum(len(_levels(account.history)) for account in accounts if account.kind == kind)
        if overdue <= BLEMISHED_OVERDUE_MONTHS:
            held.append(
                Clause(
                    f"blemished.{kind}_overdue_months",
                    f"{overdue} overdue months in total over all {kind}s",
                    str(overdue),
                    f"at most {BLEMISHED_OVERDUE_MONTHS}",
                )
            )
        else:
            failed.append(
                Clause(
                    f"subprime.{kind}_overdue_months",
                    f"{overdue} overdue months in total over all {kind}s "
                    f"(blemished allows at most {BLEMISHED_OVERDUE_MONTHS})",
                    str(overdue),
                    f"at most {BLEMISHED_OVERDUE_MONTHS}",
                )
            )
    return held, failed


def screen(accounts: Sequence[Account]) -> Screening:
    """Screen a client's credit-report accounts into barred, normal, blemished or subprime, in that order."""
    checked = [_checked(index, account) for index, account in enumerate(accounts)]
    if not checked:
        return Screening(
            "normal",
            (Clause("normal.no_accounts", "no credit-report accounts (no credit history)", "0 accounts", "none"),),
        )
    barred = _barred_clauses(checked)
    if barred:
        return Screening("barred", tuple(barred))
    normal = _normal_clauses(checked)
    if normal is not None:
        return Screening("normal", tuple(normal))
    held, failed = _blemished_checks(checked)
    if not failed:
        return Screening("blemished", tuple(held))
    return Screening("subprime", tuple(failed))
