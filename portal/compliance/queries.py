"""The suitability matrix in set-based SQL: the grid, its drill-downs, the lists, and the filters they share.

Definitions (also in docs/guide/compliance.md):
- Profile on date D (as `portal.operations.risk.profile_as_of`): the latest risk_profiles row with
  effective_on <= D (ties: the higher id); it is valid on D if valid_until >= D. For today the copy on
  the client row (risk_class, profile_valid_until, indexed) is used; for a past D, on PostgreSQL, the same
  copies where they date from D or before (models.clients.copies_since, ix_clients_as_of) and a LATERAL
  join over risk_profiles (client_id, effective_on, id) for the others; on SQLite a correlated subquery.
- Tier on date D: the latest client_tiers row with stat_date <= D (for today: clients.asset_tier and
  total_assets). A client with no tier row yet counts in tier 4 with assets 0: tier 4 is "the rest".
- Assets of a cell: the sum of total_assets of the tier rows used, exact (Numeric, Decimal in Python).
- No valid profile: no profile at all on D, or the profile in force on D had expired.
- Mismatch on D: a subscription (action 'subscription', outcome allowed or warning, business date <= D)
  of a product above what the profile on D allows (the lowest risk-tolerance category: R1; a
  professional investor: any; otherwise grade Cn: up to Rn), or a warning subscription with no client
  confirmation recorded by the end of D. Clients with no valid profile on D appear in the expired and
  no-profile lists, not as mismatches (there is no profile to compare with); an unconfirmed warning
  makes them a mismatch all the same.
- Branch, team and manager filters, and each role's scope, refer to the client's current assignment.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from models import (
    Branch,
    Client,
    ClientTier,
    Manager,
    ProfessionalApplication,
    RiskAssessment,
    RiskProfile,
    SuitabilityConfirmation,
    SuitabilityRecord,
    Team,
    User,
    db,
)
from models.clients import copies_since
from portal.access import can_see_manager, deny, scope_clients, supervised_team_ids
from portal.clients.queries import branch_name
from portal.replica import report_connection
from portal.rules.calendar import end_of_business_day
from portal.rules.profile import EXPIRING_DAYS
from portal.rules.vocabulary import RISK_CLASSES, TIERS

NO_PROFILE = "none"  # the column of clients with no valid profile
LIST_STATUSES = ("expired", "expiring", "none")
STATUS_CODES = ("none", "expired", "expiring", "valid")
SUBSCRIBED_OUTCOMES = ("allowed", "warning")
ZERO = Decimal("0.00")


# --- filters ------------------------------------------------------------------------------------------

class FilterError(Exception):
    """A filter the caller may fix: a bad or future date, an unknown team or manager (answered 400)."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


@dataclass(frozen=True)
class Scope:
    """The filters of a matrix request, resolved: within the caller's own scope, which applies as well."""

    branch: Branch | None = None
    team: Team | None = None
    manager: Manager | None = None

    @property
    def args(self) -> dict[str, str]:
        """The filters as query arguments, for links and exports."""
        args = {}
        if self.branch is not None:
            args["branch"] = self.branch.code
        if self.team is not None:
            args["team"] = self.team.code
        if self.manager is not None:
            args["manager"] = self.manager.employee_no
        return args


def parse_as_of(raw: str | None, today: date) -> date:
    """`YYYY-MM-DD` (today when empty); a date after today is refused."""
    raw = (raw or "").strip()
    if not raw:
        return today
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise FilterError("as_of", "invalid_date", _("The date must be written YYYY-MM-DD.")) from None
    if day > today:
        raise FilterError("as_of", "future_date",
                          _("%(day)s is in the future: the matrix can be shown for today (%(today)s) or a past date.",
                            day=day.isoformat(), today=today.isoformat()))
    return day


def team_in_scope(user, team: Team) -> bool:
    if user.role in ("admin", "compliance"):
        return True
    if user.role == "supervisor":
        return team.id in supervised_team_ids(user)
    if user.role == "rm":
        return user.manager is not None and user.manager.team_id == team.id
    return False


def resolve_scope(user, branch: str | None = None, team_code: str | None = None,
                  manager_no: str | None = None) -> Scope:
    """Look the filters up: unknown → FilterError; a team or manager outside the caller's scope → 404 (logged).

    A branch is named by its code, or by its name (links made before branches were records)."""
    branch_key = (branch or "").strip()[:60]
    branch = team = manager = None
    if branch_key:
        branch = (db.session.scalar(select(Branch).where(Branch.code == branch_key.upper()))
                  or db.session.scalar(select(Branch).where(Branch.name == branch_key)))
        if branch is None:
            raise FilterError("branch", "unknown_branch", _("No branch has the code %(code)s.", code=branch_key))
    team_code = (team_code or "").strip()
    if team_code:
        team = db.session.scalar(select(Team).where(Team.code == team_code.upper()))
        if team is None:
            raise FilterError("team", "unknown_team", _("No team has the code %(code)s.", code=team_code[:20]))
        if not team_in_scope(user, team):
            deny("team", team.code)
    manager_no = (manager_no or "").strip()
    if manager_no:
        manager = db.session.scalar(select(Manager).where(Manager.employee_no == manager_no))
        if manager is None:
            raise FilterError("manager", "unknown_manager",
                              _("No staff record has the employee number %(no)s.", no=manager_no[:20]))
        if not can_see_manager(user, manager):
            deny("manager", manager.employee_no)
    return Scope(branch, team, manager)


def apply_scope(stmt: Select, user, scope: Scope) -> Select:
    """The caller's own scope (rm: book; supervisor: teams) narrowed by the filters."""
    stmt = scope_clients(stmt, user)
    if scope.branch is not None:
        stmt = stmt.where(Client.branch_id == scope.branch.id)
    if scope.team is not None:
        stmt = stmt.where(Client.manager_id.in_(select(Manager.id).where(Manager.team_id == scope.team.id)))
    if scope.manager is not None:
        stmt = stmt.where(Client.manager_id == scope.manager.id)
    return stmt


def branches(user) -> list[Branch]:
    """Branches for the filter: every branch record for the whole-firm roles, else those the scoped clients are in."""
    stmt = select(Branch).order_by(Branch.code).limit(500)
    if user.role not in ("admin", "compliance"):
        stmt = stmt.where(Branch.id.in_(scope_clients(select(Client.branch_id).distinct(), user)))
    return list(db.session.scalars(stmt))


# --- the client's tier and profile on a date ----------------------------------------------------------

class AsOf:
    """Column expressions for each client's tier, assets and profile on `day`, and the joins they need."""

    def __init__(self, day: date, today: date, opened_only: bool = False, copies_only: bool = False):
        self.day, self.today, self._today_date = day, day == today, today
        # Only clients whose account was open by `day` (the inspection pack: a client opened later was none).
        self.opened_only = opened_only
        self._joins: list = []
        # On PostgreSQL for a past day: WHERE the client row's copies are the client's tier and profile on the
        # day (see `copies_only`); None where every column already reads one source.
        self.copies_hold = None
        if self.today or copies_only:  # the copies on the client row: indexed, no join
            self.asset_tier = Client.asset_tier
            self.raw_assets = Client.total_assets
            self.risk_class = Client.risk_class
            self.grade = Client.risk_grade
            self.lowest = Client.lowest_category
            self.valid_until = Client.profile_valid_until
        else:
            self._history_columns(day)
        if self.today:
            self.professional = Client.investor_category == "professional"
        else:
            cutoff = end_of_business_day(day)
            self.professional = exists().where(
                ProfessionalApplication.client_id == Client.id, ProfessionalApplication.status == "approved",
                ProfessionalApplication.decided_at < cutoff)
        self.tier = func.coalesce(self.asset_tier, 4)
        self.assets = func.coalesce(self.raw_assets, ZERO)
        self.class_at = case((self.valid_until >= day, self.risk_class), else_=None)
        self.status = case((self.valid_until.is_(None), "none"), (self.valid_until < day, "expired"),
                           (self.valid_until <= day + timedelta(days=EXPIRING_DAYS), "expiring"), else_="valid")
        # The same as a small integer (index into STATUS_CODES): cheaper to group a million rows by.
        self.status_code = case((self.valid_until.is_(None), 0), (self.valid_until < day, 1),
                                (self.valid_until <= day + timedelta(days=EXPIRING_DAYS), 2), else_=3)

    def _history_columns(self, day: date) -> None:
        tier_where = (ClientTier.client_id == Client.id, ClientTier.stat_date <= day)
        profile_where = (RiskProfile.client_id == Client.id, RiskProfile.effective_on <= day)
        profile_order = (RiskProfile.effective_on.desc(), RiskProfile.id.desc())
        if db.engine.dialect.name == "postgresql":
            # The copies on the client row are the newest history rows: they are the rows on `day` for a client
            # whose newest tier (tier_date) and profile (profile_effective_on) date from `day` or before. Only
            # the others take one index-only probe into each history (ix_client_tiers_as_of,
            # ix_risk_profiles_as_of); the condition on the outer row gates the probe (a one-time filter).
            tier_copy = and_(Client.tier_date.is_not(None), Client.tier_date <= day)
            # No profile in force now (profile_id null): none was ever put in force, so there is nothing to probe.
            profile_copy = or_(Client.profile_id.is_(None),
                               and_(Client.profile_effective_on.is_not(None), Client.profile_effective_on <= day))
            tier = (select(ClientTier.tier, ClientTier.total_assets).where(*tier_where, ~tier_copy)
                    .order_by(ClientTier.stat_date.desc()).limit(1).lateral("tier_at"))
            profile = (select(RiskProfile.risk_class, RiskProfile.grade, RiskProfile.lowest_category,
                              RiskProfile.valid_until).where(*profile_where, ~profile_copy)
                       .order_by(*profile_order).limit(1).lateral("profile_at"))
            self._joins = [(tier, true()), (profile, true())]
            # A range of ix_clients_as_of; implies tier_copy and profile_copy; never NULL, so its negation is the
            # exact complement (the clients the columns below work out row by row).
            self.copies_hold = copies_since(Client) <= day

            def either(copy, own, probed):
                return case((copy, own), else_=probed)

            self.asset_tier = either(tier_copy, Client.asset_tier, tier.c.tier)
            self.raw_assets = either(tier_copy, Client.total_assets, tier.c.total_assets)
            self.risk_class = either(profile_copy, Client.risk_class, profile.c.risk_class)
            self.grade = either(profile_copy, Client.risk_grade, profile.c.grade)
            self.lowest = either(profile_copy, Client.lowest_category, profile.c.lowest_category)
            self.valid_until = either(profile_copy, Client.profile_valid_until, profile.c.valid_until)
            return
        # SQLite has no LATERAL: join the row a correlated subquery picks
        tier_at, profile_at = aliased(ClientTier, name="tier_at"), aliased(RiskProfile, name="profile_at")
        tier_id = (select(ClientTier.id).where(*tier_where).order_by(ClientTier.stat_date.desc()).limit(1)
                   .correlate(Client).scalar_subquery())
        profile_id = (select(RiskProfile.id).where(*profile_where).order_by(*profile_order).limit(1)
                      .correlate(Client).scalar_subquery())
        self._joins = [(tier_at, tier_at.id == tier_id), (profile_at, profile_at.id == profile_id)]
        tier_c, profile_c = tier_at, profile_at
        self.asset_tier, self.raw_assets = tier_c.tier, tier_c.total_assets
        self.risk_class, self.grade = profile_c.risk_class, profile_c.grade
        self.lowest, self.valid_until = profile_c.lowest_category, profile_c.valid_until

    def copies_only(self) -> AsOf:
        """The same day's columns read from the client row alone: right only WHERE `copies_hold`."""
        return AsOf(self.day, self._today_date, self.opened_only, copies_only=True)

    def select_from(self, stmt: Select) -> Select:
        """`stmt` over clients with the joins the columns need."""
        stmt = stmt.select_from(Client)
        for target, on in self._joins:
            stmt = stmt.outerjoin(target, on)
        if self.opened_only:
            stmt = stmt.where(Client.opened_on <= self.day)
        return stmt

    def tier_is(self, tier: int):
        """WHERE the client's tier on the day is `tier` (index-friendly for today)."""
        if tier == 4:
            return or_(self.asset_tier == 4, self.asset_tier.is_(None))
        return self.asset_tier == tier

    def class_is(self, risk_class: str):
        """WHERE the client's valid profile on the day is of `risk_class`, or (NO_PROFILE) there is none."""
        if risk_class == NO_PROFILE:
            return or_(self.valid_until.is_(None), self.valid_until < self.day)
        return and_(self.risk_class == risk_class, self.valid_until >= self.day)

    def status_is(self, status: str):
        day = self.day
        return {
            "none": self.valid_until.is_(None),
            "expired": self.valid_until < day,
            "expiring": self.valid_until.between(day, day + timedelta(days=EXPIRING_DAYS)),
            "valid": self.valid_until > day + timedelta(days=EXPIRING_DAYS),
        }[status]

    def allowed_level(self):
        """The highest product risk level the profile on the day allows; 0 without a valid profile."""
        grade_number = cast(func.substr(self.grade, 2, 1), Integer)
        return case((or_(self.valid_until.is_(None), self.valid_until < self.day), 0),
                    (self.lowest == true(), 1), (self.professional, 5), else_=grade_number)


# --- the grid -----------------------------------------------------------------------------------------

@dataclass
class Cell:
    clients: int = 0
    assets: Decimal = ZERO

    def add(self, clients: int, assets: Decimal) -> None:
        self.clients += clients
        self.assets += assets


@dataclass
class Matrix:
    """4 tiers × 3 classes, the no-valid-profile column (split into expired and none), and the totals."""

    as_of: date
    cells: dict[tuple[int, str], Cell] = field(default_factory=lambda: {(t, c): Cell() for t in TIERS
                                                                       for c in RISK_CLASSES})
    expired: dict[int, Cell] = field(default_factory=lambda: {t: Cell() for t in TIERS})
    never: dict[int, Cell] = field(default_factory=lambda: {t: Cell() for t in TIERS})
    expiring: Cell = field(default_factory=Cell)

    def cell(self, tier: int, risk_class: str) -> Cell:
        if risk_class == NO_PROFILE:
            return self.no_profile(tier)
        return self.cells[(tier, risk_class)]

    def no_profile(self, tier: int | None = None) -> Cell:
        total = Cell()
        for t in ([tier] if tier else TIERS):
            total.add(self.expired[t].clients + self.never[t].clients, self.expired[t].assets + self.never[t].assets)
        return total

    def _sum(self, cells) -> Cell:
        total = Cell()
        for cell in cells:
            total.add(cell.clients, cell.assets)
        return total

    def row(self, tier: int) -> Cell:
        """Tier total, the no-profile column included."""
        return self._sum([*(self.cells[(tier, c)] for c in RISK_CLASSES), self.no_profile(tier)])

    def column(self, risk_class: str) -> Cell:
        if risk_class == NO_PROFILE:
            return self.no_profile()
        return self._sum(self.cells[(t, risk_class)] for t in TIERS)

    def expired_total(self) -> Cell:
        return self._sum(self.expired.values())

    def never_total(self) -> Cell:
        return self._sum(self.never.values())

    @property
    def total(self) -> Cell:
        return self._sum(self.row(t) for t in TIERS)


def _grid_part(user, scope: Scope, as_of: AsOf, where=None) -> Select:
    inner = select(as_of.tier.label("tier"), as_of.class_at.label("risk_class"),
                   as_of.status_code.label("status"), as_of.raw_assets.label("assets"))
    inner = apply_scope(as_of.select_from(inner), user, scope)
    if where is not None:
        inner = inner.where(where)
    inner = inner.subquery("scoped")
    return (select(inner.c.tier, inner.c.risk_class, inner.c.status, func.count().label("clients"),
                   func.sum(inner.c.assets).label("assets"))
            .group_by(inner.c.tier, inner.c.risk_class, inner.c.status))


def grid_query(user, scope: Scope, as_of: AsOf) -> Select | CompoundSelect:
    """GROUP BY over the scoped clients: (tier, class if valid, profile status) → count, sum of assets.

    A row per group; for a past day on PostgreSQL a group may come in two rows, to be added up: the clients
    whose row's copies are their tier and profile on the day, counted from those copies alone (an index-only
    scan of ix_clients_as_of, as today's grid reads ix_clients_matrix), and the others, who probe the
    histories. The two parts are complementary (`copies_hold` is never NULL), so every client counts once."""
    if as_of.copies_hold is None:
        return _grid_part(user, scope, as_of)
    return union_all(_grid_part(user, scope, as_of.copies_only(), as_of.copies_hold),
                     _grid_part(user, scope, as_of, ~as_of.copies_hold))


def matrix(user, scope: Scope, day: date, today: date, as_of: AsOf | None = None) -> Matrix:
    """The grid for the caller's scope and filters on `day`, in one query."""
    as_of = as_of or AsOf(day, today)
    result = Matrix(day)
    connection = report_connection()
    if not as_of.today and connection.dialect.name == "postgresql":
        # A million rows grouped by computed columns: hashed in memory rather than sorted on disk, and a plan
        # run once is not worth compiling (JIT costs half a second here).
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL jit = off"))
    for tier, risk_class, status_code, clients, assets in connection.execute(grid_query(user, scope, as_of)):
        assets = Decimal(assets or 0).quantize(Decimal("0.01"))  # no tier row: no assets
        status = STATUS_CODES[status_code]
        if status == "none":
            result.never[tier].add(clients, assets)
        elif status == "expired":
            result.expired[tier].add(clients, assets)
        else:
            result.cells[(tier, risk_class)].add(clients, assets)
            if status == "expiring":
                result.expiring.add(clients, assets)
    return result


# --- lists --------------------------------------------------------------------------------------------

def _list_columns(as_of: AsOf) -> tuple:
    return (Client.client_no, Client.name, Client.id_number, branch_name.label("branch"), as_of.tier.label("tier"),
            as_of.assets.label("assets"), as_of.risk_class.label("risk_class"), as_of.grade.label("grade"),
            as_of.lowest.label("lowest_category"), as_of.valid_until.label("valid_until"),
            as_of.status.label("status"), Manager.employee_no.label("manager_no"), Manager.name.label("manager_name"))


def client_list(user, scope: Scope, as_of: AsOf, tier: int | None = None, risk_class: str | None = None,
                status: str | None = None) -> Select:
    """Scoped clients of one cell, row, column or profile status on the day, by client number."""
    stmt = as_of.select_from(select(*_list_columns(as_of)))
    stmt = stmt.outerjoin(Manager, Manager.id == Client.manager_id)
    if tier is not None:
        stmt = stmt.where(as_of.tier_is(tier))
    if risk_class is not None:
        stmt = stmt.where(as_of.class_is(risk_class))
    if status is not None:
        stmt = stmt.where(as_of.status_is(status))
    return apply_scope(stmt, user, scope).order_by(Client.client_no)


def mismatch_list(user, scope: Scope, as_of: AsOf) -> Select:
    """Scoped clients whose subscriptions up to the day do not fit their profile on the day (see module doc)."""
    record, confirmation = SuitabilityRecord, SuitabilityConfirmation
    unconfirmed = and_(record.outcome == "warning", confirmation.id.is_(None))
    subscriptions = (
        select(record.client_id.label("client_id"), func.max(record.product_risk_level).label("max_level"),
               func.count(case((unconfirmed, literal(1)))).label("unconfirmed"))
        .outerjoin(confirmation, and_(confirmation.record_id == record.id,
                                      confirmation.confirmed_at < end_of_business_day(as_of.day)))
        .where(record.action == "subscription", record.outcome.in_(SUBSCRIBED_OUTCOMES),
               record.business_date <= as_of.day)
    )
    if user.role not in ("admin", "compliance") or scope != Scope():
        # Aggregate only the scoped clients' records (ix_suitability_records_client_recorded).
        subscriptions = subscriptions.where(record.client_id.in_(apply_scope(select(Client.id), user, scope)))
    subscriptions = subscriptions.group_by(record.client_id).subquery("subscribed")
    allowed = as_of.allowed_level()
    stmt = as_of.select_from(select(*_list_columns(as_of), subscriptions.c.max_level, subscriptions.c.unconfirmed,
                                    allowed.label("allowed_level")))
    stmt = (stmt.join(subscriptions, subscriptions.c.client_id == Client.id)
            .outerjoin(Manager, Manager.id == Client.manager_id)
            .where(or_(and_(allowed > 0, subscriptions.c.max_level > allowed), subscriptions.c.unconfirmed > 0)))
    return apply_scope(stmt, user, scope).order_by(Client.client_no)


def in_chunks(stmt: Select, size: int = 5000, limit: int | None = None) -> Iterator:
    """All rows of a list ordered by client_no, fetched `size` at a time by key (bounded memory, no cursor)."""
    last, sent = None, 0
    while True:
        chunk_stmt = stmt if last is None else stmt.where(Client.client_no > last)
        take = size if limit is None else min(size, limit - sent)
        if take <= 0:
            return
        rows = report_connection().execute(chunk_stmt.limit(take)).all()
        yield from rows
        sent += len(rows)
        if len(rows) < take:
            return
        last = rows[-1].client_no


def count(stmt: Select) -> int:
    return report_connection().scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


# --- the small grid of a book or a team --------------------------------------------------------------

@dataclass
class SmallGrid:
    """A book's or a team's 4 × 3 grid for today, and the filter its links carry to the matrix pages."""

    grid: Matrix
    args: dict


def small_grid(user, today: date, manager: Manager | None = None) -> SmallGrid:
    """Today's grid of one manager's book, or (no manager) of everything `user` sees: one GROUP BY."""
    scope = Scope(manager=manager)
    return SmallGrid(matrix(user, scope, today, today), scope.args)
# --- grade raised on retake ---------------------------------------------------------------------------

def retake_raises(user, scope: Scope, day: date, since: date | None = None) -> Select:
    """Submissions that raised the client's grade within 30 days of the previous one, newest first.

    Submitted on a business day in (since, day] (every one up to `day` when `since` is None), for the
    caller's scope and filters; each row carries both results side by side (`new_*` and `old_*`). The
    flag is written with the submission (risk_assessments.raised_from_id), read here through
    ix_risk_assessments_raised.
    """
    new, old = aliased(RiskAssessment, name="new_assessment"), aliased(RiskAssessment, name="old_assessment")
    entered = aliased(User, name="entered_by")
    stmt = (select(new.id.label("assessment_id"), Client.client_no, Client.name, Client.id_number,
                   branch_name.label("branch"),
                   Manager.employee_no.label("manager_no"), Manager.name.label("manager_name"),
                   old.id.label("old_id"), old.grade.label("old_grade"), old.score.label("old_score"),
                   old.submitted_at.label("old_submitted_at"), old.channel.label("old_channel"),
                   new.grade.label("new_grade"), new.score.label("new_score"),
                   new.submitted_at.label("new_submitted_at"), new.channel.label("new_channel"),
                   entered.username.label("entered_by"))
            .select_from(new)
            .join(old, old.id == new.raised_from_id)
            .join(Client, Client.id == new.client_id)
            .outerjoin(Manager, Manager.id == Client.manager_id)
            .outerjoin(entered, entered.id == new.entered_by_id)
            .where(new.raised_from_id.is_not(None), new.submitted_at < end_of_business_day(day)))
    if since is not None:
        stmt = stmt.where(new.submitted_at >= end_of_business_day(since))
    return apply_scope(stmt, user, scope).order_by(new.submitted_at.desc(), new.id.desc())


def retake_raise_count(user, scope: Scope | None = None, day: date | None = None, since: date | None = None) -> int:
    """How many submissions `retake_raises` lists (e.g. for a home page's work queue); today by default."""
    from portal.rules.calendar import business_today

    return count(retake_raises(user, scope or Scope(), day or business_today(), since))
