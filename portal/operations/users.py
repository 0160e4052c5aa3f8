"""Users, API tokens and sign-in: every change writes its audit row and flushes; the caller commits."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from models import ROLES, ApiToken, Client, Manager, User, db, utcnow
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules import passwords
from portal.security import hash_token

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
# A hash to check against when the username is unknown, so both paths do the same work: one per hash
# method, computed once per process (`prepare_dummy_hash` at start-up), never during a sign-in.
_DUMMY_HASH: dict[str, str] = {}


def prepare_dummy_hash(method: str) -> str:
    """The dummy hash of `method`, computed the first time only."""
    dummy = _DUMMY_HASH.get(method)
    if dummy is None:
        dummy = _DUMMY_HASH[method] = generate_password_hash(secrets.token_urlsafe(24), method=method)
    return dummy


def password_problem_message(code: str) -> str:
    """The user's-language sentence for a code of portal.rules.passwords."""
    if code == passwords.TOO_SHORT:
        return _("The password must be at least %(n)d characters long.", n=current_app.config["PASSWORD_MIN_LENGTH"])
    if code == passwords.TOO_LONG:
        return _("The password must be at most 128 characters long.")
    if code == passwords.CONTAINS_USERNAME:
        return _("The password must not contain the username.")
    if code == passwords.REPETITIVE:
        return _("The password repeats a few characters or a pattern; choose a less predictable one.")
    if code == passwords.SEQUENCE:
        return _("The password is a run of consecutive characters such as 123456 or abcdef.")
    if code == passwords.COMMON:
        return _("This password is on a list of common or breached passwords; choose another one.")
    return _("This password cannot be used.")


def check_password_policy(password: str, username: str = "", field: str = "password") -> None:
    """OperationError (code from portal.rules.passwords) for a password the policy refuses."""
    problems = passwords.password_problems(password or "", username,
                                           min_length=current_app.config["PASSWORD_MIN_LENGTH"])
    if problems:
        raise OperationError(password_problem_message(problems[0]), field, problems[0])


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def user_snapshot(user: User) -> dict:
    return {
        "username": user.username, "display_name": user.display_name, "role": user.role, "active": user.active,
        "preferred_language": user.preferred_language,
        "employee_no": user.manager.employee_no if user.manager else None,
        "client_no": user.client.client_no if user.client else None,
    }


def create_user(username: str, display_name: str, role: str, password: str, *, client_no: str | None = None,
                employee_no: str | None = None, preferred_language: str | None = None) -> User:
    """Create a login; a client login names its client, a manager or supervisor login its staff record."""
    username = normalise_username(username)
    if not (2 <= len(username) <= 64) or not set(username) <= USERNAME_CHARS:
        raise OperationError(
            _("A username is 2–64 characters: lower-case letters, digits, dot, dash, underscore."), "username")
    if role not in ROLES:
        raise OperationError(_("Unknown role."), "role")
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 100:
        raise OperationError(_("Enter a display name of at most 100 characters."), "display_name")
    if preferred_language not in (None, "", "zh_CN", "en"):
        raise OperationError(_("Unknown language."), "preferred_language")
    check_password_policy(password, username)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise OperationError(_("The username %(name)s is already taken.", name=username), "username")

    client = manager = None
    if role == "client":
        if not client_no:
            raise OperationError(_("A client login must name its client number."), "client_no")
        client = db.session.scalar(select(Client).where(Client.client_no == client_no.strip()))
        if client is None:
            raise OperationError(_("No client has the number %(no)s.", no=client_no), "client_no")
        if db.session.scalar(select(User.id).where(User.client_id == client.id)) is not None:
            raise OperationError(_("Client %(no)s already has a login.", no=client_no), "client_no")
    elif role in ("rm", "supervisor"):
        if not employee_no:
            raise OperationError(_("A manager or supervisor login must name its employee number."), "employee_no")
        manager = db.session.scalar(select(Manager).where(Manager.employee_no == employee_no.strip()))
        if manager is None:
            raise OperationError(_("No staff record has the employee number %(no)s.", no=employee_no), "employee_no")
        if db.session.scalar(select(User.id).where(User.manager_id == manager.id)) is not None:
            raise OperationError(_("Staff record %(no)s already has a login.", no=employee_no), "employee_no")
    elif client_no or employee_no:
        raise OperationError(_("Only client, manager and supervisor logins are linked to a record."), "role")

    user = User(username=username, display_name=display_name, role=role, password_hash=hash_password(password),
                active=True, preferred_language=preferred_language or None, session_version=1,
                client=client, manager=manager)
    db.session.add(user)
    db.session.flush()
    record("user.create", "user", user.username, after=user_snapshot(user))
    return user


def set_user_active(user: User, active: bool) -> None:
    """Deactivate (or reactivate) a login; deactivation also ends its sessions and tokens."""
    before = user_snapshot(user)
    if user.active == active:
        return
    user.active = active
    if not active:
        user.session_version += 1
        db.session.execute(
            ApiToken.__table__.update()
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    db.session.flush()
    record("user.activate" if active else "user.deactivate", "user", user.username, before=before,
           after=user_snapshot(user))


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; the work done is the same either way.

    With a directory configured, staff logins linked to a staff record (and names no login has) are checked by
    the directory instead (portal/operations/signin.py), which may raise DirectoryUnavailable.
    """
    username = normalise_username(username)
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    from portal.operations.signin import sign_in_with_directory, uses_directory

    if username and uses_directory(user):  # staff with a directory configured: it decides (may raise unavailable)
        return sign_in_with_directory(username, password)
    if user is None:
        check_password_hash(prepare_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    if not user.active:
        return None
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """A user's own new password; every session of theirs issued before now ends (the caller re-issues its own).

    OperationError "wrong_password" when the current password is wrong, or a policy code for the new one.
    """
    if not check_password_hash(user.password_hash, current_password or ""):
        raise OperationError(_("The current password is wrong."), "current_password", "wrong_password")
    check_password_policy(new_password, user.username, "new_password")
    if check_password_hash(user.password_hash, new_password):
        raise OperationError(_("The new password must differ from the current one."), "new_password",
                             "same_password")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    db.session.flush()
    record("user.password_change", "user", user.username, actor=user, after={"other_sessions_ended": True})


def end_all_sessions(user: User) -> None:
    """Sign-out: bump the session version so every cookie issued before now stops working."""
    user.session_version += 1
    db.session.flush()


def create_api_token(user: User, label: str | None = None, days: int | None = None) -> str:
    """A new bearer token for `user`, valid `days` (API_TOKEN_LIFETIME_DAYS by default); the plain token is
    returned once and only its hash kept."""
    days = days if days is not None else current_app.config["API_TOKEN_LIFETIME_DAYS"]
    if not 1 <= days <= 3660:
        raise OperationError(_("A token is valid for 1 to 3660 days."), "days")
    token = secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=hash_token(token), label=label, expires_at=utcnow() + timedelta(days=days))
    db.session.add(row)
    db.session.flush()
    record("api_token.create", "user", user.username,
           after={"token_id": row.id, "label": label, "expires_at": row.expires_at.isoformat()})
    return token


def revoke_api_tokens(user: User) -> int:
    """Revoke every live token of `user`; returns how many."""
    count = db.session.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    db.session.execute(
        ApiToken.__table__.update().where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    record("api_token.revoke", "user", user.username, after={"revoked": count})
    return count
