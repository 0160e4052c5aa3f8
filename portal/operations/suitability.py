"""The product catalogue, and recommendations and subscriptions checked for suitability, with confirmations.

Records and confirmations are append-only (database triggers); a record's status (allowed, awaiting
confirmation, confirmed, refused, lapsed) is derived from it, its confirmation and the client's
profile in force, never stored and never updated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from models import Client, Product, RiskProfile, SuitabilityConfirmation, SuitabilityRecord, db, utcnow
from models.suitability import ACTIONS
from portal.audit import record
from portal.operations.errors import OperationError
from portal.operations.risk import profile_as_of
from portal.rules import suitability as rules
from portal.rules.calendar import business_today
from portal.rules.vocabulary import CONFIRMATION_METHODS, INVESTOR_CATEGORIES, RISK_LEVELS

PRODUCT_KINDS = ("money_market_fund", "bond_fund", "hybrid_fund", "equity_fund", "index_fund",
                 "collective_plan", "structured_note", "private_fund", "other")
PRODUCT_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,29}")
PRODUCT_NAME_MAX = 100
NOTE_MAX = 500
PAPER_REFERENCE_MAX = 60
AMOUNT_MAX = Decimal("9999999999999999.99")  # Numeric(18, 2)
STATUSES = ("allowed", "awaiting", "confirmed", "refused", "lapsed")


# --- the catalogue ---------------------------------------------------------------------------------

def _product_fields(name_zh: object, name_en: object, kind: object, risk_level: object) -> dict:
    values = {}
    for field, raw in (("name_zh", name_zh), ("name_en", name_en)):
        name = raw.strip() if isinstance(raw, str) else ""
        if not name:
            raise OperationError(_("Enter the product's name."), field, "required")
        if len(name) > PRODUCT_NAME_MAX:
            raise OperationError(_("A name may have at most %(n)d characters.", n=PRODUCT_NAME_MAX), field,
                                 "too_long")
        values[field] = name
    if kind not in PRODUCT_KINDS:
        raise OperationError(_("Choose the kind of product."), "kind", "unknown_kind")
    values["kind"] = kind
    if isinstance(risk_level, bool) or not isinstance(risk_level, int) or risk_level not in RISK_LEVELS:
        raise OperationError(_("The risk level must be R1, R2, R3, R4 or R5."), "risk_level", "invalid_risk_level")
    values["risk_level"] = risk_level
    return values


def create_product(code: str, name_zh: str, name_en: str, kind: str, risk_level: int) -> Product:
    """Add a product to the catalogue (active); the code is unique and never changes."""
    code = code.strip().upper() if isinstance(code, str) else ""
    if not PRODUCT_CODE.fullmatch(code):
        raise OperationError(_("The product code is 1 to 30 letters, digits, dots, dashes or underscores."),
                             "code", "invalid_code")
    if db.session.scalar(select(Product.id).where(Product.code == code)) is not None:
        raise OperationError(_("A product with the code %(code)s already exists.", code=code), "code", "duplicate")
    product = Product(code=code, active=True, created_at=utcnow(), **_product_fields(name_zh, name_en, kind,
                                                                                     risk_level))
    db.session.add(product)
    try:
        db.session.flush()
    except IntegrityError:  # the same code created at the same moment elsewhere
        db.session.rollback()
        raise OperationError(_("A product with the code %(code)s already exists.", code=code), "code",
                             "duplicate") from None
    record("product.create", "product", code,
           after={"name_zh": product.name_zh, "name_en": product.name_en, "kind": product.kind,
                  "risk_level": product.risk_level})
    return product


def update_product(product: Product, *, name_zh: str, name_en: str, kind: str, risk_level: int) -> bool:
    """Change a product's names, kind or risk level; records already made keep the level they were checked at."""
    values = _product_fields(name_zh, name_en, kind, risk_level)
    before = {field: getattr(product, field) for field in values if getattr(product, field) != values[field]}
    if not before:
        return False
    for field, value in values.items():
        setattr(product, field, value)
    db.session.flush()
    record("product.update", "product", product.code, before=before,
           after={field: values[field] for field in before})
    return True


def set_product_active(product: Product, active: bool) -> bool:
    """Withdraw a product from new recommendations (or offer it again); history keeps it."""
    if product.active == active:
        return False
    product.active = active
    db.session.flush()
    record("product.activate" if active else "product.deactivate", "product", product.code,
           before={"active": not active}, after={"active": active})
    return True


def products_query(risk_level: int | None = None, active: bool | None = None, q: str | None = None) -> Select:
    """The catalogue, filtered by risk level, state and code or name; by level, then code."""
    stmt = select(Product)
    if risk_level in RISK_LEVELS:
        stmt = stmt.where(Product.risk_level == risk_level)
    if active is not None:
        stmt = stmt.where(Product.active.is_(active))
    q = (q or "").strip()
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(Product.code.ilike(f"%{escaped}%", escape="\\"),
                              Product.name_zh.like(f"%{escaped}%", escape="\\"),
                              Product.name_en.ilike(f"%{escaped}%", escape="\\")))
    return stmt.order_by(Product.risk_level, Product.code)


def active_products() -> list[Product]:
    return list(db.session.scalars(products_query(active=True)))


# --- checking and recording ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessment:
    """A product checked against a client's file on a business date, before anything is saved."""

    product: Product
    profile: RiskProfile | None
    age: int
    investor_category: str
    business_date: date
    result: rules.SuitabilityCheck

    @property
    def needs_extra_care(self) -> bool:
        """The manager must confirm the extra-care explanation before saving (not for a refusal)."""
        return self.result.elderly_prompt and self.result.outcome != "refused"


def parse_amount(raw: object) -> Decimal | None:
    """An optional amount in CNY: a decimal with at most two places, not negative."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool) or isinstance(raw, float):
        raise OperationError(_("Write the amount as a number, e.g. 50000 or 50000.00."), "amount", "invalid_amount")
    try:
        amount = Decimal(raw.strip().replace(",", "")) if isinstance(raw, str) else Decimal(raw)
    except (InvalidOperation, TypeError, ValueError):
        raise OperationError(_("Write the amount as a number, e.g. 50000 or 50000.00."), "amount",
                             "invalid_amount") from None
    if not amount.is_finite():
        raise OperationError(_("Write the amount as a number, e.g. 50000 or 50000.00."), "amount", "invalid_amount")
    if amount < 0:
        raise OperationError(_("The amount cannot be negative."), "amount", "negative_amount")
    if amount > AMOUNT_MAX:
        raise OperationError(_("The amount is too large."), "amount", "invalid_amount")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise OperationError(_("The amount may have at most two decimal places."), "amount", "invalid_amount")
    return amount.quantize(Decimal("0.01"))


def assess(client: Client, product: Product, today: date | None = None) -> Assessment:
    """Check `product` against the client's profile as of the business date; writes nothing."""
    today = today or business_today()
    profile = profile_as_of(client, today)
    age = rules.age_on(client.birth_date, today)
    category = client.investor_category if client.investor_category in INVESTOR_CATEGORIES else "ordinary"
    result = rules.check(product.risk_level, profile.grade if profile else None,
                         lowest_category=bool(profile.lowest_category) if profile else False,
                         investor_category=category, age=age)
    return Assessment(product, profile, age, category, today, result)


def product_for_record(product_id: object) -> Product:
    """An active product by id, or a message on the product field."""
    product = None
    if isinstance(product_id, int) and not isinstance(product_id, bool) and 0 < product_id < 2**31:
        product = db.session.get(Product, product_id)
    if product is None:
        raise OperationError(_("Choose a product from the catalogue."), "product", "unknown_product")
    if not product.active:
        raise OperationError(_("%(code)s has been withdrawn from the catalogue.", code=product.code), "product",
                             "inactive_product")
    return product


def record_suitability(client: Client, product: Product, *, action: str, amount: object = None,
                       note: str | None = None, extra_care_given: bool = False, by_user=None,
                       today: date | None = None) -> SuitabilityRecord:
    """Check and record a recommendation or subscription; a refusal is recorded too (and goes no further).

    Raises OperationError (field = product / action / amount / note / extra_care) and saves nothing when the
    input is wrong, or when the extra-care prompt applies and the manager has not confirmed giving it.
    """
    if not product.active:
        raise OperationError(_("%(code)s has been withdrawn from the catalogue.", code=product.code), "product",
                             "inactive_product")
    if action not in ACTIONS:
        raise OperationError(_("Choose whether this is a recommendation or a subscription."), "action",
                             "invalid_action")
    amount = parse_amount(amount)
    if note is not None and not isinstance(note, str):
        raise OperationError(_("The note must be text."), "note")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise OperationError(_("The note may have at most %(n)d characters.", n=NOTE_MAX), "note", "note_too_long")
    checked = assess(client, product, today)
    if checked.needs_extra_care and extra_care_given is not True:
        raise OperationError(_("The client is %(age)d and the product is of risk level R%(level)d: give the "
                               "extra-care explanation and tick the box before recording.", age=checked.age,
                               level=product.risk_level), "extra_care", "extra_care_required")
    result = checked.result
    entry = SuitabilityRecord(
        client_id=client.id, product_id=product.id, action=action, amount=amount,
        product_risk_level=product.risk_level, profile_id=checked.profile.id if checked.profile else None,
        client_grade=checked.profile.grade if checked.profile else None,
        investor_category=checked.investor_category, client_age=checked.age, outcome=result.outcome,
        elderly_prompt=result.elderly_prompt, extra_care_given=bool(result.elderly_prompt and extra_care_given),
        reasons=[dict(reason) for reason in result.reasons], note=note,
        recorded_by_id=by_user.id if by_user is not None else None, recorded_at=utcnow(),
        business_date=checked.business_date)
    db.session.add(entry)
    db.session.flush()
    record("suitability.record", "client", client.client_no,
           after={"record": entry.id, "product": product.code, "product_risk_level": product.risk_level,
                  "action": action, "amount": amount, "outcome": result.outcome, "reasons": list(result.codes),
                  "grade": entry.client_grade, "lowest_category": bool(checked.profile and
                                                                        checked.profile.lowest_category),
                  "investor_category": entry.investor_category, "age": entry.client_age,
                  "elderly_prompt": entry.elderly_prompt, "extra_care_given": entry.extra_care_given,
                  "business_date": entry.business_date})
    return entry


# --- status and confirmation ----------------------------------------------------------------------------

def current_profile_id(client: Client, today: date | None = None) -> int | None:
    """The profile in force on the business date (what a warning must still rest on to be confirmed)."""
    profile = profile_as_of(client, today or business_today())
    return profile.id if profile is not None else None


def record_status(entry: SuitabilityRecord, profile_id_now: int | None) -> str:
    """allowed / refused / confirmed / awaiting (the client's confirmation) / lapsed.

    A warning not confirmed while the profile it was checked against was in force has lapsed: a new
    or expired profile means the warning no longer says what the client's file says.
    """
    if entry.outcome in ("allowed", "refused"):
        return entry.outcome
    if entry.confirmation is not None:
        return "confirmed"
    if entry.profile_id is not None and entry.profile_id == profile_id_now:
        return "awaiting"
    return "lapsed"


def confirm_warning(entry: SuitabilityRecord, client: Client, by_user, *, method: str,
                    paper_reference: str | None = None, today: date | None = None) -> SuitabilityConfirmation:
    """Record the client's confirmation of a special risk warning (own login, or a signed paper form)."""
    if entry.client_id != client.id or entry.outcome != "warning":
        raise OperationError(_("This record does not await a confirmation."), code="not_pending")
    if entry.confirmation is not None:
        raise OperationError(_("This warning has already been confirmed."), code="already_confirmed")
    if entry.profile_id is None or entry.profile_id != current_profile_id(client, today):
        raise OperationError(_("The client's risk profile has changed since this warning was recorded, so it can "
                               "no longer be confirmed. The manager records the product again."), code="lapsed")
    if method not in CONFIRMATION_METHODS:
        raise OperationError(_("Unknown confirmation method."), code="invalid")
    reference = None
    if method == "paper":
        reference = paper_reference.strip() if isinstance(paper_reference, str) else ""
        if not reference or len(reference) > PAPER_REFERENCE_MAX:
            raise OperationError(_("Enter the reference of the signed paper form (at most %(n)d characters).",
                                   n=PAPER_REFERENCE_MAX), "paper_reference", "invalid_reference")
    confirmation = SuitabilityConfirmation(record_id=entry.id, method=method, paper_reference=reference,
                                           confirmed_by_id=by_user.id if by_user is not None else None,
                                           confirmed_at=utcnow())
    db.session.add(confirmation)
    try:
        db.session.flush()
    except IntegrityError:  # confirmed twice at the same moment: the unique record_id decides
        db.session.rollback()
        raise OperationError(_("This warning has already been confirmed."), code="already_confirmed") from None
    record("suitability.confirm", "client", client.client_no,
           after={"record": entry.id, "method": method, "paper_reference": reference,
                  "product_risk_level": entry.product_risk_level, "grade": entry.client_grade})
    return confirmation


# --- reading ------------------------------------------------------------------------------------------

def history_query(client: Client) -> Select:
    """A client's records, newest first, with product, confirmation and recorder loaded."""
    return (select(SuitabilityRecord).where(SuitabilityRecord.client_id == client.id)
            .options(selectinload(SuitabilityRecord.product), selectinload(SuitabilityRecord.recorded_by),
                     selectinload(SuitabilityRecord.confirmation).selectinload(SuitabilityConfirmation.confirmed_by))
            .order_by(SuitabilityRecord.recorded_at.desc(), SuitabilityRecord.id.desc()))


def _pending_filter(client: Client, profile_id_now: int | None) -> tuple:
    return (SuitabilityRecord.client_id == client.id, SuitabilityRecord.outcome == "warning",
            SuitabilityRecord.profile_id == (profile_id_now if profile_id_now is not None else -1),
            SuitabilityConfirmation.id.is_(None))


def pending_warnings(client: Client, today: date | None = None) -> list[SuitabilityRecord]:
    """Warnings awaiting the client's confirmation (not lapsed), oldest first."""
    profile_id_now = current_profile_id(client, today)
    if profile_id_now is None:
        return []
    return list(db.session.scalars(
        select(SuitabilityRecord).outerjoin(SuitabilityConfirmation)
        .where(*_pending_filter(client, profile_id_now))
        .options(selectinload(SuitabilityRecord.product), selectinload(SuitabilityRecord.recorded_by))
        .order_by(SuitabilityRecord.recorded_at, SuitabilityRecord.id)))


def pending_count(client: Client, today: date | None = None) -> int:
    """How many warnings await the client's confirmation (two indexed lookups)."""
    profile_id_now = current_profile_id(client, today)
    if profile_id_now is None:
        return 0
    return db.session.scalar(select(func.count(SuitabilityRecord.id)).outerjoin(SuitabilityConfirmation)
                             .where(*_pending_filter(client, profile_id_now))) or 0
