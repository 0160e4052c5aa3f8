"""The migrations build exactly the schema the models declare (tables, columns, types, indexes, constraints).

A model change without its migration (or the reverse) would leave production, which is only ever migrated,
different from what the code and the tests assume; autogenerate's comparison finds nothing to do.
"""
from __future__ import annotations

import warnings
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, insert, select

from models import PromotionNomination, PromotionRecommendation, PromotionRun, db

pytestmark = pytest.mark.commits  # migrations run DDL and downgrades on their own connections


def test_migrated_schema_matches_the_models(app):
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as connection, warnings.catch_warnings():
        if sqlite:
            # SQLite cannot reflect an index on expressions, so autogenerate skips ix_clients_as_of there (and
            # says so); its presence is checked below, its definition on PostgreSQL by the comparison itself.
            warnings.filterwarnings("ignore", message=".*expression-based index '?ix_clients_as_of")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        if sqlite:
            assert connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_clients_as_of'").scalar() == 1


def _tables() -> dict:
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    return metadata.tables


def test_0006_groups_stored_recommendations_into_runs_and_back(app):
    """A filled database: recommendations of two runs (a cycle's close, and an on-demand run 16:30 UTC — the
    next business day in Shanghai) become two promotion_runs rows; every row, its worded clauses and the
    nomination made on one keep their ids. Downgrading puts the columns back as they were."""
    downgrade(revision="0005")
    db.session.remove()
    db.engine.dispose()
    t = _tables()
    closed_at = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    on_demand = datetime(2026, 11, 28, 16, 30, tzinfo=UTC)
    detail = {"recommendation": "promote", "target_level": "mid", "clauses": [
        {"rule": "months_in_level", "passed": True, "observed": 14, "required": "≥ 12"}],
        "eligible_in_months": None, "eligible_on": None}
    with db.engine.begin() as connection:
        user_id = connection.execute(insert(t["users"]).values(
            username="sup", display_name="Sup", password_hash="x", role="supervisor", active=True,
            session_version=1, created_at=closed_at).returning(t["users"].c.id)).scalar_one()
        managers = [connection.execute(insert(t["managers"]).values(
            employee_no=f"M{i}", name=f"经理{i}", level="junior", level_since=date(2025, 1, 1),
            hire_date=date(2025, 1, 1), status="active", created_at=closed_at).returning(t["managers"].c.id))
            .scalar_one() for i in range(2)]
        cycle_id = connection.execute(insert(t["evaluation_cycles"]).values(
            name="2026 Q3", start_date=date(2026, 7, 1), end_date=date(2026, 9, 30), state="closed",
            created_at=closed_at).returning(t["evaluation_cycles"].c.id)).scalar_one()
        rule_set_id = connection.execute(select(t["promotion_rule_sets"].c.id)).scalars().first()
        rows = [(managers[0], cycle_id, closed_at), (managers[1], cycle_id, closed_at), (managers[0], None, on_demand)]
        ids = [connection.execute(insert(t["promotion_recommendations"]).values(
            manager_id=manager_id, cycle_id=cycle, rule_set_id=rule_set_id, level="junior",
            recommendation="promote", target_level="mid", detail=detail, computed_at=at)
            .returning(t["promotion_recommendations"].c.id)).scalar_one() for manager_id, cycle, at in rows]
        nomination_id = connection.execute(insert(t["promotion_nominations"]).values(
            manager_id=managers[0], kind="promote", from_level="junior", to_level="mid", recommendation_id=ids[2],
            rule_set_id=rule_set_id, nominated_by_id=user_id, nominated_at=on_demand, state="pending")
            .returning(t["promotion_nominations"].c.id)).scalar_one()

    upgrade()
    db.session.remove()
    db.engine.dispose()
    runs = {(run.cycle_id, run.as_of): run for run in db.session.scalars(select(PromotionRun))}
    assert set(runs) == {(cycle_id, date(2026, 9, 30)), (None, date(2026, 11, 29))}
    assert {run.rule_set_id for run in runs.values()} == {rule_set_id}
    stored = {row.id: row for row in db.session.scalars(select(PromotionRecommendation))}
    assert sorted(stored) == sorted(ids)
    assert stored[ids[0]].run_id == stored[ids[1]].run_id == runs[(cycle_id, date(2026, 9, 30))].id
    assert stored[ids[2]].run_id == runs[(None, date(2026, 11, 29))].id
    assert stored[ids[2]].computed_at == on_demand and stored[ids[0]].cycle_id == cycle_id
    assert all(row.detail == detail for row in stored.values())
    assert db.session.get(PromotionNomination, nomination_id).recommendation_id == ids[2]

    db.session.remove()
    downgrade(revision="0005")
    db.session.remove()
    db.engine.dispose()
    back = _tables()["promotion_recommendations"]
    with db.engine.connect() as connection:
        restored = {row.id: row for row in connection.execute(select(back))}
    assert [(restored[i].manager_id, restored[i].cycle_id, restored[i].computed_at.replace(tzinfo=UTC)
             if restored[i].computed_at.tzinfo is None else restored[i].computed_at) for i in ids] == rows
    assert all(restored[i].rule_set_id == rule_set_id and restored[i].detail == detail for i in ids)
    upgrade()  # leave the database at head for the fixture's teardown


def test_0007_keeps_the_stored_evaluation_ids_and_swaps_the_keys_both_ways(app, make, backend):
    """Stored ids (positional, null where a manager had fewer evaluations) survive the downgrade to 0006
    (JSON) and the upgrade back; on PostgreSQL 0007 swaps the two foreign keys for per-statement checks
    both ways, and 0014 declares them again: at head both databases have them."""
    from sqlalchemy import inspect

    from portal.operations.promotions import run_engine

    manager_id = make.manager().id
    run_engine(manager_ids=[manager_id])
    db.session.commit()
    row_id = db.session.scalar(select(PromotionRecommendation.id).where(PromotionRecommendation.manager_id == manager_id))
    with db.engine.begin() as connection:
        connection.execute(PromotionRecommendation.__table__.update()
                           .where(PromotionRecommendation.__table__.c.id == row_id)
                           .values(evaluation_ids=[41, 7, None]))
    db.session.remove()

    def keys() -> set[str]:
        db.engine.dispose()
        return {key["name"] for key in inspect(db.engine).get_foreign_keys("promotion_recommendations")}

    both = {"fk_promotion_recommendations_manager_id_managers", "fk_promotion_recommendations_run_id_promotion_runs"}
    assert both <= keys()
    downgrade(revision="0008")
    assert ("fk_promotion_recommendations_manager_id_managers" in keys()) == (backend == "sqlite")
    downgrade(revision="0006")
    assert {"fk_promotion_recommendations_manager_id_managers",
            "fk_promotion_recommendations_run_id_promotion_runs"} <= keys()
    back = _tables()["promotion_recommendations"]
    with db.engine.connect() as connection:
        assert connection.execute(select(back.c.evaluation_ids).where(back.c.id == row_id)).scalar_one() == [41, 7, None]
    upgrade()
    db.session.remove()
    assert both <= keys()
    assert db.session.get(PromotionRecommendation, row_id).evaluation_ids == [41, 7, None]
