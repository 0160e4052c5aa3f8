"""Professional-investor status: check the figures the portal holds, apply, and compliance's decision.

The criteria are rules (`portal/rules/investor.py`); this module reads the figures they need, stores
applications and records compliance's decision. Compliance checks the client's evidence before deciding.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from models import AssetSnapshot, Client, ProfessionalApplication, db, utcnow
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import investor as rules
from portal.rules.calendar import business_today

REASON_MAX = 500



def _latest_assets(client: Client) -> tuple[Decimal, date | None] | None:
    """The client's total assets at their newest statistics date (asset_snapshots), or None when none is held."""
    row = db.session.execute(select(AssetSnapshot.total_assets, AssetSnapshot.stat_date)
                             .where(AssetSnapshot.client_id == client.id)
                             .order_by(AssetSnapshot.stat_date.desc()).limit(1)).first()
    if row is None or row[0] is None:
        return None
    return Decimal(row[0]), row[1]


def professional_checks(client: Client, today: date | None = None) -> dict[str, Any]:
    """Each criterion with the figure the portal holds and met / not_met / no_data, plus the overall result."""
    return rules.assess(_latest_assets(client), client.opened_on, today or business_today())


def pending_application(client: Client) -> ProfessionalApplication | None:
    return db.session.scalar(select(ProfessionalApplication)
                             .where(ProfessionalApplication.client_id == client.id,
                                    ProfessionalApplication.status == "pending")
                             .order_by(ProfessionalApplication.id.desc()).limit(1))


def applications_of(client: Client) -> list[ProfessionalApplication]:
    return list(db.session.scalars(select(ProfessionalApplication)
                                   .where(ProfessionalApplication.client_id == client.id)
                                   .order_by(ProfessionalApplication.applied_at.desc(),
                                             ProfessionalApplication.id.desc())))


def apply(client: Client, user) -> ProfessionalApplication:
    """Store a pending application with the figures the portal holds now (one pending at a time)."""
    # Lock the client's row so that two tabs applying at once queue, and the second sees the first.
    db.session.execute(select(Client.id).where(Client.id == client.id).with_for_update())
    if client.investor_category == "professional":
        raise OperationError(_("You are already a professional investor."), code="already_professional")
    if pending_application(client) is not None:
        raise OperationError(_("Your application is already with compliance; you can apply again once it is "
                               "decided."), code="pending")
    checks = professional_checks(client)
    application = ProfessionalApplication(client_id=client.id, applied_at=utcnow(), checks=checks, status="pending")
    db.session.add(application)
    db.session.flush()
    record("investor.apply", "client", client.client_no,
           before={"investor_category": client.investor_category},
           after={"application": application.id, "status": "pending", "checks": checks}, actor=user)
    db.session.flush()
    return application


def decide(application: ProfessionalApplication, approve: bool, reason: str | None, user) -> ProfessionalApplication:
    """Approve (the client becomes professional) or reject, with a reason; an application is decided once."""
    reason = (reason or "").strip()
    if not reason:
        raise OperationError(_("Give the reason for the decision."), field="reason")
    if len(reason) > REASON_MAX:
        raise OperationError(_("The reason may have at most %(n)d characters.", n=REASON_MAX), field="reason")
    status = "approved" if approve else "rejected"
    decided_at = utcnow()
    # A conditional UPDATE: of two officers deciding at once, exactly one changes the row.
    changed = db.session.execute(
        update(ProfessionalApplication)
        .where(ProfessionalApplication.id == application.id, ProfessionalApplication.status == "pending")
        .values(status=status, decided_by_id=user.id, decided_at=decided_at, reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.refresh(application)
        raise OperationError(_("This application has already been decided; it cannot be decided again."),
                             code="already_decided")
    db.session.refresh(application)
    client = application.client
    before = {"status": "pending", "investor_category": client.investor_category}
    if approve:
        client.investor_category = "professional"
    db.session.flush()
    record(f"investor.{'approve' if approve else 'reject'}", "client", client.client_no, before=before,
           after={"application": application.id, "status": status, "investor_category": client.investor_category,
                  "reason": reason}, actor=user)
    db.session.flush()
    return application
