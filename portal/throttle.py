"""Throttles for secret checks (sign-in, a current password, a client's activation): failures are counted
per (subject, address), per address and across the whole site, in the rate-limit storage (Redis in
production, so every worker and process shares the counts).

Why three keys: counting a username's failures alone lets anyone lock a person out by typing wrong
passwords for their name. Counting per (subject, address) stops one address guessing one subject,
and the real person typing the right password from their own address still gets in. Per address
stops one address guessing many subjects; the site-wide count stops a guessing campaign spread over
many addresses. Only failures count, so colleagues behind one office address are not slowed down
by each other's successful sign-ins.

Use:
    SIGN_IN = Throttle("login", "LOGIN_LIMIT_PER_USERNAME", "LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_GLOBAL")
    refused = SIGN_IN.refuse_if_throttled(subject, "auth.sign_in")   # aborts 429, audited, when over a limit
    ... check the secret ...
    SIGN_IN.failed(subject)                                           # after a wrong secret
Each setting is a rate-limit string such as "5 per minute;20 per hour" (Flask-Limiter's notation).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app
from limits import parse_many

from portal.audit import record_now
from portal.extensions import limiter, remote_address

SUBJECT, ADDRESS, GLOBAL = "subject_and_address", "address", "global"


@dataclass(frozen=True)
class Throttle:
    """Failure counts for one kind of secret check; `name` prefixes its storage keys."""

    name: str
    per_subject_setting: str
    per_address_setting: str
    global_setting: str

    def _keys(self, subject: str, address: str) -> list[tuple[str, str, str]]:
        """(which limit, config setting, storage key) for this attempt."""
        subject = (subject or "")[:64]
        return [(SUBJECT, self.per_subject_setting, f"{self.name}-user:{subject}@{address}"),
                (ADDRESS, self.per_address_setting, f"{self.name}-addr:{address}"),
                (GLOBAL, self.global_setting, f"{self.name}-all")]

    def reached(self, subject: str, address: str | None = None) -> str | None:
        """The limit this attempt is over (SUBJECT, ADDRESS or GLOBAL), or None when it may go ahead."""
        address = address or remote_address()
        strategy = limiter.limiter
        for which, setting, key in self._keys(subject, address):
            for item in parse_many(current_app.config[setting]):
                if not strategy.test(item, key):
                    return which
        return None

    def failed(self, subject: str, address: str | None = None) -> None:
        """Count a wrong secret against every key of this attempt."""
        address = address or remote_address()
        strategy = limiter.limiter
        for _which, setting, key in self._keys(subject, address):
            for item in parse_many(current_app.config[setting]):
                strategy.hit(item, key)

    def refuse_if_throttled(self, subject: str, action: str, object_type: str = "user") -> None:
        """Abort with 429 when over a limit, writing `action` with outcome "throttled" to the audit log first."""
        address = remote_address()
        which = self.reached(subject, address)
        if which is None:
            return
        record_now(action, object_type, (subject or "")[:64], outcome="throttled", actor_username=(subject or "")[:64],
                   after={"limit": which, "address": address})
        abort(429)


SIGN_IN = Throttle("login", "LOGIN_LIMIT_PER_USERNAME", "LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_GLOBAL")
