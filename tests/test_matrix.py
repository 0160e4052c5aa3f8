"""The suitability matrix: cells, as-of history, expiry, filters, scopes, drill-downs, lists, mismatches, exports."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import (
    Branch,
    Client,
    ClientTier,
    Product,
    QuestionnaireVersion,
    RiskAssessment,
    RiskProfile,
    SuitabilityConfirmation,
    SuitabilityRecord,
    User,
    db,
)
from portal.rules.calendar import business_today

pytestmark = pytest.mark.language("en")

CLASS_OF_GRADE = {"C1": "conservative", "C2": "conservative", "C3": "balanced", "C4": "aggressive",
                  "C5": "aggressive"}


# --- building the history directly, as the questionnaire and the tiering would ------------------------

def _client(client_no: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def give_profile(client_no: str, grade: str, effective_on, valid_until, lowest: bool = False) -> RiskProfile:
    """A profile in force from `effective_on`; the client row copies it when it is the newest."""
    client = _client(client_no)
    version_id = db.session.scalar(select(QuestionnaireVersion.id).where(QuestionnaireVersion.status == "active"))
    risk_class = CLASS_OF_GRADE[grade]
    assessment = RiskAssessment(client_id=client.id, version_id=version_id, answers={}, group_points={},
                                raw_points=10, score=50, band_grade=grade, grade=grade, risk_class=risk_class,
                                lowest_category=lowest, caps=[], flags=[], channel="self")
    db.session.add(assessment)
    db.session.flush()
    profile = RiskProfile(client_id=client.id, assessment_id=assessment.id, effective_on=effective_on,
                          valid_until=valid_until, score=50, grade=grade, risk_class=risk_class,
                          lowest_category=lowest)
    db.session.add(profile)
    db.session.flush()
    newest = db.session.scalar(select(RiskProfile).where(RiskProfile.client_id == client.id)
                               .order_by(RiskProfile.effective_on.desc(), RiskProfile.id.desc()).limit(1))
    if newest.id == profile.id:
        client.profile_id, client.risk_score, client.risk_grade = profile.id, 50, grade
        client.risk_class, client.lowest_category, client.profile_valid_until = risk_class, lowest, valid_until
    db.session.flush()
    return profile


def give_tier(client_no: str, stat_date, tier: int, assets: str) -> ClientTier:
    """A tier row at a statistics date; the client row copies it when it is the newest (as a re-tier does)."""
    client = _client(client_no)
    row = ClientTier(client_id=client.id, stat_date=stat_date, tier=tier, total_assets=Decimal(assets),
                     contribution_12m=Decimal("0.00"))
    db.session.add(row)
    if client.tier_date is None or stat_date >= client.tier_date:
        client.asset_tier, client.total_assets, client.tier_date = tier, Decimal(assets), stat_date
        client.contribution_12m = Decimal("0.00")
    db.session.flush()
    return row


def build(world) -> dict:
    """Six clients in known cells today (see the expected grid below)."""
    today = business_today()
    give_tier("CA0001", today - timedelta(days=40), 1, "6000000.10")
    give_profile("CA0001", "C4", today - timedelta(days=300), today + timedelta(days=400))
    give_tier("CA0002", today - timedelta(days=130), 3, "300000.00")
    give_tier("CA0002", today - timedelta(days=40), 2, "1500000.25")  # re-tiered up
    give_profile("CA0002", "C3", today - timedelta(days=200), today + timedelta(days=10))  # expiring
    give_tier("CA0003", today - timedelta(days=40), 3, "200000.00")
    give_profile("CA0003", "C1", today - timedelta(days=735), today - timedelta(days=5))  # expired
    give_profile("CB0001", "C2", today - timedelta(days=20), today + timedelta(days=700))  # no tier row
    give_tier("CB0002", today - timedelta(days=40), 4, "500.50")  # no profile
    give_tier("CB0003", today - timedelta(days=40), 1, "7000000.00")
    give_profile("CB0003", "C2", today - timedelta(days=500), today + timedelta(days=230))
    give_profile("CB0003", "C5", today - timedelta(days=50), today + timedelta(days=680))
    lujiazui = Branch(code="SH02", name="上海陆家嘴营业部", city="上海")
    for client_no in ("CB0001", "CB0002", "CB0003"):
        _client(client_no).branch = lujiazui
    db.session.commit()
    return {"today": today}


EXPECTED_TODAY = {
    (1, "aggressive"): (2, Decimal("13000000.10")),
    (2, "balanced"): (1, Decimal("1500000.25")),
    (4, "conservative"): (1, Decimal("0.00")),
}
EXPECTED_NO_PROFILE_TODAY = {3: (1, Decimal("200000.00")), 4: (1, Decimal("500.50"))}


def grid_for(username: str, day=None, **filters):
    from portal.compliance.queries import matrix, resolve_scope

    user = db.session.scalar(select(User).where(User.username == username))
    scope = resolve_scope(user, filters.get("branch"), filters.get("team"), filters.get("manager"))
    today = business_today()
    return matrix(user, scope, day or today, today)


def cells_of(grid) -> dict:
    return {key: (cell.clients, cell.assets) for key, cell in grid.cells.items() if cell.clients}


def no_profile_of(grid) -> dict:
    return {tier: (grid.no_profile(tier).clients, grid.no_profile(tier).assets) for tier in (1, 2, 3, 4)
            if grid.no_profile(tier).clients}


# --- the grid ------------------------------------------------------------------------------------------

def test_counts_and_assets_per_cell_today(app, world):
    build(world)
    grid = grid_for("compliance")
    assert cells_of(grid) == EXPECTED_TODAY
    assert no_profile_of(grid) == EXPECTED_NO_PROFILE_TODAY
    assert (grid.expired[3].clients, grid.never[4].clients) == (1, 1)
    assert grid.expiring.clients == 1  # CA0002, still in its cell
    assert grid.total.clients == 6 and grid.total.assets == Decimal("14700500.85")
    assert grid.row(1).clients == 2 and grid.column("aggressive").assets == Decimal("13000000.10")
    assert grid.column("none").clients == 2 and grid.row(4).clients == 2


def test_a_client_without_tier_counts_in_tier_4_with_no_assets(app, world):
    build(world)
    grid = grid_for("compliance")
    assert grid.cells[(4, "conservative")].clients == 1  # CB0001 has a profile but no tier row yet
    assert grid.cells[(4, "conservative")].assets == Decimal("0.00")


def test_as_of_matrix_before_and_after_a_re_tier(app, world):
    data = build(world)
    today = data["today"]
    day = today - timedelta(days=100)
    # On `day`: CA0002 was tier 3 (300,000.00) and balanced; CA0001 had no tier row yet (tier 4) and C4;
    # CA0003's profile had not expired (C1); CB0003 held its earlier C2 profile; CB0001 had no profile yet.
    past = grid_for("compliance", day)
    assert cells_of(past) == {
        (3, "balanced"): (1, Decimal("300000.00")),
        (4, "aggressive"): (1, Decimal("0.00")),
        (4, "conservative"): (2, Decimal("0.00")),  # CA0003 (C1, no tier row yet) and CB0003 (C2)
    }
    assert no_profile_of(past) == {4: (2, Decimal("0.00"))}  # CB0001 (not yet assessed) and CB0002
    cells = cells_of(grid_for("compliance", today - timedelta(days=40)))
    assert cells[(1, "aggressive")] == (2, Decimal("13000000.10"))

    # A re-tier today moves CA0001 to tier 2: today's grid moves it, the old dates keep the old tier.
    give_tier("CA0001", today, 2, "2000000.00")
    db.session.commit()
    assert cells_of(grid_for("compliance"))[(2, "aggressive")] == (1, Decimal("2000000.00"))
    assert cells_of(grid_for("compliance", today - timedelta(days=1)))[(1, "aggressive")] == \
        (2, Decimal("13000000.10"))
    assert cells_of(grid_for("compliance", day)) == cells_of(past)


def test_today_by_date_equals_the_history_query(app, world):
    """Yesterday's grid read from the history equals today's read from the client rows when nothing changed."""
    data = build(world)
    from portal.compliance.queries import AsOf, Matrix, grid_query  # noqa: F401

    yesterday = data["today"] - timedelta(days=1)
    for client_no in ("CA0001", "CA0002", "CA0003", "CB0001", "CB0002", "CB0003"):
        assert _client(client_no).tier_date is None or _client(client_no).tier_date <= yesterday
    today_grid, history_grid = grid_for("compliance"), grid_for("compliance", yesterday)
    assert cells_of(today_grid) == cells_of(history_grid)
    assert no_profile_of(today_grid) == no_profile_of(history_grid)


def _grid_figures(grid) -> tuple:
    return (cells_of(grid), no_profile_of(grid), {t: grid.expired[t].clients for t in (1, 2, 3, 4)},
            grid.expiring.clients)


def test_as_of_grid_read_from_dated_copies_equals_the_history(app, world):
    """A past date's grid counts the clients whose row copies stand for that day from the copies (the later of
    tier_date and profile_effective_on on or before it: ix_clients_as_of on PostgreSQL) and probes the others'
    histories: whichever way a client is read, the grid is the one the histories give, each client once."""
    data = build(world)
    today = data["today"]
    days = [today - timedelta(days=n) for n in (1, 5, 6, 19, 20, 21, 39, 40, 41, 50, 51, 129, 130, 131, 300, 800)]
    from_history = {day: _grid_figures(grid_for("compliance", day)) for day in days}
    # Date the copies as putting a profile in force does: most clients' copies now stand for the later dates.
    for row in db.session.scalars(select(Client).where(Client.profile_id.is_not(None))):
        row.profile_effective_on = db.session.get(RiskProfile, row.profile_id).effective_on
    db.session.commit()
    for day in days:
        assert _grid_figures(grid_for("compliance", day)) == from_history[day], day
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        from portal.compliance.queries import AsOf, Scope, grid_query

        compliance = db.session.scalar(select(User).where(User.username == "compliance"))
        statement = grid_query(compliance, Scope(), AsOf(today - timedelta(days=1), today))
        compiled = statement.compile(dialect=db.engine.dialect)
        db.session.execute(text("SET LOCAL enable_seqscan = off"))  # a handful of rows: make the index the way
        plan = "\n".join(db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars())
        assert "ix_clients_as_of" in plan


def test_profile_expiry_on_the_date(app, world):
    data = build(world)
    expiry = data["today"] - timedelta(days=5)  # CA0003's profile is valid through this day
    assert cells_of(grid_for("compliance", expiry))[(3, "conservative")] == (1, Decimal("200000.00"))
    after = grid_for("compliance", expiry + timedelta(days=1))
    assert (3, "conservative") not in cells_of(after)
    assert after.expired[3].clients == 1
    # A profile is not in force before the day it took effect.
    effective = data["today"] - timedelta(days=20)
    assert grid_for("compliance", effective - timedelta(days=1)).never[4].clients == 2
    assert grid_for("compliance", effective).cells[(4, "conservative")].clients == 1


def test_filters_by_branch_team_and_manager(app, world):
    build(world)
    shanghai = grid_for("compliance", branch="上海陆家嘴营业部")  # by name, as links made before branch codes
    assert shanghai.total.clients == 3 and cells_of(shanghai)[(1, "aggressive")] == (1, Decimal("7000000.00"))
    assert cells_of(grid_for("compliance", branch="sh02")) == cells_of(shanghai)  # by code, any case
    from portal.compliance.queries import FilterError

    with pytest.raises(FilterError) as unknown:
        grid_for("compliance", branch="NOWHERE")
    assert unknown.value.code == "unknown_branch"
    team_a = grid_for("compliance", team="teama")  # codes are matched in upper case
    assert team_a.total.clients == 3 and team_a.total.assets == Decimal("7700000.35")
    rma2 = grid_for("compliance", manager="RMA2")
    assert rma2.total.clients == 1 and no_profile_of(rma2) == {3: (1, Decimal("200000.00"))}
    assert grid_for("compliance", team="TEAMB", branch="北京建国门营业部").total.clients == 0


@pytest.mark.parametrize("username, clients", [
    ("admin", 6), ("compliance", 6), ("sup_a", 3), ("sup_b", 3), ("rm_a", 2), ("rm2_a", 1), ("rm_b", 2),
])
def test_each_role_sees_its_scope(app, world, username, clients):
    build(world)
    assert grid_for(username).total.clients == clients


def test_filter_errors_and_scope_refusals(app, world):
    from werkzeug.exceptions import NotFound

    from portal.compliance.queries import FilterError, parse_as_of

    today = business_today()
    with pytest.raises(FilterError) as error:
        parse_as_of((today + timedelta(days=1)).isoformat(), today)
    assert error.value.code == "future_date"
    with pytest.raises(FilterError) as error:
        parse_as_of("2026-02-30", today)
    assert error.value.code == "invalid_date"
    assert parse_as_of("", today) == today
    with app.test_request_context("/matrix"):
        with pytest.raises(FilterError):
            grid_for("compliance", team="NOPE")
        with pytest.raises(NotFound):
            grid_for("sup_a", team="TEAMB")
        with pytest.raises(NotFound):
            grid_for("rm_a", manager="RMA2")


# --- pages -------------------------------------------------------------------------------------------

def page(client, path):
    response = client.get(path)
    return response, response.get_data(as_text=True)


def cell_text(body: str, tier, column) -> str:
    import re

    match = re.search(rf'data-tier="{tier}" data-class="{column}"[^>]*><a class="cell-clients fw-bold" href="[^"]*">(\d+)</a>'
                      rf'\s*<div class="small text-muted cell-assets">¥([\d,.]+)</div>', body)
    assert match, (tier, column)
    return f"{match.group(1)} {match.group(2)}"


def test_matrix_page_for_compliance(client, auth, world):
    build(world)
    auth.login("compliance")
    response, body = page(client, "/matrix")
    assert response.status_code == 200
    assert cell_text(body, 1, "aggressive") == "2 13,000,000.10"
    assert cell_text(body, 3, "none") == "1 200,000.00"
    assert cell_text(body, "total", "total") == "6 14,700,500.85"
    assert cell_text(body, 4, "total") == "2 500.50"
    assert 'id="chart-cells"' in body and "<svg" in body and 'aria-describedby="matrix-grid"' in body
    assert "Clients with no tier yet count in tier 4" in body
    assert 'href="/matrix/clients?tier=1&amp;class=aggressive"' in body
    assert '<a href="/matrix/clients?class=none">No valid profile</a>' in body  # the column, not a list
    assert 'href="/matrix/clients?tier=3&amp;status=expired">expired 1</a>' in body
    assert 'id="list-never" href="/matrix/clients?status=none"' in body
    assert "<script>" not in body


def test_matrix_page_as_of_and_filters(client, auth, world):
    data = build(world)
    auth.login("compliance")
    day = (data["today"] - timedelta(days=100)).isoformat()
    response, body = page(client, f"/matrix?as_of={day}&team=TEAMA")
    assert response.status_code == 200
    assert cell_text(body, 3, "balanced") == "1 300,000.00"
    assert cell_text(body, "total", "total") == "3 300,000.00"
    # every link keeps the filters
    assert f'href="/matrix/clients?team=TEAMA&amp;as_of={day}&amp;tier=3&amp;class=balanced"' in body


@pytest.mark.parametrize("query, message", [
    ("as_of=2999-01-01", "is in the future"),
    ("as_of=yesterday", "YYYY-MM-DD"),
    ("team=NOPE", "No team has the code NOPE"),
    ("manager=E404", "No staff record has the employee number E404"),
])
def test_matrix_page_refuses_bad_filters_with_a_message(client, auth, world, query, message):
    auth.login("compliance")
    response, body = page(client, f"/matrix?{query}")
    assert response.status_code == 400
    assert message in body and 'id="matrix-grid"' not in body


@pytest.mark.parametrize("username, path", [
    ("sup_a", "/matrix?team=TEAMB"), ("sup_a", "/matrix?manager=RMB1"), ("rm_a", "/matrix?manager=RMA2"),
    ("rm_a", "/matrix/clients?team=TEAMB"), ("sup_a", "/matrix/mismatches?manager=RMB1"),
])
def test_filters_outside_the_callers_scope_are_404(client, auth, world, username, path):
    auth.login(username)
    assert client.get(path).status_code == 404


def test_a_client_cannot_open_the_matrix(client, auth, world):
    auth.login("client_a")
    for path in ("/matrix", "/matrix/clients", "/matrix/mismatches", "/matrix?export=csv"):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("username, visible, hidden", [
    ("rm_a", ["CA0001", "CA0002"], ["CA0003", "CB0001"]),
    ("sup_a", ["CA0001", "CA0002", "CA0003"], ["CB0001", "CB0003"]),
    ("admin", ["CA0001", "CB0003"], []),
])
def test_drill_down_is_scoped(client, auth, world, username, visible, hidden):
    build(world)
    auth.login(username)
    body = page(client, "/matrix/clients")[1]
    for client_no in visible:
        assert f'data-client="{client_no}"' in body
    for client_no in hidden:
        assert f'data-client="{client_no}"' not in body


def test_cell_drill_down_lists_its_clients_with_masked_ids(client, auth, world):
    build(world)
    auth.login("compliance")
    response, body = page(client, "/matrix/clients?tier=1&class=aggressive")
    assert response.status_code == 200
    assert 'data-client="CA0001"' in body and 'data-client="CB0003"' in body and 'data-client="CA0002"' not in body
    number = _client("CA0001").id_number
    assert number not in body and f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}" in body
    assert "Tier 1 · Aggressive" in body and "2 clients" in body and "13,000,000.10" not in body
    assert "6,000,000.10" in body and "RMA1" in body
    none_column = page(client, "/matrix/clients?class=none")[1]
    assert 'data-client="CA0003"' in none_column and 'data-client="CB0002"' in none_column
    assert "2 clients" in none_column


@pytest.mark.parametrize("app_overrides", [{"PER_PAGE": 2}])
def test_drill_down_is_paginated(client, auth, world, app_overrides):
    build(world)
    auth.login("compliance")
    first = page(client, "/matrix/clients")[1]
    second = page(client, "/matrix/clients?page=2")[1]
    third = page(client, "/matrix/clients?page=3")[1]
    rows = [no for body in (first, second, third) for no in ("CA0001", "CA0002", "CA0003", "CB0001", "CB0002",
                                                             "CB0003") if f'data-client="{no}"' in body]
    assert rows == ["CA0001", "CA0002", "CA0003", "CB0001", "CB0002", "CB0003"]
    assert "Page 1 of 3" in first and 'rel="next"' in first


def test_drill_down_refuses_unknown_cells(client, auth, world):
    auth.login("compliance")
    for query in ("tier=5", "class=reckless", "status=gone"):
        response, body = page(client, f"/matrix/clients?{query}")
        assert response.status_code == 400 and 'id="client-list"' not in body


def test_lists_of_expired_expiring_and_never_assessed(client, auth, world):
    data = build(world)
    auth.login("compliance")
    lists = {status: page(client, f"/matrix/clients?status={status}")[1] for status in ("expired", "expiring", "none")}
    assert 'data-client="CA0003"' in lists["expired"] and "1 clients" in lists["expired"]
    assert 'data-client="CA0002"' in lists["expiring"] and "1 clients" in lists["expiring"]
    assert 'data-client="CB0002"' in lists["none"] and "1 clients" in lists["none"]
    # As of the day CA0003's profile was last valid, it is expiring rather than expired.
    day = (data["today"] - timedelta(days=5)).isoformat()
    body = page(client, f"/matrix/clients?status=expiring&as_of={day}")[1]
    assert 'data-client="CA0003"' in body and 'data-client="CA0002"' in body  # CA0002: valid until today + 10
    assert 'data-client="CA0003"' not in page(client, f"/matrix/clients?status=expired&as_of={day}")[1]
    matrix_body = page(client, "/matrix")[1]
    assert 'id="list-expired"' in matrix_body and 'href="/matrix/clients?status=expired"' in matrix_body


# --- mismatches ----------------------------------------------------------------------------------------

def product(code: str, level: int) -> Product:
    item = Product(code=code, name_zh=f"产品{code}", name_en=f"Product {code}", kind="fund", risk_level=level)
    db.session.add(item)
    db.session.flush()
    return item


def record(client_no: str, item: Product, outcome: str, day, action: str = "subscription",
           confirmed_on=None) -> SuitabilityRecord:
    client = _client(client_no)
    row = SuitabilityRecord(client_id=client.id, product_id=item.id, action=action, amount=Decimal("10000.00"),
                            product_risk_level=item.risk_level, profile_id=client.profile_id,
                            client_grade=client.risk_grade, investor_category=client.investor_category,
                            client_age=45, outcome=outcome, elderly_prompt=False, reasons=[],
                            recorded_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2),
                            business_date=day)
    db.session.add(row)
    db.session.flush()
    if confirmed_on is not None:
        db.session.add(SuitabilityConfirmation(
            record_id=row.id, method="paper", paper_reference="P-1",
            confirmed_at=datetime.combine(confirmed_on, datetime.min.time(), UTC) + timedelta(hours=3)))
        db.session.flush()
    return row


def build_mismatches(world) -> dict:
    data = build(world)
    today = data["today"]
    r2, r3, r4, r5 = product("R2F", 2), product("R3F", 3), product("R4F", 4), product("R5F", 5)
    record("CA0001", r3, "allowed", today - timedelta(days=30))  # C4 taking R3: fine
    record("CA0002", r4, "warning", today - timedelta(days=30), confirmed_on=today - timedelta(days=29))  # C3 > R3
    record("CB0001", r2, "allowed", today - timedelta(days=10))  # C2 taking R2: fine
    record("CB0001", r3, "warning", today - timedelta(days=3))  # above C2 and never confirmed
    record("CB0003", r5, "refused", today - timedelta(days=3))  # refused: nothing was bought
    record("CB0003", r5, "allowed", today - timedelta(days=3), action="recommendation")  # not a subscription
    client = _client("CA0001")
    client.investor_category = "professional"
    record("CA0001", r5, "allowed", today - timedelta(days=2))  # a professional may take any level
    db.session.commit()
    return data


def test_mismatch_list_and_reasons(client, auth, world):
    data = build_mismatches(world)
    auth.login("compliance")
    response, body = page(client, "/matrix/mismatches")
    assert response.status_code == 200
    listed = [no for no in ("CA0001", "CA0002", "CA0003", "CB0001", "CB0002", "CB0003") if f'data-client="{no}"' in body]
    assert listed == ["CA0002", "CB0001"]
    assert "Subscribed an R4 product; the profile in force on" in body and "(C3) allows up to R3." in body
    assert "1 special risk warning without the client&#39;s confirmation." in body
    assert "R3 product" in body  # CB0001: above C2 as well
    # Before CB0001's warning was recorded, only CA0002 was a mismatch; before its confirmation, it was unconfirmed too.
    day = (data["today"] - timedelta(days=30)).isoformat()
    earlier = page(client, f"/matrix/mismatches?as_of={day}")[1]
    assert 'data-client="CA0002"' in earlier and 'data-client="CB0001"' not in earlier
    assert "1 special risk warning without" in earlier
    later = page(client, f"/matrix/mismatches?as_of={(data['today'] - timedelta(days=29)).isoformat()}")[1]
    assert 'data-client="CA0002"' in later and "special risk warning without" not in later


def test_mismatches_are_scoped_and_filtered(client, auth, world):
    build_mismatches(world)
    auth.login("sup_b")
    body = page(client, "/matrix/mismatches")[1]
    assert 'data-client="CB0001"' in body and 'data-client="CA0002"' not in body
    auth.login("compliance")
    body = page(client, "/matrix/mismatches?team=TEAMA")[1]
    assert 'data-client="CA0002"' in body and 'data-client="CB0001"' not in body


def test_lowest_category_allows_r1_only_even_for_a_professional(client, auth, world):
    data = build(world)
    give_profile("CB0002", "C3", data["today"] - timedelta(days=10), data["today"] + timedelta(days=700), lowest=True)
    _client("CB0002").investor_category = "professional"
    record("CB0002", product("R2X", 2), "allowed", data["today"] - timedelta(days=1))
    db.session.commit()
    auth.login("compliance")
    body = page(client, "/matrix/mismatches")[1]
    assert 'data-client="CB0002"' in body and "the lowest risk-tolerance category allows R1 only" in body


# --- exports -----------------------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def read_xlsx(response):
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.get_data())).active


def test_grid_exports(client, auth, world):
    build(world)
    auth.login("compliance")
    rows = read_csv(client.get("/matrix?export=csv"))
    header = rows[0]
    assert header[0] == "Tier" and header[1] == "Conservative: clients" and header[7] == "No valid profile: clients"
    assert rows[1][:1] == ["Tier 1"] and rows[1][5:7] == ["2", "13000000.10"]
    assert rows[5][0] == "Total" and rows[5][9:11] == ["6", "14700500.85"]
    sheet = read_xlsx(client.get("/matrix?export=xlsx&team=TEAMA"))
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "Tier 1" and values[1][5] == 1 and values[1][6] == pytest.approx(6000000.10)
    assert values[5][9] == 3
    assert any("Team: TEAMA" in str(row[0]) for row in values[6:] if row and row[0])
    disposition = client.get("/matrix?export=xlsx").headers["Content-Disposition"]
    assert f"suitability-matrix-{business_today().isoformat()}.xlsx" in disposition


def test_list_exports_are_neutralised_and_filtered(client, auth, world):
    build_mismatches(world)
    _client("CA0002").name = "=cmd()"
    _client("CB0001").name = "@SUM(A1)"
    db.session.commit()
    auth.login("compliance")
    rows = read_csv(client.get("/matrix/clients?export=csv"))
    assert rows[0][:3] == ["Client number", "Name", "ID number"]
    names = {row[0]: row[1] for row in rows[1:] if row}
    assert names["CA0002"] == "'=cmd()" and names["CB0001"] == "'@SUM(A1)"
    assert "*" in rows[1][2] and _client("CA0001").id_number not in rows[1][2]
    sheet = read_xlsx(client.get("/matrix/clients?export=xlsx&team=TEAMA"))
    values = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in values[1:4]] == ["CA0001", "CA0002", "CA0003"] and values[2][1] == "'=cmd()"
    assert values[4] == (None,) * len(values[0]) or not any(values[4])
    mismatches = read_csv(client.get("/matrix/mismatches?export=csv"))
    assert mismatches[0][-1] == "Why" and [row[0] for row in mismatches[1:]] == ["CA0002", "CB0001"]
    assert mismatches[2][1] == "'@SUM(A1)" and "warning" in mismatches[2][-1]
    expired = read_csv(client.get("/matrix/clients?status=expired&export=csv"))
    assert [row[0] for row in expired[1:]] == ["CA0003"]


def test_long_lists_stream_as_csv_and_are_capped_in_xlsx(client, auth, world, monkeypatch):
    import portal.compliance.views as views

    build(world)
    monkeypatch.setattr(views, "CSV_CHUNK", 2)  # several key-set chunks
    monkeypatch.setattr(views, "XLSX_MAX_ROWS", 4)
    auth.login("compliance")
    rows = read_csv(client.get("/matrix/clients?export=csv"))
    assert [row[0] for row in rows[1:]] == ["CA0001", "CA0002", "CA0003", "CB0001", "CB0002", "CB0003"]
    values = list(read_xlsx(client.get("/matrix/clients?export=xlsx")).iter_rows(values_only=True))
    assert [row[0] for row in values[1:5]] == ["CA0001", "CA0002", "CA0003", "CB0001"]
    assert values[5][0].startswith("This workbook holds the first 4 of 6 rows")


# --- the book's and the team's small grid ------------------------------------------------------------------

def test_book_and_team_pages_show_their_small_grid(client, auth, world):
    build(world)
    auth.login("rm_a")
    body = page(client, "/book")[1]
    assert 'id="small-matrix"' in body
    assert 'data-tier="1" data-class="aggressive"><a href="/matrix/clients?manager=RMA1&amp;tier=1&amp;class=aggressive">1</a>' in body
    assert 'data-tier="2" data-class="balanced"><a' in body and 'data-tier="3" data-class="none"><span' in body
    auth.login("sup_a")
    body = page(client, "/team")[1]
    assert 'data-tier="3" data-class="none"><a href="/matrix/clients?tier=3&amp;class=none">1</a>' in body
    auth.login("compliance")
    body = page(client, "/managers/RMA2/book")[1]
    assert 'data-tier="3" data-class="none"><a href="/matrix/clients?manager=RMA2&amp;tier=3&amp;class=none">1</a>' in body


def test_nav_links_by_role(client, auth, world):
    for username, label in (("compliance", "Suitability matrix"), ("admin", "Suitability matrix"),
                            ("rm_a", "Book matrix"), ("sup_a", "Team matrix")):
        auth.login(username)
        body = page(client, "/")[1]
        assert f'href="/matrix">{label}</a>' in body
        assert f"<h1 class=\"h3\">{label}</h1>" in page(client, "/matrix")[1]
