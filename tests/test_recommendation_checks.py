"""The references of stored promotion recommendations hold: a close's statement naming a missing manager or run
stores nothing, a run with recommendations cannot be deleted, renumbered or truncated away, even by a
transaction racing the one that writes them, and a staff record is never deleted or renumbered (on SQLite
too). On PostgreSQL the two references are declared foreign keys and a trigger refuses TRUNCATE of runs
(migration 0014); the statements below are PostgreSQL's (unnest, TRUNCATE … CASCADE).
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from models import Manager, PromotionRecommendation, PromotionRun, db
from portal.operations.promotions import run_engine


def _postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("these statements are PostgreSQL's; SQLite's keys are tested in test_foreign_keys.py")


@pytest.fixture
def stored(app, make):
    """Two managers and one on-demand run over both, committed: (manager ids, run id)."""
    managers = [make.manager(), make.manager()]
    db.session.flush()
    ids = [manager.id for manager in managers]
    assert run_engine(manager_ids=ids) == 2
    db.session.commit()
    run_id = db.session.scalar(select(func.max(PromotionRun.id)))
    return ids, run_id


def _insert(run_id: int, manager_ids: list[int], connection=None) -> None:
    """One multi-row INSERT … SELECT, the way a cycle's close writes (on `connection`, else the session's)."""
    (connection or db.session).execute(text(
        "INSERT INTO promotion_recommendations (run_id, manager_id, level, recommendation) "
        "SELECT :run, m, 'junior', 'hold' FROM unnest(CAST(:managers AS integer[])) AS m"),
        {"run": run_id, "managers": manager_ids})


def _count() -> int:
    return db.session.scalar(select(func.count(PromotionRecommendation.id)))


@pytest.mark.parametrize("bad", ["manager", "run"])
def test_a_statement_naming_a_missing_manager_or_run_stores_nothing(app, backend, stored, bad):
    _postgres_only(backend)
    (first, second), run_id = stored
    before = _count()
    missing = db.session.scalar(select(func.max(Manager.id))) + 1000
    managers = [first, missing, second] if bad == "manager" else [first, second]
    with pytest.raises(IntegrityError) as raised:
        _insert(run_id + 1000 if bad == "run" else run_id, managers)
    assert raised.value.orig.sqlstate == "23503"  # foreign_key_violation, as the constraint answered
    db.session.rollback()
    assert _count() == before


def test_rows_naming_existing_managers_and_runs_are_stored(app, backend, stored):
    _postgres_only(backend)
    managers, run_id = stored
    before = _count()
    _insert(run_id, managers * 3)
    db.session.commit()
    assert _count() == before + 6


@pytest.mark.parametrize("column", ["manager_id", "run_id"])
def test_an_update_to_a_missing_manager_or_run_is_refused(app, backend, stored, column):
    _postgres_only(backend)
    _managers, run_id = stored
    row = db.session.scalar(select(PromotionRecommendation.id).where(PromotionRecommendation.run_id == run_id)
                            .limit(1))
    with pytest.raises(IntegrityError):
        db.session.execute(text(f"UPDATE promotion_recommendations SET {column} = {column} + 100000 "  # nosec B608 - a parametrised column name
                                "WHERE id = :id"), {"id": row})
    db.session.rollback()
    assert db.session.get(PromotionRecommendation, row).run_id == run_id


@pytest.mark.parametrize("statement", [
    "DELETE FROM promotion_runs WHERE id = :id",
    "UPDATE promotion_runs SET id = id + 100000 WHERE id = :id",
    "TRUNCATE promotion_runs CASCADE",
])
def test_a_run_with_recommendations_is_kept(app, backend, stored, statement):
    _postgres_only(backend)
    _managers, run_id = stored
    with pytest.raises(IntegrityError):
        db.session.execute(text(statement), {"id": run_id})
    db.session.rollback()
    assert db.session.get(PromotionRun, run_id) is not None
    assert db.session.scalar(select(func.count()).where(PromotionRecommendation.run_id == run_id)) == 2


def test_a_run_without_recommendations_can_go_and_other_columns_change(app, backend, stored):
    _postgres_only(backend)
    _managers, run_id = stored
    empty = PromotionRun(rule_set_id=db.session.get(PromotionRun, run_id).rule_set_id,
                         as_of=db.session.get(PromotionRun, run_id).as_of)
    db.session.add(empty)
    db.session.flush()
    empty_id = empty.id
    db.session.execute(text("UPDATE promotion_runs SET computed_at = now() WHERE id = :id"), {"id": run_id})
    db.session.execute(text("DELETE FROM promotion_runs WHERE id = :id"), {"id": empty_id})
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(PromotionRun, empty_id) is None


@pytest.mark.parametrize("statement", [
    "DELETE FROM managers WHERE id = :id",
    "UPDATE managers SET id = id + 100000 WHERE id = :id",
])
def test_a_staff_record_is_never_deleted_or_renumbered(app, make, statement):
    manager = make.manager()
    db.session.commit()
    manager_id = manager.id
    with pytest.raises(DatabaseError):
        db.session.execute(text(statement), {"id": manager_id})
        db.session.flush()
    db.session.rollback()
    db.session.execute(text("UPDATE managers SET status = 'left' WHERE id = :id"), {"id": manager_id})
    db.session.commit()
    assert db.session.get(Manager, manager_id).status == "left"


def test_managers_cannot_be_truncated(app, backend, make):
    _postgres_only(backend)
    make.manager()
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text("TRUNCATE managers CASCADE"))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Manager.id))) == 1


@pytest.mark.commits  # a second transaction on its own connection, on another thread
def test_a_run_being_written_cannot_be_deleted_by_another_transaction(app, backend, stored):
    """The check locks the runs a statement names, as a foreign key does: a concurrent DELETE waits for the
    writer and, once it commits, is refused."""
    _postgres_only(backend)
    managers, run_id = stored
    writer = db.engine.connect()
    deleter = db.engine.connect()
    try:
        writer.execute(text("DELETE FROM promotion_recommendations WHERE run_id = :run"), {"run": run_id})
        _insert(run_id, managers, writer)
        deleter.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(OperationalError) as waited:  # blocked by the writer's lock on the run
            deleter.execute(text("DELETE FROM promotion_runs WHERE id = :run"), {"run": run_id})
        assert waited.value.orig.sqlstate == "55P03"  # lock_not_available
        deleter.rollback()

        outcome = {}

        def delete_after_commit():
            try:
                deleter.execute(text("SET lock_timeout = '10s'"))
                deleter.execute(text("DELETE FROM promotion_runs WHERE id = :run"), {"run": run_id})
                outcome["deleted"] = True
            except DatabaseError as error:
                outcome["refused"] = error.orig.sqlstate

        waiting = threading.Thread(target=delete_after_commit)
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()  # still waiting for the writer
        writer.commit()
        waiting.join(10)
        assert outcome == {"refused": "23503"}
        deleter.rollback()
    finally:
        writer.close()
        deleter.close()
    assert db.session.get(PromotionRun, run_id) is not None


def test_a_compiled_run_leaves_the_transaction_as_it_found_it(app, backend, make):
    """The compiled statement sorts in memory and avoids nested loops for itself only: the caller's
    transaction goes on with the server's settings, and the stored ids are a positional integer array."""
    _postgres_only(backend)
    managers = [make.manager().id for _ in range(3)]
    settings = "SELECT current_setting('work_mem'), current_setting('enable_nestloop')"
    before = db.session.execute(text(settings)).one()
    assert run_engine(manager_ids=managers, compiled=True) == 3
    assert db.session.execute(text(settings)).one() == before
    rows = db.session.scalars(select(PromotionRecommendation).where(PromotionRecommendation.manager_id.in_(managers)))
    assert [row.evaluation_ids for row in rows] == [[], [], []]  # nobody has a closed evaluation yet
