"""Flask commands of the onboarding imports: import-branches, import-staff, import-clients."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

PRINT_LIMIT = 200


class ProgressBar:
    """An import's progress as a click progress bar on standard error, and its phases as lines."""

    def __init__(self):
        self.bar = None

    def start(self, total: int | None, label: str) -> None:
        if not total:  # a workbook that does not state its size: no bar, just the phase
            click.echo(f"reading ({label})", err=True)
            return
        self.bar = click.progressbar(length=total, label=f"reading ({label})", file=sys.stderr)
        self.bar.__enter__()

    def advance(self, amount: int) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def phase(self, label: str) -> None:
        self.finish()
        click.echo(label, err=True)


def run_with_progress(run, refused_type: type[Exception], commit: bool = True):
    """`run(bar)` in one unit of work with a progress bar on standard error: (its result, None) once committed
    (rolled back instead when `commit` is false: a dry run), or (None, the refusal) when it raised
    `refused_type`, with nothing of it kept."""
    from portal.unit_of_work import unit_of_work

    bar = ProgressBar()
    result = None
    with unit_of_work(commit=commit, answer_here=(refused_type,)) as work:
        try:
            result = run(bar)
        except BaseException:
            bar.finish()
            raise
    return result, work.error


def echo_refusal(refused, describe, more: str) -> None:
    """A refused import on standard error: each problem kept as `describe(problem)` words it, how many more
    there were (`more` names them), and the refusal's message."""
    for problem in refused.problems:
        click.echo(describe(problem), err=True)
    if refused.total > len(refused.problems):
        click.echo(f"... and {refused.total - len(refused.problems)} more {more}.", err=True)
    click.echo(refused.message, err=True)


def _problem_line(problem) -> str:
    where = f"line {problem.line}" if problem.line is not None else "not in the file"
    key = f" [{problem.key}]" if problem.key else ""
    column = f" {problem.field}" if problem.field else ""
    return f"{where}{key}{column}: {problem.code}: {problem.message}"


def _run(kind: str, path: str, dry_run: bool, full: bool, apply_missing: bool, reassign_to: str | None) -> None:
    from portal.imports import history
    from portal.imports.onboarding import ImportRefused, Options, import_file
    from portal.unit_of_work import unit_of_work

    if apply_missing and not full:
        raise click.UsageError("--apply-missing needs --full (the file must be the whole roster or master).")
    options = Options(dry_run=dry_run, full=full, apply_missing=apply_missing, reassign_to=reassign_to)
    result, refused = run_with_progress(
        lambda bar: import_file(kind, path, source="cli", options=options, limit=PRINT_LIMIT, progress=bar),
        ImportRefused, commit=not dry_run)
    if refused is not None:
        echo_refusal(refused, _problem_line, "bad rows")
        if not dry_run:
            from pathlib import Path

            from portal.imports.onboarding import _file_sha256

            with unit_of_work():  # the refused import is kept in the import history
                history.record_refused(kind, "cli", Path(path).name, _file_sha256(path), None, options.as_dict(),
                                       refused)
        raise SystemExit(1)
    if dry_run:
        click.echo("Dry run: nothing was written.")
    if result.missing:
        click.echo(f"{result.missing} records are not in the file"
                   + (" and were marked left/closed" if apply_missing and kind != "branches" else
                      " and were left alone (add --apply-missing to mark them left/closed)")
                   + ": " + ", ".join(result.missing_keys)
                   + (" …" if result.missing > len(result.missing_keys) else ""))
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False))


def _common(command):
    command = click.option("--apply-missing", is_flag=True,
                           help="With --full: staff missing from the file become left, clients closed.")(command)
    command = click.option("--full", is_flag=True,
                           help="The file is the whole roster/master: list the records missing from it.")(command)
    command = click.option("--dry-run", is_flag=True, help="Check everything and count; write nothing.")(command)
    return click.argument("path", type=click.Path(exists=True, dir_okay=False))(command)


cli = AppGroup("imports")


@cli.command("import-branches")
@_common
def import_branches(path: str, dry_run: bool, full: bool, apply_missing: bool):
    """Import branches (CSV or XLSX; header code,name,name_en,city); upsert by code."""
    _run("branches", path, dry_run, full, apply_missing, None)


@cli.command("import-staff")
@_common
@click.option("--reassign-to", "reassign_to", default=None, metavar="EMPLOYEE_NO",
              help="Move the clients of everyone leaving in this file whose row names no reassign_to to this "
                   "active staff member.")
def import_staff(path: str, dry_run: bool, full: bool, apply_missing: bool, reassign_to: str | None):
    """Import the staff roster (CSV or XLSX; header employee_no,name,branch,team_code,team_name,team_head,level,
    level_since,hire_date,status,email,phone and optionally reassign_to); upsert by employee_no."""
    _run("staff", path, dry_run, full, apply_missing, reassign_to)


@cli.command("import-clients")
@_common
def import_clients(path: str, dry_run: bool, full: bool, apply_missing: bool):
    """Import the client master (CSV or XLSX; header client_no,name,id_type,id_number,birth_date,sex,phone,email,
    branch,opened_on,manager_employee_no,status,closed_on); upsert by client_no."""
    _run("clients", path, dry_run, full, apply_missing, None)
