"""Schemathesis against /api/v1/openapi.json with a token of each role: no 500, and every answer matches the schema.

Each documented operation gets generated requests (derandomized: the same cases every run, so CI is repeatable) (valid and invalid bodies, odd path and query
values) sent with each role's token; what a role may not do must be refused with a documented error,
never a server error, and every JSON answer must have the shape the document promises.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

ROLES = ("admin", "compliance", "sup_a", "rm_a", "client_a")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 12
# Operations that cannot be exercised by generated requests, each with the reason. Any other operation that
# cannot be exercised (its strategy fails, no case can be generated) is a failure, not a skip.
NOT_EXERCISED: dict[str, str] = {}


def test_every_operation_for_every_role(app, world, token_for):
    tokens = {role: token_for(role) for role in ROLES}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    results = list(schema.get_all_operations())
    failures: list[str] = [f"the document has an operation schemathesis cannot read: {result.err()}"
                           for result in results if isinstance(result, Err)]
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 20
    exercised = set()
    for operation in operations:
        if operation.label in NOT_EXERCISED:
            continue
        recorded = len(failures)
        try:
            _exercise(operation, tokens, failures)()
        except Exception as error:
            if len(failures) == recorded:  # not an answer that failed a check: the operation was never exercised
                failures.append(f"{operation.label} could not be exercised: {type(error).__name__}: "
                                f"{str(error).splitlines()[0][:300] if str(error) else ''}")
                continue
        exercised.add(operation.label)
    stale = set(NOT_EXERCISED) - {operation.label for operation in operations}
    assert not stale, f"NOT_EXERCISED names operations the document no longer has: {sorted(stale)}"
    assert failures == [], "\n".join(failures)
    assert exercised, "no operation was exercised"


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
