"""Product suitability: recording with the check, warnings and confirmations, scoping, immutability."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from models import AuditEntry, Client, Product, SuitabilityConfirmation, SuitabilityRecord, User, db
from portal.operations import suitability as ops
from portal.operations.errors import OperationError
from portal.rules.calendar import add_months, business_today
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

# --- helpers ---------------------------------------------------------------------------------------


def _client(client_no) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def _user(username) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def give_profile(client: Client, grade: str, *, lowest: bool = False, at: datetime | None = None):
    """Put a profile of `grade` in force for `client` (through put_in_force, as a submission would)."""
    from models import RiskAssessment
    from portal.operations.risk import active_version, put_in_force
    from portal.rules.questionnaire import risk_class_of

    at = at or datetime.now(UTC)
    assessment = RiskAssessment(client_id=client.id, version_id=active_version().id, answers={}, group_points={},
                                raw_points=0, score=int(grade[1]) * 20 - 10, band_grade=grade, grade=grade,
                                risk_class=risk_class_of(grade), lowest_category=lowest, caps=[], flags=[],
                                channel="self", submitted_at=at)
    db.session.add(assessment)
    db.session.flush()
    return put_in_force(assessment, client, at=at)


def product(level: int, code: str | None = None, active: bool = True) -> Product:
    item = ops.create_product(code or f"P-R{level}", f"产品R{level}", f"Product R{level}", "hybrid_fund", level)
    if not active:
        ops.set_product_active(item, False)
    return item


def aged(client: Client, years: int, plus_days: int = 0) -> None:
    """Make the client exactly `years` old today (`plus_days` later birth makes them a day short of it)."""
    client.birth_date = add_months(business_today(), -12 * years) + timedelta(days=plus_days)


@pytest.fixture
def catalogue(app, world):
    items = {level: product(level) for level in range(1, 6)}
    db.session.commit()
    return items


def record(client_no, level_or_product, catalogue, **kwargs):
    item = catalogue[level_or_product] if isinstance(level_or_product, int) else level_or_product
    args = {"action": "recommendation", "amount": None, "note": None, "extra_care_given": False,
            "by_user": _user("rm_a")}
    args.update(kwargs)
    return ops.record_suitability(_client(client_no), item, **args)


def post_record(http, client_no, product_id, **fields):
    data = {"csrf_token": csrf_token(http, f"/clients/{client_no}/suitability"), "product": str(product_id),
            "action": "subscription", "amount": "", "note": "", "save": "Record"}
    data.update(fields)
    return http.post(f"/clients/{client_no}/suitability", data=data)


# --- the check, through the operation ------------------------------------------------------------------

@pytest.mark.parametrize("grade, lowest, category, level, outcome", [
    ("C3", False, "ordinary", 3, "allowed"),
    ("C3", False, "ordinary", 4, "warning"),
    ("C1", True, "ordinary", 2, "refused"),
    ("C1", True, "ordinary", 1, "allowed"),
    ("C3", False, "professional", 5, "allowed"),
    (None, False, "ordinary", 1, "refused"),
    (None, False, "professional", 5, "refused"),
])
def test_each_outcome_is_recorded_with_what_was_checked(app, world, catalogue, grade, lowest, category, level,
                                                         outcome):
    c = _client("CA0001")
    aged(c, 40)
    c.investor_category = category
    profile = give_profile(c, grade, lowest=lowest) if grade else None
    entry = record("CA0001", level, catalogue, action="subscription", amount="50000")
    db.session.commit()
    assert entry.outcome == outcome
    assert (entry.client_grade, entry.investor_category, entry.client_age) == (grade, category, 40)
    assert entry.profile_id == (profile.id if profile else None)
    assert entry.product_risk_level == level and entry.amount == Decimal("50000.00")
    assert entry.business_date == business_today() and not entry.elderly_prompt
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "suitability.record"))
    assert audit.object_id == "CA0001" and audit.after["outcome"] == outcome and audit.after["record"] == entry.id
    status = ops.record_status(entry, ops.current_profile_id(c))
    assert status == {"allowed": "allowed", "warning": "awaiting", "refused": "refused"}[outcome]


def test_an_expired_profile_is_refused(app, world, catalogue):
    c = _client("CA0001")
    give_profile(c, "C5", at=datetime.now(UTC) - timedelta(days=800))  # valid 24 months: expired by now
    assert c.profile_valid_until < business_today()
    entry = record("CA0001", 1, catalogue)
    assert entry.outcome == "refused" and entry.reasons[0]["code"] == "no_valid_profile"
    assert entry.client_grade is None and entry.profile_id is None


def test_the_profile_as_of_the_business_date_is_used(app, world, catalogue):
    c = _client("CA0001")
    give_profile(c, "C2")
    today = business_today()
    last_valid_day = add_months(today, 24)
    assert record("CA0001", 2, catalogue, today=last_valid_day).outcome == "allowed"
    assert record("CA0001", 2, catalogue, today=last_valid_day + timedelta(days=1)).outcome == "refused"


@pytest.mark.parametrize("years, plus_days, age, level, prompt", [
    (65, 0, 65, 4, True),   # 65 today, R4: the prompt
    (65, 1, 64, 4, False),  # 65 tomorrow
    (65, 0, 65, 3, False),  # R3: no prompt
    (64, 0, 64, 3, False),
    (80, 0, 80, 5, True),
])
def test_the_extra_care_prompt_at_65(app, world, catalogue, years, plus_days, age, level, prompt):
    c = _client("CA0001")
    aged(c, years, plus_days)
    give_profile(c, "C3")
    if prompt:
        with pytest.raises(OperationError) as raised:
            record("CA0001", level, catalogue)
        assert raised.value.field == "extra_care" and raised.value.code == "extra_care_required"
        assert db.session.scalar(select(func.count(SuitabilityRecord.id))) == 0
    entry = record("CA0001", level, catalogue, extra_care_given=True)
    assert entry.elderly_prompt is prompt and entry.extra_care_given is prompt
    assert entry.client_age == age
    assert ("elderly_extra_care" in [r["code"] for r in entry.reasons]) is prompt


def test_a_refusal_needs_no_extra_care_explanation(app, world, catalogue):
    c = _client("CA0001")
    aged(c, 70)
    entry = record("CA0001", 5, catalogue)  # no profile: refused, the prompt is noted but not asked for
    assert entry.outcome == "refused" and entry.elderly_prompt and not entry.extra_care_given


@pytest.mark.parametrize("kwargs, field, code", [
    ({"amount": "-1"}, "amount", "negative_amount"),
    ({"amount": "12.345"}, "amount", "invalid_amount"),
    ({"amount": "abc"}, "amount", "invalid_amount"),
    ({"amount": "NaN"}, "amount", "invalid_amount"),
    ({"amount": "1e30"}, "amount", "invalid_amount"),
    ({"amount": 1.5}, "amount", "invalid_amount"),
    ({"action": "sale"}, "action", "invalid_action"),
    ({"note": "x" * 501}, "note", "note_too_long"),
])
def test_bad_input_saves_nothing(app, world, catalogue, kwargs, field, code):
    give_profile(_client("CA0001"), "C3")
    with pytest.raises(OperationError) as raised:
        record("CA0001", 3, catalogue, **kwargs)
    assert (raised.value.field, raised.value.code) == (field, code)
    assert db.session.scalar(select(func.count(SuitabilityRecord.id))) == 0


def test_amounts(app):
    assert ops.parse_amount("") is None and ops.parse_amount(None) is None
    assert ops.parse_amount("0") == Decimal("0.00")
    assert ops.parse_amount("1,000,000.5") == Decimal("1000000.50")
    assert ops.parse_amount("12.300") == Decimal("12.30")
    assert ops.parse_amount(Decimal("9999999999999999.99")) == Decimal("9999999999999999.99")


def test_a_withdrawn_product_cannot_be_recorded(app, world, catalogue):
    withdrawn = product(2, "OLD-1", active=False)
    with pytest.raises(OperationError) as raised:
        record("CA0001", withdrawn, catalogue)
    assert raised.value.code == "inactive_product"
    with pytest.raises(OperationError):
        ops.product_for_record(withdrawn.id)
    with pytest.raises(OperationError):
        ops.product_for_record(10**12)


# --- confirmations -----------------------------------------------------------------------------------------

def _warning(catalogue, client_no="CA0001", by="rm_a"):
    c = _client(client_no)
    give_profile(c, "C3")
    entry = record(client_no, 4, catalogue, by_user=_user(by))
    db.session.commit()
    assert entry.outcome == "warning"
    return entry


def test_the_client_confirms_a_warning_on_their_own_login(client, auth, world, catalogue):
    entry = _warning(catalogue)
    auth.login("client_a")
    home = client.get("/").get_data(as_text=True)
    assert "1 special risk warning awaits your confirmation." in home
    assert "awaits your confirmation" in client.get("/me").get_data(as_text=True)
    page = client.get("/me/suitability").get_data(as_text=True)
    assert f'data-record="{entry.id}"' in page and "Special risk warning" in page and "above it" in page
    token = csrf_token(client, "/me/suitability")
    refused = client.post(f"/me/suitability/{entry.id}/confirm", data={"csrf_token": token})
    assert refused.status_code == 400 and "Tick the box" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SuitabilityConfirmation.id))) == 0
    done = client.post(f"/me/suitability/{entry.id}/confirm", data={"csrf_token": token, "understood": "y"})
    assert done.status_code == 302
    confirmation = db.session.scalar(select(SuitabilityConfirmation))
    assert confirmation.record_id == entry.id and confirmation.method == "client"
    assert confirmation.confirmed_by_id == _user("client_a").id
    db.session.expire_all()
    assert ops.record_status(db.session.get(SuitabilityRecord, entry.id), ops.current_profile_id(_client("CA0001"))) \
        == "confirmed"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "suitability.confirm"))
    assert audit.after["method"] == "client" and audit.actor_username == "client_a"
    assert "No warning awaits your confirmation." in client.get("/me/suitability").get_data(as_text=True)
    again = client.post(f"/me/suitability/{entry.id}/confirm", data={"csrf_token": token, "understood": "y"})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(SuitabilityConfirmation.id))) == 1


def test_the_elderly_prompt_is_shown_to_the_client(client, auth, world, catalogue):
    c = _client("CA0001")
    aged(c, 70)
    give_profile(c, "C3")
    entry = record("CA0001", 4, catalogue, extra_care_given=True)
    db.session.commit()
    auth.login("client_a")
    page = client.get("/me/suitability").get_data(as_text=True)
    assert "You are 70 years old and this product is of risk level R4" in page
    assert "You are 70 years old" in client.get(f"/suitability/records/{entry.id}").get_data(as_text=True)


def test_a_client_cannot_confirm_someone_elses_warning(client, auth, world, catalogue):
    other = _warning(catalogue, "CA0002")  # same manager, another client
    stranger = _warning(catalogue, "CB0001", by="rm_b")
    auth.login("client_a")
    token = csrf_token(client, "/me/suitability")
    for entry in (other, stranger):
        response = client.post(f"/me/suitability/{entry.id}/confirm", data={"csrf_token": token, "understood": "y"})
        assert response.status_code == 404
        assert client.get(f"/suitability/records/{entry.id}").status_code == 404
    assert db.session.scalar(select(func.count(SuitabilityConfirmation.id))) == 0
    assert "CA0002" not in client.get("/me/suitability").get_data(as_text=True)
    with pytest.raises(OperationError):
        ops.confirm_warning(other, _client("CA0001"), _user("client_a"), method="client")


def test_the_manager_records_a_signed_paper_form(client, auth, world, catalogue):
    entry = _warning(catalogue)
    auth.login("rm_a")
    page = client.get(f"/suitability/records/{entry.id}").get_data(as_text=True)
    assert 'data-status="awaiting"' in page and 'id="paper-form"' in page
    token = csrf_token(client, f"/suitability/records/{entry.id}")
    empty = client.post(f"/suitability/records/{entry.id}/paper-confirmation",
                        data={"csrf_token": token, "paper_reference": "  "})
    assert empty.status_code == 400
    done = client.post(f"/suitability/records/{entry.id}/paper-confirmation",
                       data={"csrf_token": token, "paper_reference": "FXJS-2026-0001"})
    assert done.status_code == 302
    confirmation = db.session.scalar(select(SuitabilityConfirmation))
    assert (confirmation.method, confirmation.paper_reference) == ("paper", "FXJS-2026-0001")
    assert "Confirmed by the client" in client.get(f"/suitability/records/{entry.id}").get_data(as_text=True)
    # another team's manager cannot see it, let alone confirm it
    auth.login("rm_b")
    token = csrf_token(client, "/")
    assert client.post(f"/suitability/records/{entry.id}/paper-confirmation",
                       data={"csrf_token": token, "paper_reference": "X"}).status_code == 404


def test_only_warnings_are_confirmed_and_only_once(app, world, catalogue):
    c = _client("CA0001")
    give_profile(c, "C3")
    allowed = record("CA0001", 2, catalogue)
    with pytest.raises(OperationError) as raised:
        ops.confirm_warning(allowed, c, _user("client_a"), method="client")
    assert raised.value.code == "not_pending"
    warning = record("CA0001", 5, catalogue)
    ops.confirm_warning(warning, c, _user("client_a"), method="client")
    with pytest.raises(OperationError) as raised:
        ops.confirm_warning(warning, c, _user("client_a"), method="client")
    assert raised.value.code == "already_confirmed"


def test_a_warning_lapses_when_the_profile_changes(app, world, catalogue):
    entry = _warning(catalogue)
    c = _client("CA0001")
    give_profile(c, "C1", lowest=True)  # re-assessed: the warning no longer reflects the file
    assert ops.record_status(entry, ops.current_profile_id(c)) == "lapsed"
    assert ops.pending_warnings(c) == [] and ops.pending_count(c) == 0
    with pytest.raises(OperationError) as raised:
        ops.confirm_warning(entry, c, _user("client_a"), method="client")
    assert raised.value.code == "lapsed"


# --- the pages: recording, scoping ------------------------------------------------------------------------

def test_the_manager_checks_then_records_from_the_form(client, auth, world, catalogue):
    give_profile(_client("CA0001"), "C3")
    db.session.commit()
    auth.login("rm_a")
    detail = client.get("/clients/CA0001").get_data(as_text=True)
    assert "/clients/CA0001/suitability" in detail
    form = client.get("/clients/CA0001/suitability").get_data(as_text=True)
    assert 'id="record-form"' in form and "R4 · P-R4" in form
    preview = post_record(client, "CA0001", catalogue[4].id, save=None, check="Check suitability")
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-outcome="warning"' in body and "above the client" in body
    assert db.session.scalar(select(func.count(SuitabilityRecord.id))) == 0
    saved = post_record(client, "CA0001", catalogue[4].id, amount="200000", note="客户坚持购买")
    assert saved.status_code == 302
    entry = db.session.scalar(select(SuitabilityRecord))
    assert entry.outcome == "warning" and entry.amount == Decimal("200000.00") and entry.note == "客户坚持购买"
    assert entry.recorded_by_id == _user("rm_a").id
    shown = client.get(saved.location).get_data(as_text=True)
    assert 'data-status="awaiting"' in shown and 'id="risk-warning"' in shown
    history = client.get("/clients/CA0001/suitability").get_data(as_text=True)
    assert f'data-record="{entry.id}"' in history


def test_a_refusal_is_shown_as_refused_with_its_reason(client, auth, world, catalogue):
    auth.login("rm_a")
    saved = post_record(client, "CA0001", catalogue[2].id)
    assert saved.status_code == 302
    page = client.get(saved.location).get_data(as_text=True)
    assert 'data-status="refused"' in page and "No valid risk profile" in page and "does not proceed" in page


def test_the_form_asks_for_the_extra_care_explanation(client, auth, world, catalogue):
    c = _client("CA0001")
    aged(c, 66)
    give_profile(c, "C3")
    db.session.commit()
    auth.login("rm_a")
    form = client.get("/clients/CA0001/suitability").get_data(as_text=True)
    assert 'id="elderly-prompt"' in form and "The client is 66 years old" in form
    missing = post_record(client, "CA0001", catalogue[4].id)
    assert missing.status_code == 400 and "tick the box" in missing.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SuitabilityRecord.id))) == 0
    assert post_record(client, "CA0001", catalogue[4].id, extra_care="y").status_code == 302
    assert db.session.scalar(select(SuitabilityRecord.extra_care_given)) is True


@pytest.mark.parametrize("fields, message", [
    ({"amount": "-5"}, "cannot be negative"),
    ({"amount": "ten"}, "Write the amount as a number"),
    ({"product": "999999"}, "Choose a product"),
    ({"product": "abc"}, None),
    ({"action": "sale"}, None),
])
def test_bad_form_input_is_a_message_not_a_500(client, auth, world, catalogue, fields, message):
    auth.login("rm_a")
    response = post_record(client, "CA0001", catalogue[1].id, **fields)
    assert response.status_code == 400
    if message:
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SuitabilityRecord.id))) == 0


@pytest.mark.parametrize("login, client_no, status", [
    ("rm_a", "CB0001", 404),   # another team's client
    ("rm_a", "CA0003", 404),   # a colleague's client
    ("sup_a", "CB0001", 404),  # another team
    ("sup_a", "CA0003", 302),  # the supervisor's own team
    ("rm2_a", "CA0003", 302),
])
def test_who_may_record_for_whom(client, auth, world, catalogue, login, client_no, status):
    auth.login(login)
    token = csrf_token(client, "/")
    response = client.post(f"/clients/{client_no}/suitability",
                           data={"csrf_token": token, "product": str(catalogue[1].id), "action": "recommendation",
                                 "save": "Record"})
    assert response.status_code == status
    count = db.session.scalar(select(func.count(SuitabilityRecord.id)))
    assert count == (1 if status == 302 else 0)


@pytest.mark.parametrize("login, allowed", [("compliance", True), ("admin", True), ("sup_a", True), ("rm_a", True),
                                            ("rm_b", False), ("sup_b", False), ("client_b", False)])
def test_who_sees_the_history(client, auth, world, catalogue, login, allowed):
    entry = _warning(catalogue)
    auth.login(login)
    record_page = client.get(f"/suitability/records/{entry.id}")
    assert record_page.status_code == (200 if allowed else 404)
    if login != "client_b":
        history = client.get("/clients/CA0001/suitability")
        assert history.status_code == (200 if allowed else 404)
        if allowed:
            body = history.get_data(as_text=True)
            assert f'data-record="{entry.id}"' in body
            assert ('id="record-form"' in body) is (login in ("rm_a", "sup_a"))


def test_compliance_and_clients_cannot_record(client, auth, world, catalogue):
    for login in ("compliance", "client_a"):
        auth.login(login)
        token = csrf_token(client, "/")
        response = client.post("/clients/CA0001/suitability",
                               data={"csrf_token": token, "product": str(catalogue[1].id),
                                     "action": "recommendation", "save": "Record"})
        assert response.status_code == 403
    assert db.session.scalar(select(func.count(SuitabilityRecord.id))) == 0


# --- immutability --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE suitability_records SET outcome = 'allowed'",
    "DELETE FROM suitability_records",
    "UPDATE suitability_confirmations SET method = 'paper'",
    "DELETE FROM suitability_confirmations",
])
def test_records_and_confirmations_are_append_only(app, world, catalogue, statement):
    entry = _warning(catalogue)
    ops.confirm_warning(entry, _client("CA0001"), _user("client_a"), method="client")
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(SuitabilityRecord.outcome)) == "warning"
    assert db.session.scalar(select(func.count(SuitabilityConfirmation.id))) == 1


def test_no_route_changes_or_deletes_a_record(app):
    for rule in app.url_map.iter_rules():
        if "suitability" in rule.rule:
            assert not (rule.methods & {"PUT", "PATCH", "DELETE"}), rule.rule
