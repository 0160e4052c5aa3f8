"""Work queues: what each person has to do today, as sections of counts, first rows and links.

One function per role (`QUEUES`) returns that role's sections; each section is built by one small function
listed in the role's tuple, so a section is added by writing its function and appending it there. Every
section is the person's own work only (a manager's book, a supervisor's teams) and is read with an indexed
count plus a LIMITed first page, so a home page stays fast at a million clients and ten thousand managers.
The same sections are the content of the staff reminder e-mail (portal/operations/reminders.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from models import (
    Client,
    Evaluation,
    EvaluationCycle,
    Manager,
    ProfessionalApplication,
    PromotionNomination,
    PromotionRecommendation,
    RiskAssessment,
    RiskProfile,
    SuitabilityConfirmation,
    SuitabilityRecord,
    db,
)
from portal.access import supervised_team_ids
from portal.formatting import fmt_date
from portal.rules.calendar import business_today
from portal.rules.profile import EXPIRING_DAYS

FIRST_ROWS = 5


@dataclass
class QueueRow:
    """One item: what it is, a short detail (a date, a count), and the page where it is done."""

    label: str
    detail: str
    url: str


@dataclass
class QueueSection:
    """A queue: a stable key (tests, e-mails), its title, how many items, the first rows, and the full list."""

    key: str
    title: str
    count: int
    rows: list[QueueRow] = field(default_factory=list)
    url: str | None = None
    link_text: str | None = None
    # Information rather than work (the client's package): shown, never counted as something to do.
    informational: bool = False
    # How many rows there are to list, where a row is not one item (the team queue: one row per manager).
    listed: int | None = None

    @property
    def more(self) -> int:
        return max((self.count if self.listed is None else self.listed) - len(self.rows), 0)


def _client_label(name: str, client_no: str) -> str:
    return f"{name} ({client_no})"


# --- relationship manager ---------------------------------------------------------------------------------

def _book_clients(user, *conditions, order) -> tuple[int, list]:
    """Count and first rows of the manager's own clients matching `conditions` (indexed on manager_id)."""
    where = (Client.manager_id == (user.manager_id or -1), *conditions)
    count = db.session.scalar(select(func.count(Client.id)).where(*where)) or 0
    rows = db.session.execute(
        select(Client.client_no, Client.name, Client.followup_grade, Client.followup_due, Client.profile_valid_until)
        .where(*where).order_by(*order).limit(FIRST_ROWS)).all() if count else []
    return count, rows


def followups_overdue(user, today: date) -> QueueSection:
    count, rows = _book_clients(user, Client.followup_due < today, order=(Client.followup_due, Client.client_no))
    return QueueSection(
        "followups_overdue", _("Follow-ups overdue"), count,
        [QueueRow(_client_label(r.name, r.client_no),
                  _("grade %(grade)s, due %(day)s", grade=r.followup_grade or "—", day=fmt_date(r.followup_due)),
                  url_for("followups.history", client_no=r.client_no)) for r in rows],
        url_for("followups.dashboard"), _("Open the follow-up dashboard"))


def followups_due_today(user, today: date) -> QueueSection:
    count, rows = _book_clients(user, Client.followup_due == today, order=(Client.client_no,))
    return QueueSection(
        "followups_due_today", _("Follow-ups due today"), count,
        [QueueRow(_client_label(r.name, r.client_no), _("grade %(grade)s", grade=r.followup_grade or "—"),
                  url_for("followups.history", client_no=r.client_no)) for r in rows],
        url_for("followups.dashboard"), _("Open the follow-up dashboard"))


def profiles_expiring(user, today: date) -> QueueSection:
    soon = today + timedelta(days=EXPIRING_DAYS)
    count, rows = _book_clients(user, Client.profile_valid_until.between(today, soon),
                                order=(Client.profile_valid_until, Client.client_no))
    return QueueSection(
        "profiles_expiring", _("Risk profiles expiring within %(n)d days", n=EXPIRING_DAYS), count,
        [QueueRow(_client_label(r.name, r.client_no), _("valid until %(day)s", day=fmt_date(r.profile_valid_until)),
                  url_for("questionnaire.assisted_start", client_no=r.client_no)) for r in rows],
        url_for("clients.my_book", profile="expiring"), _("Show them in the book"))


def profiles_expired(user, today: date) -> QueueSection:
    count, rows = _book_clients(user, Client.profile_valid_until < today,
                                order=(Client.profile_valid_until, Client.client_no))
    return QueueSection(
        "profiles_expired", _("Risk profiles expired"), count,
        [QueueRow(_client_label(r.name, r.client_no), _("expired %(day)s", day=fmt_date(r.profile_valid_until)),
                  url_for("questionnaire.assisted_start", client_no=r.client_no)) for r in rows],
        url_for("clients.my_book", profile="expired"), _("Show them in the book"))


def _pending_warnings(clients_where, today: date):
    """Warnings resting on the client's profile in force, still unconfirmed (as operations.suitability)."""
    record = SuitabilityRecord
    return (select(record.id, record.recorded_at, Client.client_no, Client.name)
            .join(Client, Client.id == record.client_id)
            .outerjoin(SuitabilityConfirmation, SuitabilityConfirmation.record_id == record.id)
            .where(clients_where, record.outcome == "warning", record.profile_id == Client.profile_id,
                   Client.profile_valid_until >= today, SuitabilityConfirmation.id.is_(None)))


def warnings_awaiting(user, today: date) -> QueueSection:
    stmt = _pending_warnings(Client.manager_id == (user.manager_id or -1), today)
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(SuitabilityRecord.recorded_at, SuitabilityRecord.id)
                              .limit(FIRST_ROWS)).all() if count else []
    return QueueSection(
        "warnings_awaiting", _("Risk warnings awaiting the client's confirmation"), count,
        [QueueRow(_client_label(r.name, r.client_no), _("recorded %(day)s", day=fmt_date(r.recorded_at)),
                  url_for("suitability.record_detail", record_id=r.id)) for r in rows])


def consistency_flags(user, today: date) -> QueueSection:
    """Clients whose profile in force was answered with contradictory answers (consistency checks)."""
    flagged = func.json_array_length(RiskAssessment.flags) > 0  # the same function on PostgreSQL and SQLite
    stmt = (select(Client.client_no, Client.name, RiskAssessment.id.label("assessment_id"),
                   RiskAssessment.submitted_at)
            .join(RiskProfile, RiskProfile.id == Client.profile_id)
            .join(RiskAssessment, RiskAssessment.id == RiskProfile.assessment_id)
            .where(Client.manager_id == (user.manager_id or -1), Client.profile_valid_until >= today,
                   flagged))
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(Client.client_no).limit(FIRST_ROWS)).all() if count else []
    return QueueSection(
        "consistency_flags", _("Contradictory answers to review"), count,
        [QueueRow(_client_label(r.name, r.client_no), _("answered %(day)s", day=fmt_date(r.submitted_at)),
                  url_for("questionnaire.result", assessment_id=r.assessment_id)) for r in rows])


# --- supervisor -------------------------------------------------------------------------------------------

def _team_manager_ids(user):
    return select(Manager.id).where(Manager.team_id.in_(supervised_team_ids(user) or [-1]))


def team_overdue(user, today: date) -> QueueSection:
    """Overdue follow-ups in the supervisor's teams, per manager, the most behind first."""
    per_manager = (select(Client.manager_id, func.count(Client.id).label("overdue"))
                   .where(Client.manager_id.in_(_team_manager_ids(user)), Client.followup_due < today)
                   .group_by(Client.manager_id).subquery())
    rows = db.session.execute(
        select(Manager.employee_no, Manager.name, per_manager.c.overdue)
        .join(per_manager, per_manager.c.manager_id == Manager.id)
        .order_by(per_manager.c.overdue.desc(), Manager.employee_no)).all()
    count = sum(r.overdue for r in rows)
    return QueueSection(
        "team_overdue", _("Overdue follow-ups in your teams"), count,
        [QueueRow(f"{r.name} ({r.employee_no})", _("%(n)d overdue", n=r.overdue),
                  url_for("clients.manager_book", employee_no=r.employee_no, sort="followup_due"))
         for r in rows[:FIRST_ROWS]],
        url_for("teams.team"), _("Open your team"), listed=len(rows))


def evaluations_to_score(user, today: date) -> QueueSection:
    from portal.evaluations.scope import scorable_managers

    scorable = scorable_managers(user)
    stmt = (select(Evaluation.cycle_id, EvaluationCycle.name.label("cycle_name"), Manager.employee_no, Manager.name)
            .join(EvaluationCycle, EvaluationCycle.id == Evaluation.cycle_id)
            .join(Manager, Manager.id == Evaluation.manager_id)
            .where(EvaluationCycle.state == "open", Evaluation.total.is_(None)))
    if scorable is not None:
        stmt = stmt.where(Evaluation.manager_id.in_(scorable))
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(EvaluationCycle.end_date, Evaluation.cycle_id, Manager.employee_no)
                              .limit(FIRST_ROWS)).all() if count else []
    return QueueSection(
        "evaluations_to_score", _("Evaluations to score in open cycles"), count,
        [QueueRow(f"{r.name} ({r.employee_no})", r.cycle_name,
                  url_for("evaluations.evaluation", cycle_id=r.cycle_id, employee_no=r.employee_no)) for r in rows],
        url_for("evaluations.cycles", state="open"), _("Open the cycles"))


def recommendations_awaiting(user, today: date) -> QueueSection:
    """Team members whose latest engine recommendation is a move not yet nominated (nor decided)."""
    team = _team_manager_ids(user)
    latest = (select(func.max(PromotionRecommendation.id).label("id"))
              .where(PromotionRecommendation.manager_id.in_(team))
              .group_by(PromotionRecommendation.manager_id).subquery())
    nominated = select(PromotionNomination.id).where(
        (PromotionNomination.recommendation_id == PromotionRecommendation.id)
        | and_(PromotionNomination.manager_id == PromotionRecommendation.manager_id,
               PromotionNomination.state == "pending"))
    stmt = (select(Manager.employee_no, Manager.name, PromotionRecommendation.recommendation,
                   PromotionRecommendation.target_level)
            .join(latest, latest.c.id == PromotionRecommendation.id)
            .join(Manager, Manager.id == PromotionRecommendation.manager_id)
            .where(PromotionRecommendation.recommendation.in_(("promote", "demote")),
                   PromotionRecommendation.level == Manager.level, ~nominated.exists()))
    rows = db.session.execute(stmt.order_by(Manager.employee_no)).all()
    from portal.labels import labels

    level = labels()["level"]
    words = {"promote": _("recommended for promotion to %(level)s"),
             "demote": _("recommended for demotion to %(level)s")}
    return QueueSection(
        "recommendations_awaiting", _("Recommendations awaiting your nomination"), len(rows),
        [QueueRow(f"{r.name} ({r.employee_no})", words[r.recommendation] % {"level": level.get(r.target_level, "—")},
                  url_for("promotions.eligibility", employee_no=r.employee_no)) for r in rows[:FIRST_ROWS]],
        url_for("teams.team"), _("Open your team"))


# --- administrator ----------------------------------------------------------------------------------------

def nominations_to_decide(user, today: date) -> QueueSection:
    pending = PromotionNomination.state == "pending"
    count = db.session.scalar(select(func.count(PromotionNomination.id)).where(pending)) or 0
    rows = db.session.execute(
        select(Manager.employee_no, Manager.name, PromotionNomination.kind, PromotionNomination.nominated_at)
        .join(Manager, Manager.id == PromotionNomination.manager_id).where(pending)
        .order_by(PromotionNomination.nominated_at, PromotionNomination.id).limit(FIRST_ROWS)).all() if count else []
    words = {"promote": _("promotion, nominated %(day)s"), "demote": _("demotion, nominated %(day)s")}
    return QueueSection(
        "nominations_to_decide", _("Nominations to decide"), count,
        [QueueRow(f"{r.name} ({r.employee_no})", words[r.kind] % {"day": fmt_date(r.nominated_at)},
                  url_for("promotions.nomination", employee_no=r.employee_no)) for r in rows],
        url_for("promotions.nominations"), _("Open the nominations"))


# --- compliance -------------------------------------------------------------------------------------------

def mismatches(user, today: date) -> QueueSection:
    from portal.compliance.queries import AsOf, Scope, count, mismatch_list

    stmt = mismatch_list(user, Scope(), AsOf(today, today))
    total = count(stmt)
    rows = db.session.execute(stmt.limit(FIRST_ROWS)).all() if total else []
    return QueueSection(
        "mismatches", _("Mismatched clients"), total,
        [QueueRow(_client_label(r.name, r.client_no), _("manager %(name)s", name=r.manager_name or "—"),
                  url_for("suitability.client_records", client_no=r.client_no)) for r in rows],
        url_for("compliance.mismatches"), _("Open the mismatch list"))


def professional_applications(user, today: date) -> QueueSection:
    pending = ProfessionalApplication.status == "pending"
    count = db.session.scalar(select(func.count(ProfessionalApplication.id)).where(pending)) or 0
    rows = db.session.execute(
        select(ProfessionalApplication.id, ProfessionalApplication.applied_at, Client.client_no, Client.name)
        .join(Client, Client.id == ProfessionalApplication.client_id).where(pending)
        .order_by(ProfessionalApplication.applied_at, ProfessionalApplication.id).limit(FIRST_ROWS)
    ).all() if count else []
    return QueueSection(
        "professional_applications", _("Professional-investor applications"), count,
        [QueueRow(_client_label(r.name, r.client_no), _("applied %(day)s", day=fmt_date(r.applied_at)),
                  url_for("investor.application", application_id=r.id)) for r in rows],
        url_for("investor.applications"), _("Open the applications"))


def imports_refused(user, today: date) -> QueueSection:
    """Onboarding imports refused in the last seven days: someone has a file to mend and send again."""
    from models.imports import DataImport
    from portal.rules.calendar import BUSINESS_TZ, start_of_business_day

    since = start_of_business_day(today - timedelta(days=7))
    refused = and_(DataImport.outcome == "refused", DataImport.at >= since)
    count = db.session.scalar(select(func.count(DataImport.id)).where(refused)) or 0
    rows = db.session.scalars(select(DataImport).where(refused).order_by(DataImport.at.desc(), DataImport.id.desc())
                              .limit(FIRST_ROWS)).all() if count else []
    kinds = {"branches": _("Branches"), "staff": _("Staff roster"), "clients": _("Clients")}
    return QueueSection(
        "imports_refused", _("Imports refused"), count,
        [QueueRow(f"{kinds.get(r.kind, r.kind)} · {r.filename or r.source}",
                  _("refused %(day)s", day=fmt_date(r.at.astimezone(BUSINESS_TZ).date())),
                  url_for("onboarding.detail", import_id=r.id)) for r in rows],
        url_for("onboarding.history_page", outcome="refused"), _("Open the import history"))


def retake_raises(user, today: date) -> QueueSection:
    """Grades raised on a retake within 30 days of the previous submission, in the last 30 days."""
    from portal.compliance.queries import Scope
    from portal.compliance.queries import retake_raises as raises_query

    stmt = raises_query(user, Scope(), today, today - timedelta(days=30))
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.limit(FIRST_ROWS)).all() if count else []
    return QueueSection(
        "retake_raises", _("Grade raised on retake"), count,
        [QueueRow(_client_label(r.name, r.client_no), f"{r.old_grade} → {r.new_grade}",
                  url_for("questionnaire.client_history", client_no=r.client_no)) for r in rows],
        url_for("compliance.retake_raise_list"), _("Open the list"))


# --- client -----------------------------------------------------------------------------------------------

def client_questionnaire(user, today: date) -> QueueSection:
    client = user.client
    valid_until = client.profile_valid_until if client else None
    rows = []
    if client is not None and (valid_until is None or valid_until <= today + timedelta(days=EXPIRING_DAYS)):
        if valid_until is None:
            detail = _("You have no risk profile yet.")
        elif valid_until < today:
            detail = _("Your risk profile expired on %(day)s.", day=fmt_date(valid_until))
        else:
            detail = _("Your risk profile is valid until %(day)s.", day=fmt_date(valid_until))
        rows.append(QueueRow(_("Fill in the risk questionnaire"), detail, url_for("questionnaire.start")))
    return QueueSection("questionnaire", _("Risk questionnaire"), len(rows), rows)


def client_warnings(user, today: date) -> QueueSection:
    stmt = _pending_warnings(Client.id == (user.client_id or -1), today)
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(SuitabilityRecord.recorded_at).limit(FIRST_ROWS)).all() if count else []
    return QueueSection(
        "warnings_to_confirm", _("Risk warnings to confirm"), count,
        [QueueRow(_("Risk warning of %(day)s", day=fmt_date(r.recorded_at)), _("awaiting your confirmation"),
                  url_for("suitability.my_records")) for r in rows],
        url_for("suitability.my_records"), _("Open your product records"))


def client_package(user, today: date) -> QueueSection:
    from portal.suitability.views import service_package_of

    client = user.client
    rows = []
    if client is not None:
        package = service_package_of(client)
        label = package["name"] if package["code"] else package["reason_text"]
        rows.append(QueueRow(label, ", ".join(package["services"][:3]), url_for("clients.my_account")))
    return QueueSection("package", _("Your service package"), len(rows), rows, informational=True)


# --- each role's sections, in the order the home page shows them -------------------------------------------

Section = Callable[..., QueueSection]

MANAGER_SECTIONS: tuple[Section, ...] = (followups_overdue, followups_due_today, profiles_expiring, profiles_expired,
                                         warnings_awaiting, consistency_flags)
SUPERVISOR_SECTIONS: tuple[Section, ...] = (team_overdue, evaluations_to_score, recommendations_awaiting)
ADMIN_SECTIONS: tuple[Section, ...] = (nominations_to_decide, imports_refused)
COMPLIANCE_SECTIONS: tuple[Section, ...] = (mismatches, professional_applications, retake_raises)
CLIENT_SECTIONS: tuple[Section, ...] = (client_questionnaire, client_warnings, client_package)

QUEUES: dict[str, tuple[Section, ...]] = {
    "rm": MANAGER_SECTIONS,
    "supervisor": SUPERVISOR_SECTIONS,
    "admin": ADMIN_SECTIONS,
    "compliance": COMPLIANCE_SECTIONS,
    "client": CLIENT_SECTIONS,
}


def queues_for(user, today: date | None = None) -> list[QueueSection]:
    """The user's work queues for the business day (a request context is needed for the links)."""
    today = today or business_today()
    if user.role == "rm" and user.manager_id is None or user.role == "client" and user.client_id is None:
        return []
    return [section(user, today) for section in QUEUES.get(user.role, ())]


def open_items(sections: list[QueueSection]) -> int:
    """How many things there are to do (information sections not counted)."""
    return sum(s.count for s in sections if not s.informational)
