"""The broker's staff directory (LDAP / Active Directory), read with ldap3.

Only two things are asked of the directory: "is this the person's password?" (a search as the service
account, then a bind as the person) and "which of the portal's role groups is the person in?". Nothing
read here is stored except the role it gives; the typed password is never kept.
"""
from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

log = logging.getLogger(__name__)

# Checked in this order: a person in several role groups gets the first.
ROLE_GROUP_SETTINGS = (("admin", "LDAP_ADMIN_GROUP"), ("compliance", "LDAP_COMPLIANCE_GROUP"),
                       ("supervisor", "LDAP_SUPERVISOR_GROUP"))
DEFAULT_ROLE = "rm"


class DirectoryUnavailable(RuntimeError):
    """The directory could not be asked (down, unreachable, or refusing the service account)."""


@dataclass(frozen=True)
class DirectoryPerson:
    """A person the directory has just authenticated."""

    dn: str
    login: str
    employee_no: str | None
    role: str
    display_name: str | None


@dataclass(frozen=True)
class DirectorySettings:
    url: str
    start_tls: bool
    ca_file: str | None
    bind_dn: str | None
    bind_password: str | None
    search_base: str
    user_filter: str
    employee_attribute: str
    name_attribute: str
    group_member_filter: str
    role_groups: tuple[tuple[str, str], ...]
    timeout: int

    @classmethod
    def from_config(cls, config) -> DirectorySettings | None:
        """None when LDAP_URL is unset: staff sign in with local passwords."""
        url = (config.get("LDAP_URL") or "").strip()
        if not url:
            return None
        groups = tuple((role, config[key]) for role, key in ROLE_GROUP_SETTINGS if config.get(key))
        return cls(url=url, start_tls=bool(config.get("LDAP_START_TLS")), ca_file=config.get("LDAP_CA_FILE") or None,
                   bind_dn=config.get("LDAP_BIND_DN") or None, bind_password=config.get("LDAP_BIND_PASSWORD") or None,
                   search_base=config["LDAP_SEARCH_BASE"], user_filter=config["LDAP_USER_FILTER"],
                   employee_attribute=config["LDAP_EMPLOYEE_NUMBER_ATTRIBUTE"],
                   name_attribute=config["LDAP_DISPLAY_NAME_ATTRIBUTE"],
                   group_member_filter=config["LDAP_GROUP_MEMBER_FILTER"], role_groups=groups,
                   timeout=max(1, int(config["LDAP_TIMEOUT"])))


def user_filter(template: str, login: str) -> str:
    """The search filter for a login name, every filter character escaped (RFC 4515): `*)(uid=*` finds nobody."""
    return template.format(username=escape_filter_chars(login))


def _server(settings: DirectorySettings) -> Server:
    tls = None
    if settings.url.lower().startswith("ldaps://") or settings.start_tls:
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file, version=ssl.PROTOCOL_TLS_CLIENT)
    return Server(settings.url, use_ssl=settings.url.lower().startswith("ldaps://"), tls=tls,
                  connect_timeout=int(settings.timeout), get_info=NONE)


def _connection(settings: DirectorySettings, server: Server, user: str | None, password: str | None) -> Connection:
    """An open, secured connection (StartTLS when asked), not yet bound; failures are DirectoryUnavailable."""
    # No referral chasing: Active Directory hands out referrals to partitions the search account need not see.
    conn = Connection(server, user=user, password=password, receive_timeout=int(settings.timeout),
                      raise_exceptions=False, read_only=True, auto_referrals=False)
    try:
        conn.open()
        if settings.start_tls and not conn.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused by {settings.url}")
    except LDAPException as error:
        raise DirectoryUnavailable(f"{settings.url}: {error}") from error
    return conn


def _first(entry_attributes: dict, name: str) -> str | None:
    value = entry_attributes.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    return str(value).strip() or None


def authenticate(settings: DirectorySettings, login: str, password: str) -> DirectoryPerson | None:
    """The person if the directory accepts this login and password; None if it does not.

    Raises DirectoryUnavailable when the directory cannot answer. An empty password is refused here,
    never sent: an LDAP bind with a name and no password is an anonymous bind that "succeeds".
    """
    if not login or not password:
        return None
    server = _server(settings)
    service = _connection(settings, server, settings.bind_dn, settings.bind_password)
    try:
        try:
            if not service.bind():
                raise DirectoryUnavailable(f"the service account was refused: {service.result.get('description')}")
            service.search(settings.search_base, user_filter(settings.user_filter, login), SUBTREE,
                           attributes=[settings.employee_attribute, settings.name_attribute], size_limit=2)
            if service.result.get("result") not in (0, 4):  # success, or size limit exceeded (two matches)
                raise DirectoryUnavailable(f"search failed: {service.result.get('description')}")
            entries = [e for e in service.response or [] if e.get("type") == "searchResEntry"]
            if len(entries) != 1:  # nobody, or an ambiguous name: no one signs in as "either of two people"
                return None
            dn = entries[0]["dn"]
            attributes = entries[0].get("attributes", {})

            person = _connection(settings, server, dn, password)
            try:
                if not person.bind():
                    if person.result.get("result") == 49:  # invalidCredentials
                        return None
                    raise DirectoryUnavailable(f"bind failed: {person.result.get('description')}")
            finally:
                person.unbind()

            role = DEFAULT_ROLE
            member_filter = settings.group_member_filter.format(dn=escape_filter_chars(dn))
            for group_role, group_dn in settings.role_groups:
                service.search(group_dn, member_filter, BASE, attributes=[])
                code = service.result.get("result")
                if code not in (0, 32):  # success, or noSuchObject (a group that does not exist)
                    raise DirectoryUnavailable(f"group search failed: {service.result.get('description')}")
                if any(e.get("type") == "searchResEntry" for e in service.response or []):
                    role = group_role
                    break
            return DirectoryPerson(dn=dn, login=login, employee_no=_first(attributes, settings.employee_attribute),
                                   role=role, display_name=_first(attributes, settings.name_attribute))
        except LDAPException as error:
            raise DirectoryUnavailable(f"{settings.url}: {error}") from error
    finally:
        try:
            service.unbind()
        except LDAPException:  # the connection is already gone; nothing to close
            log.debug("unbind after failure", exc_info=True)
