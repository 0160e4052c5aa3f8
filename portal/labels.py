"""The domain's words: the display name of every coded value, in the user's language.

Two kinds, each defined once here. `labels()` holds the codes list pages show on every row (roles, levels,
risk classes, profile statuses, ...): marked with N_ and translated once per request. The groups below are
lazy strings, translated where they are shown; each feature's `*_labels()` picks the groups its pages use.
A code named the same in two features (a dimension, a band, a risk class) has one entry, so one msgid.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.formatting import N_, request_translations


def labels() -> dict:
    """Display names of coded values, translated once per request (list pages show them on every row)."""
    from flask import g, has_request_context

    global _LABEL_SOURCES
    if _LABEL_SOURCES is None:
        _LABEL_SOURCES = _build_labels()
    if not has_request_context():
        return _LABEL_SOURCES
    cached = g.get("_portal_labels")
    if cached is None:
        gettext = request_translations().ugettext
        cached = g._portal_labels = {
            group: {code: (gettext(text) if group != "language" else text) for code, text in entries.items()}
            for group, entries in _LABEL_SOURCES.items()
        }
    return cached


_LABEL_SOURCES: dict | None = None


def _build_labels() -> dict:
    return {
        "role": {
            "client": N_("Client"), "rm": N_("Relationship manager"), "supervisor": N_("Supervisor"),
            "compliance": N_("Compliance officer"), "admin": N_("Administrator"),
        },
        "level": {
            "junior": N_("Junior Relationship Manager"), "mid": N_("Mid-level Relationship Manager"),
            "senior": N_("Senior Relationship Manager"), "principal": N_("Principal Relationship Manager"),
        },
        "status": {"active": N_("Active"), "on_leave": N_("On leave"), "left": N_("Left")},
        "id_type": {
            "resident_id": N_("Resident ID card"), "passport": N_("Passport"),
            "hk_macau_permit": N_("Mainland travel permit for Hong Kong and Macao residents"),
            "taiwan_permit": N_("Mainland travel permit for Taiwan residents"),
            "foreign_permanent": N_("Foreign permanent resident ID card"),
        },
        "outcome": {"ok": N_("Succeeded"), "denied": N_("Refused"), "failed": N_("Failed")},
        "risk_class": {"conservative": N_("Conservative"), "balanced": N_("Balanced"),
                       "aggressive": N_("Aggressive")},
        "profile_status": {"valid": N_("Valid"), "expiring": N_("Expiring"), "expired": N_("Expired"),
                           "none": N_("No profile")},
        "investor_category": {"ordinary": N_("Ordinary investor"), "professional": N_("Professional investor")},
        "language": {"zh_CN": "简体中文", "en": "English"},
    }


# --- groups more than one feature shows -----------------------------------------------------------------

RISK_CLASS = {"conservative": _l("Conservative"), "balanced": _l("Balanced"), "aggressive": _l("Aggressive")}
PROFILE_STATUS = {"valid": _l("Valid"), "expiring": _l("Expiring"), "expired": _l("Expired"),
                  "none": _l("No profile")}
INVESTOR_CATEGORY = {"ordinary": _l("Ordinary investor"), "professional": _l("Professional investor")}
CONFIRMATION_METHOD_PAPER = _l("Signed paper form")
QUESTION_GROUP = {"age": _l("Age"), "knowledge": _l("Securities knowledge"),
                  "experience": _l("Investment experience"), "financial": _l("Financial and income status"),
                  "preference": _l("Risk preference")}
DECISION_STATE = {"pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected")}
DIMENSION = {"satisfaction": _l("Customer satisfaction"), "kpi": _l("Target (KPI) completion"),
             "team": _l("Team contribution"), "competence": _l("Professional competence")}
BAND = {"excellent": _l("Excellent"), "good": _l("Good"), "satisfactory": _l("Satisfactory"),
        "needs_improvement": _l("Needs improvement"), "unsatisfactory": _l("Unsatisfactory")}
RECOMMENDATION = {"promote": _l("Promote"), "demote": _l("Demote"), "hold": _l("Hold")}


# --- each feature's words ---------------------------------------------------------------------------------

def risk_labels() -> dict:
    """The questionnaire's pages: risk classes, groups, profile statuses, channels and confirmation methods."""
    return {
        "group": QUESTION_GROUP,
        "risk_class": RISK_CLASS,
        "status": PROFILE_STATUS,
        "channel": {"self": _l("Self-service"), "assisted": _l("Assisted by a manager")},
        "method": {"client": _l("Confirmed by the client online"), "paper": CONFIRMATION_METHOD_PAPER},
    }


def questionnaire_version_labels() -> dict:
    """A questionnaire version's states, as the administrator's pages show them."""
    return {"draft": _l("Draft"), "active": lazy_pgettext("questionnaire version", "Active"), "retired": _l("Retired")}


def investor_labels() -> dict:
    """Professional-investor applications: their states, the checks, the two categories."""
    return {
        "status": DECISION_STATE,
        "check": {"met": _l("Met"), "not_met": _l("Not met"), "no_data": _l("No data")},
        "category": INVESTOR_CATEGORY,
    }


def suitability_labels() -> dict:
    """Display names of outcomes, statuses, actions, confirmation methods and product kinds."""
    return {
        "outcome": {"allowed": _l("Allowed"), "warning": _l("Special risk warning"), "refused": _l("Refused")},
        "status": {"allowed": _l("Allowed"), "awaiting": _l("Awaiting the client's confirmation"),
                   "confirmed": _l("Confirmed by the client"), "refused": _l("Refused"),
                   "lapsed": _l("Lapsed: the profile changed before the client confirmed")},
        "action": {"recommendation": _l("Recommendation"), "subscription": _l("Subscription")},
        "method": {"client": _l("On the client's own login"), "paper": CONFIRMATION_METHOD_PAPER},
        "kind": {"money_market_fund": _l("Money-market fund"), "bond_fund": _l("Bond fund"),
                 "hybrid_fund": _l("Hybrid fund"), "equity_fund": _l("Equity fund"), "index_fund": _l("Index fund"),
                 "collective_plan": _l("Collective asset-management plan"),
                 "structured_note": _l("Structured note"), "private_fund": _l("Private fund"),
                 "other": _l("Other")},
        "category": INVESTOR_CATEGORY,
        "package_reason": {"no_valid_profile": _l("No package: no valid risk profile"),
                           "no_asset_snapshot": _l("No package: no asset snapshot yet")},
    }


def credit_labels() -> dict:
    """Display names of kinds, statuses, classes and the clauses of SPEC Part D."""
    return {
        "kind": {"card": _l("Credit card"), "loan": _l("Loan")},
        "status": {"normal": _l("Normal"), "frozen": _l("Frozen"), "stopped": _l("Stopped"),
                   "bad_debt": _l("Bad debt"), "closed": _l("Closed"), "settled": _l("Settled")},
        "class": {"barred": _l("Barred"), "subprime": _l("Subprime"), "blemished": _l("Blemished"),
                  "normal": _l("Normal")},
        "source": {"form": _l("Form"), "csv": _l("CSV import"), "api": _l("API"), "override": _l("Override")},
        "clause": {
            "barred.abnormal_status": _l("An account is frozen, stopped or in bad debt"),
            "barred.card_closed_unpaid": _l("A card closed with balance unpaid (G)"),
            "barred.loan_closed_unpaid": _l("A loan closed with balance unpaid (G)"),
            "barred.loan_settled_by_assets": _l("A loan settled by assets (Z)"),
            "barred.loan_paid_by_guarantor": _l("A loan paid by the guarantor (D)"),
            "barred.card_level": _l("A card reached overdue level 4 or more"),
            "barred.loan_level": _l("A loan reached overdue level 4 or more"),
            "barred.card_overdue_months": _l("More than 8 overdue months over all cards"),
            "barred.loan_overdue_months": _l("More than 8 overdue months over all loans"),
            "barred.card_level3_months": _l("More than 2 months at level 3 over all cards"),
            "barred.loan_level3_months": _l("More than 2 months at level 3 over all loans"),
            "normal.no_accounts": _l("No credit-report accounts (no credit history)"),
            "normal.open_status": _l("Every open account is normal"),
            "normal.current_overdue": _l("No open account is overdue now"),
            "normal.no_overdue_months": _l("No overdue month in any repayment string"),
            "blemished.open_status": _l("Every open account is normal"),
            "blemished.worst_level": _l("Worst overdue level is at most 2"),
            "blemished.card_overdue_months": _l("At most 4 overdue months over all cards"),
            "blemished.loan_overdue_months": _l("At most 4 overdue months over all loans"),
            "subprime.worst_level": _l("An account reached overdue level 3 (blemished allows at most 2)"),
            "subprime.card_overdue_months": _l("More than 4 overdue months over all cards"),
            "subprime.loan_overdue_months": _l("More than 4 overdue months over all loans"),
        },
    }


def followup_labels() -> dict:
    """Display names of channels, the seed's grade definitions (help text) and the log form's words, translated
    once here: the dashboard draws one form per due client, and a lazy string translates on every use."""
    words = {
        "channel": {"phone": _l("Phone"), "visit": _l("Visit"), "wechat": _l("WeChat"), "email": _l("Email"),
                    "meeting": _l("Meeting")},
        "grade": {
            "A": _l("A: clear need; a deal is expected within 1 month (follow up daily)"),
            "B": _l("B: clear need; a deal is expected within 3 months (follow up weekly)"),
            "C": _l("C: clear need; a deal is expected within 6 months (follow up every 15 days)"),
            "D": _l("D: potential need, or a clear need but no deal within 6 months (follow up every 30 days)"),
            "E": _l("E: no need, no chance of a deal (follow up yearly)"),
        },
        "text": {"date": _l("Date"), "channel": _l("Channel"), "grade": _l("New grade"), "note": _l("Note"),
                 "submit": _l("Log follow-up")},
    }
    return {group: {key: str(value) for key, value in texts.items()} for group, texts in words.items()}


def evaluation_labels() -> dict:
    """Display names of cycle states, scopes, rating bands and dimensions, in the user's language."""
    return {
        "state": {"draft": _l("Draft"), "open": _l("Open"), "closed": lazy_pgettext("evaluation cycle", "Closed")},
        "band": BAND,
        "dimension": DIMENSION,
        "component": {"net_commission": _l("Net commission"), "asset_growth": _l("Asset growth"),
                      "new_clients": _l("New clients"), "valid_profiles": _l("Share of the book with a valid "
                                                                                "risk profile")},
        "recommendation": RECOMMENDATION,
    }


def promotion_labels() -> dict:
    """Display names of the promotion feature's coded values: clauses, level changes, nominations, flags."""
    return {
        "dimension": DIMENSION,
        "band": BAND,
        "recommendation": RECOMMENDATION,
        "clause": {
            "months_in_level": _l("Months in the level"),
            "evaluations_available": _l("Closed evaluations in this level"),
            "each_total": _l("Each total of the latest evaluations"),
            "mean_total": _l("Mean total of the latest evaluations"),
            "min_dimension": _l("Lowest dimension score of the latest evaluations"),
            "each_kpi": _l("KPI score in each of the latest evaluations"),
            "team": _l("Team contribution in each of the latest evaluations"),
            "no_compliance_flag": _l("Open compliance flags"),
            "demotion_totals": _l("Each total of the latest evaluations (demotion rule)"),
            "demotion_floor": _l("Level (nobody goes below junior)"),
            "promotion_rule": _l("Promotion rule from this level"),
        },
        "change": {"initial": _l("Initial grading"), "promotion": _l("Promotion"), "demotion": _l("Demotion"),
                   "correction": _l("Correction")},
        "state": DECISION_STATE,
        "kind": {"promote": _l("Promotion"), "demote": _l("Demotion")},
        "flag": {"conduct_breach": _l("Conduct breach"), "client_complaint": _l("Client complaint under review"),
                 "regulatory_inquiry": _l("Regulatory inquiry"), "other": _l("Other")},
    }
