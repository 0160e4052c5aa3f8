"""Schemathesis against /api/v1/openapi.json with a token of each role: no 500, and every answer matches the schema.

Each documented operation gets generated requests (derandomized: the same cases every run, so CI is repeatable) (valid and invalid bodies, odd path and query
values) sent with each role's token; what a role may not do must be refused with a documented error,
never a server error, and every JSON answer must have the shape the document promises.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

ROLES = ("admin", "compliance", "sup_a", "rm_a", "client_a")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 12


def test_every_operation_for_every_role(app, world, token_for):
    tokens = {role: token_for(role) for role in ROLES}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        try:
            _exercise(operation, tokens, failures)()
        except Exception:  # noqa: S112 (recorded in failures; go on with the next operation)
            continue
    assert failures == [], "\n".join(failures)


def _exercise(operation, tokens: dict, failures: list):
    """A hypothesis test sending this operation's generated cases with every role's token."""
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def exercise(case):
        for role, token in tokens.items():
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as error:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} as {role}: {str(error).splitlines()[0][:300]}")
                raise
    return exercise
