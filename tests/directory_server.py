"""A real OpenLDAP server (Debian's slapd) for the directory tests, started on a free loopback port.

Each server gets its own temporary slapd.conf and mdb database, filled with slapadd before start. Without
slapd the tests that need it skip with the reason, unless REQUIRE_LDAP=1 (CI) makes that a failure.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess  # nosec B404 - starts the test directory server, fixed arguments
import time
from pathlib import Path

import pytest

SLAPD = os.environ.get("SLAPD_PATH", "/usr/sbin/slapd")
SLAPADD = os.environ.get("SLAPADD_PATH", "/usr/sbin/slapadd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

SUFFIX = "dc=broker,dc=test"
ROOT_DN = f"cn=root,{SUFFIX}"
ROOT_PASSWORD = "root-secret"  # nosec B105 - the throwaway test directory's own root password
SERVICE_DN = f"cn=portal-reader,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "reader-secret"  # nosec B105 - test directory only
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
ADMIN_GROUP = f"cn=portal-admins,{GROUPS}"
COMPLIANCE_GROUP = f"cn=portal-compliance,{GROUPS}"
SUPERVISOR_GROUP = f"cn=portal-supervisors,{GROUPS}"

# login name -> (employee number, display name, password, groups)
PEOPLE_ENTRIES = {
    "zhang.wei": ("DIR003", "张伟", "zhang-directory-pw", []),
    "li.na": ("SUPA", "李娜", "li-directory-pw", [SUPERVISOR_GROUP]),
    "wang.fang": ("DIR001", "王芳", "wang-directory-pw", [ADMIN_GROUP]),
    "chen.jie": ("DIR002", "陈杰", "chen-directory-pw", [COMPLIANCE_GROUP, SUPERVISOR_GROUP]),
    "zhao.lei": ("NOREC9", "赵磊", "zhao-directory-pw", []),
    "sun.li": ("LEFT01", "孙丽", "sun-directory-pw", []),
}


def slapd_missing() -> str | None:
    for path in (SLAPD, SLAPADD):
        if not Path(path).exists():
            return f"{path} not found (apt-get install slapd ldap-utils)"
    if not (MODULE_DIR / "back_mdb.so").exists() and not (MODULE_DIR / "back_mdb.la").exists():
        return f"back_mdb module not found in {MODULE_DIR}"
    return None


def skip_or_fail_without_slapd() -> None:
    reason = slapd_missing()
    if reason:
        if os.environ.get("REQUIRE_LDAP") == "1":
            pytest.fail(f"REQUIRE_LDAP=1 but {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_ldif() -> str:
    """The test directory: a service account, a few people, three role groups."""
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: broker\no: Test Broker\n",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: portal-reader\nuserPassword: {SERVICE_PASSWORD}\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
    ]
    members: dict[str, list[str]] = {ADMIN_GROUP: [], COMPLIANCE_GROUP: [], SUPERVISOR_GROUP: []}
    for login, (employee_no, name, password, groups) in PEOPLE_ENTRIES.items():
        dn = f"uid={login},{PEOPLE}"
        blocks.append(f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {login}\ncn: {name}\nsn: {name[:1]}\n"
                      f"displayName: {name}\nemployeeNumber: {employee_no}\nuserPassword: {password}\n")
        for group in groups:
            members[group].append(dn)
    for group, dns in members.items():
        cn = group.split(",", 1)[0].split("=", 1)[1]
        # groupOfNames needs a member: the service account stays in each, so a group can be emptied of people.
        lines = "".join(f"member: {dn}\n" for dn in [SERVICE_DN, *dns])
        blocks.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}")
    return "\n".join(blocks)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)  # nosec B603 B607 - test CA


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (plus a second, unrelated CA)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
                 "-days", "2", "-subj", f"/CN=Test {name}", cwd=directory)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=directory)
    return {name: directory / f"{name}.pem" for name in ("ca", "other-ca", "server")} | {
        "server_key": directory / "server.key"}


class SlapdServer:
    """One slapd process with its own configuration and database under `workdir`; with `tls`, it also
    offers StartTLS on its ldap:// port and listens on an ldaps:// port, with a certificate from a test CA."""

    def __init__(self, workdir: Path, tls: bool = False):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = None
        self.certificates: dict[str, Path] = {}
        tls_lines = ""
        if tls:
            self.certificates = make_certificates(workdir / "tls")
            self.ldaps_url = f"ldaps://127.0.0.1:{free_port()}"
            tls_lines = (f"TLSCACertificateFile {self.certificates['ca']}\n"
                         f"TLSCertificateFile {self.certificates['server']}\n"
                         f"TLSCertificateKeyFile {self.certificates['server_key']}\n")
        self.process: subprocess.Popen | None = None
        self.conf = workdir / "slapd.conf"
        (workdir / "db").mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "".join(f"include {SCHEMA_DIR / name}\n" for name in
                    ("core.schema", "cosine.schema", "inetorgperson.schema", "nis.schema"))
            + f"modulepath {MODULE_DIR}\nmoduleload back_mdb\n"
            f"pidfile {workdir / 'slapd.pid'}\n" + tls_lines +
            "database mdb\nmaxsize 16777216\n"
            f'suffix "{SUFFIX}"\nrootdn "{ROOT_DN}"\nrootpw {ROOT_PASSWORD}\n'
            f"directory {workdir / 'db'}\n"
            # Passwords: only binds compare them. Everything else: readable by bound accounts, not anonymously.
            "access to attrs=userPassword by anonymous auth by self write by * none\n"
            "access to * by users read by * none\n",
            encoding="utf-8")
        ldif = workdir / "base.ldif"
        ldif.write_text(base_ldif(), encoding="utf-8")
        loaded = subprocess.run([SLAPADD, "-q", "-f", str(self.conf), "-l", str(ldif)],  # nosec B603
                                capture_output=True, text=True)
        if loaded.returncode != 0:
            raise RuntimeError(f"slapadd failed: {loaded.stderr}")

    def start(self) -> SlapdServer:
        self.process = subprocess.Popen(  # nosec B603 - fixed arguments, our own temporary configuration
            [SLAPD, "-f", str(self.conf), "-h", " ".join(u + "/" for u in (self.url, self.ldaps_url) if u), "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening within 10 s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def admin(self):
        """An ldap3 connection bound as the directory's root, to change people and groups mid-test."""
        from ldap3 import Connection, Server

        return Connection(Server(self.url), user=ROOT_DN, password=ROOT_PASSWORD, auto_bind=True)

    def remove_from_group(self, login: str, group_dn: str) -> None:
        from ldap3 import MODIFY_DELETE

        with self.admin() as conn:
            assert conn.modify(group_dn, {"member": [(MODIFY_DELETE, [f"uid={login},{PEOPLE}"])]}), conn.result

    def add_to_group(self, login: str, group_dn: str) -> None:
        from ldap3 import MODIFY_ADD

        with self.admin() as conn:
            assert conn.modify(group_dn, {"member": [(MODIFY_ADD, [f"uid={login},{PEOPLE}"])]}), conn.result

    def app_settings(self) -> dict:
        """The portal's configuration for this directory."""
        return {"LDAP_URL": self.url, "LDAP_BIND_DN": SERVICE_DN, "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
                "LDAP_SEARCH_BASE": PEOPLE, "LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
                "LDAP_EMPLOYEE_NUMBER_ATTRIBUTE": "employeeNumber", "LDAP_ADMIN_GROUP": ADMIN_GROUP,
                "LDAP_COMPLIANCE_GROUP": COMPLIANCE_GROUP, "LDAP_SUPERVISOR_GROUP": SUPERVISOR_GROUP,
                "LDAP_TIMEOUT": 3}


def start_directory(tmp_path: Path, tls: bool = False) -> SlapdServer:
    skip_or_fail_without_slapd()
    if tls and shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificates")
    return SlapdServer(tmp_path / ("slapd-tls" if tls else "slapd"), tls=tls).start()
