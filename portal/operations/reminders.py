"""E-mail reminders (`flask send-reminders`, run daily): a digest of each member of staff's work queues, and a
notice to each client whose risk profile expires within 30 days or who has a special risk warning to confirm.

Who gets what, and when:
- staff (rm, supervisor, compliance, admin) with an e-mail address (the account's, else the one on their
  staff record) and reminders on: one digest per business day (`digest:<date>`), only when their queues
  hold something to do;
- clients with a login, an e-mail address (the account's, else the one in the client master) and reminders
  on: one notice per profile that is about to expire (`profile:<profile id>`) and one per warning awaiting
  their confirmation (`warning:<record id>`).
Each message is written in the recipient's language (their saved choice, else the portal's default) and gets
one delivery record (models/reminders.py): an event already `sent` is never sent again; a `failed` one is
tried again on the next run while the event still applies, and is recorded `sent` only once the server
accepted it. Candidates are chosen in SQL, the sent ones left out by the unique key's index.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app, render_template, request
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import String, cast, exists, func, literal, select, text
from sqlalchemy.exc import IntegrityError

from models import (
    Client,
    Manager,
    Product,
    ReminderDelivery,
    SuitabilityConfirmation,
    SuitabilityRecord,
    User,
    db,
    utcnow,
)
from models.people import STAFF_ROLES
from portal.audit import record
from portal.mail import DeliveryFailed, Mailer, Outgoing
from portal.rules.calendar import business_today
from portal.rules.profile import EXPIRING_DAYS

# Any constant key will do: it names the run's PostgreSQL advisory lock (two runs at once send nothing twice).
RUN_LOCK_KEY = 0x5E4D1E5


@dataclass
class Notice:
    """One message to send: to whom, about which event, and what the templates need."""

    user: User
    kind: str
    event_key: str
    context: dict = field(default_factory=dict)


@dataclass
class RunSummary:
    sent: int = 0
    failed: int = 0
    nothing_to_do: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (username, event, error)
    planned: list[tuple[str, str, str]] = field(default_factory=list)  # (username, address, event), dry run


def language_of(user: User) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.preferred_language if user.preferred_language in languages else current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def _reachable(on_file, *extra):
    """Accounts that may be written to: active, with an address (the account's own, else `on_file`: the
    staff record's or the client record's, as the HR roster or the client master carries it), reminders
    not turned off."""
    address = func.coalesce(func.nullif(User.email, ""), func.nullif(on_file, ""))
    return (User.active.is_(True), address.is_not(None), User.reminders_opt_out.is_(False), *extra)


def address_of(user: User) -> str | None:
    """Where a reminder to `user` goes: the address on the account, else the one on their record."""
    record_of = user.client if user.role == "client" else user.manager
    return user.email or (record_of.email if record_of is not None else None) or None


def _not_sent(kind: str, event_key):
    """No `sent` delivery of this event to this account (the unique index answers it)."""
    return ~exists().where(ReminderDelivery.user_id == User.id, ReminderDelivery.kind == kind,
                           ReminderDelivery.event_key == event_key, ReminderDelivery.status == "sent")


def staff_recipients(today: date) -> list[User]:
    key = f"digest:{today.isoformat()}"
    return list(db.session.scalars(
        select(User).outerjoin(Manager, Manager.id == User.manager_id)
        .where(*_reachable(Manager.email, User.role.in_(STAFF_ROLES)), _not_sent("staff_digest", literal(key)))
        .order_by(User.id)))


def profile_notices(today: date) -> Iterator[Notice]:
    key = literal("profile:") + cast(Client.profile_id, String)
    rows = db.session.execute(
        select(User, Client).join(Client, Client.id == User.client_id)
        .where(*_reachable(Client.email, User.role == "client"), Client.closed_on.is_(None),
               Client.profile_valid_until.between(today, today + timedelta(days=EXPIRING_DAYS)),
               _not_sent("profile_expiring", key))
        .order_by(User.id)).all()
    for user, client in rows:
        yield Notice(user, "profile_expiring", f"profile:{client.profile_id}",
                     {"client": client, "valid_until": client.profile_valid_until})


def warning_notices(today: date) -> Iterator[Notice]:
    record_ = SuitabilityRecord
    key = literal("warning:") + cast(record_.id, String)
    rows = db.session.execute(
        select(User, Client, record_, Product)
        .join(Client, Client.id == User.client_id)
        .join(record_, record_.client_id == Client.id)
        .join(Product, Product.id == record_.product_id)
        .outerjoin(SuitabilityConfirmation, SuitabilityConfirmation.record_id == record_.id)
        .where(*_reachable(Client.email, User.role == "client"), Client.closed_on.is_(None),
               record_.outcome == "warning", record_.profile_id == Client.profile_id,
               Client.profile_valid_until >= today, SuitabilityConfirmation.id.is_(None),
               _not_sent("warning_pending", key))
        .order_by(User.id, record_.id)).all()
    for user, client, entry, product in rows:
        yield Notice(user, "warning_pending", f"warning:{entry.id}",
                     {"client": client, "record": entry, "product": product})


def _absolute(path: str) -> str:
    return request.host_url.rstrip("/") + path


def render(notice: Notice, language: str) -> Outgoing | None:
    """The message in the recipient's language; None for a digest with nothing to do (nothing is sent).

    Runs inside a request context whose base URL is PORTAL_URL, so that links point at the portal.
    """
    from portal.home.queues import open_items, queues_for

    with force_locale(language):
        context = dict(notice.context, user=notice.user, absolute=_absolute, language=language)
        if notice.kind == "staff_digest":
            sections = [s for s in queues_for(notice.user, notice.context["today"]) if s.count and not s.informational]
            if not sections:
                return None
            context["sections"] = sections
            subject = ngettext("Your work today: %(num)d item", "Your work today: %(num)d items", open_items(sections))
        elif notice.kind == "profile_expiring":
            subject = _("Your risk profile expires on %(day)s", day=notice.context["valid_until"].isoformat())
        else:
            subject = _("A special risk warning awaits your confirmation")
        text_body = render_template(f"reminders/{notice.kind}.txt", subject=subject, **context)
        html_body = render_template(f"reminders/{notice.kind}.html", subject=subject, **context)
    return Outgoing(to=address_of(notice.user), subject=subject, text=text_body, html=html_body, language=language)


def _record_delivery(notice: Notice, outgoing: Outgoing, *, message_id: str | None, error: str | None) -> None:
    """Write (or move on) the delivery record of this event: `sent` with its Message-ID, or `failed` with why."""
    now = utcnow()
    delivery = db.session.scalar(select(ReminderDelivery).where(
        ReminderDelivery.user_id == notice.user.id, ReminderDelivery.kind == notice.kind,
        ReminderDelivery.event_key == notice.event_key))
    if delivery is None:
        delivery = ReminderDelivery(user_id=notice.user.id, kind=notice.kind, event_key=notice.event_key,
                                    attempts=0, first_attempt_at=now)
        db.session.add(delivery)
    delivery.address = outgoing.to
    delivery.language = outgoing.language
    delivery.subject = outgoing.subject[:200]
    delivery.attempts += 1
    delivery.last_attempt_at = now
    if error is None:
        delivery.status, delivery.sent_at, delivery.message_id, delivery.last_error = "sent", now, message_id, None
    else:
        delivery.status, delivery.last_error = "failed", error[:500]
    db.session.flush()


def notices(today: date) -> Iterator[Notice]:
    """Every message due today, staff digests first."""
    for user in staff_recipients(today):
        yield Notice(user, "staff_digest", f"digest:{today.isoformat()}", {"today": today})
    yield from profile_notices(today)
    yield from warning_notices(today)


EMAIL_MAX = 254


def set_reminder_settings(user: User, *, email: str | None, reminders: bool) -> bool:
    """Save the account's address and whether reminders are sent; audited. True when something changed."""
    from portal.operations.errors import OperationError

    address = (email or "").strip() or None
    if address is not None and (len(address) > EMAIL_MAX or not is_email_address(address)):
        raise OperationError(_("Enter an e-mail address such as name@example.com."), "email", "invalid_email")
    record_of = user.client if user.role == "client" else user.manager
    if reminders and address is None and not (record_of is not None and record_of.email):
        raise OperationError(_("Reminders need an e-mail address to be sent to."), "email", "email_required")
    before = {"email": user.email, "reminders": not user.reminders_opt_out}
    after = {"email": address, "reminders": bool(reminders)}
    if before == after:
        return False
    user.email, user.reminders_opt_out = address, not reminders
    db.session.flush()
    record("account.reminders", "user", user.username, before=before, after=after)
    return True


def is_email_address(value: str) -> bool:
    """One @, a local part, a dotted domain, no spaces or control characters (the form's check, not a probe)."""
    local, at, domain = value.rpartition("@")
    if not at or not local or "@" in local or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(labels) and all(not label.startswith("-") and not label.endswith("-")
                                                    for label in labels)


class RunUnderWay(RuntimeError):
    """Another send-reminders run holds the lock."""


def _lock_run() -> None:
    if db.engine.dialect.name == "postgresql":
        if not db.session.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": RUN_LOCK_KEY}):
            raise RunUnderWay("another send-reminders run is under way")


def _unlock_run() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RUN_LOCK_KEY})


def send_reminders(today: date | None = None, *, dry_run: bool = False) -> RunSummary:
    """Send every reminder due on the business day; commits each delivery record as it goes.

    A dry run sends and writes nothing: it lists who would be written to about what.
    """
    today = today or business_today()
    summary = RunSummary()
    base_url = current_app.config["PORTAL_URL"]
    if dry_run:
        for notice in notices(today):
            with current_app.test_request_context("/", base_url=base_url):
                outgoing = render(notice, language_of(notice.user))
            if outgoing is None:
                summary.nothing_to_do += 1
            else:
                summary.planned.append((notice.user.username, outgoing.to, notice.event_key))
        return summary
    mailer = Mailer()
    _lock_run()
    try:
        with mailer:
            for notice in list(notices(today)):
                language = language_of(notice.user)
                with current_app.test_request_context("/", base_url=base_url):
                    outgoing = render(notice, language)
                if outgoing is None:
                    summary.nothing_to_do += 1
                    continue
                try:
                    message_id = mailer.send(outgoing)
                except DeliveryFailed as failure:
                    _record_delivery(notice, outgoing, message_id=None, error=str(failure))
                    summary.failed += 1
                    summary.failures.append((notice.user.username, notice.event_key, str(failure)))
                else:
                    _record_delivery(notice, outgoing, message_id=message_id, error=None)
                    summary.sent += 1
                try:
                    db.session.commit()
                except IntegrityError:  # a concurrent run on a database without the lock wrote it first
                    db.session.rollback()
        record("reminders.run", "reminders", today.isoformat(),
               after={"sent": summary.sent, "failed": summary.failed, "nothing_to_do": summary.nothing_to_do})
        db.session.commit()
    finally:
        _unlock_run()
        db.session.commit()
    return summary
