"""Asset tiers: threshold edges, the 12-month contribution window, history and the tier as of a date,
re-tiering (imports, the retier command, a new threshold version), the thresholds page, the client page."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from models import AssetSnapshot, AuditEntry, Client, ClientTier, TierThresholdSet, db
from portal.imports.assets import ASSETS, REVENUE, import_rows
from portal.operations.tiering import latest_statistics_date, retier_at, save_thresholds, tier_as_of
from portal.rules.calendar import add_months, business_today
from portal.rules.tiering import contribution_window
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")

ZERO = {"cash": "0", "a_shares": "0", "b_shares": "0", "funds": "0", "warrants": "0", "bonds": "0",
        "collective_products": "0"}


def month_end(day: date) -> date:
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


@pytest.fixture
def day():
    """The last month-end: a statistics date safely in the past."""
    return business_today().replace(day=1) - timedelta(days=1)


def snapshot(client_no: str, on: date, **amounts) -> dict:
    return {"client_no": client_no, "date": on.isoformat(), **ZERO, **amounts}


def revenue(client_no: str, month: date, net: str = "0", other: str = "0") -> dict:
    return {"client_no": client_no, "month": month.strftime("%Y-%m"), "net_commission": net, "other_income": other}


def _client(client_no: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def _clients(make, count: int) -> list[Client]:
    manager = make.manager()
    return [make.client(manager) for _ in range(count)]


# --- every threshold edge, either measure -----------------------------------------------------------

EDGES = [
    # (total assets, contribution over 12 months, expected tier)
    ("5000000.00", "0", 1), ("4999999.99", "0", 2),
    ("0", "50000.00", 1), ("0", "49999.99", 2),
    ("1000000.00", "0", 2), ("999999.99", "0", 3),
    ("0", "10000.00", 2), ("0", "9999.99", 3),
    ("100000.00", "0", 3), ("99999.99", "0", 4),
    ("0", "2000.00", 3), ("0", "1999.99", 4),
    ("0", "0", 4),
    # either measure suffices, and the better tier wins
    ("4999999.99", "50000.00", 1), ("99999.99", "10000.00", 2), ("1000000.00", "49999.99", 2),
]


def test_every_threshold_edge_on_either_measure(app, make, day):
    clients = _clients(make, len(EDGES))
    db.session.commit()
    snapshots, revenues = [], []
    month = day.replace(day=1)
    for client, (assets, contribution, _tier) in zip(clients, EDGES):
        # The assets spread over two parts and the contribution over two months and both columns: sums are exact.
        half = (Decimal(assets) / 2).quantize(Decimal("0.01"))
        snapshots.append(snapshot(client.client_no, day, cash=str(half), funds=str(Decimal(assets) - half)))
        if Decimal(contribution):
            part = (Decimal(contribution) / 4).quantize(Decimal("0.01"))
            revenues.append(revenue(client.client_no, month, str(part), str(part)))
            rest = Decimal(contribution) - 3 * part
            revenues.append(revenue(client.client_no, add_months(month, -11), str(part), str(rest)))
    import_rows(REVENUE, revenues)
    import_rows(ASSETS, snapshots)
    db.session.commit()
    for client, (assets, contribution, tier) in zip(clients, EDGES):
        fresh = _client(client.client_no)
        assert (fresh.asset_tier, fresh.total_assets, fresh.contribution_12m) == (
            tier, Decimal(assets), Decimal(contribution).quantize(Decimal("0.01"))), (assets, contribution)
        fact = tier_as_of(fresh.id, day)
        assert (fact.tier, fact.total_assets, fact.stat_date, fact.threshold_version) == (
            tier, Decimal(assets), day, 1)


# --- the 12-month window ---------------------------------------------------------------------------------

def test_contribution_window_is_the_twelve_months_ending_with_the_dates_month():
    assert contribution_window(date(2026, 3, 31)) == (date(2025, 4, 1), date(2026, 3, 1))
    assert contribution_window(date(2026, 12, 15)) == (date(2026, 1, 1), date(2026, 12, 1))


def test_only_revenue_inside_the_window_counts(app, make, day):
    (c,) = _clients(make, 1)
    db.session.commit()
    month = day.replace(day=1)
    import_rows(REVENUE, [revenue(c.client_no, month, "1000.00", "0.50"),               # D's month: in
                          revenue(c.client_no, add_months(month, -11), "500.00"),        # 12th month: in
                          revenue(c.client_no, add_months(month, -12), "40000.00")])     # 13th month: out
    import_rows(ASSETS, [snapshot(c.client_no, day, cash="10.00")])
    db.session.commit()
    fresh = _client(c.client_no)
    assert fresh.contribution_12m == Decimal("1500.50") and fresh.asset_tier == 4


# --- history, as of a date, newer never overwritten --------------------------------------------------------

def test_tier_history_and_tier_as_of(app, make, day):
    (c,) = _clients(make, 1)
    db.session.commit()
    earlier = month_end(add_months(day.replace(day=1), -3))
    import_rows(ASSETS, [snapshot(c.client_no, earlier, cash="6000000.00")])
    import_rows(ASSETS, [snapshot(c.client_no, day, cash="150000.00")])
    db.session.commit()
    fresh = _client(c.client_no)
    assert (fresh.asset_tier, fresh.tier_date, fresh.total_assets) == (3, day, Decimal("150000.00"))
    assert tier_as_of(c.id, earlier - timedelta(days=1)) is None
    assert tier_as_of(c.id, earlier).tier == 1
    assert tier_as_of(c.id, day - timedelta(days=1)).tier == 1
    assert tier_as_of(c.id, day).tier == 3
    assert tier_as_of(c.id, day + timedelta(days=400)).tier == 3


def test_importing_an_older_date_keeps_the_newer_tier(app, make, day):
    (c,) = _clients(make, 1)
    db.session.commit()
    import_rows(ASSETS, [snapshot(c.client_no, day, cash="150000.00")])
    older = month_end(add_months(day.replace(day=1), -6))
    result = import_rows(ASSETS, [snapshot(c.client_no, older, cash="9000000.00")])
    db.session.commit()
    assert result.retiered == 1
    fresh = _client(c.client_no)
    assert (fresh.asset_tier, fresh.tier_date) == (3, day)
    assert tier_as_of(c.id, older).tier == 1  # the history has the older date all the same


def test_revenue_import_retiers_every_date_whose_window_holds_the_month(app, make, day):
    a, b = _clients(make, 2)
    db.session.commit()
    earlier = month_end(add_months(day.replace(day=1), -13))  # its window ends 13 months before D's month
    import_rows(ASSETS, [snapshot(a.client_no, earlier, cash="10.00"), snapshot(b.client_no, earlier, cash="10.00")])
    import_rows(ASSETS, [snapshot(a.client_no, day, cash="10.00"), snapshot(b.client_no, day, cash="10.00")])
    db.session.commit()
    assert _client(a.client_no).asset_tier == 4
    month = add_months(day.replace(day=1), -2)
    result = import_rows(REVENUE, [revenue(a.client_no, month, "50000.00")])
    db.session.commit()
    assert result.retier_dates == [day] and result.retiered == 1
    assert _client(a.client_no).asset_tier == 1 and _client(a.client_no).contribution_12m == Decimal("50000.00")
    assert tier_as_of(a.id, earlier).tier == 4  # the month is outside the earlier date's window
    assert _client(b.client_no).asset_tier == 4  # b was not in the batch
    # A later batch for the same (client, month) replaces it: the tier falls back.
    import_rows(REVENUE, [revenue(a.client_no, month, "100.00")])
    db.session.commit()
    assert _client(a.client_no).asset_tier == 4 and _client(a.client_no).contribution_12m == Decimal("100.00")


def test_retier_is_set_based_and_only_writes_changed_clients(app, make, day):
    clients = _clients(make, 3)
    db.session.commit()
    import_rows(ASSETS, [snapshot(c.client_no, day, cash="200000.00") for c in clients])
    db.session.commit()
    assert retier_at(day) == 3
    assert db.session.scalar(select(func.count()).select_from(ClientTier)) == 3


# --- the retier command ------------------------------------------------------------------------------------

def _new_version(values: dict) -> TierThresholdSet:
    current = db.session.scalar(select(TierThresholdSet).order_by(TierThresholdSet.version.desc()).limit(1))
    version = TierThresholdSet(version=current.version + 1, thresholds=values, note="test")
    db.session.add(version)
    db.session.commit()
    return version


LOWER_TIER1 = [{"tier": 1, "min_assets": "150000.00", "min_contribution": "50000.00"},
               {"tier": 2, "min_assets": "120000.00", "min_contribution": "10000.00"},
               {"tier": 3, "min_assets": "100000.00", "min_contribution": "2000.00"},
               {"tier": 4, "min_assets": "0.00", "min_contribution": "0.00"}]


def test_retier_command_uses_the_newest_thresholds(app, make, runner, day):
    (c,) = _clients(make, 1)
    db.session.commit()
    older = month_end(add_months(day.replace(day=1), -3))
    import_rows(ASSETS, [snapshot(c.client_no, older, cash="150000.00")])
    import_rows(ASSETS, [snapshot(c.client_no, day, cash="150000.00")])
    db.session.commit()
    version = _new_version(LOWER_TIER1)
    result = runner.invoke(args=["retier", "--date", older.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"Re-tiered 1 clients at {older.isoformat()}" in result.output
    db.session.expire_all()
    assert tier_as_of(c.id, older).tier == 1 and tier_as_of(c.id, older).threshold_version == version.version
    assert _client(c.client_no).asset_tier == 3  # the newer date has not been re-tiered yet
    result = runner.invoke(args=["retier"])  # the latest statistics date
    assert result.exit_code == 0 and day.isoformat() in result.output
    db.session.expire_all()
    assert _client(c.client_no).asset_tier == 1
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "tiers.retier")).all()
    assert [a.object_id for a in audit] == [older.isoformat(), day.isoformat()]


def test_retier_command_refuses_a_date_without_snapshots(app, runner, make, day):
    result = runner.invoke(args=["retier"])
    assert result.exit_code != 0 and "No asset snapshots" in result.output
    result = runner.invoke(args=["retier", "--date", "2026-13-01"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    result = runner.invoke(args=["retier", "--date", day.isoformat()])
    assert result.exit_code != 0 and day.isoformat() in result.output


# --- thresholds as versioned data --------------------------------------------------------------------------

FORM_DEFAULTS = {"tier1_assets": "5000000.00", "tier1_contribution": "50000.00",
                 "tier2_assets": "1000000.00", "tier2_contribution": "10000.00",
                 "tier3_assets": "100000.00", "tier3_contribution": "2000.00",
                 "tier4_assets": "0", "tier4_contribution": "0"}


def test_admin_saves_a_new_version_which_retiers_at_the_latest_date(app, client, auth, world, day):
    import_rows(ASSETS, [snapshot("CA0001", day, cash="3000000.00"), snapshot("CA0002", day, cash="500.00")])
    db.session.commit()
    assert _client("CA0001").asset_tier == 2
    auth.login("admin")
    page = client.get("/tiering/thresholds").get_data(as_text=True)
    assert 'id="threshold-form"' in page and "5,000,000.00" in page and day.isoformat() in page
    form = {**FORM_DEFAULTS, "tier1_assets": "2,500,000", "note": "Pilot: lower tier 1",
            "csrf_token": csrf_token(client, "/tiering/thresholds")}
    response = client.post("/tiering/thresholds", data=form, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "version 2" in body and "re-tiered 2 clients" in body
    versions = db.session.scalars(select(TierThresholdSet).order_by(TierThresholdSet.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].thresholds[0]["min_assets"] == "5000000.00"  # the old version is kept as it was
    assert versions[1].thresholds[0]["min_assets"] == "2500000.00" and versions[1].note == "Pilot: lower tier 1"
    db.session.expire_all()
    assert _client("CA0001").asset_tier == 1
    assert tier_as_of(_client("CA0001").id, day).threshold_version == 2
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tier_thresholds.create"))
    assert audit.actor_username == "admin" and audit.object_id == "2"
    assert audit.before["version"] == 1 and audit.after["thresholds"][0]["min_assets"] == "2500000.00"
    page = client.get("/tiering/thresholds").get_data(as_text=True)
    assert 'data-version="1"' in page and 'data-version="2"' in page and "Pilot: lower tier 1" in page


@pytest.mark.parametrize("change, field, message", [
    ({"tier2_assets": "50000"}, "tier2_assets", "must be more than tier 3"),
    ({"tier1_assets": "1000000.00"}, "tier1_assets", "must be more than tier 2"),
    ({"tier3_contribution": "-5"}, "tier3_contribution", "must not be negative"),
    ({"tier2_contribution": "10000.005"}, "tier2_contribution", "at most 2 decimal places"),
    ({"tier1_contribution": "lots"}, "tier1_contribution", "enter an amount"),
    ({"tier4_assets": "1"}, "tier4_assets", "must be 0"),
    ({"tier3_assets": ""}, "tier3_assets", "Enter an amount"),
])
def test_bad_thresholds_are_refused_and_nothing_is_saved(app, client, auth, world, change, field, message):
    auth.login("admin")
    form = {**FORM_DEFAULTS, **change, "csrf_token": csrf_token(client, "/tiering/thresholds")}
    response = client.post("/tiering/thresholds", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and message in body
    assert f'id="{field}-error"' in body
    assert db.session.scalar(select(func.count()).select_from(TierThresholdSet)) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tier_thresholds.create")) is None


def test_the_same_thresholds_again_are_not_a_new_version(app, world):
    from portal.operations.errors import OperationError

    with pytest.raises(OperationError) as raised:
        save_thresholds(FORM_DEFAULTS, None, None)
    assert raised.value.code == "unchanged"


def test_saving_without_snapshots_retiers_nobody(app, world):
    created, summary = save_thresholds({**FORM_DEFAULTS, "tier3_contribution": "2500"}, "", None)
    assert created.version == 2 and summary == {"stat_date": None, "retiered": 0}
    assert latest_statistics_date() is None


def test_threshold_page_roles(app, client, auth, world):
    auth.login("compliance")
    page = client.get("/tiering/thresholds")
    assert page.status_code == 200 and 'id="threshold-form"' not in page.get_data(as_text=True)
    data = {**FORM_DEFAULTS, "csrf_token": csrf_token(client, "/tiering/thresholds")}
    assert client.post("/tiering/thresholds", data=data).status_code == 403
    for login in ("rm_a", "sup_a", "client_a"):
        auth.login(login)
        assert client.get("/tiering/thresholds").status_code == 403


# --- the client's page ---------------------------------------------------------------------------------------

def test_client_detail_shows_tier_facts_and_history(app, client, auth, world, day):
    earlier = month_end(add_months(day.replace(day=1), -3))
    import_rows(ASSETS, [snapshot("CA0001", earlier, cash="1200000.00")])
    import_rows(REVENUE, [revenue("CA0001", day.replace(day=1), "1234.56", "0.44")])
    import_rows(ASSETS, [snapshot("CA0001", day, cash="80000.00", bonds="20000.00")])
    db.session.commit()
    auth.login("rm_a")
    page = client.get("/clients/CA0001/tier").get_data(as_text=True)
    assert 'data-tier="3"' in page and "100,000.00" in page and "1,235.00" in page
    assert day.isoformat() in page and earlier.isoformat() in page and 'id="tier-history"' in page
    page = client.get("/clients/CA0002/tier").get_data(as_text=True)
    assert "Not tiered yet" in page


def test_a_file_reimport_without_a_client_withdraws_their_tier_at_that_date(app, make, tmp_path, day):
    from portal.imports.assets import import_file

    a, b = _clients(make, 2)
    db.session.commit()
    earlier = month_end(add_months(day.replace(day=1), -3))
    import_rows(ASSETS, [snapshot(b.client_no, earlier, cash="1500000.00")])
    import_rows(ASSETS, [snapshot(a.client_no, day, cash="10.00"), snapshot(b.client_no, day, cash="10.00")])
    db.session.commit()
    assert _client(b.client_no).asset_tier == 4
    path = tmp_path / "again.csv"
    path.write_text("client_no,date,cash,a_shares,b_shares,funds,warrants,bonds,collective_products\n"
                    f"{a.client_no},{day.isoformat()},20.00,0,0,0,0,0,0\n")
    result = import_file(ASSETS, path)
    db.session.commit()
    assert result.replaced == 2 and result.rows == 1
    assert db.session.scalar(select(func.count()).select_from(AssetSnapshot).where(
        AssetSnapshot.stat_date == day)) == 1
    fresh = _client(b.client_no)
    assert (fresh.asset_tier, fresh.tier_date, fresh.total_assets) == (2, earlier, Decimal("1500000.00"))
    assert tier_as_of(b.id, day).stat_date == earlier


# --- demo data ---------------------------------------------------------------------------------------------

@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_demo_data_populates_every_tier_with_history_and_sparse_revenue(app, runner):
    from models import RevenueRecord
    from portal.demo_assets import statistics_dates

    result = runner.invoke(args=["seed-demo", "--clients", "3000", "--managers", "30", "--seed", "11"])
    assert result.exit_code == 0, result.output
    last, previous = statistics_dates(business_today())
    assert previous < last and previous.month in (3, 6, 9, 12)
    counts = dict(db.session.execute(select(ClientTier.tier, func.count()).where(ClientTier.stat_date == last)
                                     .group_by(ClientTier.tier)).all())
    assert set(counts) == {1, 2, 3, 4}
    total = sum(counts.values())
    assert counts[1] < counts[2] < counts[3] < counts[4] and 0.25 < counts[3] / total < 0.45
    at_previous = db.session.scalar(select(func.count()).select_from(ClientTier).where(ClientTier.stat_date == previous))
    assert 0.3 * total < at_previous < 0.5 * total
    # Some clients changed tier between the two dates: the as-of matrix moves.
    earlier = aliased(ClientTier)
    moved = db.session.scalar(select(func.count()).select_from(ClientTier).join(
        earlier, ClientTier.client_id == earlier.client_id)
        .where(ClientTier.stat_date == last, earlier.stat_date == previous, ClientTier.tier != earlier.tier))
    assert moved > 0
    # Revenue is sparse (active months only) and inside the 12 months ending with the last date's month.
    months = db.session.execute(select(func.min(RevenueRecord.month), func.max(RevenueRecord.month),
                                       func.count())).one()
    assert months[0] == add_months(last.replace(day=1), -11) and months[1] == last.replace(day=1)
    assert total < months[2] < 6 * total
    # The clients' copy is their newest tier row.
    stale = db.session.scalar(select(func.count()).select_from(Client).join(
        ClientTier, (ClientTier.client_id == Client.id) & (ClientTier.stat_date == last))
        .where(Client.asset_tier != ClientTier.tier))
    assert stale == 0
