"""Flask command of this feature: send-reminders (run once a day by cron or a systemd timer; docs/REMINDERS.md)."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup

from models import db

cli = AppGroup("reminders")


@cli.command("send-reminders")
@click.option("--date", "day", default=None, help="Business date, YYYY-MM-DD (default: today in China).")
@click.option("--dry-run", is_flag=True, help="List who would be written to about what; send and record nothing.")
def send_reminders_command(day: str | None, dry_run: bool):
    """E-mail each member of staff a digest of their work queues, and clients their due notices.

    Exit status 0 when every message was accepted, 1 when one or more failed (they are tried again on the
    next run), 2 when the mail settings are missing or another run is under way.
    """
    from portal.mail import MailNotConfigured
    from portal.operations.reminders import RunUnderWay, send_reminders

    try:
        today = date.fromisoformat(day) if day else None
    except ValueError:
        raise click.BadParameter("write the date as YYYY-MM-DD", param_hint="--date") from None
    # Not a unit of work: the run commits each delivery record as the message goes out.
    try:
        summary = send_reminders(today, dry_run=dry_run)
    except (MailNotConfigured, RunUnderWay) as error:
        db.session.rollback()
        click.echo(f"send-reminders: {error}", err=True)
        sys.exit(2)
    if dry_run:
        for username, address, event in summary.planned:
            click.echo(f"would write to {username} <{address}>: {event}")
        click.echo(f"{len(summary.planned)} messages would be sent, {summary.nothing_to_do} staff have nothing to "
                   "do (dry run: nothing sent or recorded)")
        return
    for username, event, error in summary.failures:
        click.echo(f"failed: {username} {event}: {error}", err=True)
    click.echo(f"sent {summary.sent}, failed {summary.failed}, nothing to do {summary.nothing_to_do}")
    if summary.failed:
        sys.exit(1)
