"""Flask command of this feature: inspection-pack."""
from __future__ import annotations

import click
from flask.cli import AppGroup

cli = AppGroup("compliance")


@cli.command("inspection-pack")
@click.option("--as-of", "as_of", required=True, help="The past date D (YYYY-MM-DD) the pack is for.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Directory to write into.")
@click.option("--language", default="zh_CN", show_default=True, type=click.Choice(["zh_CN", "en"]),
              help="Language of the workbook (the PDF holds both editions).")
def inspection_pack_command(as_of: str, out: str, language: str):
    """Write the suitability self-inspection pack for D: inspection-pack-D.pdf and inspection-pack-D.xlsx."""
    from datetime import date
    from pathlib import Path

    from portal.compliance.pack import PackDateError, write_pack

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter("write the date as YYYY-MM-DD", param_hint="--as-of") from None
    try:
        files = write_pack(day, Path(out), language)
    except PackDateError as error:
        raise click.BadParameter(str(error), param_hint="--as-of") from None
    click.echo(f"{files.pdf}\n{files.xlsx}\nsha256 {files.digest}")
