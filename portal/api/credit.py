"""Credit-report screening over the API: evaluate only, store for a client, and a client's history."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from portal.access import allow, api_error, client_or_404
from portal.api import Paged, bp, envelope
from portal.api.spec import Answer, Body, Timestamp, described, operation, page_of, read_body, read_query, respond
from portal.operations import credit as operations
from portal.rules.credit import CLASSES, KINDS, STATUSES
from portal.unit_of_work import unit_of_work

STAFF = ("rm", "supervisor", "compliance", "admin")


class Account(Answer):
    kind: Literal[KINDS]
    status: Literal[STATUSES]
    current_overdue: int = Field(ge=0)
    history: str = Field(min_length=24, max_length=24,
                         description="24 months, oldest first: N 1-7 G Z D C / * #")


# The accounts of a body are checked by the screening's own rules (shared with the page and its CSV upload),
# which name every bad account and position at once.
ACCOUNTS = described({"type": "array", "items": {"$ref": "#/components/schemas/Account"}})


class Accounts(Body):
    accounts: Annotated[list[Any], ACCOUNTS]
    shape = (lambda: _('The body must be {"accounts": [{"kind", "status", "current_overdue", "history"}, ...]}.'),
             "accounts", "invalid")


class StoredAccounts(Accounts):
    # Which class and how long a reason are the override rules' to say (portal/operations/credit.py).
    override_class: Annotated[str | None, described({"type": "string", "enum": list(CLASSES[:-1]),
                                                     "description": "a worse class than the computed one"})] = None
    override_reason: Annotated[str | None, described({"type": "string", "maxLength": 500})] = None
    refusals = {"override_class": (lambda: _("override_class must be one of barred, subprime, blemished."),
                                   "invalid"),
                "override_reason": (lambda: _("override_reason must be text."), "invalid")}


class Clause(Answer):
    code: str
    message: str
    observed: Annotated[Any, described({"type": "string"})] = None
    required: Annotated[Any, described({"type": "string"})] = None
    account_index: int | None = None


class CreditResult(Answer):
    credit_class: Literal[CLASSES] = Field(alias="class")
    reasons: list[Clause]


class CreditScreening(Answer):
    id: int
    client_no: str
    credit_class: Literal[CLASSES] = Field(alias="class")
    computed_class: Literal[CLASSES]
    overridden: bool
    override_reason: str | None
    eligible: bool = Field(description="credit business: normal or blemished")
    reasons: list[Clause]
    accounts: list[Account]
    source: str
    screened_by: str | None
    screened_at: Timestamp


def _account_error(error: operations.AccountsError):
    """400 naming the (first) bad account and, for a repayment string, the position; every problem listed."""
    first = error.problems[0]
    field = f"accounts[{first['account_index']}].{first['field']}" if first.get("field") else \
        f"accounts[{first['account_index']}]"
    return api_error(400, "invalid_account", first["message"], field=field, account_index=first["account_index"],
                     account=first["account_index"] + 1, position=first.get("position"),
                     problems=[{k: v for k, v in p.items() if k != "code"} for p in error.problems])


def screening_json(screening, client_no: str) -> dict:
    return {
        "id": screening.id,
        "client_no": client_no,
        "class": screening.final_class,
        "computed_class": screening.computed_class,
        "overridden": screening.final_class != screening.computed_class,
        "override_reason": screening.override_reason,
        "eligible": operations.is_eligible(screening.final_class),
        "reasons": screening.reasons,
        "accounts": [{"kind": a.kind, "status": a.status, "current_overdue": a.current_overdue, "history": a.history}
                     for a in screening.accounts],
        "source": screening.source,
        "screened_by": screening.screened_by.username if screening.screened_by else None,
        "screened_at": screening.screened_at,
    }


@bp.post("/credit-screening")
@allow(*STAFF)
@operation("Screen credit-report accounts (SPEC Part D); evaluates only, stores nothing; staff only", body=Accounts,
           answer=CreditResult, errors=(400, 401, 403))
def credit_screening():
    """Evaluate only: the class and the clauses that decided it; nothing is stored."""
    accounts = read_body(Accounts).accounts
    try:
        _checked, result = operations.evaluate(accounts)  # any other OperationError: 400
    except operations.AccountsError as error:
        return _account_error(error)
    return respond(CreditResult, {"class": result.credit_class, "reasons": operations.reasons_json(result)})


@bp.post("/clients/<client_no>/credit-screenings")
@allow("rm")
@operation("Screen and store for a client of the caller's book (optional override to a worse class)",
           body=StoredAccounts, answer=CreditScreening, status=201, answered="Stored", errors=(400, 401, 403, 404))
def store_credit_screening(client_no: str):
    """Screen and store for a client of the caller's book; optional override_class with override_reason."""
    client = client_or_404(client_no)
    body = read_body(StoredAccounts)
    with unit_of_work(answer_here=(operations.AccountsError,)) as work:
        screening = operations.store_screening(client, body.accounts, current_user,
                                               override_class=body.override_class,
                                               override_reason=body.override_reason, source="api")
        return respond(CreditScreening, screening_json(screening, client.client_no), 201)
    return _account_error(work.error)


@bp.get("/clients/<client_no>/credit-screenings")
@allow(*STAFF)
@operation("A client's screening history, newest first", query=Paged, answer=page_of(CreditScreening),
           errors=(400, 401, 403, 404))
def credit_screenings(client_no: str):
    client = client_or_404(client_no)
    return envelope(operations.history_query(client), lambda s: screening_json(s, client.client_no),
                    CreditScreening, read_query(Paged))
