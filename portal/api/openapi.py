"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json (public)."""
from __future__ import annotations

from portal.access import public
from portal.api import bp
from portal.rules.profile import PROFILE_STATUSES
from portal.rules.vocabulary import GRADES, INVESTOR_CATEGORIES, LEVELS, RISK_CLASSES

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict:
    names = {400: "Bad input", 401: "No valid bearer token", 403: "Not allowed for this role",
             404: "Not found, or not yours", 405: "Method not allowed", 409: "Conflict",
             429: "Too many submissions today: `retake_limit`, with `retry_on` (the date to try again)"}
    return {str(c): {"description": names[c], "content": {"application/json": {"schema": ERROR}}} for c in codes}


def _ok(schema: dict, description: str = "OK", status: str = "200") -> dict:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


def _list_of(ref: str) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": ref}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}}}


PAGE = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]

CLIENT_NO = {"name": "client_no", "in": "path", "required": True, "schema": {"type": "string"}}
ACCOUNTS_BODY = {"type": "object", "required": ["accounts"],
                 "properties": {"accounts": {"type": "array", "items": {"$ref": "#/components/schemas/Account"}}}}

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Relationship-manager and client-tiering portal API", "version": "1"},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "field": {"type": "string"}}}}},
            "Manager": {"type": "object", "required": ["employee_no", "name", "level", "level_since", "team",
                                                        "supervisor"],
                        "properties": {"employee_no": {"type": "string"}, "name": {"type": "string"},
                                       "level": {"type": "string", "enum": list(LEVELS)},
                                       "level_since": {"type": "string", "format": "date"},
                                       "team": {"type": "string", "nullable": True},
                                       "supervisor": {"type": "string", "nullable": True},
                                       "status": {"type": "string"}}},
            "Client": {"type": "object", "required": ["client_no", "name", "manager", "id_number_masked"],
                       "properties": {"client_no": {"type": "string"}, "name": {"type": "string"},
                                      "manager": {"type": "string", "nullable": True},
                                      "id_type": {"type": "string"},
                                      "id_number_masked": {"type": "string"},
                                      "id_number": {"type": "string", "description": "only to the client"},
                                      "birth_date": {"type": "string", "format": "date"},
                                      "branch": {"type": "string"},
                                      "opened_on": {"type": "string", "format": "date"},
                                      "phone": {"type": "string", "nullable": True},
                                      "risk_class": {"type": "string", "nullable": True},
                                      "grade": {"type": "string", "nullable": True},
                                      "lowest_category": {"type": "boolean"},
                                      "profile_status": {"type": "string", "enum": list(PROFILE_STATUSES)},
                                      "profile_valid_until": {"type": "string", "format": "date", "nullable": True},
                                      "investor_category": {"type": "string", "enum": list(INVESTOR_CATEGORIES)},
                                      "asset_tier": {"type": "integer", "minimum": 1, "maximum": 4, "nullable": True,
                                                     "description": "null before the first asset snapshot"},
                                      "total_assets": {"type": "string", "format": "decimal", "nullable": True,
                                                       "example": "1234567.89"},
                                      "contribution_12m": {"type": "string", "format": "decimal", "nullable": True,
                                                           "example": "12345.60"},
                                      "service_package": {"type": "string", "nullable": True,
                                                          "enum": ["premier", "advantage", "essential", None],
                                                          "description": "the package of the client's tier x "
                                                                         "risk-class cell; null without a valid "
                                                                         "profile or an asset tier"}}},
            "Questionnaire": {"type": "object", "required": ["version", "questions"], "properties": {
                "version": {"type": "string"}, "validity_months": {"type": "integer"},
                "groups": {"type": "array", "items": {"type": "string"}},
                "questions": {"type": "array", "items": {"type": "object",
                              "required": ["id", "group", "text", "options"],
                              "properties": {"id": {"type": "string"}, "group": {"type": "string"},
                                             "text": {"type": "string"},
                                             "options": {"type": "array", "items": {
                                                 "type": "object", "required": ["id", "text"],
                                                 "properties": {"id": {"type": "string"},
                                                                "text": {"type": "string"}}}}}}}}},
            "Assessment": {"type": "object", "required": ["score", "grade", "risk_class", "lowest_category", "flags",
                                                           "valid_until", "questionnaire_version"],
                           "properties": {"id": {"type": "integer"}, "score": {"type": "integer"},
                                          "grade": {"type": "string", "enum": list(GRADES)},
                                          "risk_class": {"type": "string", "enum": list(RISK_CLASSES)},
                                          "lowest_category": {"type": "boolean"},
                                          "flags": {"type": "array", "items": {"type": "string"}},
                                          "caps": {"type": "array", "items": {"type": "string"}},
                                          "valid_until": {"type": "string", "format": "date", "nullable": True,
                                                          "description": "null while an assisted submission "
                                                                         "awaits the client's confirmation"},
                                          "questionnaire_version": {"type": "string"},
                                          "channel": {"type": "string", "enum": ["self", "assisted"]},
                                          "status": {"type": "string", "enum": ["in_force", "awaiting_confirmation"]},
                                          "submitted_at": {"type": "string", "format": "date-time"}}},
            "Profile": {"type": "object", "required": ["client_no", "as_of", "score", "grade", "risk_class",
                                                        "valid_until"],
                        "properties": {"client_no": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
                                       "score": {"type": "integer"}, "grade": {"type": "string"},
                                       "risk_class": {"type": "string"}, "lowest_category": {"type": "boolean"},
                                       "effective_on": {"type": "string", "format": "date"},
                                       "valid_until": {"type": "string", "format": "date"},
                                       "status": {"type": "string"}, "assessment_id": {"type": "integer"},
                                       "questionnaire_version": {"type": "string"}}},
            "Account": {"type": "object", "required": ["kind", "status", "current_overdue", "history"],
                        "properties": {"kind": {"type": "string", "enum": ["card", "loan"]},
                                       "status": {"type": "string", "enum": ["normal", "frozen", "stopped",
                                                                             "bad_debt", "closed", "settled"]},
                                       "current_overdue": {"type": "integer", "minimum": 0},
                                       "history": {"type": "string", "minLength": 24, "maxLength": 24,
                                                   "description": "24 months, oldest first: N 1-7 G Z D C / * #"}}},
            "Clause": {"type": "object", "required": ["code", "message"],
                       "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                      "observed": {"type": "string"}, "required": {"type": "string"},
                                      "account_index": {"type": "integer", "nullable": True}}},
            "CreditResult": {"type": "object", "required": ["class", "reasons"], "properties": {
                "class": {"type": "string", "enum": ["barred", "subprime", "blemished", "normal"]},
                "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Clause"}}}},
            "CreditScreening": {"type": "object", "required": ["id", "client_no", "class", "computed_class", "reasons",
                                                               "accounts", "screened_at"],
                                "properties": {"id": {"type": "integer"}, "client_no": {"type": "string"},
                                               "class": {"type": "string",
                                                         "enum": ["barred", "subprime", "blemished", "normal"]},
                                               "computed_class": {"type": "string"},
                                               "overridden": {"type": "boolean"},
                                               "override_reason": {"type": "string", "nullable": True},
                                               "eligible": {"type": "boolean",
                                                            "description": "credit business: normal or blemished"},
                                               "reasons": {"type": "array",
                                                           "items": {"$ref": "#/components/schemas/Clause"}},
                                               "accounts": {"type": "array",
                                                            "items": {"$ref": "#/components/schemas/Account"}},
                                               "source": {"type": "string"},
                                               "screened_by": {"type": "string", "nullable": True},
                                               "screened_at": {"type": "string", "format": "date-time"}}},
            "FollowUp": {"type": "object", "required": ["date", "channel", "grade", "next_due"],
                         "properties": {"id": {"type": "integer"}, "client_no": {"type": "string"},
                                        "date": {"type": "string", "format": "date"},
                                        "channel": {"type": "string",
                                                    "enum": ["phone", "visit", "wechat", "email", "meeting"]},
                                        "note": {"type": "string", "nullable": True, "maxLength": 1000},
                                        "grade": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
                                        "next_due": {"type": "string", "format": "date"},
                                        "logged_by": {"type": "string", "nullable": True},
                                        "created_at": {"type": "string", "format": "date-time"}}},
            "Me": {"type": "object", "required": ["username", "role"],
                   "properties": {"username": {"type": "string"}, "display_name": {"type": "string"},
                                  "role": {"type": "string"},
                                  "preferred_language": {"type": "string", "nullable": True},
                                  "manager": {"allOf": [{"$ref": "#/components/schemas/Manager"}], "nullable": True},
                                  "client": {"allOf": [{"$ref": "#/components/schemas/Client"}], "nullable": True}}},
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": _ok({"type": "object"})}},
        "/api/v1/me": {"get": {"summary": "The caller", "responses": {
            **_ok({"$ref": "#/components/schemas/Me"}), **_errors(401)}}},
        "/api/v1/managers": {"get": {
            "summary": "Staff records the caller may see",
            "parameters": [{"name": "team", "in": "query", "schema": {"type": "string"}}, *PAGE],
            "responses": {**_ok(_list_of("#/components/schemas/Manager")), **_errors(400, 401, 403)}}},
        "/api/v1/clients": {"get": {
            "summary": "Clients the caller may see (a manager: exactly their book; a client: themself)",
            "parameters": [{"name": "manager", "in": "query", "schema": {"type": "string"}},
                           {"name": "q", "in": "query", "schema": {"type": "string"}}, *PAGE],
            "responses": {**_ok(_list_of("#/components/schemas/Client")), **_errors(400, 401)}}},
        "/api/v1/questionnaire": {"get": {
            "summary": "The active questionnaire version, options in order of increasing points",
            "parameters": [{"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh_CN", "en"]}}],
            "responses": {**_ok({"$ref": "#/components/schemas/Questionnaire"}), **_errors(400, 401)}}},
        "/api/v1/clients/{client_no}/assessments": {"post": {
            "summary": "Submit a complete answer set (a client for themself; a manager assisted, pending "
                       "confirmation); the age question may be left out (taken from the birth date on file; "
                       "a disagreeing answer is 400 age_mismatch); over the version's daily limit 429 retake_limit",
            "parameters": [{"name": "client_no", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["answers"],
                "properties": {"answers": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
            "responses": {**_ok({"$ref": "#/components/schemas/Assessment"}, "Stored", "201"),
                          **_errors(400, 401, 403, 404, 429)}}},
        "/api/v1/clients/{client_no}/profile": {"get": {
            "summary": "The risk profile in force on a date (today by default)",
            "parameters": [{"name": "client_no", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}}],
            "responses": {**_ok({"$ref": "#/components/schemas/Profile"}), **_errors(400, 401, 404)}}},
        "/api/v1/credit-screening": {"post": {
            "summary": "Screen credit-report accounts (SPEC Part D); evaluates only, stores nothing; staff only",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ACCOUNTS_BODY}}},
            "responses": {**_ok({"$ref": "#/components/schemas/CreditResult"}), **_errors(400, 401, 403)}}},
        "/api/v1/clients/{client_no}/credit-screenings": {
            "post": {
                "summary": "Screen and store for a client of the caller's book (optional override to a worse class)",
                "parameters": [CLIENT_NO],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "allOf": [ACCOUNTS_BODY, {"type": "object", "properties": {
                        "override_class": {"type": "string", "enum": ["barred", "subprime", "blemished"]},
                        "override_reason": {"type": "string", "maxLength": 500}}}]}}}},
                "responses": {**_ok({"$ref": "#/components/schemas/CreditScreening"}, "Stored", "201"),
                              **_errors(400, 401, 403, 404)}},
            "get": {
                "summary": "A client's screening history, newest first",
                "parameters": [CLIENT_NO, *PAGE],
                "responses": {**_ok(_list_of("#/components/schemas/CreditScreening")), **_errors(400, 401, 403, 404)}}},
        "/api/v1/clients/{client_no}/follow-ups": {
            "get": {
                "summary": "A client's follow-ups, newest first",
                "parameters": [CLIENT_NO, *PAGE],
                "responses": {**_ok(_list_of("#/components/schemas/FollowUp")), **_errors(400, 401, 403, 404)}},
            "post": {
                "summary": "Log a follow-up (the client's manager); the new grade's cadence sets next_due",
                "parameters": [CLIENT_NO],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["date", "channel", "grade"],
                    "properties": {"date": {"type": "string", "format": "date", "description": "not in the future"},
                                   "channel": {"type": "string",
                                               "enum": ["phone", "visit", "wechat", "email", "meeting"]},
                                   "note": {"type": "string", "maxLength": 1000},
                                   "grade": {"type": "string", "enum": ["A", "B", "C", "D", "E"]}}}}}},
                "responses": {**_ok({"$ref": "#/components/schemas/FollowUp"}, "Logged", "201"),
                              **_errors(400, 401, 403, 404)}}},
        "/api/v1/clients/{client_no}": {"get": {
            "summary": "One client",
            "parameters": [{"name": "client_no", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok({"$ref": "#/components/schemas/Client"}), **_errors(401, 404)}}},
    },
}


def _merge_feature_paths() -> None:
    """Each feature's API module declares its own PATHS and SCHEMAS; the document is their union."""
    from portal.api import assets, evaluations, matrix, onboarding, previews, promotions

    for module in (assets, matrix, evaluations, promotions, onboarding, previews):
        for path, operations in module.PATHS.items():  # a path may gain an operation beside one declared here
            SPEC["paths"].setdefault(path, {}).update(operations)
        SPEC["components"]["schemas"].update(module.SCHEMAS)


@bp.get("/openapi.json")
@public
def openapi_document():
    if not _merged:
        _merge_feature_paths()
        _merged.append(True)
    return SPEC


_merged: list = []
