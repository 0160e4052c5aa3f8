"""Flask commands of this feature: run the promotion engine on demand."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from models import db
from portal.unit_of_work import unit_of_work

cli = AppGroup("promotions")


@cli.command("run-promotions")
@click.option("--employee-no", "employee_nos", multiple=True, help="Only these staff records (repeatable).")
def run_promotions(employee_nos: tuple[str, ...]):
    """Run the promotion engine now for every active manager (or the ones named) and store its answers."""
    from sqlalchemy import select

    from models import Manager
    from portal.operations.promotions import run_engine

    manager_ids = None
    if employee_nos:
        wanted = {no.strip().upper() for no in employee_nos}
        found = dict(db.session.execute(select(Manager.employee_no, Manager.id)
                                        .where(Manager.employee_no.in_(wanted))).all())
        missing = sorted(wanted - set(found))
        if missing:
            raise click.ClickException(f"No staff record has the employee number {', '.join(missing)}.")
        manager_ids = list(found.values())
    with unit_of_work():
        count = run_engine(manager_ids=manager_ids)
    click.echo(f"The promotion engine stored {count} recommendations.")
