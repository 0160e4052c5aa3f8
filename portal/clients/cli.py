"""Flask commands of this feature: close-account, anonymise-client (data retention)."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from models import db
from portal.unit_of_work import unit_of_work

cli = AppGroup("clients")


@cli.command("close-account")
@click.argument("client_no")
@click.option("--on", "closed_on", default=None, help="Closing date, YYYY-MM-DD (default: today).")
def close_account_command(client_no: str, closed_on: str | None):
    """Record that a client's account closed; their login stops working."""
    from datetime import date

    from models import Client
    from portal.operations.retention import close_account

    client = db.session.scalar(select(Client).where(Client.client_no == client_no))
    if client is None:
        raise click.ClickException(f"No client has the number {client_no}.")
    try:
        day = date.fromisoformat(closed_on) if closed_on else None
    except ValueError:
        raise click.ClickException("--on must be a date written YYYY-MM-DD.") from None
    with unit_of_work():
        close_account(client, day)
    click.echo(f"Closed the account of {client_no} on {client.closed_on.isoformat()}.")


@cli.command("anonymise-client")
@click.argument("client_no")
def anonymise_client_command(client_no: str):
    """Anonymise a closed account's personal data; suitability records and audit rows are kept intact."""
    from models import Client
    from portal.operations.retention import anonymise_client

    client = db.session.scalar(select(Client).where(Client.client_no == client_no))
    if client is None:
        raise click.ClickException(f"No client has the number {client_no}.")
    with unit_of_work():
        anonymise_client(client)
    click.echo(f"Anonymised the personal data of {client_no}; its suitability records and audit rows are kept.")
