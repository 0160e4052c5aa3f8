"""Branches as records; contact fields for imports; the roster level change; the import history

The branch was free text on each client. It becomes a `branches` record (code, name, English name, city)
that clients (required), teams and staff records point at. Every distinct text becomes one branch named
exactly as before, with a generated code (`B0001`, … in name order) and no city until a branch import
brings one; each client points at the branch of its text, each team at the branch most of its clients
are in. Nothing is lost: downgrading writes the names back as text.

Clients gain `sex` (filled from the resident ID number where there is one) and `email`; staff records
`email` and `phone`. The level history accepts the kind `roster` (a level brought by the HR roster
import). `data_imports` keeps every import, applied or refused.

On SQLite the clients and level_changes tables are rebuilt (batch mode); their triggers (book versions,
append-only) are created again afterwards.

Revision ID: 0010
Revises: 0009
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import models.types
from migrations.append_only import create_append_only
from migrations.statement_checks import _SQLITE as _SQLITE_STAFF_KEPT

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_OLD_KINDS = "kind IN ('initial', 'promotion', 'demotion', 'correction')"
_NEW_KINDS = "kind IN ('initial', 'promotion', 'demotion', 'correction', 'roster')"
# The 17th character of a resident ID number is odd for men, even for women.
_SEX = ("CASE WHEN id_type = 'resident_id' AND length(id_number) = 18 THEN CASE"
        " WHEN substr(id_number, 17, 1) IN ('1', '3', '5', '7', '9') THEN 'M'"
        " WHEN substr(id_number, 17, 1) IN ('0', '2', '4', '6', '8') THEN 'F' END END")


def _sqlite_book_triggers() -> None:
    """The book-version triggers of clients (0008), which a SQLite table rebuild drops."""
    def bump(manager: str) -> str:
        return (f"INSERT OR IGNORE INTO book_versions (manager_id, version) VALUES ({manager}, 0); "
                f"UPDATE book_versions SET version = version + 1 WHERE manager_id = {manager};")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS clients_book_inserted AFTER INSERT ON clients "
               f"WHEN NEW.manager_id IS NOT NULL BEGIN {bump('NEW.manager_id')} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS clients_book_deleted AFTER DELETE ON clients "
               f"WHEN OLD.manager_id IS NOT NULL BEGIN {bump('OLD.manager_id')} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS clients_book_updated_old AFTER UPDATE ON clients "
               f"WHEN OLD.manager_id IS NOT NULL BEGIN {bump('OLD.manager_id')} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS clients_book_updated_new AFTER UPDATE ON clients "
               f"WHEN NEW.manager_id IS NOT NULL AND NEW.manager_id IS NOT OLD.manager_id "
               f"BEGIN {bump('NEW.manager_id')} END")


def _level_change_kinds(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('level_changes', recreate="always") as batch_op:
            batch_op.drop_constraint(op.f('ck_level_changes_kind'), type_='check')
            batch_op.create_check_constraint('kind', new)
        create_append_only('level_changes')  # the rebuild dropped its triggers
    else:
        op.drop_constraint(op.f('ck_level_changes_kind'), 'level_changes', type_='check')
        op.create_check_constraint('kind', 'level_changes', new)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table('branches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=40), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branches')),
    sa.UniqueConstraint('code', name=op.f('uq_branches_code')),
    sa.UniqueConstraint('name', name=op.f('uq_branches_name'))
    )
    op.create_table('data_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_username', sa.String(length=64), nullable=True),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('code', sa.String(length=30), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('problem_total', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=True),
    sa.CheckConstraint("kind IN ('branches', 'staff', 'clients')", name=op.f('ck_data_imports_kind')),
    sa.CheckConstraint("outcome IN ('applied', 'refused')", name=op.f('ck_data_imports_outcome')),
    sa.CheckConstraint("source IN ('cli', 'upload', 'api')", name=op.f('ck_data_imports_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_imports'))
    )
    op.create_index('ix_data_imports_at', 'data_imports', ['at'], unique=False)
    op.create_index('ix_data_imports_outcome_at', 'data_imports', ['outcome', 'at'], unique=False)

    # Every distinct branch text becomes a branch, coded in name order.
    now = datetime.now(UTC)
    rows = op.get_bind().execute(sa.text("SELECT DISTINCT branch FROM clients ORDER BY branch")).scalars().all()
    branches = sa.table('branches', sa.column('code', sa.String), sa.column('name', sa.String),
                        sa.column('created_at', models.types.UTCDateTime(timezone=True)))
    if rows:
        op.get_bind().execute(sa.insert(branches), [{"code": f"B{position:04d}", "name": name, "created_at": now}
                                                    for position, name in enumerate(rows, 1)])

    with op.batch_alter_table('teams') as batch_op:
        batch_op.add_column(sa.Column('branch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_teams_branch_id'), ['branch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_teams_branch_id_branches'), 'branches', ['branch_id'], ['id'])
    with op.batch_alter_table('managers') as batch_op:
        batch_op.add_column(sa.Column('branch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=30), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_managers_branch_id_branches'), 'branches', ['branch_id'], ['id'])
    if sqlite:
        for statement in _SQLITE_STAFF_KEPT:  # the rebuild dropped them
            op.execute(statement)
    op.add_column('clients', sa.Column('branch_id', sa.Integer(), nullable=True))
    op.add_column('clients', sa.Column('sex', sa.String(length=1), nullable=True))
    op.add_column('clients', sa.Column('email', sa.String(length=254), nullable=True))
    op.execute("UPDATE clients SET branch_id = (SELECT b.id FROM branches b WHERE b.name = clients.branch), "
               f"sex = {_SEX}")
    # A team's branch: where most of its members' clients are.
    op.execute("UPDATE teams SET branch_id = (SELECT c.branch_id FROM clients c JOIN managers m ON m.id = c.manager_id"
               " WHERE m.team_id = teams.id GROUP BY c.branch_id ORDER BY COUNT(*) DESC, c.branch_id LIMIT 1)")
    op.execute("UPDATE managers SET branch_id = (SELECT t.branch_id FROM teams t WHERE t.id = managers.team_id)")
    op.drop_index('ix_clients_branch', table_name='clients')
    with op.batch_alter_table('clients') as batch_op:
        batch_op.alter_column('branch_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_clients_branch_id_branches'), 'branches', ['branch_id'], ['id'])
        batch_op.drop_column('branch')
        batch_op.create_index('ix_clients_branch', ['branch_id'], unique=False)
    if sqlite:
        _sqlite_book_triggers()
    _level_change_kinds(_OLD_KINDS, _NEW_KINDS)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if op.get_bind().execute(sa.text("SELECT 1 FROM level_changes WHERE kind = 'roster' LIMIT 1")).first():
        raise RuntimeError("level_changes holds roster changes: the history cannot go back to revision 0008")
    _level_change_kinds(_NEW_KINDS, _OLD_KINDS)
    op.drop_index('ix_clients_branch', table_name='clients')
    op.add_column('clients', sa.Column('branch', sa.String(length=60), nullable=True))
    op.execute("UPDATE clients SET branch = (SELECT b.name FROM branches b WHERE b.id = clients.branch_id)")
    with op.batch_alter_table('clients') as batch_op:
        batch_op.alter_column('branch', existing_type=sa.String(length=60), nullable=False)
        batch_op.drop_constraint('fk_clients_branch_id_branches', type_='foreignkey')
        batch_op.drop_column('branch_id')
        batch_op.drop_column('sex')
        batch_op.drop_column('email')
        batch_op.create_index('ix_clients_branch', ['branch'], unique=False)
    if sqlite:
        _sqlite_book_triggers()
    if sqlite:
        with op.batch_alter_table('managers', recreate="always") as batch_op:
            batch_op.drop_column('phone')
            batch_op.drop_column('email')
            batch_op.drop_column('branch_id')
        for statement in _SQLITE_STAFF_KEPT:  # the rebuild dropped them
            op.execute(statement)
    else:
        op.drop_constraint('fk_managers_branch_id_branches', 'managers', type_='foreignkey')
        op.drop_column('managers', 'phone')
        op.drop_column('managers', 'email')
        op.drop_column('managers', 'branch_id')
    with op.batch_alter_table('teams') as batch_op:
        batch_op.drop_constraint('fk_teams_branch_id_branches', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_teams_branch_id'))
        batch_op.drop_column('branch_id')
    op.drop_index('ix_data_imports_outcome_at', table_name='data_imports')
    op.drop_index('ix_data_imports_at', table_name='data_imports')
    op.drop_table('data_imports')
    op.drop_table('branches')
