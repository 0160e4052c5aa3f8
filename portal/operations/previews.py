"""Impact previews of rule changes, computed against live data before anything is saved; nothing is written.

Each preview runs the SQL the real change runs (or reads what it reads) and groups it by (from, to):
- tier thresholds: the re-tier's own measures (`tiering.measures_sql`) at the latest statistics date under
  the proposed ladder (`tier_case_sql`), against the tier each client holds at that date;
- the package grid: the clients with a valid profile and a tier, by the package of their cell now and under
  the proposed grid (what `packages.package_for_client` gives after the change).
Every preview gives the transitions (clients and assets), the number that move, and a drill-down
statement of the clients who move.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Date, bindparam, text

from portal.operations.errors import OperationError
from portal.operations.tiering import MONEY, build_ladder, field_name, latest_statistics_date, measures_sql
from portal.rules.calendar import business_today
from portal.rules.tiering import PACKAGES, TierThreshold, contribution_window, tier_case_sql, validate_package_of_cell
from portal.rules.vocabulary import RISK_CLASSES, TIERS

# The listed client's number, name and branch name, as the drill-down lists and their exports show them.
_CLIENT_COLUMNS = "SELECT c.client_no, c.name, (SELECT b.name FROM branches b WHERE b.id = c.branch_id) AS branch, "

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Transition:
    """Clients (and their assets) that go from one value to another; equal values stay where they are."""

    source: int | str | None
    target: int | str | None
    clients: int
    assets: Decimal

    @property
    def moves(self) -> bool:
        """A real move: the value changes (a client the change cannot place, target None, is not moved)."""
        return self.target is not None and self.source != self.target


@dataclass
class Preview:
    """The outcome of a proposed change: as of which date, over how many clients, who goes where."""

    as_of: date | None
    transitions: list[Transition] = field(default_factory=list)
    affected: dict[str, int] = field(default_factory=dict)  # e.g. {"package_changes": n}

    @property
    def total_clients(self) -> int:
        return sum(t.clients for t in self.transitions)

    @property
    def total_assets(self) -> Decimal:
        return sum((t.assets for t in self.transitions), ZERO)

    @property
    def moved(self) -> int:
        return sum(t.clients for t in self.transitions if t.moves)

    @property
    def moved_assets(self) -> Decimal:
        return sum((t.assets for t in self.transitions if t.moves), ZERO)

    def cell(self, source, target) -> Transition | None:
        return next((t for t in self.transitions if t.source == source and t.target == target), None)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


# --- tier thresholds ---------------------------------------------------------------------------------------

def ladder_values(thresholds: object) -> dict:
    """The API's `[{"tier": 1, "min_assets": "5000000", "min_contribution": "50000"}, ...]` as the page's fields.

    Raises OperationError unless it lists tiers 1-4 once each; the amounts are checked by `build_ladder`.
    """
    if not isinstance(thresholds, list) or not all(isinstance(item, Mapping) for item in thresholds):
        raise OperationError(_('"thresholds" must be a list of {"tier", "min_assets", "min_contribution"} '
                               "objects, one per tier 1-4."), "thresholds", "invalid_thresholds")
    tiers = [item.get("tier") for item in thresholds]
    if sorted(t for t in tiers if isinstance(t, int) and not isinstance(t, bool)) != list(TIERS) or len(tiers) != 4:
        raise OperationError(_('"thresholds" must list each of the tiers 1, 2, 3 and 4 exactly once.'),
                             "thresholds", "invalid_thresholds")
    values = {}
    for item in thresholds:
        for measure in ("assets", "contribution"):
            values[field_name(item["tier"], measure)] = item.get(f"min_{measure}")
    return values


class _TierSql:
    """The statement parts shared by the preview and its drill-down: measures at the date, tier then and after."""

    def __init__(self, ladder: tuple[TierThreshold, ...], day: date):
        case_sql, thresholds = tier_case_sql("x.total_assets", "x.contribution_12m", ladder, param_prefix="p")
        first_month, last_month = contribution_window(day)
        self.params = {"day": day, "first_month": first_month, "last_month": last_month, "today": business_today(),
                       **thresholds}
        self.binds = [bindparam("day", type_=Date()), bindparam("first_month", type_=Date()),
                      bindparam("last_month", type_=Date()), bindparam("today", type_=Date()),
                      *(bindparam(name, type_=MONEY) for name in thresholds)]
        # One row per client re-tiering would write: the tier held at the date now, the tier it would get.
        self.rows = ("SELECT x.client_id, x.total_assets, x.contribution_12m, ct.tier AS from_tier,"  # nosec B608 - only SQL from code is spliced, values bound
                     f" {case_sql} AS to_tier"
                     f" FROM {measures_sql()} x"
                     " LEFT JOIN client_tiers ct ON ct.client_id = x.client_id AND ct.stat_date = :day")

    def statement(self, sql: str):
        return text(sql).bindparams(*[b for b in self.binds if f":{b.key}" in sql])


def preview_thresholds(values: dict, with_packages: bool = True) -> Preview:
    """What saving these thresholds would do to the tiers at the latest statistics date (nothing is written).

    `values` are the page's eight fields (`tier1_assets` ...); a bad ladder raises OperationError with the
    page's own messages. The clients are those holding a snapshot at that date, the ones the save re-tiers.
    `with_packages` also counts the clients with a valid profile whose service package would change.
    """
    from models import db

    ladder = build_ladder(values)
    day = latest_statistics_date()
    if day is None:
        return Preview(None)
    sql = _TierSql(ladder, day)
    if not with_packages:
        grouped = ("SELECT y.from_tier, y.to_tier, COUNT(*) AS clients, SUM(y.total_assets) AS assets,"  # nosec B608 - only SQL from code is spliced, values bound
                   f" 0 AS package_changes FROM ({sql.rows}) y GROUP BY y.from_tier, y.to_tier")
        preview = Preview(day)
        for from_tier, to_tier, clients, assets, _none in db.session.execute(sql.statement(grouped), sql.params):
            preview.transitions.append(Transition(from_tier, to_tier, int(clients), _money(assets)))
        preview.transitions.sort(key=lambda t: (t.source or 0, t.target or 0))
        return preview
    grouped = ("SELECT y.from_tier, y.to_tier, COUNT(*) AS clients, SUM(y.total_assets) AS assets,"  # nosec B608 - only SQL from code is spliced, values bound
               " SUM(CASE WHEN c.profile_valid_until >= :today AND pf.package_code <> pt.package_code"
               "     THEN 1 ELSE 0 END) AS package_changes"
               f" FROM ({sql.rows}) y"
               " JOIN clients c ON c.id = y.client_id"
               " LEFT JOIN package_cells pf ON pf.tier = y.from_tier AND pf.risk_class = c.risk_class"
               " LEFT JOIN package_cells pt ON pt.tier = y.to_tier AND pt.risk_class = c.risk_class"
               " GROUP BY y.from_tier, y.to_tier")
    preview = Preview(day, affected={"package_changes": 0})
    for from_tier, to_tier, clients, assets, package_changes in db.session.execute(sql.statement(grouped),
                                                                                     sql.params):
        preview.transitions.append(Transition(from_tier, to_tier, int(clients), _money(assets)))
        preview.affected["package_changes"] += int(package_changes or 0)
    preview.transitions.sort(key=lambda t: (t.source or 0, t.target or 0))
    return preview


def threshold_movers(values: dict, source: int | None = None, target: int | None = None,
                     limit: int | None = None, offset: int = 0) -> tuple[list, int]:
    """The clients whose tier would change (optionally only from `source` to `target`), by client number,
    and how many there are in all."""
    from models import db

    ladder = build_ladder(values)
    day = latest_statistics_date()
    if day is None:
        return [], 0
    sql = _TierSql(ladder, day)
    where = ["(y.from_tier IS NULL OR y.from_tier <> y.to_tier)"]
    params = dict(sql.params)
    if source is not None:
        where.append("y.from_tier = :source")
        params["source"] = source
    if target is not None:
        where.append("y.to_tier = :target")
        params["target"] = target
    base = (f" FROM ({sql.rows}) y JOIN clients c ON c.id = y.client_id"  # nosec B608 - only SQL from code is spliced, values bound
            " LEFT JOIN managers m ON m.id = c.manager_id"
            f" WHERE {' AND '.join(where)}")
    total = db.session.execute(sql.statement("SELECT COUNT(*)" + base), params).scalar() or 0
    page = (" ORDER BY c.client_no" + (" LIMIT :limit OFFSET :offset" if limit is not None else ""))
    if limit is not None:
        params.update(limit=limit, offset=offset)
    rows = db.session.execute(sql.statement(
        _CLIENT_COLUMNS + "m.employee_no AS manager_no, m.name AS manager_name,"  # nosec B608 - only SQL from code is spliced, values bound
        " y.from_tier, y.to_tier, y.total_assets, y.contribution_12m" + base + page), params).all()
    return rows, total


# --- the package grid ---------------------------------------------------------------------------------------

def _grid_groups(today: date):
    """(package now, tier, risk class, clients, assets) of the clients in the twelve cells: one GROUP BY."""
    from models import db

    return db.session.execute(text(
        "SELECT pc.package_code, c.asset_tier, c.risk_class, COUNT(*), SUM(c.total_assets)"
        " FROM clients c JOIN package_cells pc ON pc.tier = c.asset_tier AND pc.risk_class = c.risk_class"
        " WHERE c.profile_valid_until >= :today"
        " GROUP BY pc.package_code, c.asset_tier, c.risk_class").bindparams(bindparam("today", type_=Date())),
        {"today": today}).all()


def _check_grid(grid: Mapping[tuple[int, str], str]) -> None:
    try:
        validate_package_of_cell(grid)
    except ValueError:
        raise OperationError(_("Choose one of the three service packages for each of the twelve cells."),
                             code="invalid_cells") from None


def preview_package_grid(grid: Mapping[tuple[int, str], str]) -> Preview:
    """What saving this grid would do to the packages of the clients with a valid profile and a tier today."""
    _check_grid(grid)
    today = business_today()
    totals: dict[tuple[str, str], list] = {}
    for package, tier, risk_class, clients, assets in _grid_groups(today):
        key = (package, grid[(tier, risk_class)])
        entry = totals.setdefault(key, [0, ZERO])
        entry[0] += int(clients)
        entry[1] += _money(assets)
    order = {code: n for n, code in enumerate(PACKAGES)}
    preview = Preview(today, [Transition(source, target, clients, assets)
                              for (source, target), (clients, assets) in totals.items()])
    preview.transitions.sort(key=lambda t: (order[t.source], order[t.target]))
    return preview


def package_movers(grid: Mapping[tuple[int, str], str], source: str | None = None, target: str | None = None,
                   limit: int | None = None, offset: int = 0) -> tuple[list, int]:
    """The clients whose package would change under `grid`, by client number, and how many in all."""
    from models import db

    _check_grid(grid)
    current = {(tier, risk_class): package for package, tier, risk_class, *_rest in _grid_groups(business_today())}
    cells = [(tier, risk_class) for tier in TIERS for risk_class in RISK_CLASSES
             if (tier, risk_class) in current and current[(tier, risk_class)] != grid[(tier, risk_class)]
             and (source is None or current[(tier, risk_class)] == source)
             and (target is None or grid[(tier, risk_class)] == target)]
    if not cells:
        return [], 0
    params: dict = {"today": business_today()}
    alternatives = []
    for n, (tier, risk_class) in enumerate(cells):
        alternatives.append(f"(c.asset_tier = :tier{n} AND c.risk_class = :class{n})")
        params[f"tier{n}"], params[f"class{n}"] = tier, risk_class
    base = (" FROM clients c LEFT JOIN managers m ON m.id = c.manager_id"  # nosec B608 - only bind-parameter names from code are spliced, values bound
            f" WHERE c.profile_valid_until >= :today AND ({' OR '.join(alternatives)})")
    binds = [bindparam("today", type_=Date())]
    total = db.session.execute(text("SELECT COUNT(*)" + base).bindparams(*binds), params).scalar() or 0
    page = " ORDER BY c.client_no" + (" LIMIT :limit OFFSET :offset" if limit is not None else "")
    if limit is not None:
        params.update(limit=limit, offset=offset)
    rows = db.session.execute(text(
        _CLIENT_COLUMNS + "m.employee_no AS manager_no, m.name AS manager_name,"  # nosec B608 - only bind-parameter names from code are spliced, values bound
        " c.asset_tier, c.risk_class, c.total_assets" + base + page).bindparams(*binds), params).all()
    moved = {(tier, risk_class): (current[(tier, risk_class)], grid[(tier, risk_class)]) for tier, risk_class in cells}
    return [(row, *moved[(row.asset_tier, row.risk_class)]) for row in rows], total


# --- a draft questionnaire version -----------------------------------------------------------------------

@dataclass(frozen=True)
class Rescored:
    """One client's latest answers re-scored under the draft: the grade now and the grade it would give."""

    client_no: str
    name: str
    branch: str
    manager_no: str | None
    source: str
    target: str | None  # None: the answers do not fit the draft (a question added or removed)
    assets: Decimal
    max_level: int | None  # the highest product risk level the client has subscribed (None: none)
    allowed_after: int | None


def _latest_answers():
    """Each client's newest submission with what the preview needs: one windowed query, streamed."""
    from sqlalchemy import func, select

    from models import Branch, Client, Manager, RiskAssessment, SuitabilityRecord, db

    ranked = (select(RiskAssessment.client_id, RiskAssessment.answers, RiskAssessment.grade,
                     func.row_number().over(partition_by=RiskAssessment.client_id,
                                            order_by=(RiskAssessment.submitted_at.desc(),
                                                      RiskAssessment.id.desc())).label("position"))
              .subquery("ranked"))
    held = (select(SuitabilityRecord.client_id, func.max(SuitabilityRecord.product_risk_level).label("max_level"))
            .where(SuitabilityRecord.action == "subscription", SuitabilityRecord.outcome.in_(("allowed", "warning")))
            .group_by(SuitabilityRecord.client_id).subquery("held"))
    branch = select(Branch.name).where(Branch.id == Client.branch_id).correlate(Client).scalar_subquery()
    stmt = (select(Client.client_no, Client.name, branch.label("branch"), Client.birth_date, Client.total_assets,
                   Manager.employee_no, ranked.c.answers, ranked.c.grade, held.c.max_level)
            .select_from(ranked).join(Client, Client.id == ranked.c.client_id)
            .outerjoin(Manager, Manager.id == Client.manager_id)
            .outerjoin(held, held.c.client_id == Client.id)
            .where(ranked.c.position == 1).order_by(Client.client_no))
    return db.session.execute(stmt.execution_options(yield_per=5000))


def rescore_latest(version) -> list[Rescored]:
    """Every client's newest stored answers scored under `version` (a draft), as a submission today would be:
    the same rules (`portal.rules.questionnaire.score`), the age answer from the birth date."""
    from portal.rules import questionnaire as rules

    definition = rules.load_definition(version.definition)
    today = business_today()
    out = []
    for client_no, name, branch, birth_date, assets, manager_no, answers, grade, max_level in _latest_answers():
        chosen = dict(answers or {})
        derived = rules.age_answer(definition, birth_date, today)
        if derived is not None:
            chosen[derived[0]] = derived[1]
        try:
            result = rules.score(definition, {k: v for k, v in chosen.items() if definition.question(k)})
            target, allowed = result.grade, len(rules.allowed_product_levels(result.grade, result.lowest_category))
        except rules.AnswerError:
            target, allowed = None, None
        out.append(Rescored(client_no, name, branch, manager_no, grade, target, _money(assets), max_level, allowed))
    return out


def preview_questionnaire(version) -> tuple[Preview, list[Rescored]]:
    """The C1–C5 transitions the draft would give every client's latest answers, and the clients who move."""
    rows = rescore_latest(version)
    totals: dict[tuple, list] = {}
    for row in rows:
        entry = totals.setdefault((row.source, row.target), [0, ZERO])
        entry[0] += 1
        entry[1] += row.assets
    preview = Preview(business_today(), [Transition(s, t, n, a) for (s, t), (n, a) in totals.items()],
                      {"above_new_grade": sum(1 for r in rows if r.allowed_after is not None and r.max_level
                                              and r.max_level > r.allowed_after),
                       "not_rescorable": sum(1 for r in rows if r.target is None)})
    preview.transitions.sort(key=lambda t: (t.source, t.target or "C9"))
    return preview, [row for row in rows if row.target is not None and row.source != row.target]


# --- promotion rules ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recommended:
    """One manager's recommendation under the rules in force and under the proposed ones."""

    manager_id: int
    employee_no: str
    name: str
    level: str
    source: str
    target: str
    source_level: str | None
    target_level: str | None


def latest_closed_cycle():
    """The evaluation cycle closed last (by end date), or None."""
    from sqlalchemy import select

    from models import EvaluationCycle, db

    return db.session.scalar(select(EvaluationCycle).where(EvaluationCycle.state == "closed")
                             .order_by(EvaluationCycle.end_date.desc(), EvaluationCycle.id.desc()).limit(1))


def preview_promotion_rules(data: Mapping) -> tuple[Preview, list[Recommended], object]:
    """The engine run on the latest closed cycle's managers with the rules in force and with `data` (the rules
    form's values, checked as saving checks them); nothing is stored. Returns the promote / hold / demote
    transitions, the managers whose recommendation changes, and the cycle."""
    from portal.operations import ladder, promotions
    from portal.rules import promotion as engine

    proposed_rules, proposed_demotion = engine.rules_from_dict(ladder.check_rules(data))
    current = promotions.rules_in_force()
    cycle = latest_closed_cycle()
    if cycle is None:
        return Preview(None), [], None
    considered = max([current.considered, proposed_demotion.evaluations, *(r.evaluations for r in proposed_rules)])
    facts = promotions.load_facts(cycle=cycle, considered=considered)
    today = business_today()
    preview, movers = _recommendation_changes(
        facts, today, lambda fact: promotions.evaluate(fact, current, today),
        lambda fact: engine.recommend(fact.level, fact.level_since, max(today, fact.level_since), fact.evaluations,
                                      fact.open_flags, proposed_rules, proposed_demotion))
    return preview, movers, cycle


def _recommendation_changes(facts, today, now_of, after_of) -> tuple[Preview, list[Recommended]]:
    """The engine's answer for each manager now (`now_of`) and under the change (`after_of`): the promote / hold
    / demote transitions, and the managers whose answer or target level changes, by employee number."""
    from sqlalchemy import select

    from models import Manager, db
    from portal.rules import promotion as engine

    names = dict(db.session.execute(select(Manager.id, Manager.employee_no + "\t" + Manager.name)
                                    .where(Manager.id.in_([f.manager_id for f in facts] or [-1]))).all())
    totals: Counter = Counter()
    movers = []
    for fact in facts:
        now, after = now_of(fact), after_of(fact)
        totals[(now.recommendation, after.recommendation)] += 1
        if (now.recommendation, now.target_level) != (after.recommendation, after.target_level):
            employee_no, name = names.get(fact.manager_id, "\t").split("\t", 1)
            movers.append(Recommended(fact.manager_id, employee_no, name, fact.level, now.recommendation,
                                      after.recommendation, now.target_level, after.target_level))
    order = {engine.PROMOTE: 0, engine.HOLD: 1, engine.DEMOTE: 2}
    preview = Preview(today, sorted((Transition(s, t, n, ZERO) for (s, t), n in totals.items()),
                                    key=lambda t: (order[t.source], order[t.target])))
    movers.sort(key=lambda m: m.employee_no)
    return preview, movers


# --- evaluation weights -------------------------------------------------------------------------------------

def preview_weights(weights: Mapping, thresholds: Mapping) -> tuple[Preview, Preview, list[Recommended], object]:
    """The latest closed cycle re-totalled with the entered weights and bands (checked as saving checks them):
    the rating-band transitions of its evaluations, and the promote / hold / demote transitions of the engine
    (rules in force) run on every total it reads re-totalled the same way; nothing is stored."""
    from dataclasses import replace

    from sqlalchemy import select

    from models import Evaluation, db
    from portal.operations import ladder, promotions
    from portal.rules import evaluation as scoring

    clean = ladder.check_weights(weights)
    bands = ladder.check_bands(thresholds)
    cycle = latest_closed_cycle()
    if cycle is None:
        return Preview(None), Preview(None), [], None
    band_totals: Counter = Counter()
    for level, band, *scores in db.session.execute(
            select(Evaluation.level, Evaluation.band, Evaluation.satisfaction, Evaluation.kpi, Evaluation.team,
                   Evaluation.competence)
            .where(Evaluation.cycle_id == cycle.id, Evaluation.total.is_not(None))):
        total = scoring.weighted_total(dict(zip(scoring.DIMENSIONS, scores, strict=True)), clean[level])
        band_totals[(band, scoring.band_for(total, bands))] += 1
    order = {code: n for n, code in enumerate(scoring.BAND_CODES)}
    bands_preview = Preview(business_today(), sorted(
        (Transition(s, t, n, ZERO) for (s, t), n in band_totals.items()),
        key=lambda t: (order.get(t.source, 9), order.get(t.target, 9))))

    rules = promotions.rules_in_force()
    facts = promotions.load_facts(cycle=cycle, considered=rules.considered)
    today = business_today()

    def retotalled(fact):
        return replace(fact, evaluations=tuple(replace(e, total=scoring.weighted_total(e.scores, clean[fact.level]))
                                               for e in fact.evaluations))

    recommendations, movers = _recommendation_changes(
        facts, today, lambda fact: promotions.evaluate(fact, rules, today),
        lambda fact: promotions.evaluate(retotalled(fact), rules, today))
    return bands_preview, recommendations, movers, cycle
