"""Flask commands of the portal as a whole: seed-demo, create-user, create-api-token, revoke-api-tokens, backup."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from models import User, db
from portal.unit_of_work import unit_of_work

cli = AppGroup("portal")


@cli.command("seed-demo")
@click.option("--clients", default=2000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--managers", default=40, show_default=True, type=click.IntRange(6, 100_000))
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has data.")
def seed_demo(clients: int, managers: int, seed_value: int, if_empty: bool):
    """Fill an empty database with realistic synthetic data and one demo login per role."""
    from portal.demo import DemoPlan, database_is_empty, seed

    if not database_is_empty():
        if if_empty:
            click.echo("The database already holds data; demo data not added.")
            return
        raise click.ClickException("The database is not empty; seed-demo only fills an empty database.")
    with click.progressbar(length=clients, label="clients", file=sys.stderr) as bar, unit_of_work():
        result = seed(DemoPlan(clients=clients, managers=managers, seed=seed_value), bar.update)
    if db.engine.dialect.name == "postgresql":
        # Fresh statistics and visibility map after a bulk load, as autovacuum would give later.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) teams, managers, clients, users")
    click.echo(f"Seeded {result['teams']} teams, {result['managers']} staff records, {result['clients']} clients.")
    click.echo(f"Demo logins (password: {result['password']}):")
    for username, role in result["logins"].items():
        click.echo(f"  {username:<12} {role}")


@cli.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["client", "rm", "supervisor", "compliance", "admin"]))
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--client", "client_no", default=None, help="Client number a client login belongs to.")
@click.option("--employee", "employee_no", default=None, help="Employee number of a manager or supervisor.")
def create_user_command(username, role, display_name, password_stdin, client_no, employee_no):
    """Create a login (prompting for its password unless --password-stdin)."""
    from portal.operations.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work():
        user = create_user(username, display_name or username, role, password, client_no=client_no,
                           employee_no=employee_no)
    click.echo(f"Created {user.role} login {user.username}.")


@cli.command("create-api-token")
@click.argument("username")
@click.option("--label", default=None)
@click.option("--days", type=int, default=None, help="Days the token is valid (API_TOKEN_LIFETIME_DAYS: 90).")
def create_api_token_command(username, label, days):
    """Print a new bearer token for USERNAME as the last line (only its hash is stored)."""
    from portal.operations.users import create_api_token

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"No active user is called {username}.")
    with unit_of_work():
        token = create_api_token(user, label, days)
    click.echo(f"Token for {user.username} ({user.role}); it is shown once:")
    click.echo(token)


@cli.command("revoke-api-tokens")
@click.argument("username")
def revoke_api_tokens_command(username):
    """Revoke every live bearer token of USERNAME."""
    from portal.operations.users import revoke_api_tokens

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user is called {username}.")
    with unit_of_work():
        count = revoke_api_tokens(user)
    click.echo(f"Revoked {count} token(s) of {user.username}.")


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path: str):
    """Copy the database to PATH while the portal runs: SQLite's online backup, or pg_dump (custom format)."""
    from portal.operations.backup import BackupError, backup_database

    try:
        written = backup_database(db.engine.url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {written}.")
