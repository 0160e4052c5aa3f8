"""Recommendations' references checked once per statement on PostgreSQL; one hash index by manager

Closing a cycle writes one recommendation per manager (ten thousand at a broker's scale) in one statement.
Row-by-row foreign-key checks on its manager and run, and two B-tree indexes (by manager and id, by run),
cost as much as deciding the answers. The two keys become per-statement checks on PostgreSQL with the same
guarantees (migrations/statement_checks.py: a run with recommendations cannot be deleted, a staff record is
never deleted or renumbered); the latest recommendation of a manager is found through a hash index on the
manager (a manager has a few rows, one per run that included them); the run index goes (a run's rows are
read per manager: a cycle's results page asks for the managers it shows); on PostgreSQL the ids of the
evaluations considered are stored as integer[] instead of JSON text.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from migrations.statement_checks import create_statement_checks, drop_statement_checks

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The considered evaluations' ids, positional (null where a manager had fewer): JSON → integer[].
        op.execute("CREATE FUNCTION pg_temp.evaluation_ids(ids json) RETURNS integer[] LANGUAGE sql IMMUTABLE "
                   "STRICT AS $$ SELECT COALESCE(array_agg(CAST(id AS integer) ORDER BY n), '{}') "
                   "FROM json_array_elements_text(ids) WITH ORDINALITY AS t(id, n) $$")
        op.execute("ALTER TABLE promotion_recommendations ALTER COLUMN evaluation_ids TYPE integer[] "
                   "USING pg_temp.evaluation_ids(evaluation_ids)")
    op.drop_index('ix_promotion_recommendations_run', table_name='promotion_recommendations')
    op.drop_index('ix_promotion_recommendations_manager', table_name='promotion_recommendations')
    op.create_index('ix_promotion_recommendations_manager', 'promotion_recommendations', ['manager_id'],
                    unique=False, postgresql_using='hash')
    create_statement_checks()


def downgrade():
    drop_statement_checks()
    op.drop_index('ix_promotion_recommendations_manager', table_name='promotion_recommendations')
    op.create_index('ix_promotion_recommendations_manager', 'promotion_recommendations', ['manager_id', 'id'],
                    unique=False)
    op.create_index('ix_promotion_recommendations_run', 'promotion_recommendations', ['run_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE promotion_recommendations ALTER COLUMN evaluation_ids TYPE json "
                   "USING to_json(evaluation_ids)")
