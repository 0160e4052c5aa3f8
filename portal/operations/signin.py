"""Ways into a login besides a typed local password: the staff directory, staff invitations, client
self-activation (with the details on file, or a code from the manager) and one-time password resets.

Operations change the database, write their audit rows and flush; the caller commits. Refusals that must be
recorded even though nothing is saved go through `record_now`.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from werkzeug.security import check_password_hash

from models import Client, LoginToken, Manager, Team, User, db, utcnow
from portal.audit import record, record_now
from portal.auth.directory import DirectorySettings
from portal.auth.directory import authenticate as directory_authenticate
from portal.operations.errors import OperationError
from portal.operations.users import (
    USERNAME_CHARS,
    check_password_policy,
    create_user,
    hash_password,
    normalise_username,
    prepare_dummy_hash,
    user_snapshot,
)
from portal.security import hash_token

# A password_hash beginning with "!" is no password at all: nothing typed ever matches it.
DIRECTORY_LOGIN = "!directory"
INVITED_LOGIN = "!invited"
# Activation codes are read off paper and typed: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def has_local_password(user: User) -> bool:
    return not (user.password_hash or "!").startswith("!")


# --- the staff directory -------------------------------------------------------------------------

def directory_settings() -> DirectorySettings | None:
    """The directory's settings, or None when LDAP_URL is unset."""
    return DirectorySettings.from_config(current_app.config)


def uses_directory(user: User | None) -> bool:
    """With a directory configured, a staff login linked to a staff record (or a name no login has yet)
    signs in through it; clients and logins without a staff record (the break-glass admin) stay local."""
    if directory_settings() is None:
        return False
    return user is None or (user.role != "client" and user.manager_id is not None)


def _refuse(login: str, reason: str, **detail) -> None:
    record_now("auth.directory_refused", "user", login[:64], outcome="denied", actor_username=login,
               after={"reason": reason, **detail})


def sign_in_with_directory(login: str, password: str) -> User | None:
    """The login of the staff record the directory vouches for, with its role from the directory's groups.

    None when the directory does not accept the name and password, or accepts them for someone who may not
    sign in (no staff record, left, login deactivated): those refusals are written to the audit log.
    Raises DirectoryUnavailable when the directory cannot answer.
    """
    settings = directory_settings()
    login = normalise_username(login)
    # A local login's check costs one hash: so does every directory attempt, so that timing does not tell
    # the names of local logins (the break-glass administrator) from directory names.
    check_password_hash(prepare_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password or "")
    person = directory_authenticate(settings, login, password or "")
    if person is None:
        return None
    if not person.employee_no:
        _refuse(login, "no_employee_number", dn=person.dn)
        return None
    manager = db.session.scalar(select(Manager).where(Manager.employee_no == person.employee_no))
    if manager is None:
        _refuse(login, "no_staff_record", employee_no=person.employee_no)
        return None
    if manager.status == "left":
        _refuse(login, "staff_left", employee_no=person.employee_no)
        return None
    user = db.session.scalar(select(User).where(User.manager_id == manager.id))
    if user is None:
        if not (2 <= len(login) <= 64) or not set(login) <= USERNAME_CHARS or db.session.scalar(
                select(User.id).where(User.username == login)) is not None:
            _refuse(login, "username_unusable", employee_no=person.employee_no)
            return None
        user = User(username=login, display_name=(person.display_name or manager.name)[:100], role=person.role,
                    password_hash=DIRECTORY_LOGIN, active=True, session_version=1, manager=manager)
        db.session.add(user)
        db.session.flush()
        record("user.create", "user", user.username, actor=user, after={**user_snapshot(user), "source": "directory"})
        return user
    if not user.active:
        _refuse(login, "login_deactivated", employee_no=person.employee_no)
        return None
    if user.role != person.role:
        before = user_snapshot(user)
        user.role = person.role
        db.session.flush()
        record("user.role_from_directory", "user", user.username, actor=user, before=before,
               after=user_snapshot(user))
    return user


# --- one-time secrets ----------------------------------------------------------------------------

def _issue(purpose: str, *, user: User | None = None, client: Client | None = None, issued_by: User | None = None,
           secret: str | None = None) -> tuple[str, LoginToken]:
    """A new secret of `purpose`; the live ones of the same login or client are voided."""
    valid = {"invitation": "INVITATION_VALID", "activation": "ACTIVATION_CODE_VALID",
             "reset": "PASSWORD_RESET_VALID"}[purpose]
    now = utcnow()
    owner = LoginToken.user_id == user.id if user is not None else LoginToken.client_id == client.id
    db.session.execute(update(LoginToken).where(owner, LoginToken.purpose == purpose, LoginToken.used_at.is_(None),
                                                LoginToken.revoked_at.is_(None)).values(revoked_at=now))
    secret = secret or secrets.token_urlsafe(32)
    token = LoginToken(purpose=purpose, token_hash=hash_token(secret), user=user, client=client,
                       created_by=issued_by, created_at=now, expires_at=now + current_app.config[valid])
    db.session.add(token)
    db.session.flush()
    return secret, token


def live_token(purpose: str, secret: str) -> LoginToken | None:
    """The unused, unexpired, unrevoked token for this secret, or None (unknown, used, expired: all alike)."""
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(secret),
                                                       LoginToken.purpose == purpose))
    if token is None or token.used_at is not None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token


def _spend(token: LoginToken) -> bool:
    """Mark the token used, once: of two requests racing with the same secret, one wins."""
    result = db.session.execute(update(LoginToken).where(LoginToken.id == token.id, LoginToken.used_at.is_(None))
                                .values(used_at=utcnow()).execution_options(synchronize_session=False))
    db.session.refresh(token)
    return result.rowcount == 1


def link_unusable_message() -> str:
    return _("This link cannot be used: it is unknown, already used or expired. Ask for a new one.")


def set_password_with_token(purpose: str, secret: str, password: str) -> User:
    """Redeem an invitation or reset link: the login's new password, once; every session of the login ends."""
    token = live_token(purpose, secret)
    if token is None or token.user is None or not token.user.active:
        raise OperationError(link_unusable_message(), None, "link_unusable")
    user = token.user
    check_password_policy(password, user.username)
    if not _spend(token):
        raise OperationError(link_unusable_message(), None, "link_unusable")
    user.password_hash = hash_password(password)
    user.session_version += 1  # every cookie issued before now stops working
    db.session.flush()
    action = "user.invitation_accepted" if purpose == "invitation" else "user.password_reset"
    record(action, "user", user.username, actor=user, after={"token_id": token.id})
    return user


@dataclass(frozen=True)
class Invitation:
    employee_no: str
    name: str
    team: str | None
    username: str
    secret: str
    expires_at: datetime


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def invite_staff(team_code: str | None = None, issued_by: User | None = None) -> list[Invitation]:
    """A login (no password yet) and a one-time link for each active staff record without a usable login.

    Staff whose invitation is still pending get a fresh link (the old one is voided). `team_code` narrows it
    to one team; None invites everyone. Works on sets (a broker invites ten thousand staff at once): one
    read, bulk inserts, one audit row naming every login created and every link issued.
    """
    stmt = (select(Manager.id, Manager.employee_no, Manager.name, Team.code, User.id, User.username,
                   User.password_hash, User.active)
            .outerjoin(Team, Team.id == Manager.team_id).outerjoin(User, User.manager_id == Manager.id)
            .where(Manager.status == "active").order_by(Manager.employee_no))
    if team_code:
        team = db.session.scalar(select(Team).where(Team.code == team_code.strip().upper()))
        if team is None:
            raise OperationError(_("No team has the code %(code)s.", code=team_code), "team")
        stmt = stmt.where(Manager.team_id == team.id)
    rows = [row for row in db.session.execute(stmt).all()
            if row[4] is None or (row[6] == INVITED_LOGIN and row[7])]  # no login, or one still waiting
    heads = set(db.session.scalars(select(Team.supervisor_id).where(Team.supervisor_id.is_not(None))))

    new = {row[0]: normalise_username(row[1]) for row in rows if row[4] is None}
    for row in rows:
        username = new.get(row[0])
        if username is not None and (not (2 <= len(username) <= 64) or not set(username) <= USERNAME_CHARS):
            raise OperationError(_("Staff record %(no)s cannot get the login name %(name)s: it is taken or not "
                                   "a valid login name.", no=row[1], name=username), "employee_no")
    taken = [name for chunk in _chunks(list(new.values()))
             for name in db.session.scalars(select(User.username).where(User.username.in_(chunk)))]
    if taken:
        row = next(r for r in rows if new.get(r[0]) == taken[0])
        raise OperationError(_("Staff record %(no)s cannot get the login name %(name)s: it is taken or not "
                               "a valid login name.", no=row[1], name=taken[0]), "employee_no")

    now = utcnow()
    user_ids = {row[0]: row[4] for row in rows if row[4] is not None}
    if new:
        created = db.session.execute(
            insert(User).returning(User.manager_id, User.id, sort_by_parameter_order=True),
            [{"username": new[row[0]], "display_name": row[2], "password_hash": INVITED_LOGIN,
              "role": "supervisor" if row[0] in heads else "rm", "active": True, "session_version": 1,
              "manager_id": row[0], "created_at": now} for row in rows if row[0] in new]).all()
        user_ids.update(dict(created))
    pending = [row[4] for row in rows if row[4] is not None]
    for chunk in _chunks(pending):
        db.session.execute(update(LoginToken).where(
            LoginToken.user_id.in_(chunk), LoginToken.purpose == "invitation", LoginToken.used_at.is_(None),
            LoginToken.revoked_at.is_(None)).values(revoked_at=now).execution_options(synchronize_session=False))
    expires_at = now + current_app.config["INVITATION_VALID"]
    secrets_by_manager = {row[0]: secrets.token_urlsafe(32) for row in rows}
    if rows:
        db.session.execute(insert(LoginToken), [
            {"purpose": "invitation", "token_hash": hash_token(secrets_by_manager[row[0]]),
             "user_id": user_ids[row[0]], "created_by_id": issued_by.id if issued_by else None, "created_at": now,
             "expires_at": expires_at} for row in rows])
    invitations = [Invitation(row[1], row[2], row[3], new.get(row[0]) or row[5], secrets_by_manager[row[0]],
                              expires_at) for row in rows]
    if invitations:
        record("user.invite", "user", None, actor=issued_by, after={
            "team": team_code.strip().upper() if team_code else None, "expires_at": expires_at,
            "created": sorted(new.values()), "links": [i.username for i in invitations]})
    return invitations


def issue_password_reset(user: User, issued_by: User) -> tuple[str, LoginToken]:
    """A one-time reset link for a local login (not one that signs in through the directory)."""
    if not user.active:
        raise OperationError(_("This login is deactivated; activate it first."), None)
    if uses_directory(user) and user.password_hash == DIRECTORY_LOGIN:
        raise OperationError(_("This login signs in through the staff directory; its password is changed there."))
    secret, token = _issue("reset", user=user, issued_by=issued_by)
    record("user.reset_link", "user", user.username, actor=issued_by, after={"token_id": token.id,
                                                                            "expires_at": token.expires_at})
    return secret, token


def new_activation_code() -> str:
    """Twelve characters in three groups, about 59 bits: `K7QM-3XPA-9RTW`."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def issue_activation_code(client: Client, issued_by: User) -> tuple[str, LoginToken]:
    """A one-time activation code for a client of the issuer's book who has no login yet."""
    if client.closed_on is not None:
        raise OperationError(_("This account is closed: it cannot be activated."))
    if db.session.scalar(select(User.id).where(User.client_id == client.id)) is not None:
        raise OperationError(_("This client already has a login. Issue a password reset link instead."))
    secret, token = _issue("activation", client=client, issued_by=issued_by, secret=new_activation_code())
    record("client.activation_code", "client", client.client_no, actor=issued_by,
           after={"token_id": token.id, "expires_at": token.expires_at})
    return secret, token


# --- client self-activation ----------------------------------------------------------------------

class ActivationRefused(Exception):
    """The details did not open an account: `reason` goes to the audit log, never to the screen."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalise_client_no(value: str) -> str:
    return (value or "").strip().upper()[:20]


def normalise_id_number(value: str) -> str:
    return "".join((value or "").split()).upper()[:40]


def normalise_mobile(value: str) -> str:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):  # +86 138 0013 8000
        digits = digits[2:]
    return digits[:30]


def same_secret(typed: str, on_file: str) -> bool:
    """Constant-time equality of two values of any length (their digests are compared)."""
    return hmac.compare_digest(hashlib.sha256(typed.encode("utf-8")).digest(),
                               hashlib.sha256(on_file.encode("utf-8")).digest())


# Compared against when no client has the typed number, so that case does the same work as the others.
_NOBODY = ("", "\x00no-id", "\x00no-phone", None, None, None)


def _client_row(client_no: str):
    """One query: the client's id, details on file, state and login, whatever the outcome."""
    login = select(User.id).where(User.client_id == Client.id).correlate(Client).scalar_subquery()
    row = db.session.execute(
        select(Client.id, Client.client_no, Client.id_number, Client.phone, Client.closed_on, login)
        .where(Client.client_no == client_no)).first()
    return (row[1], row[2] or "", row[3] or "", row[0], row[4], row[5]) if row else _NOBODY


def _checked_client(client_no: str, id_number: str, second_value: str, second_on_file) -> Client:
    """Compare every part whatever the others gave, then refuse or return the client."""
    found_no, id_on_file, phone_on_file, client_id, closed_on, login_id = _client_row(client_no)
    matches = [same_secret(client_no, found_no), same_secret(id_number, normalise_id_number(id_on_file)),
               same_secret(second_value, second_on_file(phone_on_file, client_id))]
    if not all(matches):
        raise ActivationRefused("mismatch")
    if closed_on is not None:
        raise ActivationRefused("closed")
    if login_id is not None:
        raise ActivationRefused("already_activated")
    return db.session.get(Client, client_id)


def _open_login(client: Client, password: str, how: str) -> User:
    user = create_user(normalise_username(client.client_no), client.name, "client", password,
                       client_no=client.client_no)
    record("client.activate", "client", client.client_no, actor=user, after={"username": user.username, "by": how})
    return user


def activate_client(client_no: str, id_number: str, mobile: str, password: str) -> User:
    """Open a client's login with the client number, ID number and mobile number on file.

    Every wrong triple raises ActivationRefused("mismatch") after the same work: one query, three
    constant-time comparisons. The password is checked against the policy before (the caller's form) and
    hashed only once the details match.
    """
    client_no, id_number = normalise_client_no(client_no), normalise_id_number(id_number)
    mobile = normalise_mobile(mobile)
    client = _checked_client(client_no, id_number, mobile,
                             lambda phone_on_file, _client_id: normalise_mobile(phone_on_file) or "\x00no-phone")
    return _open_login(client, password, "details")


def _code_client_id(code: str) -> int | None:
    token = db.session.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(code),
                                                       LoginToken.purpose == "activation"))
    if token is None or token.used_at is not None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token.client_id


def activate_client_with_code(client_no: str, id_number: str, code: str, password: str) -> User:
    """Open a client's login with the client number, ID number and an activation code from the manager."""
    client_no, id_number, code = normalise_client_no(client_no), normalise_id_number(id_number), normalise_code(code)
    # The code's client (one query) must be the numbered client: compared as text like the other parts.
    code_client = _code_client_id(code)
    client = _checked_client(client_no, id_number, str(code_client or "\x00no-code"),
                             lambda _phone, client_id: str(client_id or "\x00no-client"))
    token = db.session.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(code)))
    if not _spend(token):
        raise ActivationRefused("mismatch")
    return _open_login(client, password, "code")
