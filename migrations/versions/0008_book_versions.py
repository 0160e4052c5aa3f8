"""Book versions: a counter per manager that every change to their clients' rows moves, kept by triggers

A manager's client book is read far more often than it changes (a manager pages, sorts and comes back to
it all day). Its page is rendered from the `clients` rows of the book, the twelve package cells and the
package names, and the business day; the rendered body is kept per process and served again while the
book's version and the packages' version (row 0) are unchanged (portal/clients/cache.py). The versions are
moved by the database itself, in the transaction that changes the rows, whatever the path (pages, API,
imports, bulk SQL): a statement-level trigger on PostgreSQL (one counter bump per manager a statement
touched — a million-row import moves ten thousand counters once), row triggers on SQLite.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_BUMP = ("INSERT INTO book_versions (manager_id, version) SELECT manager_id, 1 FROM ({managers}) AS touched "
         "WHERE manager_id IS NOT NULL GROUP BY manager_id ORDER BY manager_id "
         "ON CONFLICT (manager_id) DO UPDATE SET version = book_versions.version + 1")

_POSTGRESQL = [
    f"""
    CREATE FUNCTION book_versions_clients() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_BUMP.format(managers="SELECT manager_id FROM new_rows")};
        ELSIF TG_OP = 'DELETE' THEN
            {_BUMP.format(managers="SELECT manager_id FROM old_rows")};
        ELSE
            {_BUMP.format(managers="SELECT manager_id FROM new_rows UNION ALL SELECT manager_id FROM old_rows")};
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER clients_book_inserted AFTER INSERT ON clients REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION book_versions_clients()",
    "CREATE TRIGGER clients_book_updated AFTER UPDATE ON clients REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION book_versions_clients()",
    "CREATE TRIGGER clients_book_deleted AFTER DELETE ON clients REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION book_versions_clients()",
    """
    CREATE FUNCTION book_versions_every_book() RETURNS trigger AS $$
    BEGIN
        UPDATE book_versions SET version = version + 1;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER clients_book_truncated AFTER TRUNCATE ON clients "
    "FOR EACH STATEMENT EXECUTE FUNCTION book_versions_every_book()",
    f"""
    CREATE FUNCTION book_versions_packages() RETURNS trigger AS $$
    BEGIN
        {_BUMP.format(managers="SELECT 0 AS manager_id")};
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
]
_PACKAGE_TABLES = ("package_cells", "service_packages")


def upgrade():
    op.create_table('book_versions',
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('manager_id', name=op.f('pk_book_versions'))
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)
        for table in _PACKAGE_TABLES:
            op.execute(f"CREATE TRIGGER {table}_book AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION book_versions_packages()")
    elif dialect == "sqlite":
        def bump(manager: str) -> str:
            return (f"INSERT OR IGNORE INTO book_versions (manager_id, version) VALUES ({manager}, 0); "
                    f"UPDATE book_versions SET version = version + 1 WHERE manager_id = {manager};")
        op.execute(f"CREATE TRIGGER clients_book_inserted AFTER INSERT ON clients WHEN NEW.manager_id IS NOT NULL "
                   f"BEGIN {bump('NEW.manager_id')} END")
        op.execute(f"CREATE TRIGGER clients_book_deleted AFTER DELETE ON clients WHEN OLD.manager_id IS NOT NULL "
                   f"BEGIN {bump('OLD.manager_id')} END")
        op.execute(f"CREATE TRIGGER clients_book_updated_old AFTER UPDATE ON clients "
                   f"WHEN OLD.manager_id IS NOT NULL BEGIN {bump('OLD.manager_id')} END")
        op.execute(f"CREATE TRIGGER clients_book_updated_new AFTER UPDATE ON clients "
                   f"WHEN NEW.manager_id IS NOT NULL AND NEW.manager_id IS NOT OLD.manager_id "
                   f"BEGIN {bump('NEW.manager_id')} END")
        for table in _PACKAGE_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_book_{event.lower()} AFTER {event} ON {table} "
                           f"BEGIN {bump('0')} END")
    else:
        raise RuntimeError(f"book version triggers are not written for {dialect}")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in _PACKAGE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_book ON {table}")
        for name in ("inserted", "updated", "deleted", "truncated"):
            op.execute(f"DROP TRIGGER IF EXISTS clients_book_{name} ON clients")
        op.execute("DROP FUNCTION IF EXISTS book_versions_packages()")
        op.execute("DROP FUNCTION IF EXISTS book_versions_every_book()")
        op.execute("DROP FUNCTION IF EXISTS book_versions_clients()")
    elif dialect == "sqlite":
        for table in _PACKAGE_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_book_{event}")
        for name in ("inserted", "deleted", "updated_old", "updated_new"):
            op.execute(f"DROP TRIGGER IF EXISTS clients_book_{name}")
    op.drop_table('book_versions')
