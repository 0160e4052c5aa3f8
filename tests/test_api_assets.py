"""POST /api/v1/asset-snapshots and /api/v1/revenue-records: shapes, exact numbers, every bad row named with
nothing imported, the 10,000-row limit, batches replacing only their own (client, period) pairs, roles."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AssetSnapshot, AuditEntry, Client, ClientTier, RevenueRecord, db
from portal.rules.calendar import add_months, business_today

pytestmark = pytest.mark.language("en")

PARTS = ("cash", "a_shares", "b_shares", "funds", "warrants", "bonds", "collective_products")


@pytest.fixture
def day():
    return business_today().replace(day=1) - timedelta(days=1)


def _post(client, token, path, body, raw: bool = False):
    data = body if raw else json.dumps(body)
    return client.post(path, data=data, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"})


def _row(client_no, day, **amounts):
    return {"client_no": client_no, "date": day.isoformat(), **{p: "0" for p in PARTS}, **amounts}


def _nothing_imported():
    return (db.session.scalar(select(func.count()).select_from(AssetSnapshot)) == 0
            and db.session.scalar(select(func.count()).select_from(RevenueRecord)) == 0
            and db.session.scalar(select(func.count()).select_from(ClientTier)) == 0)


def _client(client_no):
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def test_snapshots_are_imported_and_retiered(client, world, token_for, day):
    token = token_for("compliance")
    body = [_row("CA0001", day, cash="4000000.00", funds="1000000"), _row("CA0002", day, cash=12)]
    response = _post(client, token, "/api/v1/asset-snapshots", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"kind": "assets", "rows": 2, "clients": 2, "dates": [day.isoformat()],
                                   "replaced": 0, "retiered": 2, "retier_dates": [day.isoformat()]}
    assert (_client("CA0001").asset_tier, _client("CA0001").total_assets) == (1, Decimal("5000000.00"))
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "assets.import"))
    assert audit.actor_username == "compliance" and audit.after["source"] == "api"


def test_json_numbers_are_read_exactly(client, world, token_for, day, backend):
    # As a float, 99999999999999.99 would become 99999999999999.98; read as a decimal it stays exact
    # (on PostgreSQL's numeric: SQLite itself keeps such amounts as floating point).
    raw = ('[{"client_no": "CA0001", "date": "' + day.isoformat() + '", "cash": 99999999999999.99, '
           '"a_shares": 0.1, "b_shares": 0.2, "funds": 0, "warrants": 0, "bonds": 0, "collective_products": 0}]')
    response = _post(client, token_for("admin"), "/api/v1/asset-snapshots", raw, raw=True)
    assert response.status_code == 201, response.get_json()
    snapshot = db.session.scalar(select(AssetSnapshot))
    if backend == "postgresql":
        assert (snapshot.cash, snapshot.total_assets) == (Decimal("99999999999999.99"),
                                                          Decimal("100000000000000.29"))
    assert _client("CA0001").asset_tier == 1


def test_every_bad_row_is_named_and_nothing_is_imported(client, world, token_for, day):
    tomorrow = business_today() + timedelta(days=1)
    body = [
        _row("CA0001", day, cash="1.00"),                      # 0: fine
        _row("CX0404", day),                                   # 1: unknown client
        _row("CA0002", day, cash="-3"),                        # 2: negative
        _row("CA0003", day, funds="12.345"),                   # 3: 3 decimal places (text)
        _row("CB0001", tomorrow),                              # 4: future date
        _row("CA0001", day, cash="2.00"),                      # 5: duplicate of 0
        {**_row("CB0002", day), "note": "x"},                  # 6: unknown field
        {k: v for k, v in _row("CB0003", day).items() if k != "bonds"},  # 7: missing field
        _row("CB0002", day, warrants=True),                    # 8: wrong type
        "CA0001",                                              # 9: not an object
        _row("CB0003", day - timedelta(days=31), cash="ten"),  # 10: not a number
    ]
    raw = json.dumps(body).replace('"funds": "12.345"', '"funds": 12.345')  # a JSON number with 3 places
    response = _post(client, token_for("admin"), "/api/v1/asset-snapshots", raw, raw=True)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_rows" and "Nothing was imported" in error["message"]
    named = {(r["index"], r["field"]): r for r in error["rows"]}
    assert set(named) == {(1, "client_no"), (2, "cash"), (3, "funds"), (4, "date"), (5, "client_no"),
                          (6, "note"), (7, "bonds"), (8, "warrants"), (9, None), (10, "cash")}
    assert named[(1, "client_no")]["client_no"] == "CX0404" and "No client" in named[(1, "client_no")]["message"]
    assert "negative" in named[(2, "cash")]["message"]
    assert named[(3, "funds")]["code"] == "too_many_decimals"
    assert named[(4, "date")]["code"] == "future_date"
    assert named[(5, "client_no")]["code"] == "duplicate" and "row 0" in named[(5, "client_no")]["message"]
    assert named[(6, "note")]["code"] == "unknown_field"
    assert named[(7, "bonds")]["code"] == "missing"
    assert named[(8, "warrants")]["code"] == "wrong_type"
    assert named[(9, None)]["code"] == "not_an_object"
    assert named[(10, "cash")]["code"] == "not_a_number"
    assert _nothing_imported()


def test_revenue_rows_and_their_refusals(client, world, token_for, day):
    token = token_for("admin")
    _post(client, token, "/api/v1/asset-snapshots", [_row("CA0001", day)])
    month = day.strftime("%Y-%m")
    response = _post(client, token, "/api/v1/revenue-records",
                     [{"client_no": "CA0001", "month": month, "net_commission": 45000, "other_income": "5000.00"}])
    assert response.status_code == 201
    assert response.get_json()["months"] == [month] and response.get_json()["retier_dates"] == [day.isoformat()]
    assert _client("CA0001").asset_tier == 1
    next_month = add_months(business_today().replace(day=1), 1).strftime("%Y-%m")
    response = _post(client, token, "/api/v1/revenue-records", [
        {"client_no": "CA0002", "month": next_month, "net_commission": "1", "other_income": "0"},
        {"client_no": "CA0002", "month": "2026-1", "net_commission": "1", "other_income": "0"},
        {"client_no": "CA0002", "month": month, "net_commission": 1.001, "other_income": "0"}])
    rows = response.get_json()["error"]["rows"]
    assert [(r["index"], r["field"], r["code"]) for r in rows] == [
        (0, "month", "future_month"), (1, "month", "invalid_month"), (2, "net_commission", "too_many_decimals")]
    assert db.session.scalar(select(func.count()).select_from(RevenueRecord)) == 1


def test_a_batch_replaces_only_its_own_pairs(client, world, token_for, day):
    token = token_for("admin")
    assert _post(client, token, "/api/v1/asset-snapshots",
                 [_row("CA0001", day, cash="10"), _row("CA0002", day, cash="20")]).status_code == 201
    response = _post(client, token, "/api/v1/asset-snapshots", [_row("CA0002", day, cash="2000000"),
                                                                 _row("CA0003", day, cash="30")])
    assert response.status_code == 201 and response.get_json()["replaced"] == 1
    cash = dict(db.session.execute(select(Client.client_no, AssetSnapshot.cash).join(
        Client, Client.id == AssetSnapshot.client_id)).all())
    assert cash == {"CA0001": Decimal("10.00"), "CA0002": Decimal("2000000.00"), "CA0003": Decimal("30.00")}
    assert _client("CA0002").asset_tier == 2


@pytest.mark.parametrize("raw, status, code", [
    ("not json", 400, "invalid_json"),
    ('{"client_no": "CA0001"}', 400, "invalid_body"),
    ("[]", 400, "empty"),
    ('[{"client_no": "CA0001", "date": "2026-01-31", "cash": NaN}]', 400, "invalid_json"),
])
def test_bodies_that_are_not_a_batch(client, world, token_for, raw, status, code):
    response = _post(client, token_for("admin"), "/api/v1/asset-snapshots", raw, raw=True)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert _nothing_imported()


def test_more_than_ten_thousand_rows_is_413(client, world, token_for, day):
    body = [_row("CA0001", day)] * 10_001
    response = _post(client, token_for("admin"), "/api/v1/asset-snapshots", body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_many_rows" and _nothing_imported()


@pytest.mark.parametrize("login", ["rm_a", "sup_a", "client_a"])
def test_only_admin_and_compliance_may_import(client, world, token_for, day, login):
    token = token_for(login)
    for path in ("/api/v1/asset-snapshots", "/api/v1/revenue-records"):
        response = _post(client, token, path, [_row("CA0001", day)])
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert _nothing_imported()


def test_the_openapi_document_describes_both(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/asset-snapshots", "/api/v1/revenue-records"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"201", "400", "401", "403", "413"} <= set(responses)
    assert "AssetSnapshotRow" in spec["components"]["schemas"] and "ImportError" in spec["components"]["schemas"]


@pytest.mark.parametrize("path", ["/api/v1/asset-snapshots", "/api/v1/revenue-records"])
def test_a_nul_character_is_a_bad_row_not_a_server_error(client, world, token_for, day, path):
    """PostgreSQL text cannot hold NUL: the row is refused and named, nothing is imported."""
    if path.endswith("revenue-records"):
        row = {"client_no": "CA\x000001", "month": day.strftime("%Y-%m"), "net_commission": "1", "other_income": "0"}
    else:
        row = _row("CA\x000001", day)
    response = _post(client, token_for("admin"), path, [row])
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["rows"][0]["index"] in (0, 1)
    assert _nothing_imported()
