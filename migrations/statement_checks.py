"""The references of `promotion_recommendations` to managers and runs, checked once per statement on PostgreSQL.

A cycle's close stores one recommendation per manager — ten thousand at a broker's scale — in one
INSERT … SELECT. PostgreSQL checks a foreign key row by row (a lookup and a row lock per row and key):
the two keys of those rows cost a third of the close. Here the same guarantees are kept with checks that
run once per statement, on the set of rows it wrote:

- An INSERT or UPDATE of recommendations fails (SQLSTATE 23503, as a foreign key would) when a row names a
  manager or a run that does not exist. The runs named are locked as a foreign key check locks them
  (FOR KEY SHARE): one row per statement, since a run's recommendations are written with it.
- A promotion run that has recommendations cannot be deleted, renumbered or truncated away.
- A staff record is never deleted, renumbered or truncated: a manager who leaves keeps their record, with
  its status, as their evaluations, level history and recommendations point at it (brokers keep staff
  records as long as the client records they served). So the managers named need no lock: a manager the
  statement sees stays.

On SQLite the declared foreign keys stay (SQLite checks them only when told to, row by row either way); the
rule that staff records are never deleted is a trigger there too. The models keep declaring both keys (the
ORM joins on them); `include_object` tells the schema comparison that on PostgreSQL these two are triggers.
"""
from __future__ import annotations

from alembic import op

from models.types import CHECKED_PER_STATEMENT

FOREIGN_KEYS = {
    "fk_promotion_recommendations_manager_id_managers": ("manager_id", "managers"),
    "fk_promotion_recommendations_run_id_promotion_runs": ("run_id", "promotion_runs"),
}


def include_object(dialect: str):
    """An `include_object` hook for autogenerate's comparison on `dialect`: on PostgreSQL the foreign keys
    the models mark CHECKED_PER_STATEMENT are these triggers, not constraints."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if dialect == "postgresql" and type_ == "foreign_key_constraint" and not reflected:
            return not any(key.info.get(CHECKED_PER_STATEMENT) for key in obj.elements)
        return True

    return include


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
