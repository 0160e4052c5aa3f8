"""How the audit log reads to people: each action and object in words, the object as a link, and the
fields an entry changed as before/after pairs shown as text (Chinese as written, never escaped).

Every action the portal records needs a line in ACTIONS (tests/test_audit_pages.py reads the sources and
holds this to it); an unknown code, e.g. from a newer node, falls back to the code itself.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import lazy_pgettext
from werkzeug.routing import BuildError

from portal.formatting import N_, request_translations

ACTIONS = {
    "access.refused": N_("Access refused"),
    "api_token.create": N_("API token issued"),
    "api_token.revoke": N_("API token revoked"),
    "assessment.confirm": N_("Questionnaire result confirmed"),
    "assessment.submit": N_("Questionnaire submitted"),
    "assets.import": N_("Asset snapshots imported"),
    "auth.sign_in": N_("Signed in"),
    "auth.sign_out": N_("Signed out"),
    "client.anonymise": N_("Client's personal data anonymised"),
    "client.close_account": N_("Client account closed"),
    "client.reassign": N_("Client moved to another manager"),
    "compliance_flag.close": N_("Compliance flag closed"),
    "compliance_flag.open": N_("Compliance flag opened"),
    "credit.screen": N_("Credit screening recorded"),
    "cycle.close": N_("Evaluation cycle closed"),
    "cycle.create": N_("Evaluation cycle created"),
    "cycle.delete": N_("Evaluation cycle deleted"),
    "cycle.open": N_("Evaluation cycle opened"),
    "demo.seed": N_("Demonstration data loaded"),
    "evaluation.score": N_("Evaluation scored"),
    "evaluation.score_conflict": N_("Evaluation score refused: changed by someone else"),
    "evaluation.self_assessment": N_("Self-assessment written"),
    "evaluation_weights.new_version": N_("New evaluation weights"),
    "followup.log": N_("Follow-up logged"),
    "investor.apply": N_("Professional-investor application made"),
    "investor.approve": N_("Professional-investor application approved"),
    "investor.reject": N_("Professional-investor application rejected"),
    "manager.create": N_("Staff record created"),
    "manager.move": N_("Manager moved to another team"),
    "package_cells.update": N_("Service package grid changed"),
    "product.activate": N_("Product offered again"),
    "product.create": N_("Product created"),
    "product.deactivate": N_("Product withdrawn"),
    "product.update": N_("Product changed"),
    "profile.in_force": N_("Risk profile took effect"),
    "promotion.approve": N_("Promotion approved"),
    "promotion.engine_run": N_("Promotion rules run"),
    "promotion.nominate": N_("Promotion nominated"),
    "promotion.reject": N_("Promotion rejected"),
    "promotion_rules.new_version": N_("New promotion rules"),
    "questionnaire.draft": N_("Questionnaire draft created"),
    "questionnaire.load": N_("Questionnaire loaded from a file"),
    "questionnaire.publish": N_("Questionnaire version published"),
    "questionnaire.save": N_("Questionnaire draft saved"),
    "rating.create": N_("Service rated by a client"),
    "revenue.import": N_("Revenue records imported"),
    "service_package.update": N_("Service package changed"),
    "suitability.confirm": N_("Suitability warning confirmed"),
    "suitability.record": N_("Suitability check recorded"),
    "target.import": N_("Targets imported"),
    "target.set": N_("Target set"),
    "team.create": N_("Team created"),
    "tier_thresholds.create": N_("New tier thresholds"),
    "tiers.retier": N_("Clients re-tiered"),
    "user.activate": N_("Login enabled"),
    "user.create": N_("Login created"),
    "user.deactivate": N_("Login disabled"),
    "account.reminders": N_("Reminder settings changed"),
    "auth.directory_refused": N_("Directory sign-in refused"),
    "client.activate": N_("Client activated their login"),
    "client.activation_code": N_("Activation code printed for a client"),
    "import.branches": N_("Branches imported"),
    "import.clients": N_("Clients imported"),
    "import.staff": N_("Staff roster imported"),
    "reminders.run": N_("Reminders sent"),
    "user.invitation_accepted": N_("Invitation accepted"),
    "user.invitation_link": N_("Invitation link used"),
    "user.invite": N_("Staff invited"),
    "user.password_change": N_("Password changed"),
    "user.password_reset": N_("Password reset"),
    "user.reset_link": N_("Password reset link"),
    "user.role_from_directory": N_("Role taken from the directory"),
}

# The groups the action filter offers: a prefix of the codes, in words.
ACTION_GROUPS = {
    "auth.": N_("Sign-in and sign-out"), "access.": N_("Refused access"), "user.": N_("Logins"),
    "api_token.": N_("API tokens"), "client.": N_("Clients"), "assessment.": N_("Risk questionnaires"),
    "profile.": N_("Risk profiles"), "questionnaire.": N_("Questionnaire versions"),
    "suitability.": N_("Suitability"), "product.": N_("Products"), "service_package.": N_("Service packages"),
    "package_cells.": N_("Service package grid"), "investor.": N_("Professional investors"),
    "followup.": N_("Follow-ups"), "credit.": N_("Credit screenings"), "tier": N_("Asset tiers"),
    "assets.": N_("Asset imports"), "revenue.": N_("Revenue imports"), "manager.": N_("Staff records"),
    "team.": N_("Teams"), "cycle.": N_("Evaluation cycles"), "evaluation": N_("Evaluations"),
    "target.": N_("Targets"), "rating.": N_("Service ratings"), "promotion": N_("Promotions"),
    "compliance_flag.": N_("Compliance flags"), "demo.": N_("Demonstration data"),
    "import.": N_("Branch, staff and client imports"), "account.": N_("Account settings"),
    "reminders.": N_("Reminders"),
}

OBJECT_TYPES = {
    "asset_snapshots": N_("Asset snapshots"), "assessment": N_("Questionnaire answers"), "client": N_("Client"),
    "credit_screening": N_("Credit screening"), "cycle": N_("Evaluation cycle"), "database": N_("Database"),
    "endpoint": N_("Page"), "evaluation": N_("Evaluation"), "evaluation_cycle": N_("Evaluation cycle"),
    "evaluation_weight_set": N_("Evaluation weights"), "manager": N_("Staff record"),
    "manager_targets": N_("Targets"), "package_cells": N_("Service package grid"), "product": N_("Product"),
    "promotion_engine": N_("Promotion rules"), "promotion_rule_set": N_("Promotion rules"),
    "questionnaire_version": N_("Questionnaire version"), "revenue_records": N_("Revenue records"),
    "service_package": N_("Service package"), "statistics_date": N_("Statistics date"),
    "suitability_record": N_("Suitability record"), "team": N_("Team"),
    "tier_threshold_set": N_("Tier thresholds"), "user": N_("Login"),
    "data_import": N_("Import"), "reminders": N_("Reminders"),
}

# The fields an entry's before/after name, in words (a field not listed shows its stored key).
FIELDS = {
    "accounts": lazy_pgettext("field of an audit entry", "Accounts"),
    "action": lazy_pgettext("field of an audit entry", "Action"),
    "active": lazy_pgettext("field of an audit entry", "Active"),
    "address": lazy_pgettext("field of an audit entry", "Address"),
    "age": lazy_pgettext("field of an audit entry", "Age"),
    "age_from_records": lazy_pgettext("field of an audit entry", "Age from the records"),
    "amount": lazy_pgettext("field of an audit entry", "Amount"),
    "application": lazy_pgettext("field of an audit entry", "Application"),
    "as_of": lazy_pgettext("field of an audit entry", "As of"),
    "assessment": lazy_pgettext("field of an audit entry", "Questionnaire answers"),
    "bands": lazy_pgettext("field of an audit entry", "Rating bands"),
    "based_on": lazy_pgettext("field of an audit entry", "Based on"),
    "by": lazy_pgettext("field of an audit entry", "By"),
    "caps": lazy_pgettext("field of an audit entry", "Caps"),
    "channel": lazy_pgettext("field of an audit entry", "Channel"),
    "checks": lazy_pgettext("field of an audit entry", "Checks"),
    "client_due": lazy_pgettext("field of an audit entry", "Next follow-up"),
    "client_grade": lazy_pgettext("field of an audit entry", "Follow-up grade"),
    "clients": lazy_pgettext("field of an audit entry", "Clients"),
    "closed_on": lazy_pgettext("field of an audit entry", "Closed on"),
    "code": lazy_pgettext("field of an audit entry", "Code"),
    "comment": lazy_pgettext("field of an audit entry", "Comment"),
    "computed_class": lazy_pgettext("field of an audit entry", "Computed class"),
    "created": lazy_pgettext("field of an audit entry", "Created"),
    "credit_class": lazy_pgettext("field of an audit entry", "Credit class"),
    "cycle": lazy_pgettext("field of an audit entry", "Evaluation cycle"),
    "due": lazy_pgettext("field of an audit entry", "Due"),
    "effective_on": lazy_pgettext("field of an audit entry", "Effective on"),
    "elderly_prompt": lazy_pgettext("field of an audit entry", "Extra-care prompt"),
    "email": lazy_pgettext("field of an audit entry", "E-mail"),
    "employee_no": lazy_pgettext("field of an audit entry", "Employee number"),
    "evaluations": lazy_pgettext("field of an audit entry", "Evaluations"),
    "expected_version": lazy_pgettext("field of an audit entry", "Expected version"),
    "expires_at": lazy_pgettext("field of an audit entry", "Expires"),
    "extra_care_given": lazy_pgettext("field of an audit entry", "Extra care given"),
    "failed": lazy_pgettext("field of an audit entry", "Failed"),
    "fields_cleared": lazy_pgettext("field of an audit entry", "Fields cleared"),
    "filename": lazy_pgettext("field of an audit entry", "File"),
    "final_class": lazy_pgettext("field of an audit entry", "Final class"),
    "flag": lazy_pgettext("field of an audit entry", "Flag"),
    "flags": lazy_pgettext("field of an audit entry", "Flags"),
    "from": lazy_pgettext("field of an audit entry", "From"),
    "grade": lazy_pgettext("field of an audit entry", "Grade"),
    "investor_category": lazy_pgettext("field of an audit entry", "Investor category"),
    "kind": lazy_pgettext("field of an audit entry", "Kind"),
    "label": lazy_pgettext("field of an audit entry", "Label"),
    "level": lazy_pgettext("field of an audit entry", "Level"),
    "level_change": lazy_pgettext("field of an audit entry", "Level change"),
    "level_since": lazy_pgettext("field of an audit entry", "In the level since"),
    "limit": lazy_pgettext("field of an audit entry", "Limit"),
    "links": lazy_pgettext("field of an audit entry", "Links"),
    "log": lazy_pgettext("field of an audit entry", "Follow-up"),
    "logged_on": lazy_pgettext("field of an audit entry", "Date"),
    "logins": lazy_pgettext("field of an audit entry", "Logins"),
    "logins_cleared": lazy_pgettext("field of an audit entry", "Logins cleared"),
    "lowest_category": lazy_pgettext("field of an audit entry", "Lowest category"),
    "manager": lazy_pgettext("field of an audit entry", "Manager"),
    "manager_id": lazy_pgettext("field of an audit entry", "Manager"),
    "managers": lazy_pgettext("field of an audit entry", "Managers"),
    "method": lazy_pgettext("field of an audit entry", "Method"),
    "name": lazy_pgettext("field of an audit entry", "Name"),
    "name_en": lazy_pgettext("field of an audit entry", "English name"),
    "name_zh": lazy_pgettext("field of an audit entry", "Chinese name"),
    "next_due": lazy_pgettext("field of an audit entry", "Next follow-up"),
    "nomination": lazy_pgettext("field of an audit entry", "Nomination"),
    "note": lazy_pgettext("field of an audit entry", "Note"),
    "nothing_to_do": lazy_pgettext("field of an audit entry", "Nothing to do"),
    "open": lazy_pgettext("field of an audit entry", "Open"),
    "other_sessions_ended": lazy_pgettext("field of an audit entry", "Other sessions ended"),
    "outcome": lazy_pgettext("field of an audit entry", "Outcome"),
    "override_reason": lazy_pgettext("field of an audit entry", "Override reason"),
    "paper_reference": lazy_pgettext("field of an audit entry", "Paper reference"),
    "password": lazy_pgettext("field of an audit entry", "Password"),
    "path": lazy_pgettext("field of an audit entry", "Path"),
    "problems": lazy_pgettext("field of an audit entry", "Problems"),
    "product": lazy_pgettext("field of an audit entry", "Product"),
    "product_risk_level": lazy_pgettext("field of an audit entry", "Product risk level"),
    "raised_from": lazy_pgettext("field of an audit entry", "Raised from"),
    "rating": lazy_pgettext("field of an audit entry", "Rating"),
    "reason": lazy_pgettext("field of an audit entry", "Reason"),
    "reasons": lazy_pgettext("field of an audit entry", "Reasons"),
    "recommendation": lazy_pgettext("field of an audit entry", "Recommendation"),
    "recommendations": lazy_pgettext("field of an audit entry", "Recommendations"),
    "record": lazy_pgettext("field of an audit entry", "Record"),
    "reminders": lazy_pgettext("field of an audit entry", "Reminders"),
    "retiered": lazy_pgettext("field of an audit entry", "Re-tiered"),
    "retired": lazy_pgettext("field of an audit entry", "Retired"),
    "revoked": lazy_pgettext("field of an audit entry", "Revoked"),
    "risk_class": lazy_pgettext("field of an audit entry", "Risk class"),
    "risk_level": lazy_pgettext("field of an audit entry", "Risk level"),
    "rule_set": lazy_pgettext("field of an audit entry", "Rule version"),
    "rule_set_version": lazy_pgettext("field of an audit entry", "Rule version"),
    "rules": lazy_pgettext("field of an audit entry", "Rules"),
    "run": lazy_pgettext("field of an audit entry", "Run"),
    "score": lazy_pgettext("field of an audit entry", "Score"),
    "screening": lazy_pgettext("field of an audit entry", "Screening"),
    "seed": lazy_pgettext("field of an audit entry", "Seed"),
    "self_comment": lazy_pgettext("field of an audit entry", "Self-assessment"),
    "sent": lazy_pgettext("field of an audit entry", "Sent"),
    "source": lazy_pgettext("field of an audit entry", "Source"),
    "stars": lazy_pgettext("field of an audit entry", "Stars"),
    "stat_date": lazy_pgettext("field of an audit entry", "Statistics date"),
    "state": lazy_pgettext("field of an audit entry", "State"),
    "status": lazy_pgettext("field of an audit entry", "Status"),
    "supervisor": lazy_pgettext("field of an audit entry", "Supervisor"),
    "team": lazy_pgettext("field of an audit entry", "Team"),
    "teams": lazy_pgettext("field of an audit entry", "Teams"),
    "threshold_version": lazy_pgettext("field of an audit entry", "Threshold version"),
    "thresholds": lazy_pgettext("field of an audit entry", "Thresholds"),
    "to": lazy_pgettext("field of an audit entry", "To"),
    "token_id": lazy_pgettext("field of an audit entry", "Token"),
    "typed": lazy_pgettext("field of an audit entry", "Typed"),
    "username": lazy_pgettext("field of an audit entry", "Username"),
    "valid_until": lazy_pgettext("field of an audit entry", "Valid until"),
    "version": lazy_pgettext("field of an audit entry", "Version"),
    "weight_set": lazy_pgettext("field of an audit entry", "Weights version"),
    "weights": lazy_pgettext("field of an audit entry", "Weights"),
}

OUTCOME_CLASSES = {"ok": "text-bg-success", "denied": "text-bg-warning", "failed": "text-bg-danger"}


def _link(endpoint: str, **values) -> Callable[[Any], str | None]:
    return lambda entry: url_for(endpoint, **{k: v(entry) if callable(v) else v for k, v in values.items()})


def _object_id(entry) -> str:
    return entry.object_id


def _evaluation_link(entry) -> str | None:
    after = entry.after if isinstance(entry.after, dict) else {}
    if after.get("cycle") is None or not after.get("employee_no"):
        return None
    return url_for("evaluations.evaluation", cycle_id=int(after["cycle"]), employee_no=after["employee_no"])


# Where each kind of object is seen; the roles who read the log (admin, compliance) may open these pages,
# or are refused there as anywhere else.
LINKS: dict[str, Callable[[Any], str | None]] = {
    "client": _link("clients.client_detail", client_no=_object_id),
    "manager": _link("promotions.eligibility", employee_no=_object_id),
    "evaluation_cycle": _link("evaluations.cycle", cycle_id=lambda e: int(e.object_id)),
    "cycle": _link("evaluations.cycle", cycle_id=lambda e: int(e.object_id)),
    "evaluation": _evaluation_link,
    "questionnaire_version": _link("questionnaire_admin.versions"),
    "suitability_record": _link("suitability.record_detail", record_id=lambda e: int(e.object_id)),
    "user": _link("admin.users", q=_object_id),
    "team": _link("admin.teams"),
    "product": _link("suitability.products"),
    "service_package": _link("suitability.packages"),
    "package_cells": _link("suitability.packages"),
    "tier_threshold_set": _link("tiering.thresholds"),
    "evaluation_weight_set": _link("promotions.ladder_page"),
    "promotion_rule_set": _link("promotions.ladder_page"),
    "manager_targets": _link("evaluations.targets"),
    "statistics_date": _link("tiering.import_page"),
    "asset_snapshots": _link("tiering.import_page"),
    "revenue_records": _link("tiering.import_page"),
}


def action_words(code: str) -> str:
    text = ACTIONS.get(code)
    return request_translations().ugettext(text) if text else code


def object_words(object_type: str | None) -> str:
    text = OBJECT_TYPES.get(object_type or "")
    return request_translations().ugettext(text) if text else (object_type or "")


def object_link(entry) -> str | None:
    """The page of the entry's object, or None where it has none (or its id is not one any more)."""
    build = LINKS.get(entry.object_type or "")
    if build is None:
        return None
    try:
        return build(entry)
    except (ValueError, TypeError, LookupError, BuildError):  # an id the route cannot take: no link
        return None


def field_words(key: str) -> str:
    """A before/after field in the reader's language."""
    words = FIELDS.get(key)
    return str(words) if words is not None else key


def value_text(value: Any) -> str:
    """A recorded value as a reader sees it: text as written, lists and objects as readable JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return request_translations().ugettext(N_("yes") if value else N_("no"))
    if isinstance(value, str):
        return value or "—"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field whose value differs; a whole value when not an object."""
    if isinstance(before, dict) or isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        new = after if isinstance(after, dict) else {}
        keys = list(old) + [k for k in new if k not in old]
        return [(field_words(str(k)), value_text(old.get(k)), value_text(new.get(k))) for k in keys
                if k not in old or k not in new or old.get(k) != new.get(k)]
    if before is None and after is None:
        return []
    return [("", value_text(before), value_text(after))] if before != after else []


def changes_text(before: Any, after: Any) -> str:
    """The changes on one line, for an export cell: `field: before → after; …`."""
    return "; ".join(f"{field}: {old} → {new}" if field else f"{old} → {new}"
                     for field, old, new in changes(before, after))
