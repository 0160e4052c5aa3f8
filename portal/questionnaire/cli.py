"""`flask load-questionnaire FILE [--publish]`: a questionnaire definition file becomes a new version."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.operations.errors import OperationError
from portal.unit_of_work import unit_of_work

cli = AppGroup("questionnaire")


@cli.command("load-questionnaire")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--publish", is_flag=True, help="Make the new version active at once (the active one is retired).")
def load_questionnaire(file: Path, publish: bool) -> None:
    """Load a JSON questionnaire definition (e.g. data/questionnaire/default.json) as a new draft version."""
    from portal.operations.questionnaires import load_version

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{file}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    except json.JSONDecodeError as error:
        raise click.ClickException(
            f"{file}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.") from None
    with unit_of_work(answer_here=(OperationError,)) as work:  # the message names the file
        version = load_version(data, publish_now=publish, source=str(file))
    if not work.ok:
        raise click.ClickException(f"{file}: {work.error.message}")
    state = "published (now active)" if publish else "stored as a draft"
    click.echo(f"Questionnaire version {version.version} with {len(version.definition['questions'])} questions "
               f"{state}.")
