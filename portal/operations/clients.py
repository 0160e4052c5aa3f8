"""Client records and their assignment to managers."""
from __future__ import annotations

from flask_babel import gettext as _

from models import Client, ClientAssignment, Manager, db
from portal.audit import record
from portal.operations.errors import OperationError


def reassign_client(client: Client, to_manager: Manager, by_user, reason: str | None = None) -> ClientAssignment:
    """Move a client to another manager, keeping the history; one audit row."""
    if to_manager.id == client.manager_id:
        raise OperationError(_("The client is already in this manager's book."), "to_manager")
    if to_manager.status != "active":
        raise OperationError(_("Clients can only be assigned to an active manager."), "to_manager")
    reason = (reason or "").strip() or None
    if reason and len(reason) > 200:
        raise OperationError(_("The reason must be at most 200 characters."), "reason")
    before = {"manager": client.manager.employee_no if client.manager else None}
    assignment = ClientAssignment(client=client, from_manager_id=client.manager_id, to_manager=to_manager,
                                  assigned_by_id=by_user.id if by_user else None, reason=reason)
    client.manager = to_manager
    db.session.add(assignment)
    db.session.flush()
    record("client.reassign", "client", client.client_no, before=before,
           after={"manager": to_manager.employee_no, "reason": reason})
    return assignment
