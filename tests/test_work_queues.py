"""Work queues on the home pages: each role's sections count its own items, list the first ones, and every
link opens; nobody sees another book's or another team's items."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from models import (
    ProfessionalApplication,
    PromotionNomination,
    PromotionRecommendation,
    PromotionRuleSet,
    PromotionRun,
    RiskAssessment,
    db,
)
from portal.operations import evaluations as evaluation_ops
from portal.operations import suitability as suitability_ops
from portal.operations.risk import active_version, put_in_force
from portal.rules.calendar import business_today
from portal.rules.questionnaire import risk_class_of
from tests.queue_data import client_record, give_profile, manager, user

_user, _client, _manager = user, client_record, manager
SECTION_RE = re.compile(r'id="queue-([a-z_]+)" data-count="(\d+)"')
ROW_LINK_RE = re.compile(r'<li class="mb-1"><a href="([^"]+)">([^<]+)</a>')


def sections(html: str) -> dict[str, int]:
    return {key: int(count) for key, count in SECTION_RE.findall(html)}


def section_html(html: str, key: str) -> str:
    start = html.index(f'id="queue-{key}"')
    end = html.find('<section class="card', start + 1)
    return html[start:end if end > 0 else len(html)]


def links_of(html: str, key: str) -> list[tuple[str, str]]:
    return ROW_LINK_RE.findall(section_html(html, key))


def assert_links_open(http, html: str) -> int:
    opened = 0
    for url, _label in ROW_LINK_RE.findall(html):
        response = http.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, url
        opened += 1
    return opened


@pytest.fixture
def book(world):
    """Items in rm_a's book (and the same kind of item in team B, which no one in team A may see)."""
    today = business_today()
    ca1, ca2, cb1 = _client("CA0001"), _client("CA0002"), _client("CB0001")
    ca1.followup_grade, ca1.followup_due = "B", today - timedelta(days=4)
    ca2.followup_grade, ca2.followup_due = "A", today
    cb1.followup_grade, cb1.followup_due = "C", today - timedelta(days=9)
    give_profile(ca1, "C3", days_ago=720)  # 24 months less about ten days: expiring
    give_profile(ca2, "C2", days_ago=800, flags=["no_experience_but_aggressive"])  # expired (not flagged: expired)
    give_profile(cb1, "C3", days_ago=720)
    product = suitability_ops.create_product("P-R5", "高风险产品", "High-risk product", "hybrid_fund", 5)
    warning = suitability_ops.record_suitability(ca1, product, action="subscription", amount=None, note=None,
                                                 extra_care_given=False, by_user=_user("rm_a"))
    assert warning.outcome == "warning"
    db.session.commit()
    return {"today": today, "warning": warning}


def test_a_manager_sees_their_own_queues_with_links_that_open(client, auth, book):
    auth.login("rm_a")
    html = client.get("/").get_data(as_text=True)
    assert sections(html) == {"followups_overdue": 1, "followups_due_today": 1, "profiles_expiring": 1,
                              "profiles_expired": 1, "warnings_awaiting": 1, "consistency_flags": 0}
    assert links_of(html, "followups_overdue") == [("/clients/CA0001/followups", "张三a (CA0001)")]
    assert links_of(html, "followups_due_today") == [("/clients/CA0002/followups", "李四a (CA0002)")]
    assert links_of(html, "profiles_expiring") == [("/clients/CA0001/assess", "张三a (CA0001)")]
    assert links_of(html, "warnings_awaiting") == [(f"/suitability/records/{book['warning'].id}", "张三a (CA0001)")]
    assert "CB0001" not in html
    assert assert_links_open(client, html) == 5
    # The section's own link: the book filtered to the same clients.
    assert 'href="/book?profile=expiring"' in section_html(html, "profiles_expiring")


def test_contradictory_answers_in_force_are_queued_for_review(client, auth, book):
    give_profile(_client("CA0002"), "C4", flags=["no_experience_but_aggressive"])
    db.session.commit()
    auth.login("rm_a")
    html = client.get("/").get_data(as_text=True)
    assert sections(html)["consistency_flags"] == 1 and sections(html)["profiles_expired"] == 0
    [(url, label)] = links_of(html, "consistency_flags")
    assert url.startswith("/questionnaire/result/") and label == "李四a (CA0002)"
    assert client.get(url).status_code == 200


def test_a_queue_shows_its_first_rows_and_how_many_more(client, auth, world, make):
    today = business_today()
    rm = _manager("RMA1")
    for i in range(8):
        extra = make.client(rm, client_no=f"CX{i:04d}")
        extra.followup_grade, extra.followup_due = "D", today - timedelta(days=20 - i)
    db.session.commit()
    auth.login("rm_a")
    html = client.get("/").get_data(as_text=True)
    assert sections(html)["followups_overdue"] == 8
    assert [label for _url, label in links_of(html, "followups_overdue")] == [
        f"客户{n} (CX{i:04d})" for i, n in zip(range(5), range(make.n - 7, make.n - 2), strict=True)]
    assert "及其他 3 项" in section_html(html, "followups_overdue")  # the user's language: Chinese by default


def test_a_supervisor_sees_their_teams_overdue_per_manager_evaluations_and_recommendations(client, auth, book):
    cycle = evaluation_ops.create_cycle("2026 Q4", date(2026, 10, 1), date(2026, 12, 31), book_team("TEAMA"),
                                        _user("admin"))
    evaluation_ops.open_cycle(cycle, _user("admin"))
    _client("CA0002").followup_due = book["today"] - timedelta(days=1)  # RMA1: two overdue, one row
    rule_set = db.session.scalar(select(PromotionRuleSet).order_by(PromotionRuleSet.version.desc()))
    run = PromotionRun(rule_set_id=rule_set.id, as_of=book["today"])
    db.session.add(run)
    db.session.flush()
    for employee_no, recommendation in (("RMA2", "promote"), ("RMA1", "hold"), ("RMB2", "promote")):
        manager = _manager(employee_no)
        target = "senior" if recommendation == "promote" else None
        db.session.add(PromotionRecommendation(
            run_id=run.id, manager_id=manager.id, level=manager.level, recommendation=recommendation,
            target_level=target, level_since=manager.level_since, open_flags=0,
            detail={"recommendation": recommendation, "target_level": target, "clauses": [],
                    "eligible_in_months": None, "eligible_on": None}))
    db.session.commit()

    auth.login("sup_a")
    html = client.get("/").get_data(as_text=True)
    counts = sections(html)
    assert counts["team_overdue"] == 2 and counts["evaluations_to_score"] == 2
    assert counts["recommendations_awaiting"] == 1
    rma1, rma2 = (f"{_manager(no).name} ({no})" for no in ("RMA1", "RMA2"))
    assert [label for _u, label in links_of(html, "team_overdue")] == [rma1]
    assert "及其他" not in section_html(html, "team_overdue")  # one row per manager: none left unlisted
    assert {label for _u, label in links_of(html, "evaluations_to_score")} == {rma1, rma2}
    assert links_of(html, "recommendations_awaiting") == [("/managers/RMA2/eligibility", rma2)]
    assert "RMB" not in html
    assert assert_links_open(client, html) == 4

    # Nominated: no longer awaiting.
    db.session.add(PromotionNomination(manager_id=_manager("RMA2").id, kind="promote", from_level="mid",
                                       to_level="senior", nominated_by_id=_user("sup_a").id, state="pending"))
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert sections(html)["recommendations_awaiting"] == 0


def book_team(code):
    from models import Team

    return db.session.scalar(select(Team).where(Team.code == code))


def test_an_administrator_sees_nominations_to_decide(client, auth, world):
    db.session.add(PromotionNomination(manager_id=_manager("RMA2").id, kind="promote", from_level="mid",
                                       to_level="senior", nominated_by_id=_user("sup_a").id, state="pending"))
    db.session.add(PromotionNomination(manager_id=_manager("RMB2").id, kind="promote", from_level="mid",
                                       to_level="senior", nominated_by_id=_user("sup_b").id, state="rejected"))
    db.session.commit()
    auth.login("admin")
    html = client.get("/").get_data(as_text=True)
    assert sections(html) == {"nominations_to_decide": 1, "imports_refused": 0}
    assert links_of(html, "nominations_to_decide") == [("/managers/RMA2/nomination", f"{_manager('RMA2').name} (RMA2)")]
    assert assert_links_open(client, html) == 1


def test_compliance_sees_mismatches_and_pending_applications(client, auth, book):
    db.session.add(ProfessionalApplication(client_id=_client("CB0002").id, checks={}, status="pending"))
    db.session.add(ProfessionalApplication(client_id=_client("CB0003").id, checks={}, status="approved"))
    db.session.commit()
    auth.login("compliance")
    html = client.get("/").get_data(as_text=True)
    assert sections(html) == {"mismatches": 1, "professional_applications": 1, "retake_raises": 0}
    assert links_of(html, "mismatches") == [("/clients/CA0001/suitability", "张三a (CA0001)")]
    [(url, label)] = links_of(html, "professional_applications")
    assert label == f"{_client('CB0002').name} (CB0002)" and url.startswith("/compliance/professional-applications/")
    assert assert_links_open(client, html) == 2


def test_a_client_sees_the_questionnaire_their_warnings_and_their_package(client, auth, book):
    auth.login("client_a")
    html = client.get("/").get_data(as_text=True)
    assert sections(html) == {"questionnaire": 1, "warnings_to_confirm": 1, "package": 1}
    assert links_of(html, "questionnaire")[0][0] == "/questionnaire"
    assert links_of(html, "warnings_to_confirm")[0][0] == "/me/suitability"
    assert assert_links_open(client, html) == 3


def test_a_client_with_a_valid_profile_has_no_questionnaire_to_fill(client, auth, world):
    give_profile(_client("CA0001"), "C3")
    db.session.commit()
    auth.login("client_a")
    html = client.get("/").get_data(as_text=True)
    assert sections(html)["questionnaire"] == 0 and sections(html)["warnings_to_confirm"] == 0


@pytest.mark.parametrize("username", ["rm_a", "sup_a"])
def test_the_queues_cost_the_same_few_statements_whatever_the_number_of_items(client, auth, world, make, username):
    """Counts and first rows per section, never one query per item."""
    def statements_for_home() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    today = business_today()
    rm = _manager("RMA1")
    first = make.client(rm, client_no="CY9999")
    first.followup_grade, first.followup_due = "D", today - timedelta(days=1)
    db.session.commit()
    auth.login(username)
    few = statements_for_home()
    for i in range(30):
        extra = make.client(rm, client_no=f"CY{i:04d}")
        extra.followup_grade, extra.followup_due = "D", today - timedelta(days=i + 1)
    db.session.commit()
    assert statements_for_home() == few


def test_an_administrator_sees_the_imports_refused_this_week(client, auth, world):
    from models.imports import DataImport

    now = datetime.now(UTC)
    db.session.add_all([
        DataImport(at=now - timedelta(hours=2), kind="staff", source="upload", outcome="refused", filename="roster.csv"),
        DataImport(at=now - timedelta(hours=1), kind="staff", source="upload", outcome="applied", filename="roster.csv"),
        DataImport(at=now - timedelta(days=9), kind="clients", source="cli", outcome="refused", filename="old.csv"),
    ])
    db.session.commit()
    auth.login("admin")
    html = client.get("/").get_data(as_text=True)
    assert sections(html)["imports_refused"] == 1
    [(url, label)] = links_of(html, "imports_refused")
    assert url.startswith("/admin/imports/") and "roster.csv" in label
    assert assert_links_open(client, html) == 1


def test_compliance_sees_grades_raised_on_retake(client, auth, book):
    customer = _client("CA0002")
    give_profile(customer, "C2", days_ago=3)
    earlier = db.session.scalar(select(RiskAssessment.id).where(RiskAssessment.client_id == customer.id)
                                .order_by(RiskAssessment.id.desc()).limit(1))
    at = datetime.now(UTC) - timedelta(days=1)
    raised = RiskAssessment(client_id=customer.id, version_id=active_version().id, answers={}, group_points={},
                            raw_points=0, score=70, band_grade="C4", grade="C4", risk_class=risk_class_of("C4"),
                            lowest_category=False, caps=[], flags=[], channel="self", submitted_at=at,
                            raised_from_id=earlier)
    db.session.add(raised)
    db.session.flush()
    put_in_force(raised, customer, at=at)
    db.session.commit()
    auth.login("compliance")
    html = client.get("/").get_data(as_text=True)
    assert sections(html)["retake_raises"] == 1
    [(url, label)] = links_of(html, "retake_raises")
    assert url == "/clients/CA0002/assessments" and label == f"{customer.name} (CA0002)"
    assert "C2 → C4" in section_html(html, "retake_raises")
    assert assert_links_open(client, html) >= 1
