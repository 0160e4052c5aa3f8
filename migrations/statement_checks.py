"""The per-statement reference checks of `promotion_recommendations` that migration 0007 created.

Migration 0007 replaced the table's two foreign keys (manager, run) on PostgreSQL by triggers that checked
each statement's rows at once, and added the rule that a staff record is never deleted or renumbered (both
databases). Migration 0014 declares the two keys again and keeps two of these triggers: a run with
recommendations cannot be truncated away, and staff records stay. This module holds the statements both
migrations (and their downgrades) run; the application never calls it.
"""
from __future__ import annotations

from alembic import op

FOREIGN_KEYS = {
    "fk_promotion_recommendations_manager_id_managers": ("manager_id", "managers"),
    "fk_promotion_recommendations_run_id_promotion_runs": ("run_id", "promotion_runs"),
}


_POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION promotion_recommendations_references() RETURNS trigger AS $$
    DECLARE
        runs integer[];
        runs_locked bigint;
    BEGIN
        SELECT array_agg(DISTINCT run_id) INTO runs FROM written;
        SELECT count(*) INTO runs_locked FROM (
            SELECT 1 FROM promotion_runs WHERE id = ANY(runs) FOR KEY SHARE) AS locked;
        IF runs_locked <> COALESCE(cardinality(runs), 0) THEN
            RAISE EXCEPTION 'promotion_recommendations: a row names a promotion run that does not exist'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF EXISTS (SELECT 1 FROM written w WHERE NOT EXISTS (SELECT 1 FROM managers m WHERE m.id = w.manager_id))
        THEN
            RAISE EXCEPTION 'promotion_recommendations: a row names a manager that does not exist'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER promotion_recommendations_inserted AFTER INSERT ON promotion_recommendations "
    "REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION promotion_recommendations_references()",
    "CREATE TRIGGER promotion_recommendations_updated AFTER UPDATE ON promotion_recommendations "
    "REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION promotion_recommendations_references()",
    """
    CREATE OR REPLACE FUNCTION promotion_runs_referenced() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            IF EXISTS (SELECT 1 FROM promotion_recommendations) THEN
                RAISE EXCEPTION 'promotion_runs: recommendations refer to the runs'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
            RETURN NEW;
        END IF;
        IF EXISTS (SELECT 1 FROM promotion_recommendations WHERE run_id = OLD.id) THEN
            RAISE EXCEPTION 'promotion_runs: recommendations refer to run %', OLD.id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END;
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER promotion_runs_referenced BEFORE DELETE OR UPDATE OF id ON promotion_runs "
    "FOR EACH ROW EXECUTE FUNCTION promotion_runs_referenced()",
    "CREATE TRIGGER promotion_runs_referenced_truncate BEFORE TRUNCATE ON promotion_runs "
    "FOR EACH STATEMENT EXECUTE FUNCTION promotion_runs_referenced()",
    """
    CREATE OR REPLACE FUNCTION managers_kept() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'managers: a staff record is never deleted or renumbered (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER managers_kept BEFORE DELETE OR UPDATE OF id ON managers "
    "FOR EACH ROW EXECUTE FUNCTION managers_kept()",
    "CREATE TRIGGER managers_kept_truncate BEFORE TRUNCATE ON managers "
    "FOR EACH STATEMENT EXECUTE FUNCTION managers_kept()",
]

_SQLITE = [
    "CREATE TRIGGER managers_kept BEFORE DELETE ON managers "
    "BEGIN SELECT RAISE(ABORT, 'managers: a staff record is never deleted'); END",
    "CREATE TRIGGER managers_kept_id BEFORE UPDATE OF id ON managers WHEN NEW.id <> OLD.id "
    "BEGIN SELECT RAISE(ABORT, 'managers: a staff record is never renumbered'); END",
]


def create_statement_checks() -> None:
    """Replace the two foreign keys with the per-statement checks (PostgreSQL); keep staff records (both)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in FOREIGN_KEYS:
            op.drop_constraint(name, "promotion_recommendations", type_="foreignkey")
        for statement in _POSTGRESQL:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
    else:
        raise RuntimeError(f"the statement checks are not written for {dialect}")


def drop_statement_checks() -> None:
    """Back to the two foreign keys, checked row by row."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS managers_kept_truncate ON managers")
        op.execute("DROP TRIGGER IF EXISTS managers_kept ON managers")
        op.execute("DROP FUNCTION IF EXISTS managers_kept()")
        op.execute("DROP TRIGGER IF EXISTS promotion_runs_referenced_truncate ON promotion_runs")
        op.execute("DROP TRIGGER IF EXISTS promotion_runs_referenced ON promotion_runs")
        op.execute("DROP FUNCTION IF EXISTS promotion_runs_referenced()")
        op.execute("DROP TRIGGER IF EXISTS promotion_recommendations_updated ON promotion_recommendations")
        op.execute("DROP TRIGGER IF EXISTS promotion_recommendations_inserted ON promotion_recommendations")
        op.execute("DROP FUNCTION IF EXISTS promotion_recommendations_references()")
        for name, (column, table) in FOREIGN_KEYS.items():
            op.create_foreign_key(name, "promotion_recommendations", table, [column], ["id"])
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS managers_kept_id")
        op.execute("DROP TRIGGER IF EXISTS managers_kept")
