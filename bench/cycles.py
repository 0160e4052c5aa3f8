"""Closing an evaluation cycle over every manager (10,000 at a broker's scale) with at least five
earlier closed cycles of history, against one raw SQL aggregate over the same evaluation rows.

The history is the database's: `seed-demo` closes six quarters over every manager (the demo data);
where fewer than five closed cycles exist, the stage adds closed quarters before the earliest, scored in
bulk SQL. The cycle closed is one more quarter over everyone, opened and every evaluation scored in bulk
SQL (totals and bands computed with the weights in force). Closing is the real `close_cycle`, which runs
the promotion engine (on PostgreSQL its decisions compiled to one INSERT … SELECT,
portal/operations/promotion_sql.py) and reads every closed evaluation of the managers. The reference is one
aggregate query over those same rows — each manager's AVG and COUNT of totals over the closed cycles and
the one being closed. A close is one sample, and a shared machine moves one sample by a third: the stage
closes three freshly set-up cycles and reports the medians. What the stage adds is deleted after each close
and the tables vacuumed (the audit rows of the closes stay: the audit log is append-only).
"""
from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

HISTORY = 5  # closed cycles of history the close reads, at least


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


def _round(url: str, repeats: int) -> dict:
    """One setup → warm-up → reference queries → timed close → clean-up; returns the figures of the round."""
    from sqlalchemy import delete, select, text

    from models import Evaluation, EvaluationCycle, EvaluationWeightSet, PromotionRecommendation, PromotionRun, db
    from portal.operations.evaluations import close_cycle
    from portal.operations.promotions import run_engine
    from portal.rules.calendar import add_months, business_today

    weight_set = db.session.scalar(select(EvaluationWeightSet).order_by(EvaluationWeightSet.version.desc()).limit(1))
    closed = db.session.execute(select(EvaluationCycle.id, EvaluationCycle.start_date)
                                .where(EvaluationCycle.state == "closed")).all()
    today = business_today()
    earliest = min([start for _id, start in closed] or [today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)])
    added = []
    for back in range(HISTORY - len(closed), 0, -1):  # top the history up to HISTORY closed quarters
        start = add_months(earliest, -3 * back)
        added.append(EvaluationCycle(name=f"bench history {start.isoformat()}", start_date=start,
                                     end_date=add_months(start, 3) - timedelta(days=1), team_id=None,
                                     state="closed", weight_set_id=weight_set.id))
    quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    closing = EvaluationCycle(name=f"bench close {quarter_start.isoformat()}", start_date=quarter_start,
                              end_date=add_months(quarter_start, 3) - timedelta(days=1), team_id=None,
                              state="open", weight_set_id=weight_set.id)
    db.session.add_all([*added, closing])
    db.session.flush()
    ids = [cycle.id for cycle in added] + [closing.id]
    bands = [(floor, code) for floor, code in weight_set.bands]
    started = time.perf_counter()
    db.session.execute(text(_scores_sql(ids, weight_set.weights, bands)))
    db.session.commit()
    db.session.execute(text("ANALYZE evaluations"))
    db.session.commit()
    figures = {"setup_seconds": time.perf_counter() - started}
    figures["evaluated"] = db.session.scalar(select(db.func.count(Evaluation.id))
                                             .where(Evaluation.cycle_id == closing.id))
    read_ids = sorted([cycle_id for cycle_id, _start in closed] + ids)  # every closed cycle and the closing one
    figures["cycles"], figures["history"] = len(read_ids), len(read_ids) - 1
    figures["rows"] = db.session.scalar(select(db.func.count(Evaluation.id)).where(Evaluation.cycle_id.in_(read_ids)))
    reference_sql = text("SELECT manager_id, AVG(total), COUNT(*) FROM evaluations "
                         f"WHERE cycle_id IN ({', '.join(map(str, read_ids))}) GROUP BY manager_id")
    try:
        # Warm both paths (buffers, plans) without changing anything.
        db.session.execute(reference_sql).all()
        warm = db.session.begin_nested()  # the close's own statement, rolled back
        run_engine(cycle=closing)
        warm.rollback()
        db.session.rollback()
        reference = []
        for _ in range(repeats):
            start = time.perf_counter()
            db.session.execute(reference_sql).all()
            reference.append(time.perf_counter() - start)
        db.session.rollback()
        cycle = db.session.get(EvaluationCycle, closing.id)
        start = time.perf_counter()
        figures["stored"] = close_cycle(cycle, None)
        db.session.commit()
        figures["close"] = time.perf_counter() - start
    finally:
        db.session.rollback()
        runs = select(PromotionRun.id).where(PromotionRun.cycle_id.in_(ids))
        db.session.execute(delete(PromotionRecommendation).where(PromotionRecommendation.run_id.in_(runs)))
        db.session.execute(delete(PromotionRun).where(PromotionRun.cycle_id.in_(ids)))
        db.session.execute(delete(Evaluation).where(Evaluation.cycle_id.in_(ids)))
        db.session.execute(delete(EvaluationCycle).where(EvaluationCycle.id.in_(ids)))
        db.session.commit()
    # What a database does after a bulk delete anyway: the next round starts from the same state.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) evaluations, evaluation_cycles, promotion_recommendations, "
                                "promotion_runs"))
    figures["reference"] = statistics.median(reference)
    return figures


def run(report, url: str, repeats: int = 5, rounds: int = 3) -> None:
    """`rounds` closes, each of a freshly set-up cycle, the median reported; the reference is the median of
    `repeats` per round, and the median of those."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_ENV", "development")
    from portal import create_app

    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        results = [_round(url, repeats) for _ in range(rounds)]
    first = results[0]
    close = statistics.median(r["close"] for r in results)
    reference = statistics.median(r["reference"] for r in results)
    report("cycle_setup_s", round(first["setup_seconds"], 1),
           f"setup: a cycle of {first['evaluated']:,} managers scored in bulk SQL, {first['history']} closed "
           f"cycles of history")
    report("cycle_close_ms", round(close * 1000, 1),
           f"closing a cycle of {first['evaluated']:,} managers, the promotion engine included "
           f"({first['stored']:,} recommendations; median of {rounds} closes: "
           f"{', '.join(str(round(r['close'] * 1000)) for r in results)} ms)")
    report("cycle_close_reference_ms", round(reference * 1000, 1),
           f"reference: per-manager AVG/COUNT of totals over the same {first['rows']:,} evaluations "
           f"({first['cycles']} cycles; median of {rounds} × {repeats})")
    report("cycle_close_ratio", round(close / reference, 1), "cycle close / raw SQL aggregate (target <= 8)")
