"""Issue 5: closing an evaluation cycle over every manager (10,000 at the lead's scale) with five earlier closed
cycles of history, against one raw SQL aggregate over the same evaluation rows.

Setup is bulk SQL: five closed quarters and one open quarter over everyone, every evaluation scored, the
totals and bands computed in SQL with the weights in force. Closing is the real `close_cycle`, which runs
the promotion engine (on PostgreSQL the rules compiled to one INSERT … SELECT,
portal/operations/promotion_sql.py). The reference is one aggregate query: each manager's AVG and COUNT of
totals over the same six cycles. Everything the bench adds is deleted at the end (the audit rows of the close
stay: the audit log is append-only).
"""
from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

CYCLES = 6  # five closed quarters of history and the one being closed


def _scores_sql(cycle_ids: list[int], weights: dict, bands: list) -> str:
    """INSERT … SELECT of one scored evaluation per active manager and cycle, scores varying by manager and cycle."""
    score = {
        "satisfaction": "55 + (m.id * 7 + c.id * 13) % 45",
        "kpi": "50 + (m.id * 11 + c.id * 5) % 51",
        "team": "58 + (m.id * 3 + c.id * 17) % 42",
        "competence": "60 + (m.id * 13 + c.id * 7) % 40",
    }
    total = "CASE m.level " + " ".join(
        f"WHEN '{level}' THEN CAST(({' + '.join(f'{int(w[d])} * ({score[d]})' for d in score)}) AS NUMERIC(7, 2)) / 100"
        for level, w in weights.items()) + " END"
    band = "CASE " + " ".join(f"WHEN t.total >= {float(floor)} THEN '{code}'" for floor, code in bands[:-1]) + \
        f" ELSE '{bands[-1][1]}' END"
    ids = ", ".join(str(int(i)) for i in cycle_ids)
    return (
        "INSERT INTO evaluations (cycle_id, manager_id, level, team_id, satisfaction, kpi, team, competence, total, "
        "band, scored_at, updated_at, version) "
        f"SELECT t.cycle_id, t.manager_id, t.level, t.team_id, t.s, t.k, t.tm, t.cp, t.total, {band}, now(), now(), 1 "
        f"FROM (SELECT c.id AS cycle_id, m.id AS manager_id, m.level, m.team_id, {score['satisfaction']} AS s, "
        f"{score['kpi']} AS k, {score['team']} AS tm, {score['competence']} AS cp, {total} AS total "
        f"FROM managers m CROSS JOIN evaluation_cycles c WHERE m.status = 'active' AND c.id IN ({ids})) t")


def run(report, url: str, repeats: int = 5) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_ENV", "development")
    from sqlalchemy import delete, select, text

    from models import Evaluation, EvaluationCycle, EvaluationWeightSet, PromotionRecommendation, db
    from portal import create_app
    from portal.operations.evaluations import close_cycle
    from portal.operations.promotions import run_engine
    from portal.operations.risk import business_today
    from portal.rules.promotion import add_months

    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        weight_set = db.session.scalar(select(EvaluationWeightSet).order_by(EvaluationWeightSet.version.desc())
                                       .limit(1))
        today = business_today()
        quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        cycles = []
        for back in range(CYCLES - 1, -1, -1):
            start = add_months(quarter_start, -3 * back)
            cycles.append(EvaluationCycle(name=f"bench {start.isoformat()}", start_date=start,
                                          end_date=add_months(start, 3) - timedelta(days=1), team_id=None,
                                          state="closed" if back else "open", weight_set_id=weight_set.id))
        db.session.add_all(cycles)
        db.session.flush()
        ids = [cycle.id for cycle in cycles]
        bands = [(floor, code) for floor, code in weight_set.bands]
        started = time.perf_counter()
        db.session.execute(text(_scores_sql(ids, weight_set.weights, bands)))
        db.session.commit()
        db.session.execute(text("ANALYZE evaluations"))
        db.session.commit()
        setup_seconds = time.perf_counter() - started
        evaluated = db.session.scalar(select(db.func.count(Evaluation.id)).where(Evaluation.cycle_id == ids[-1]))
        rows = db.session.scalar(select(db.func.count(Evaluation.id)).where(Evaluation.cycle_id.in_(ids)))

        reference_sql = text(
            "SELECT manager_id, AVG(total), COUNT(*) FROM evaluations "
            f"WHERE cycle_id IN ({', '.join(map(str, ids))}) GROUP BY manager_id")
        try:
            # Warm both paths (buffers, plans) without changing anything.
            db.session.execute(reference_sql).all()
            warm = db.session.begin_nested()  # the close's own statement, rolled back
            run_engine(cycle=cycles[-1])
            warm.rollback()
            db.session.rollback()
            reference = []
            for _ in range(repeats):
                start = time.perf_counter()
                db.session.execute(reference_sql).all()
                reference.append(time.perf_counter() - start)
            db.session.rollback()
            cycle = db.session.get(EvaluationCycle, ids[-1])
            start = time.perf_counter()
            stored = close_cycle(cycle, None)
            db.session.commit()
            close_seconds = time.perf_counter() - start
        finally:
            db.session.rollback()
            db.session.execute(delete(PromotionRecommendation).where(PromotionRecommendation.cycle_id.in_(ids)))
            db.session.execute(delete(Evaluation).where(Evaluation.cycle_id.in_(ids)))
            db.session.execute(delete(EvaluationCycle).where(EvaluationCycle.id.in_(ids)))
            db.session.commit()
    reference_seconds = statistics.median(reference)
    report("cycle_setup_s", round(setup_seconds, 1),
           f"setup: {CYCLES} cycles × {evaluated:,} managers scored in bulk SQL ({rows:,} evaluations)")
    report("cycle_close_ms", round(close_seconds * 1000, 1),
           f"closing a cycle of {evaluated:,} managers, the promotion engine included ({stored:,} recommendations)")
    report("cycle_close_reference_ms", round(reference_seconds * 1000, 1),
           f"reference: per-manager AVG/COUNT of totals over the same {rows:,} evaluations (median of {repeats})")
    report("cycle_close_ratio", round(close_seconds / reference_seconds, 1), "cycle close / raw SQL aggregate")
