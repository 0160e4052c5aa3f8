"""Credit-report screening over the API: evaluate only, store for a client, and a client's history."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import allow, api_error, client_or_404
from portal.api import ApiInputError, bp, envelope, json_response
from portal.operations import credit as operations
from portal.unit_of_work import unit_of_work

STAFF = ("rm", "supervisor", "compliance", "admin")


def _accounts_body() -> tuple[dict, list]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("accounts"), list):
        raise ApiInputError(_('The body must be {"accounts": [{"kind", "status", "current_overdue", "history"}, '
                              '...]}.'), "accounts")
    return body, body["accounts"]


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
        "screened_at": screening.screened_at.isoformat(),
    }


@bp.post("/credit-screening")
@allow(*STAFF)
def credit_screening():
    """Evaluate only: the class and the clauses that decided it; nothing is stored."""
    _body, accounts = _accounts_body()
    try:
        _checked, result = operations.evaluate(accounts)  # any other OperationError: 400
    except operations.AccountsError as error:
        return _account_error(error)
    return {"class": result.credit_class, "reasons": operations.reasons_json(result)}


@bp.post("/clients/<client_no>/credit-screenings")
@allow("rm")
def store_credit_screening(client_no: str):
    """Screen and store for a client of the caller's book; optional override_class with override_reason."""
    client = client_or_404(client_no)
    body, accounts = _accounts_body()
    override_class = body.get("override_class")
    override_reason = body.get("override_reason")
    if override_class is not None and not isinstance(override_class, str):
        raise ApiInputError(_("override_class must be one of barred, subprime, blemished."), "override_class")
    if override_reason is not None and not isinstance(override_reason, str):
        raise ApiInputError(_("override_reason must be text."), "override_reason")
    with unit_of_work(answer_here=(operations.AccountsError,)) as work:
        screening = operations.store_screening(client, accounts, current_user, override_class=override_class,
                                               override_reason=override_reason, source="api")
        return json_response(screening_json(screening, client.client_no), 201)
    return _account_error(work.error)


@bp.get("/clients/<client_no>/credit-screenings")
@allow(*STAFF)
def credit_screenings(client_no: str):
    client = client_or_404(client_no)
    return envelope(operations.history_query(client), lambda s: screening_json(s, client.client_no))
