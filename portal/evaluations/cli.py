"""Flask commands of this feature: import managers' targets from a CSV file."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.unit_of_work import unit_of_work

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
    with unit_of_work(answer_here=(TargetsImportError,)) as work:
        summary = import_targets(content, None)
    if not work.ok:
        for problem in work.error.problems:
            click.echo(problem["message"], err=True)
        raise click.ClickException(f"Nothing was imported: {len(work.error.problems)} lines have errors.")
    click.echo(f"Imported {summary['imported']} targets for {len(summary['periods'])} periods; "
               f"{summary['replaced']} earlier targets of those periods were replaced.")
