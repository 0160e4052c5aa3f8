"""Flask commands of this feature: import managers' targets from a CSV file."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from models import db
from portal.operations.errors import OperationError

cli = AppGroup("evaluations")


@cli.command("import-targets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_targets_command(path: str):
    """Import targets (employee_no,period_start,period_end,net_commission,asset_growth,new_clients).

    Every line is checked first; with any bad line nothing is stored and each is listed. A period
    imported again replaces that period's targets.
    """
    from portal.operations.targets import TargetsImportError, import_targets

    with open(path, "rb") as handle:
        content = handle.read()
    try:
        summary = import_targets(content, None)
    except TargetsImportError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(problem["message"], err=True)
        raise click.ClickException(f"Nothing was imported: {len(error.problems)} lines have errors.") from None
    except OperationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Imported {summary['imported']} targets for {len(summary['periods'])} periods; "
               f"{summary['replaced']} earlier targets of those periods were replaced.")
