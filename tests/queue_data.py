"""Records that put something in every role's work queue (the `world` fixture's people), for the queue tests."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from models import (
    Client,
    ProfessionalApplication,
    PromotionNomination,
    PromotionRecommendation,
    PromotionRuleSet,
    PromotionRun,
    RiskAssessment,
    Team,
    db,
)
from models.imports import DataImport
from tests.helpers import client_record, manager, user


def give_profile(client: Client, grade: str, *, days_ago: int = 0, flags=()):
    """A self-assessed profile put in force `days_ago` days ago (720: about ten days of validity left)."""
    from portal.operations.risk import active_version, put_in_force
    from portal.rules.questionnaire import risk_class_of

    at = datetime.now(UTC) - timedelta(days=days_ago)
    assessment = RiskAssessment(client_id=client.id, version_id=active_version().id, answers={}, group_points={},
                                raw_points=0, score=50, band_grade=grade, grade=grade, risk_class=risk_class_of(grade),
                                lowest_category=False, caps=[], flags=list(flags), channel="self", submitted_at=at)
    db.session.add(assessment)
    db.session.flush()
    return put_in_force(assessment, client, at=at)


def recommend(employee_no: str, recommendation: str, target: str | None, as_of: date) -> None:
    """A stored engine recommendation for one manager, as a run over a few managers stores it."""
    rule_set = db.session.scalar(select(PromotionRuleSet).order_by(PromotionRuleSet.version.desc()))
    run = PromotionRun(rule_set_id=rule_set.id, as_of=as_of)
    db.session.add(run)
    db.session.flush()
    staff = manager(employee_no)
    db.session.add(PromotionRecommendation(
        run_id=run.id, manager_id=staff.id, level=staff.level, recommendation=recommendation, target_level=target,
        level_since=staff.level_since, open_flags=0,
        detail={"recommendation": recommendation, "target_level": target, "clauses": [], "eligible_in_months": None,
                "eligible_on": None}))


def seed_every_queue() -> dict:
    """rm_a: overdue, due today, expiring, expired, an unconfirmed warning, contradictory answers; sup_a: the
    team's overdue, an open cycle to score, a recommendation to nominate; admin: a nomination; compliance: a
    mismatch, an application and a grade raised on retake; admin also an import refused; client_a: the warning to confirm and the questionnaire (expiring profile)."""
    from portal.operations import evaluations as evaluation_ops
    from portal.operations import suitability as suitability_ops
    from portal.operations.risk import active_version, put_in_force
    from portal.rules.calendar import business_today
    from portal.rules.questionnaire import risk_class_of

    today = business_today()
    ca1, ca2, ca3 = (client_record(no) for no in ("CA0001", "CA0002", "CA0003"))
    ca1.followup_grade, ca1.followup_due = "B", today - timedelta(days=4)
    ca2.followup_grade, ca2.followup_due = "A", today
    give_profile(ca1, "C3", days_ago=720)
    give_profile(ca2, "C4", flags=["no_experience_but_aggressive"])
    give_profile(client_record("CB0001"), "C2", days_ago=800)
    product = suitability_ops.create_product("P-R5", "高风险产品", "High-risk product", "hybrid_fund", 5)
    warning = suitability_ops.record_suitability(ca1, product, action="subscription", amount=None, note=None,
                                                 extra_care_given=False, by_user=user("rm_a"))
    ca3.followup_grade, ca3.followup_due = "C", today - timedelta(days=1)
    team_a = db.session.scalar(select(Team).where(Team.code == "TEAMA"))
    cycle = evaluation_ops.create_cycle("2026 Q4", date(2026, 10, 1), date(2026, 12, 31), team_a, user("admin"))
    evaluation_ops.open_cycle(cycle, user("admin"))
    recommend("RMA1", "promote", "mid", today)
    db.session.add(PromotionNomination(manager_id=manager("RMB2").id, kind="promote", from_level="mid",
                                       to_level="senior", nominated_by_id=user("sup_b").id, state="pending"))
    db.session.add(ProfessionalApplication(client_id=client_record("CB0002").id, checks={}, status="pending"))
    db.session.add(DataImport(kind="staff", source="upload", outcome="refused", filename="roster.csv"))
    raised_from = db.session.scalar(select(RiskAssessment.id).where(RiskAssessment.client_id == ca2.id)
                                    .order_by(RiskAssessment.id.desc()).limit(1))
    at = datetime.now(UTC)
    raised = RiskAssessment(client_id=ca2.id, version_id=active_version().id, answers={}, group_points={},
                            raw_points=0, score=85, band_grade="C5", grade="C5", risk_class=risk_class_of("C5"),
                            lowest_category=False, caps=[], flags=["no_experience_but_aggressive"], channel="self",
                            submitted_at=at, raised_from_id=raised_from)
    db.session.add(raised)
    db.session.flush()
    put_in_force(raised, ca2, at=at)
    db.session.commit()
    return {"today": today, "warning": warning, "cycle": cycle}
