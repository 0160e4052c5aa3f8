"""`flask invite-staff`: a login and a one-time link for each active staff member without a login."""
from __future__ import annotations

import csv
import os
import sys
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from portal.exports import plain_cell
from portal.unit_of_work import unit_of_work

CSV_HEADER = ("employee_no", "name", "team", "username", "link", "expires_at")


cli = AppGroup("activation")


@cli.command("invite-staff")
@click.option("--team", "team_code", default=None, help="Invite the staff of this team only.")
@click.option("--all", "everyone", is_flag=True, help="Invite every active staff member without a login.")
@click.option("--output", "-o", default="-", show_default=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where the CSV of links goes (created readable by its owner only); '-' is standard output.")
def invite_staff_command(team_code: str | None, everyone: bool, output: str):
    """Make a login (no password yet) for each active staff record without one and write a CSV of one-time
    links, valid 7 days, with which each person chooses a password. Only the links' hashes are kept."""
    from portal.operations.signin import invite_staff

    if bool(team_code) == everyone:
        raise click.UsageError("Name one team with --team CODE, or invite everyone with --all.")
    with unit_of_work():  # the links are kept only once written: no link is kept that nobody was given
        invitations = invite_staff(team_code)
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        base = current_app.config["PORTAL_BASE_URL"]
        rows = [(i.employee_no, i.name, i.team, i.username, f"{base}/welcome/{i.secret}",
                 i.expires_at.astimezone(zone)) for i in invitations]
        try:
            if output == "-":
                _write(sys.stdout, rows)
            else:
                # The links open logins: the file is made readable by its owner only.
                descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with open(descriptor, "w", encoding="utf-8-sig", newline="") as stream:
                    _write(stream, rows)
        except OSError as error:
            raise click.ClickException(f"Could not write {output}: {error.strerror}") from None
    click.echo(f"Invited {len(rows)} staff member(s); links valid until "
               f"{rows[0][5].isoformat(timespec='minutes') if rows else '-'}.", err=True)


def _write(stream, rows) -> None:
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([plain_cell(value) for value in row])
