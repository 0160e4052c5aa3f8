"""Recommendations' manager and run are declared foreign keys again on PostgreSQL

A cycle's close writes one recommendation per manager in one statement; for a while PostgreSQL checked
their two references once per statement by triggers instead of row by row, to save about a third of a
close (some 60 ms at ten thousand managers). A declared key is a guarantee every reader of the schema
understands, that the planner knows and that no trigger has to re-prove, and a close well under a fifth of
a second is already far below what anyone waits for: the two keys are constraints again. Kept: a run with
recommendations cannot be truncated away (a foreign key would let TRUNCATE … CASCADE empty both tables),
and a staff record is never deleted or renumbered (both databases), with the hash index by manager and
the considered ids as integer[].

Revision ID: 0014
Revises: 0013
"""
from alembic import op

from migrations.statement_checks import FOREIGN_KEYS

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_RECOMMENDATION_CHECKS = [
    "DROP TRIGGER IF EXISTS promotion_recommendations_updated ON promotion_recommendations",
    "DROP TRIGGER IF EXISTS promotion_recommendations_inserted ON promotion_recommendations",
    "DROP FUNCTION IF EXISTS promotion_recommendations_references()",
    "DROP TRIGGER IF EXISTS promotion_runs_referenced ON promotion_runs",
]
_RUNS_KEPT_ON_UPDATE = (
    "CREATE TRIGGER promotion_runs_referenced BEFORE DELETE OR UPDATE OF id ON promotion_runs "
    "FOR EACH ROW EXECUTE FUNCTION promotion_runs_referenced()")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite always kept the declared keys
    for statement in _RECOMMENDATION_CHECKS:
        op.execute(statement)
    for name, (column, table) in FOREIGN_KEYS.items():
        op.create_foreign_key(name, "promotion_recommendations", table, [column], ["id"])


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    from migrations.statement_checks import _POSTGRESQL

    for name in FOREIGN_KEYS:
        op.drop_constraint(name, "promotion_recommendations", type_="foreignkey")
    op.execute(_POSTGRESQL[0])  # promotion_recommendations_references()
    op.execute(_POSTGRESQL[1])
    op.execute(_POSTGRESQL[2])
    op.execute(_RUNS_KEPT_ON_UPDATE)
