"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json (public)."""
from __future__ import annotations

from portal.access import public
from portal.api import bp

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict:
    names = {400: "Bad input", 401: "No valid bearer token", 403: "Not allowed for this role",
             404: "Not found, or not yours", 405: "Method not allowed", 409: "Conflict"}
    return {str(c): {"description": names[c], "content": {"application/json": {"schema": ERROR}}} for c in codes}


def _ok(schema: dict, description: str = "OK", status: str = "200") -> dict:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


def _list_of(ref: str) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": ref}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}}}


PAGE = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]

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
                                       "level": {"type": "string", "enum": ["junior", "mid", "senior", "principal"]},
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
                                      "phone": {"type": "string", "nullable": True}}},
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
        "/api/v1/clients/{client_no}": {"get": {
            "summary": "One client",
            "parameters": [{"name": "client_no", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok({"$ref": "#/components/schemas/Client"}), **_errors(401, 404)}}},
    },
}


@bp.get("/openapi.json")
@public
def openapi_document():
    return SPEC
