"""The import history: every onboarding import, applied or refused, with who, when, what and the file's SHA-256.

An applied import's row is written in the import's own transaction (its id is the `import_id` of the
answer and the reason on the assignment and level history it wrote). A refused import's transaction
is rolled back; its row is written afterwards, with the first bad rows as codes, so that the history
and the administrator's home page show what was refused and why.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from models import DataImport, db, utcnow
from portal.audit import record

PROBLEMS_KEPT = 200


def _actor(by_user) -> dict:
    if by_user is None or not getattr(by_user, "is_authenticated", True):
        return {"actor_id": None, "actor_username": None}
    return {"actor_id": by_user.id, "actor_username": by_user.username}


def record_applied(kind: str, source: str, filename: str | None, sha256: str, by_user, options: dict,
                   at: datetime) -> DataImport:
    """The history row of an import being applied (its counts are filled in when the writes are done)."""
    entry = DataImport(at=at, kind=kind, source=source, outcome="applied",
                       filename=(filename or None) and filename[-200:], sha256=sha256, options=options,
                       problem_total=0, **_actor(by_user))
    db.session.add(entry)
    db.session.flush()
    return entry


def record_refused(kind: str, source: str, filename: str | None, sha256: str | None, by_user, options: dict,
                   refused) -> DataImport:
    """The history row and audit row of a refused import; call after rolling the import back, then commit."""
    problems = [problem.as_dict() for problem in refused.problems[:PROBLEMS_KEPT]]
    entry = DataImport(at=utcnow(), kind=kind, source=source, outcome="refused",
                       filename=(filename or None) and filename[-200:], sha256=sha256, options=options,
                       code=refused.code[:30], message=refused.message[:500], problem_total=refused.total or 0,
                       problems=problems, **_actor(by_user))
    db.session.add(entry)
    db.session.flush()
    record(f"import.{kind}", "data_import", entry.id, outcome="failed", actor=by_user,
           after={"source": source, "filename": filename, "sha256": sha256, **options, "code": refused.code,
                  "problems": refused.total or len(problems)})
    return entry


def imports_query(kind: str | None = None, outcome: str | None = None) -> Select:
    """Imports newest first, optionally of one kind or outcome (the history page)."""
    stmt = select(DataImport).order_by(DataImport.at.desc(), DataImport.id.desc())
    if kind:
        stmt = stmt.where(DataImport.kind == kind)
    if outcome:
        stmt = stmt.where(DataImport.outcome == outcome)
    return stmt


def refused_imports(limit: int = 10, since: datetime | None = None) -> list[DataImport]:
    """The latest refused imports, newest first (ix_data_imports_outcome_at): for the administrator's home page."""
    stmt = imports_query(outcome="refused").limit(limit)
    if since is not None:
        stmt = stmt.where(DataImport.at >= since)
    return list(db.session.scalars(stmt))
