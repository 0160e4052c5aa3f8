"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json (public).

Built once per application from what each view declares with `operation` (portal/api/spec.py): its summary,
query, body and answer models, and the errors it answers. Every route under /api/v1 must declare one. Path
parameters come from the route (`<int:cycle_id>` is an integer). pydantic writes JSON Schema 2020-12; the
document stays OpenAPI 3.0 (what the broker's gateways read), so `null` alternatives become `nullable: true`,
`const` an `enum` and `examples` an `example`.
"""
from __future__ import annotations

import re

from flask import current_app
from pydantic import TypeAdapter

from portal.access import public
from portal.api import bp
from portal.api.spec import Error, Operation, adapter, operation

REF = "#/components/schemas/{model}"
_PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@bp.get("/openapi.json")
@public
@operation("This document", public=True, schema={"type": "object"})
def openapi_document():
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build(current_app)
    return document


def _operations(app) -> list[tuple[str, str, list[dict], Operation]]:
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.rule.startswith(f"{bp.url_prefix}/"):
            continue
        described = getattr(app.view_functions[rule.endpoint], "api_operation", None)
        if described is None:
            raise RuntimeError(f"{rule.endpoint} ({rule.rule}) declares no API operation")
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if converter == "int" else "string"}}
                      for converter, name in _PARAMETER.findall(rule.rule)]
        path = _PARAMETER.sub(lambda match: "{" + match.group(2) + "}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), parameters, described))
    return found


def build(app) -> dict:
    """The whole document, from the views' declarations."""
    found = _operations(app)
    inputs = [(("error", "out"), "serialization", adapter(Error))]
    for index, (_path, _method, _parameters, described) in enumerate(found):
        if described.body is not None:
            inputs.append(((index, "body"), "validation", adapter(described.body)))
        for status, response in described.responses.items():
            if response.model is not None:
                inputs.append(((index, status), "serialization", adapter(response.model)))
    schemas, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    error = openapi_schema(schemas[(("error", "out"), "serialization")])

    paths: dict[str, dict] = {}
    for index, (path, method, parameters, described) in enumerate(found):
        entry: dict = {"summary": described.summary}
        if described.description:
            entry["description"] = described.description
        if described.public:
            entry["security"] = []
        query = _query_parameters(described.query) if described.query is not None else []
        if parameters or query:
            entry["parameters"] = parameters + query
        if described.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": openapi_schema(schemas[((index, "body"), "validation")])}}}
        entry["responses"] = {}
        for status, response in sorted(described.responses.items()):
            if response.model is not None:
                schema = openapi_schema(schemas[((index, status), "serialization")])
            else:
                schema = response.schema or error
            entry["responses"][str(status)] = {"description": response.description,
                                               "content": {"application/json": {"schema": schema}}}
        paths.setdefault(path, {})[method] = entry

    components = {name: openapi_schema(schema) for name, schema in sorted(definitions.get("$defs", {}).items())}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Relationship-manager and client-tiering portal API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": components},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _query_parameters(query) -> list[dict]:
    model = query.model_json_schema(ref_template=REF)
    required = set(model.get("required", ()))
    parameters = []
    for field, schema in model.get("properties", {}).items():
        schema = openapi_schema(schema)
        if schema.pop("nullable", False) and None in schema.get("enum", ()):  # a parameter is absent, not null
            schema["enum"] = [value for value in schema["enum"] if value is not None]
        parameter = {"name": field, "in": "query", "schema": schema}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        if field in required:
            parameter["required"] = True
        parameters.append(parameter)
    return parameters


def openapi_schema(schema):
    """A JSON Schema 2020-12 fragment as OpenAPI 3.0 writes it."""
    if isinstance(schema, list):
        return [openapi_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict = {}
    for key, value in schema.items():
        if key == "title":
            continue
        if key == "properties":
            out[key] = {name: openapi_schema(item) for name, item in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = openapi_schema(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            out[key] = [openapi_schema(item) for item in value]
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples":
            out["example"] = value[0]
        elif key == "default" and value is None:
            continue
        else:
            out[key] = value
    for combiner in ("anyOf", "oneOf"):
        options = out.get(combiner)
        if options and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del out[combiner]
            if len(rest) == 1 and "$ref" in rest[0]:
                out["allOf"] = rest
            elif len(rest) == 1:
                out = {**rest[0], **out}
            else:
                out[combiner] = rest
            out["nullable"] = True
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
    return out
