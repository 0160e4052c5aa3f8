"""Service packages of the twelve cells, the product catalogue pages, and the client's package everywhere it shows."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Client, PackageCell, Product, ServicePackage, db
from portal.operations import packages as package_ops
from portal.operations import suitability as ops
from portal.operations.errors import OperationError
from portal.rules.calendar import business_today
from portal.rules.tiering import DEFAULT_PACKAGE_OF_CELL
from tests.helpers import csrf_token

pytestmark = pytest.mark.language("en")


def _client(client_no) -> Client:
    return db.session.scalar(select(Client).where(Client.client_no == client_no))


def placed(client_no, tier, risk_class="balanced", valid_days=400, assets="1234567.80", contribution="23456.70"):
    """Put a client in a cell: the tier and figures as an import would copy them, a profile valid `valid_days`."""
    c = _client(client_no)
    c.asset_tier, c.total_assets, c.contribution_12m = tier, Decimal(assets), Decimal(contribution)
    c.tier_date = business_today()
    c.risk_class, c.risk_grade = risk_class, {"conservative": "C2", "balanced": "C3", "aggressive": "C4"}[risk_class]
    c.profile_valid_until = business_today() + timedelta(days=valid_days) if valid_days is not None else None
    db.session.commit()
    return c


def cells_form(http, mapping: dict | None = None, **overrides):
    data = {"csrf_token": csrf_token(http, "/admin/packages")}
    for (tier, risk_class), code in (mapping or DEFAULT_PACKAGE_OF_CELL).items():
        data[f"cell_{tier}_{risk_class}"] = code
    data.update(overrides)
    return data


# --- the default cells and the client's package -------------------------------------------------------------

def test_migration_loads_the_spec_defaults(app):
    assert package_ops.package_cells() == DEFAULT_PACKAGE_OF_CELL
    packages = package_ops.service_packages()
    assert list(packages) == ["premier", "advantage", "essential"]
    assert [p.name_zh for p in packages.values()] == ["尊享版", "优享版", "基础版"]
    for package in packages.values():
        assert len(package_ops.services_of(package, "zh_CN")) == len(package_ops.services_of(package, "en")) > 0


@pytest.mark.parametrize("tier, risk_class, valid_days, code, reason", [
    (1, "aggressive", 400, "premier", None),
    (2, "conservative", 400, "advantage", None),
    (3, "balanced", 400, "essential", None),
    (4, "balanced", 10, "essential", None),            # expiring is still valid
    (4, "balanced", 0, "essential", None),             # its last valid day
    (1, "balanced", -1, None, "no_valid_profile"),     # expired yesterday
    (1, "balanced", None, None, "no_valid_profile"),   # never assessed
    (None, "balanced", 400, None, "no_asset_snapshot"),
])
def test_package_for_client(app, world, tier, risk_class, valid_days, code, reason):
    c = placed("CA0001", tier, risk_class, valid_days)
    found = package_ops.package_for_client(c)
    assert (found.code, found.reason) == (code, reason)


def test_the_package_follows_the_cells_mapping(app, world):
    c = placed("CA0001", 3, "aggressive")
    mapping = dict(DEFAULT_PACKAGE_OF_CELL)
    mapping[(3, "aggressive")] = "advantage"
    changed = package_ops.update_cells(mapping)
    db.session.commit()
    assert changed == {"3/aggressive": ("essential", "advantage")}
    assert package_ops.package_for_client(c).code == "advantage"


# --- admin: the grid and the packages ------------------------------------------------------------------------

def test_admin_maps_cells_and_it_is_audited(client, auth, world):
    auth.login("admin")
    page = client.get("/admin/packages").get_data(as_text=True)
    assert 'name="cell_1_conservative"' in page and "Premier" in page
    mapping = dict(DEFAULT_PACKAGE_OF_CELL)
    mapping[(2, "aggressive")] = "premier"
    mapping[(4, "conservative")] = "advantage"
    response = client.post("/admin/packages/cells", data=cells_form(client, mapping))
    assert response.status_code == 302
    stored = {(c.tier, c.risk_class): c.package_code for c in db.session.scalars(select(PackageCell))}
    assert stored == mapping
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "package_cells.update"))
    assert audit.before == {"2/aggressive": "advantage", "4/conservative": "essential"}
    assert audit.after == {"2/aggressive": "premier", "4/conservative": "advantage"}
    assert audit.actor_username == "admin"
    again = client.post("/admin/packages/cells", data=cells_form(client, mapping))
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "package_cells.update")) == 1


@pytest.mark.parametrize("overrides", [{"cell_1_balanced": "gold"}, {"cell_3_aggressive": ""}])
def test_a_bad_cell_changes_nothing(client, auth, world, overrides):
    auth.login("admin")
    mapping = dict(DEFAULT_PACKAGE_OF_CELL)
    mapping[(2, "balanced")] = "premier"  # a good change alongside the bad one
    response = client.post("/admin/packages/cells", data=cells_form(client, mapping, **overrides))
    assert response.status_code == 400
    assert "Choose one of the three service packages" in response.get_data(as_text=True)
    assert package_ops.package_cells() == DEFAULT_PACKAGE_OF_CELL


def test_update_cells_needs_all_twelve(app):
    partial = dict(DEFAULT_PACKAGE_OF_CELL)
    partial.pop((1, "balanced"))
    with pytest.raises(OperationError):
        package_ops.update_cells(partial)


def test_admin_edits_a_package_in_both_languages(client, auth, world):
    auth.login("admin")
    token = csrf_token(client, "/admin/packages")
    data = {"csrf_token": token, "advantage-name_zh": "优享版 Plus", "advantage-name_en": "Advantage Plus",
            "advantage-services_zh": "专属客户经理\n\n  季度检视  \n", "advantage-services_en": "A dedicated manager\nQuarterly review"}
    response = client.post("/admin/packages/advantage", data=data)
    assert response.status_code == 302
    package = db.session.get(ServicePackage, "advantage")
    assert (package.name_en, package.services_zh) == ("Advantage Plus", "专属客户经理\n季度检视")
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "service_package.update"))
    assert audit.object_id == "advantage" and audit.after["name_en"] == "Advantage Plus"
    assert audit.before["name_en"] == "Advantage" and set(audit.before) == set(audit.after)


@pytest.mark.parametrize("field, value, message", [
    ("services_en", "Only one line", "same services in both languages"),
    ("name_zh", "  ", "This field is required"),
    ("name_en", "x" * 41, "40"),
    ("services_zh", "x" * 201 + "\nb", "longer than 200"),
])
def test_bad_package_input_is_refused(client, auth, world, field, value, message):
    auth.login("admin")
    before = db.session.get(ServicePackage, "premier")
    original = (before.name_zh, before.name_en, before.services_zh, before.services_en)
    data = {"csrf_token": csrf_token(client, "/admin/packages"), "premier-name_zh": "尊享版",
            "premier-name_en": "Premier", "premier-services_zh": "一\n二", "premier-services_en": "One\nTwo"}
    data[f"premier-{field}"] = value
    response = client.post("/admin/packages/premier", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.get(ServicePackage, "premier")
    assert (after.name_zh, after.name_en, after.services_zh, after.services_en) == original


def test_unknown_package_is_404(client, auth, world):
    auth.login("admin")
    token = csrf_token(client, "/admin/packages")
    assert client.post("/admin/packages/gold", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("login", ["rm_a", "sup_a", "compliance", "client_a"])
def test_only_admins_edit_packages(client, auth, world, login):
    auth.login(login)
    assert client.get("/admin/packages").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/admin/packages/cells", data=cells_form(client) | {"csrf_token": token}).status_code == 403


# --- where the package shows ----------------------------------------------------------------------------------

def test_the_client_sees_their_package_and_services(client, auth, world):
    placed("CA0001", 1, "aggressive")
    auth.login("client_a")
    page = client.get("/me").get_data(as_text=True)
    assert 'data-package="premier"' in page and "Premier" in page
    assert "A dedicated relationship manager, one to one" in page
    client.post("/language", data={"csrf_token": csrf_token(client, "/me"), "language": "zh_CN", "next": "/me"})
    assert "专属客户经理一对一服务" in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("tier, valid_days, message", [
    (2, None, "No package: no valid risk profile"),
    (None, 400, "No package: no asset snapshot yet"),
])
def test_the_client_sees_why_they_have_no_package(client, auth, world, tier, valid_days, message):
    placed("CA0001", tier, valid_days=valid_days)
    auth.login("client_a")
    page = client.get("/me").get_data(as_text=True)
    assert message in page and 'data-package=""' in page


def test_the_manager_sees_the_package_in_the_book_and_on_the_client(client, auth, world):
    placed("CA0001", 2, "conservative")
    placed("CA0002", 1, "balanced", valid_days=-3)  # expired: no package
    auth.login("rm_a")
    book = client.get("/book").get_data(as_text=True)
    rows = {no: next(row for row in book.split("<tr>") if f">{no}</a>" in row) for no in ("CA0001", "CA0002")}
    assert '<td class="service-package">Advantage</td>' in rows["CA0001"]
    assert '<td class="service-package">—</td>' in rows["CA0002"]
    # The tier column shows the client's tier, whatever the profile.
    assert '<td class="asset-tier">Tier 2</td>' in rows["CA0001"]
    assert '<td class="asset-tier">Tier 1</td>' in rows["CA0002"]
    detail = client.get("/clients/CA0001").get_data(as_text=True)
    assert 'id="client-package" data-package="advantage"' in detail
    expired = client.get("/clients/CA0002").get_data(as_text=True)
    assert 'data-package=""' in expired and "no valid risk profile" in expired


def test_the_book_reads_the_cells_once_per_page(client, auth, world, app):
    from sqlalchemy import event

    for n, client_no in enumerate(("CA0001", "CA0002")):
        placed(client_no, n + 1)
    statements = []

    def count(conn, cursor, statement, *args):
        if "package_cells" in statement:
            statements.append(statement)

    auth.login("rm_a")
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/book").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1


# --- the API --------------------------------------------------------------------------------------------------

def test_api_client_gains_tier_figures_and_package(client, world, token_for):
    placed("CA0001", 2, "balanced", assets="1000000", contribution="9999.5")
    body = client.get("/api/v1/clients/CA0001", headers={"Authorization": f"Bearer {token_for('rm_a')}"}).get_json()
    assert body["asset_tier"] == 2 and body["service_package"] == "advantage"
    assert body["total_assets"] == "1000000.00" and body["contribution_12m"] == "9999.50"
    assert body["client_no"] == "CA0001" and body["profile_status"] == "valid"  # existing fields kept
    empty = client.get("/api/v1/clients/CA0002", headers={"Authorization": f"Bearer {token_for('rm_a')}"}).get_json()
    assert (empty["asset_tier"], empty["total_assets"], empty["contribution_12m"], empty["service_package"]) == \
        (None, None, None, None)
    own = client.get("/api/v1/clients/CA0001", headers={"Authorization": f"Bearer {token_for('client_a')}"})
    assert own.get_json()["service_package"] == "advantage"


def test_openapi_describes_the_new_fields(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Client"]["properties"]
    for name in ("asset_tier", "total_assets", "contribution_12m", "service_package"):
        assert schema[name]["nullable"] is True
    assert schema["service_package"]["enum"][:3] == ["premier", "advantage", "essential"]


# --- the product catalogue ------------------------------------------------------------------------------------

def product_form(http, path, **fields):
    data = {"csrf_token": csrf_token(http, path), "code": "jt-eq001", "name_zh": "玖天股票基金",
            "name_en": "Jiutian Equity Fund", "kind": "equity_fund", "risk_level": "4"}
    data.update(fields)
    return http.post(path, data=data)


def test_admin_creates_edits_and_withdraws_a_product(client, auth, world):
    auth.login("admin")
    created = product_form(client, "/admin/products/new")
    assert created.status_code == 302
    item = db.session.scalar(select(Product))
    assert (item.code, item.risk_level, item.kind, item.active) == ("JT-EQ001", 4, "equity_fund", True)
    edited = product_form(client, f"/admin/products/{item.id}/edit", risk_level="5", code="HACKED")
    assert edited.status_code == 302
    db.session.expire_all()
    item = db.session.get(Product, item.id)
    assert item.risk_level == 5 and item.code == "JT-EQ001"
    token = csrf_token(client, "/admin/products")
    assert client.post(f"/admin/products/{item.id}/deactivate", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, item.id).active is False
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "product")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["product.create", "product.update", "product.deactivate"]
    update = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.update"))
    assert (update.before, update.after) == ({"risk_level": 4}, {"risk_level": 5})
    # withdrawn products are not offered to managers
    auth.login("rm_a")
    assert "JT-EQ001" not in client.get("/clients/CA0001/suitability").get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"code": "bad code!"}, "letters, digits"),
    ({"risk_level": "6"}, "Not a valid choice"),
    ({"kind": "crypto"}, "Not a valid choice"),
    ({"name_en": ""}, "This field is required"),
])
def test_bad_product_input_is_a_message(client, auth, world, fields, message):
    auth.login("admin")
    response = product_form(client, "/admin/products/new", **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_a_duplicate_code_is_refused(client, auth, world):
    ops.create_product("JT-EQ001", "甲", "A", "equity_fund", 4)
    db.session.commit()
    auth.login("admin")
    response = product_form(client, "/admin/products/new")
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_the_catalogue_filters_by_risk_level(client, auth, world):
    for level in (1, 2, 2, 5):
        ops.create_product(f"P{level}-{db.session.scalar(select(func.count(Product.id)))}", "产品", "Product",
                           "other", level)
    withdrawn = ops.create_product("OLD", "旧", "Old", "bond_fund", 2)
    ops.set_product_active(withdrawn, False)
    db.session.commit()
    auth.login("compliance")  # compliance reads the catalogue, without the editing buttons
    page = client.get("/admin/products?level=2").get_data(as_text=True)
    assert "2 products" in page and "OLD" not in page and "/edit" not in page
    assert "3 products" in client.get("/admin/products?level=2&state=all").get_data(as_text=True)
    assert "1 products" in client.get("/admin/products?state=inactive").get_data(as_text=True)
    assert "5 products" in client.get("/admin/products?level=9&state=all").get_data(as_text=True)
    assert client.get("/admin/products/new").status_code == 403


def test_an_unknown_product_is_404(client, auth, world):
    auth.login("admin")
    assert client.get("/admin/products/999/edit").status_code == 404
    assert client.get("/admin/products/99999999999/edit").status_code == 404
