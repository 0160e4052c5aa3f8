"""The API described once: each view declares its request and response models (pydantic) with `operation`;
the same models read the request (`read_body`, `read_query`), shape the answer (`respond`) and make the
OpenAPI document (`portal/api/openapi.py` reads them from the views).

Reading. A body has been parsed by the one JSON reader (`portal/json_input.py`: nesting, control characters,
number range) before a model sees it; models of bodies are strict (a JSON string is not a number), ignore keys
they do not name, and turn a refusal into the API's error with the same code, field and translated message
as before: a model names its own refusals (`Body.refusal`), and a field whose rule lives in the domain reads
its value with the domain's own parser, whose `OperationError` is answered as it is everywhere else. Query
strings are read leniently (`"2"` is the number 2).

Shaping. `respond` validates what a view built and dumps it to JSON: dates as `YYYY-MM-DD`, times as
ISO 8601 with their offset (`+00:00`, as `datetime.isoformat` writes it), money as an exact decimal string;
a key the model does not declare is an error of ours (a 500 the tests catch), so the document cannot drift
from the answers. Keys a view leaves out stay out (`exclude_unset`): a nullable key is always written, an
optional one only when it applies.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar

from flask import jsonify, request
from flask_babel import gettext as _
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from portal.operations.errors import OperationError

CENT = Decimal("0.01")


class ApiInputError(Exception):
    """Bad input to the API: answered 400 (409 for a state conflict) with the field and the message."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.code, self.status = message, field, code, status

# Shapes of values on the wire, each declared once with its JSON form and its schema.
Day = Annotated[date, WithJsonSchema({"type": "string", "format": "date"})]
Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time"})]


def _iso_day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


# A date in a query string, written YYYY-MM-DD (as `date.fromisoformat` reads it).
QueryDay = Annotated[date, BeforeValidator(_iso_day), WithJsonSchema({"type": "string", "format": "date"})]
Money = Annotated[Decimal, PlainSerializer(lambda amount: str(amount.quantize(CENT)), return_type=str),
                  WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$",
                                  "example": "1234567.89", "description": "CNY, exact decimal"})]


def described(schema: dict) -> WithJsonSchema:
    """A field's schema written out, where no Python type says it (a value of several JSON types)."""
    return WithJsonSchema(schema)


class Answer(BaseModel):
    """A response body: every key it may hold is declared here."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class ErrorDetail(Answer):
    """What went wrong: a stable `code`, a `message` in the caller's language, the `field` at fault; some
    errors add their own keys (`retry_on`, `unscored`, `rows`, …)."""

    model_config = ConfigDict(extra="allow")
    code: str
    message: str
    field: str | None = None


class Error(Answer):
    """The API's one error answer (written by `portal.access.api_error`)."""

    error: ErrorDetail


class Request(BaseModel):
    """What a view reads. `refusals` words the refusal of one field's bad value: {field: (message, code)}."""

    refusals: ClassVar[dict[str, tuple[Callable[[], str], str]]] = {}

    @classmethod
    def refusal(cls, loc: tuple, error: dict) -> Exception:
        """The API's error for the first problem pydantic found at `loc` (a model may word its own)."""
        name = str(loc[0]) if loc else None
        if name in cls.refusals:
            message, code = cls.refusals[name]
            return ApiInputError(message(), name, code)
        return cls.unworded(name)

    @classmethod
    def unworded(cls, name: str | None) -> Exception:
        return ApiInputError(_("%(name)s is not valid.", name=name), name, "invalid")


class Body(Request):
    """A request body: strict, keys it does not name ignored. `shape` is the refusal of a body that is not an
    object of this shape, and of a field no refusal words: (message, field, code)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    shape: ClassVar[tuple[Callable[[], str], str | None, str]] = (
        lambda: _("The body must be a JSON object."), None, "invalid")

    @classmethod
    def unworded(cls, name: str | None) -> Exception:
        message, field_name, code = cls.shape
        return ApiInputError(message(), field_name, code)


class Query(Request):
    """A query string: read leniently (`"2"` is 2), unknown parameters ignored."""

    model_config = ConfigDict(extra="ignore")


def parsed_by(parser: Callable[[Any], Any], schema: dict) -> tuple:
    """Annotations for a field read by a domain parser (which raises `OperationError` with its own code)."""
    return BeforeValidator(parser), WithJsonSchema(schema)


def _refused(model, error: ValidationError) -> Exception:
    problem = error.errors(include_url=False)[0]
    cause = (problem.get("ctx") or {}).get("error")
    if isinstance(cause, OperationError):  # a domain parser's refusal, with its own code and field
        return cause
    return model.refusal(tuple(problem["loc"]), problem)


def read_body(model: type[Body]) -> Body:
    """The request's JSON body read by `model`; the API's 400 when it does not fit."""
    try:
        return model.model_validate(request.get_json(silent=True))
    except ValidationError as error:
        raise _refused(model, error) from None


def read_query(model: type[Query]) -> Query:
    """The query string read by `model` (each parameter's first value)."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise _refused(model, error) from None


@cache
def adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def shape(kind: Any, data: Any) -> Any:
    """`data` as JSON values, checked against the response model `kind`."""
    checked = adapter(kind)
    return checked.dump_python(checked.validate_python(data), mode="json", by_alias=True, exclude_unset=True)


def respond(kind: Any, data: Any, status: int = 200):
    return jsonify(shape(kind, data)), status


def row_model(name: str, columns: dict[str, dict], required: Iterable[str], doc: str) -> type[BaseModel]:
    """The model of one row of a batch import, made from the import's own column table. The rows themselves
    are checked by the import (portal/imports/), with the codes a file upload gets for the same problem, so
    each column is described here and read there."""
    fields = {column: (Annotated[Any, WithJsonSchema(schema)], None) for column, schema in columns.items()}
    return create_model(name, __config__=ConfigDict(extra="forbid", json_schema_extra={"required": list(required)}),
                        __doc__=doc, **fields)


def batch_import(summary: str, row: type[BaseModel], max_rows: int, *, answer: Any, refusal: Any, **declared) -> dict:
    """What `operation` declares for a batch import endpoint: a JSON array of 1 to `max_rows` rows, its `answer`,
    400 with the bad rows (`refusal`), 401, 403 and 413 past the row limit; `declared` adds or overrides."""
    return {"summary": summary, "body": Annotated[list[row], Field(min_length=1, max_length=max_rows)],
            "answer": answer, "errors": (401, 403),
            "responses": {400: Response("Bad rows (nothing imported), or a body that is not a JSON array of rows",
                                        refusal),
                          413: Response(f"More than {max_rows:,} rows")}, **declared}


@cache
def page_of(item: type[BaseModel]) -> type[Answer]:
    """The list envelope `{"items", "page", "per_page", "total"}` of `item`s, one model per item type."""
    return create_model(f"{item.__name__}Page", __base__=Answer, items=(list[item], ...), page=(int, ...),
                        per_page=(int, ...), total=(int, ...))


# --- operations --------------------------------------------------------------------------------------------------

ERRORS = {
    400: "Bad input", 401: "No valid bearer token", 403: "Not allowed for this role",
    404: "Not found, or not yours", 405: "Method not allowed", 409: "Conflict", 413: "Too many rows",
    429: "Too many submissions today: `retake_limit`, with `retry_on` (the date to try again)",
}


@dataclass(frozen=True)
class Response:
    description: str
    model: Any = None  # a model or type; None: the API's Error
    schema: dict | None = None  # a schema written out, where no model describes the answer


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str | None = None
    body: Any = None
    query: type[Query] | None = None
    responses: dict[int, Response] = field(default_factory=dict)
    public: bool = False


def operation(summary: str, *, answer: Any = None, status: int = 200, answered: str = "OK", body: Any = None,
              query: type[Query] | None = None, errors: Iterable[int] = (), responses: dict | None = None,
              description: str | None = None, public: bool = False, schema: dict | None = None):
    """Declare what a view of the API reads and answers: `answer` (the model of a `status` answer), `body`
    and `query` models, `errors` (status codes answered with the API's Error) and `responses` for any other
    answer ({status: Response}). The OpenAPI document is built from these declarations."""
    documented = {status: Response(answered, answer, schema)}
    documented.update({code: Response(ERRORS[code]) for code in errors})
    documented.update(responses or {})

    def decorate(view):
        view.api_operation = Operation(summary, description, body, query, documented, public)
        return view
    return decorate
