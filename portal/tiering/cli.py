"""Flask commands of this feature: import-assets, import-revenue, retier."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from portal.imports.cli import PRINT_LIMIT, echo_refusal, run_with_progress


def _problem_line(problem) -> str:
    where = f"line {problem.line}" if problem.line is not None else "file"
    column = f" {problem.field}" if problem.field else ""
    client = f" [{problem.client_no}]" if problem.client_no else ""
    return f"{where}{client}{column}: {problem.message}"


def _run_import(kind_name: str, path: str) -> None:
    from portal.imports.assets import KINDS, ImportRejected, import_file

    result, rejected = run_with_progress(
        lambda bar: import_file(KINDS[kind_name], path, source="cli", progress=bar, limit=PRINT_LIMIT),
        ImportRejected)
    if rejected is not None:
        echo_refusal(rejected, _problem_line, "problems")
        if not rejected.problems:
            click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    summary = result.as_dict()
    periods = summary.get("dates") or summary.get("months")
    click.echo(f"Imported {result.rows} rows for {result.clients} clients ({', '.join(periods)}); "
               f"{result.replaced} earlier rows replaced; {result.retiered} client tiers recomputed"
               + (f" at {', '.join(d.isoformat() for d in result.retier_dates)}." if result.retier_dates else "."))


cli = AppGroup("tiering")


@cli.command("import-assets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_assets(path: str):
    """Import asset snapshots (CSV or XLSX; header client_no,date,cash,a_shares,b_shares,funds,warrants,bonds,
    collective_products). Each date in the file replaces that date's snapshots; the clients are re-tiered."""
    _run_import("assets", path)


@cli.command("import-revenue")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_revenue(path: str):
    """Import monthly revenue (CSV or XLSX; header client_no,month,net_commission,other_income). Each month in
    the file replaces that month's records; clients are re-tiered at every date whose 12 months include it."""
    _run_import("revenue", path)


@cli.command("retier")
@click.option("--date", "day", default=None, help="Statistics date YYYY-MM-DD (default: the latest one).")
def retier(day: str | None):
    """Re-tier every client holding a snapshot at the date with the thresholds in force."""
    from portal.operations.tiering import retier_command
    from portal.unit_of_work import unit_of_work

    parsed = None
    if day is not None:
        try:
            parsed = date.fromisoformat(day.strip())
        except ValueError:
            raise click.BadParameter("write the date as YYYY-MM-DD", param_hint="--date") from None
    with unit_of_work():
        result = retier_command(parsed)
    click.echo(f"Re-tiered {result['retiered']} clients at {result['stat_date'].isoformat()} "
               f"with threshold version {result['threshold_version']}.")
