"""How a request finds its user: the session cookie for pages, a bearer token for the API."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from models import ApiToken, User, db, utcnow
from models.types import UTCDateTime
from portal.security import hash_token

LAST_USED_EVERY = timedelta(minutes=1)


# Built once: every signed-in page request runs it. The staff record, or a client login's client record (which
# every client page reads), comes in the same query.
_USER_BY_ID = (select(User).options(joinedload(User.manager), joinedload(User.client))
               .where(User.id == bindparam("uid")))


def register_loaders(app):
    from portal.extensions import login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        """The cookie names `id:version`; a version older than the user's (signed out) is refused."""
        try:
            raw_id, raw_version = user_id.split(":", 1)
            uid, version = int(raw_id), int(raw_version)
        except (ValueError, AttributeError):
            return None
        user = db.session.execute(_USER_BY_ID, {"uid": uid}).unique().scalar_one_or_none()
        if user is None or not user.active or user.session_version != version:
            return None
        return user


def load_api_user():
    """before_request on /api/: only the Authorization header counts; cookies are ignored there."""
    if not request.path.startswith("/api/"):
        return None
    g._login_user = AnonymousUserMixin()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    now = utcnow()
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > now)
    )
    if row is None or not row.user.active:
        return None
    g._login_user = row.user
    g.api_token_id = row.id
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        _touch(row.id, now)
    return None


def _touch(token_id: int, now) -> None:
    """Write last_used_at on a connection of its own (read-only requests write nothing), once a minute at most:
    the WHERE keeps two workers from both writing within the same minute."""
    stamp = bindparam("now", type_=UTCDateTime())
    cutoff = bindparam("cutoff", type_=UTCDateTime())
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(ApiToken.__table__).where(
                    ApiToken.__table__.c.id == token_id,
                    or_(ApiToken.__table__.c.last_used_at.is_(None), ApiToken.__table__.c.last_used_at < cutoff))
                .values(last_used_at=stamp), {"now": now, "cutoff": now - LAST_USED_EVERY})
    except DBAPIError:  # the request itself must not fail over a usage stamp
        current_app.logger.warning("could not write last_used_at of API token %s", token_id, exc_info=True)

