"""E-mail reminders against a real SMTP server (aiosmtpd, started here on a free port): delivered, refused by the
server, server down, and the same event on a second run; the account page's opt-out."""
from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from models import AuditEntry, Client, ReminderDelivery, User, db
from portal.operations import suitability as suitability_ops
from portal.rules.calendar import business_today
from tests.helpers import csrf_token

PORTAL_URL = "https://portal.broker.example"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every accepted message; refuses the recipients listed in `refuse` with a 550."""

    def __init__(self):
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [message for rcpts, message in self.messages if address in rcpts]


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


@pytest.fixture
def app_overrides(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_SENDER": "portal@broker.example",
            "MAIL_TIMEOUT": 5, "PORTAL_URL": PORTAL_URL}


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _client(client_no: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def give_profile(client: Client, grade: str, at: datetime):
    from models import RiskAssessment
    from portal.operations.risk import active_version, put_in_force
    from portal.rules.questionnaire import risk_class_of

    assessment = RiskAssessment(client_id=client.id, version_id=active_version().id, answers={}, group_points={},
                                raw_points=0, score=50, band_grade=grade, grade=grade, risk_class=risk_class_of(grade),
                                lowest_category=False, caps=[], flags=[], channel="self", submitted_at=at)
    db.session.add(assessment)
    db.session.flush()
    return put_in_force(assessment, client, at=at)


@pytest.fixture
def people(world):
    """rm_a (English) has an overdue follow-up; sup_a (Chinese) sees it in the team; client_a (Chinese) has a
    profile expiring in about ten days and a special risk warning to confirm; compliance has nothing to do."""
    today = business_today()
    for username, language in (("rm_a", "en"), ("sup_a", "zh_CN"), ("client_a", "zh_CN"), ("compliance", "en")):
        user = _user(username)
        user.email = f"{username}@broker.example"
        user.preferred_language = language
    ca1 = _client("CA0001")
    ca1.followup_grade, ca1.followup_due = "B", today - timedelta(days=3)
    at = datetime.now(UTC) - timedelta(days=720)  # a 24-month profile with about ten days left
    profile = give_profile(ca1, "C3", at)
    product = suitability_ops.create_product("P-R5", "高风险产品", "High-risk product", "hybrid_fund", 5)
    warning = suitability_ops.record_suitability(ca1, product, action="recommendation", amount=None, note=None,
                                                 extra_care_given=False, by_user=_user("rm_a"))
    assert warning.outcome == "warning"
    db.session.commit()
    return {"profile": profile, "warning": warning, "today": today}


def run(runner, *args):
    result = runner.invoke(args=["send-reminders", *args])
    db.session.expire_all()
    return result


def deliveries() -> list[ReminderDelivery]:
    return list(db.session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))


def parts(message) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_each_notice_is_delivered_once_in_the_recipients_language(runner, smtp, people):
    result = run(runner)
    assert result.exit_code == 0, result.output
    assert "sent 4, failed 0, nothing to do 1" in result.output

    [digest] = smtp.to("rm_a@broker.example")
    assert digest["From"] == "portal@broker.example"
    assert digest["Subject"].startswith("Your work today")
    text, html = parts(digest)
    link = f"{PORTAL_URL}/clients/CA0001/followups"
    assert "Follow-ups overdue: 1" in text and link in text
    assert f'href="{link}"' in html and "张三a (CA0001)" in html
    assert f"{PORTAL_URL}/account" in text  # how to turn them off

    [team_digest] = smtp.to("sup_a@broker.example")
    assert "今日待办" in team_digest["Subject"]
    text, html = parts(team_digest)
    assert "经理" in text and f"{PORTAL_URL}/managers/RMA1/book" in text

    client_mail = smtp.to("client_a@broker.example")
    subjects = sorted(m["Subject"] for m in client_mail)
    assert len(subjects) == 2 and all(any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in subjects)
    expiring = next(m for m in client_mail if people["profile"].valid_until.isoformat() in m["Subject"])
    text, html = parts(expiring)
    assert f"{PORTAL_URL}/questionnaire" in text and "风险" in html
    warning = next(m for m in client_mail if m is not expiring)
    text, html = parts(warning)
    assert "高风险产品" in text and "R5" in text and f"{PORTAL_URL}/me/suitability" in html

    assert smtp.to("compliance@broker.example") == []  # nothing to do: no digest
    records = deliveries()
    assert {(r.user.username, r.kind, r.event_key, r.status) for r in records} == {
        ("rm_a", "staff_digest", f"digest:{people['today'].isoformat()}", "sent"),
        ("sup_a", "staff_digest", f"digest:{people['today'].isoformat()}", "sent"),
        ("client_a", "profile_expiring", f"profile:{people['profile'].id}", "sent"),
        ("client_a", "warning_pending", f"warning:{people['warning'].id}", "sent"),
    }
    assert all(r.sent_at and r.attempts == 1 and r.message_id and r.last_error is None for r in records)
    assert {r.message_id for r in records} == {m["Message-ID"] for _, m in smtp.messages}
    assert {r.language for r in records if r.user.username != "rm_a"} == {"zh_CN"}


def test_the_same_event_is_not_sent_on_a_second_run(runner, smtp, people):
    assert run(runner).exit_code == 0
    first = [(r.id, r.attempts, r.sent_at) for r in deliveries()]
    assert len(smtp.messages) == 4

    result = run(runner)
    assert result.exit_code == 0 and "sent 0, failed 0" in result.output
    assert len(smtp.messages) == 4
    assert [(r.id, r.attempts, r.sent_at) for r in deliveries()] == first

    # A new event is a new notice: tomorrow's digest, and a new warning for the client.
    tomorrow = (people["today"] + timedelta(days=1)).isoformat()
    new_warning = suitability_ops.record_suitability(
        _client("CA0001"), suitability_ops.create_product("P-R4", "中高风险", "Medium-high", "hybrid_fund", 4),
        action="recommendation", amount=None, note=None, extra_care_given=False, by_user=_user("rm_a"))
    db.session.commit()
    result = run(runner, "--date", tomorrow)
    assert result.exit_code == 0 and "sent 3, failed 0" in result.output, result.output
    assert {r.event_key for r in deliveries()} >= {f"digest:{tomorrow}", f"warning:{new_warning.id}"}


def test_a_refused_message_is_recorded_failed_and_sent_on_the_next_run(runner, smtp, people):
    smtp.refuse.add("client_a@broker.example")
    result = run(runner)
    assert result.exit_code == 1
    assert "sent 2, failed 2" in result.output and "550" in result.output
    failed = [r for r in deliveries() if r.status == "failed"]
    assert {r.kind for r in failed} == {"profile_expiring", "warning_pending"}
    assert all(r.sent_at is None and r.message_id is None and r.last_error.startswith("550") for r in failed)
    assert smtp.to("client_a@broker.example") == []

    smtp.refuse.clear()
    result = run(runner)
    assert result.exit_code == 0 and "sent 2, failed 0" in result.output, result.output
    assert len(smtp.to("client_a@broker.example")) == 2
    assert len(smtp.to("rm_a@broker.example")) == 1  # the staff digests were not sent again
    retried = [r for r in deliveries() if r.user.username == "client_a"]
    assert all(r.status == "sent" and r.attempts == 2 and r.last_error is None for r in retried)
    assert len(deliveries()) == 4


def test_a_server_that_is_down_sends_nothing_and_records_nothing_as_sent(app, runner, smtp, people):
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    result = run(runner)
    assert result.exit_code == 1 and "sent 0, failed 4" in result.output
    assert "ConnectionRefusedError" in result.output
    assert smtp.messages == []
    assert {r.status for r in deliveries()} == {"failed"} and len(deliveries()) == 4

    app.config["MAIL_PORT"] = smtp.port
    result = run(runner)
    assert result.exit_code == 0 and "sent 4, failed 0" in result.output
    assert len(smtp.messages) == 4
    assert {(r.status, r.attempts) for r in deliveries()} == {("sent", 2)}


def test_missing_mail_settings_are_a_clear_error(app, runner, people):
    app.config["MAIL_SERVER"] = None
    result = run(runner)
    assert result.exit_code == 2 and "MAIL_SERVER" in result.output
    assert deliveries() == []


def test_a_dry_run_lists_the_messages_and_writes_nothing(runner, smtp, people):
    result = run(runner, "--dry-run")
    assert result.exit_code == 0 and "would write to client_a <client_a@broker.example>" in result.output
    assert "4 messages would be sent" in result.output and "compliance" not in result.output  # nothing to do
    assert smtp.messages == [] and deliveries() == []


def test_reminders_turned_off_on_the_account_page_are_not_sent(client, auth, runner, smtp, people):
    auth.login("client_a")
    page = client.get("/account")
    assert page.status_code == 200 and 'value="client_a@broker.example"' in page.get_data(as_text=True)
    response = client.post("/account", data={"csrf_token": csrf_token(client, "/account"),
                                             "email": "client_a@broker.example"})
    assert response.status_code == 302
    assert _user("client_a").reminders_opt_out is True
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.reminders"))
    assert entry.before == {"email": "client_a@broker.example", "reminders": True}
    assert entry.after == {"email": "client_a@broker.example", "reminders": False}

    auth.login("rm_a")
    client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "email": "rm_a@broker.example"})
    assert run(runner).exit_code == 0
    assert smtp.to("client_a@broker.example") == [] and smtp.to("rm_a@broker.example") == []
    assert len(smtp.to("sup_a@broker.example")) == 1


@pytest.mark.parametrize("email, reminders, message", [
    ("not an address", "y", "请输入电子邮箱地址"),
    ("name@localhost", "y", "请输入电子邮箱地址"),
    ("", "y", "开启邮件提醒需要填写电子邮箱地址"),
])
def test_bad_settings_are_refused_with_a_message_and_nothing_saved(client, auth, world, email, reminders, message):
    """The message is in the user's language (Chinese, the portal's default)."""
    auth.login("rm_a")
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    response = client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "email": email,
                                             "reminders": reminders})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    user = _user("rm_a")
    assert user.email is None and user.reminders_opt_out is False
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before


def test_a_staff_member_sets_an_address_and_turns_reminders_on(client, auth, world):
    auth.login("sup_a")
    response = client.post("/account", data={"csrf_token": csrf_token(client, "/account"),
                                             "email": " 主管@broker.example ", "reminders": "y"}, follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    user = _user("sup_a")
    assert user.email == "主管@broker.example" and user.reminders_opt_out is False


# --- STARTTLS and SMTP AUTH -----------------------------------------------------------------------------------

@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (Debian's openssl), the CA file the portal is told to trust."""
    import shutil
    import subprocess  # nosec B404 - a fixed openssl command line, no user input

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",  # nosec
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return key, cert


def test_starttls_and_a_login_are_used_when_configured(app, runner, people, certificate):
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"portal", b"s3cret")
        logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # a refusal answered with the standard 535

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        app.config.update(MAIL_PORT=controller.port, MAIL_USE_TLS=True, MAIL_CA_FILE=None,
                          MAIL_USERNAME="portal", MAIL_PASSWORD="s3cret")
        result = run(runner)  # a certificate nobody vouches for: nothing is sent in the clear instead
        assert result.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in result.output and logins == []

        app.config.update(MAIL_CA_FILE=str(cert), MAIL_PASSWORD="wrong")
        result = run(runner)
        assert result.exit_code == 1 and "sent 0, failed 4" in result.output and "535" in result.output
        assert mailbox.messages == [] and {r.status for r in deliveries()} == {"failed"}

        app.config["MAIL_PASSWORD"] = "s3cret"
        result = run(runner)
        assert result.exit_code == 0 and "sent 4, failed 0" in result.output, result.output
        assert len(mailbox.messages) == 4 and logins[-1][1] is True
    finally:
        controller.stop()


def test_an_address_on_the_client_or_staff_record_is_used_when_the_account_has_none(runner, smtp, people):
    """The client master and the HR roster carry e-mail addresses: reminders reach people who never typed one."""
    _user("client_a").email = None
    _client("CA0001").email = "ca0001@client.example"
    rm = _user("rm_a")
    rm.email = None
    rm.manager.email = "rma1@hr.example"
    db.session.commit()
    assert run(runner).exit_code == 0
    assert len(smtp.to("ca0001@client.example")) == 2  # the expiring profile and the pending warning
    assert len(smtp.to("rma1@hr.example")) == 1  # the manager's digest
