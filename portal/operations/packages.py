"""Service packages of the twelve tier x risk-class cells: read once per request, edited by admins, audited."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select

from models import Client, PackageCell, ServicePackage, db, utcnow
from portal.audit import record
from portal.operations.errors import OperationError
from portal.rules.profile import has_valid_profile
from portal.rules.tiering import PACKAGES, validate_package_of_cell
from portal.rules.vocabulary import RISK_CLASSES, TIERS

NAME_MAX = 40
SERVICES_MAX = 2000
SERVICE_LINE_MAX = 200
NO_VALID_PROFILE = "no_valid_profile"
NO_ASSET_SNAPSHOT = "no_asset_snapshot"


def cell_key(tier: int, risk_class: str) -> str:
    """How a cell is named in audit rows and forms: "1/conservative"."""
    return f"{tier}/{risk_class}"


def _cached(key: str, load):
    # Once per request (the book asks for every row); outside a request, always fresh.
    if not has_request_context():
        return load()
    value = g.get(key)
    if value is None:
        value = load()
        setattr(g, key, value)
    return value


def _forget() -> None:
    if has_request_context():
        g.pop("_package_cells", None)
        g.pop("_service_packages", None)
        g.pop("_package_names_zh_CN", None)
        g.pop("_package_names_en", None)


def package_cells() -> dict[tuple[int, str], str]:
    """The package code of each of the twelve cells (one query per request)."""
    return _cached("_package_cells", lambda: {
        (tier, risk_class): code
        for tier, risk_class, code in db.session.execute(
            select(PackageCell.tier, PackageCell.risk_class, PackageCell.package_code))})


def service_packages() -> dict[str, ServicePackage]:
    """The three packages by code, richest first (one query per request)."""
    return _cached("_service_packages", lambda: {
        package.code: package
        for package in db.session.scalars(select(ServicePackage).order_by(ServicePackage.rank))})


def package_name(package: ServicePackage, language: str) -> str:
    return package.name_zh if language == "zh_CN" else package.name_en


def services_of(package: ServicePackage, language: str) -> list[str]:
    """The package's services, one per line, in the language asked for."""
    text = package.services_zh if language == "zh_CN" else package.services_en
    return [line for line in (text or "").splitlines() if line.strip()]


def package_names_by_cell(language: str) -> dict[tuple[int, str], str]:
    """Each cell's package name in `language`: what a book row looks up in memory, never a join per row.

    One small query per request (twelve rows), however many rows the page shows.
    """
    name = ServicePackage.name_zh if language == "zh_CN" else ServicePackage.name_en
    return _cached(f"_package_names_{language}", lambda: {
        (tier, risk_class): package
        for tier, risk_class, package in db.session.execute(
            select(PackageCell.tier, PackageCell.risk_class, name)
            .join(ServicePackage, ServicePackage.code == PackageCell.package_code))})


@dataclass(frozen=True)
class ClientPackage:
    """A client's package, or why they have none (`reason`: no_valid_profile / no_asset_snapshot)."""

    package: ServicePackage | None
    reason: str | None
    tier: int | None
    risk_class: str | None

    @property
    def code(self) -> str | None:
        return self.package.code if self.package is not None else None


def package_for_client(client: Client, today: date | None = None) -> ClientPackage:
    """The package of the client's cell (asset tier x risk class); none without a valid profile or a tier."""
    if not has_valid_profile(client.profile_valid_until, today) or client.risk_class not in RISK_CLASSES:
        return ClientPackage(None, NO_VALID_PROFILE, client.asset_tier, None)
    if client.asset_tier not in TIERS:
        return ClientPackage(None, NO_ASSET_SNAPSHOT, None, client.risk_class)
    code = package_cells().get((client.asset_tier, client.risk_class))
    return ClientPackage(service_packages().get(code), None, client.asset_tier, client.risk_class)


# --- editing -------------------------------------------------------------------------------------------

def update_cells(mapping: Mapping[tuple[int, str], str]) -> dict[str, tuple[str, str]]:
    """Map the twelve cells to packages; returns the changed cells as {"1/balanced": (before, after)}.

    All twelve must be given, each with a known package; nothing changes otherwise.
    """
    try:
        validate_package_of_cell(mapping)
    except ValueError:
        raise OperationError(_("Choose one of the three service packages for each of the twelve cells."),
                             code="invalid_cells") from None
    rows = {(cell.tier, cell.risk_class): cell for cell in db.session.scalars(select(PackageCell))}
    changed: dict[str, tuple[str, str]] = {}
    now = utcnow()
    for tier in TIERS:
        for risk_class in RISK_CLASSES:
            wanted = mapping[(tier, risk_class)]
            row = rows.get((tier, risk_class))
            if row is None:  # a database set up by hand: the cell is created rather than lost
                row = PackageCell(tier=tier, risk_class=risk_class, package_code=wanted, updated_at=now)
                db.session.add(row)
                changed[cell_key(tier, risk_class)] = ("", wanted)
            elif row.package_code != wanted:
                changed[cell_key(tier, risk_class)] = (row.package_code, wanted)
                row.package_code, row.updated_at = wanted, now
    if changed:
        db.session.flush()
        record("package_cells.update", "package_cells", None,
               before={cell: old for cell, (old, _new) in changed.items()},
               after={cell: new for cell, (_old, new) in changed.items()})
    _forget()
    return changed


def normalise_services(text: str | None) -> list[str]:
    """Services as entered, one per line: trimmed, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def update_package(code: str, *, name_zh: str, name_en: str, services_zh: str, services_en: str) -> bool:
    """Change a package's names and services (both languages); returns whether anything changed."""
    package = db.session.get(ServicePackage, code) if code in PACKAGES else None
    if package is None:
        raise OperationError(_("There is no such service package."), code="unknown_package")
    values = {}
    for field, raw in (("name_zh", name_zh), ("name_en", name_en)):
        name = (raw or "").strip() if isinstance(raw, str) or raw is None else None
        if not name:
            raise OperationError(_("Enter the package's name."), field, "required")
        if len(name) > NAME_MAX:
            raise OperationError(_("A name may have at most %(n)d characters.", n=NAME_MAX), field, "too_long")
        values[field] = name
    lines = {}
    for field, raw in (("services_zh", services_zh), ("services_en", services_en)):
        if raw is not None and not isinstance(raw, str):
            raise OperationError(_("List the services as text, one per line."), field)
        lines[field] = normalise_services(raw)
        if not lines[field]:
            raise OperationError(_("List at least one service, one per line."), field, "required")
        long_lines = [n for n, line in enumerate(lines[field], 1) if len(line) > SERVICE_LINE_MAX]
        if long_lines:
            raise OperationError(_("Line %(line)d is longer than %(n)d characters.", line=long_lines[0],
                                   n=SERVICE_LINE_MAX), field, "too_long")
        values[field] = "\n".join(lines[field])
        if len(values[field]) > SERVICES_MAX:
            raise OperationError(_("The services may have at most %(n)d characters in all.", n=SERVICES_MAX),
                                 field, "too_long")
    if len(lines["services_zh"]) != len(lines["services_en"]):
        raise OperationError(
            _("List the same services in both languages: %(zh)d lines in Chinese, %(en)d in English.",
              zh=len(lines["services_zh"]), en=len(lines["services_en"])), "services_en", "languages_differ")
    before = {field: getattr(package, field) for field in values if getattr(package, field) != values[field]}
    if not before:
        return False
    for field, value in values.items():
        setattr(package, field, value)
    package.updated_at = utcnow()
    db.session.flush()
    record("service_package.update", "service_package", code, before=before,
           after={field: values[field] for field in before})
    _forget()
    return True
