"""Sending e-mail through the SMTP server the environment names (MAIL_SERVER, MAIL_PORT, ...), with the
standard library: one connection per run, multipart text and HTML messages, and a clear error per message."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app


class MailNotConfigured(RuntimeError):
    """MAIL_SERVER or MAIL_SENDER is not set: nothing can be sent."""


class DeliveryFailed(Exception):
    """The server refused the message, or could not be reached; the text says which."""


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    text: str
    html: str
    language: str


def build_message(outgoing: Outgoing, sender: str, sender_name: str | None = None) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML second (the part a reader prefers)."""
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = outgoing.to
    message["Subject"] = outgoing.subject
    message["Content-Language"] = "zh-CN" if outgoing.language == "zh_CN" else "en"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(outgoing.text)
    message.add_alternative(outgoing.html, subtype="html")
    return message


class Mailer:
    """One SMTP session for a run of messages (`with Mailer() as mailer: mailer.send(...)`).

    A message the server refuses raises DeliveryFailed and the session goes on with the next one; when the
    server cannot be reached (or TLS or the login fails), every message of the run fails with that reason
    at once, without waiting on the server again.
    """

    def __init__(self, config=None):
        config = config or current_app.config
        if not config.get("MAIL_SERVER") or not config.get("MAIL_SENDER"):
            raise MailNotConfigured("MAIL_SERVER and MAIL_SENDER must be set to send e-mail.")
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        # Why the server could not be reached (connection, TLS or login failed): set once, for the whole run.
        self.unreachable: str | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        timeout = c.get("MAIL_TIMEOUT", 30)
        context = ssl.create_default_context(cafile=c.get("MAIL_CA_FILE"))
        if c.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(c["MAIL_SERVER"], c.get("MAIL_PORT", 465), timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(c["MAIL_SERVER"], c.get("MAIL_PORT", 25), timeout=timeout)
            if c.get("MAIL_USE_TLS"):
                smtp.starttls(context=context)
        if c.get("MAIL_USERNAME"):
            smtp.login(c["MAIL_USERNAME"], c.get("MAIL_PASSWORD") or "")
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def send(self, outgoing: Outgoing) -> str:
        """Hand the message to the server; its Message-ID when the server accepted it."""
        message = build_message(outgoing, self.config["MAIL_SENDER"])
        if self.unreachable is not None:  # fail the rest of the run at once rather than wait on each message
            raise DeliveryFailed(self.unreachable)
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                self.close()
                self.unreachable = f"{type(error).__name__}: {error}"[:500]
                raise DeliveryFailed(self.unreachable) from error
        try:
            refused = self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryFailed(_describe(next(iter(error.recipients.values()), None))) from error
        except smtplib.SMTPResponseException as error:  # the sender or the data refused (4xx, 5xx)
            self._reset_after()
            raise DeliveryFailed(_describe((error.smtp_code, error.smtp_error))) from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise DeliveryFailed(f"{type(error).__name__}: {error}"[:500]) from error
        if refused:
            raise DeliveryFailed(_describe(next(iter(refused.values()))))
        return message["Message-ID"]

    def _reset_after(self) -> None:
        """After a refusal the session may be mid-transaction: RSET it, or start a new one next time."""
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


def _describe(reply) -> str:
    if not reply:
        return "refused by the server"
    code, text = reply
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:500]
