"""Product catalogue, service packages of the twelve cells, recommendations and subscriptions with their checks."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from forms.suitability import (
    ConfirmWarningForm,
    PackageCellsForm,
    PackageForm,
    PaperConfirmationForm,
    ProductForm,
    RecordForm,
    ToggleForm,
    cell_field_name,
)
from models import Client, Product, SuitabilityRecord, db
from portal.access import allow, can_see_client, client_or_404, deny, scope_clients
from portal.exports import download
from portal.formatting import portal_language
from portal.labels import labels, suitability_labels
from portal.operations import packages as package_ops
from portal.operations import suitability as ops
from portal.operations.errors import OperationError, attach_error
from portal.operations.previews import package_movers, preview_package_grid
from portal.pagination import Page, page_arg, paginate
from portal.rules import suitability as rules
from portal.rules.calendar import business_today
from portal.rules.tiering import PACKAGES
from portal.rules.vocabulary import RISK_CLASSES, RISK_LEVELS, TIERS
from portal.suitability import texts
from portal.unit_of_work import unit_of_work

bp = Blueprint("suitability", __name__)

MAX_DB_INT = 2**31 - 1


# --- what other pages show: the client's package, pending warnings -----------------------------------------

@bp.app_template_global("service_package_of")
def service_package_of(client: Client) -> dict:
    """The client's package for a template: code, name and services in the user's language, or why none."""
    found = package_ops.package_for_client(client)
    language = portal_language()
    if found.package is None:
        return {"code": None, "name": None, "services": [], "reason": found.reason,
                "reason_text": suitability_labels()["package_reason"][found.reason]}
    return {"code": found.code, "name": package_ops.package_name(found.package, language),
            "services": package_ops.services_of(found.package, language), "reason": None, "reason_text": None,
            "tier": found.tier, "risk_class": found.risk_class}


@bp.app_template_global("pending_warning_count")
def pending_warning_count(client: Client) -> int:
    return ops.pending_count(client)


def _own_client() -> Client:
    client = db.session.scalar(scope_clients(select(Client), current_user))
    if client is None:
        abort(404)
    return client


# --- service packages (admin) ---------------------------------------------------------------------------

def _render_packages(cells_form: PackageCellsForm | None = None, package_forms: dict | None = None, status=200,
                     preview=None, grid_args: dict | None = None):
    packages = package_ops.service_packages()
    cells = package_ops.package_cells()
    language = portal_language()
    if cells_form is None:
        cells_form = PackageCellsForm(formdata=None)
        for (tier, risk_class), code in cells.items():
            field = getattr(cells_form, cell_field_name(tier, risk_class), None)
            if field is not None:
                field.data = code
    choices = [SelectChoice(code, package_ops.package_name(packages[code], language))
               for code in PACKAGES if code in packages]
    for tier in TIERS:
        for risk_class in RISK_CLASSES:
            getattr(cells_form, cell_field_name(tier, risk_class)).choices = choices
    forms = {}
    for code, package in packages.items():
        forms[code] = (package_forms or {}).get(code) or PackageForm(formdata=None, obj=package, prefix=code)
    movers_url = None
    if preview is not None:
        base = url_for("suitability.package_movers_page")

        def movers_url(**extra) -> str:
            return f"{base}?{urlencode({**grid_args, **{k: v for k, v in extra.items() if v is not None}})}"
    return render_template("suitability/packages.html", cells_form=cells_form, package_forms=forms,
                           packages=packages, tiers=TIERS, risk_classes=RISK_CLASSES,
                           field_name=cell_field_name, language=language, preview=preview,
                           movers_url=movers_url, package_codes=list(PACKAGES),
                           package_labels={code: package_ops.package_name(package, language)
                                           for code, package in packages.items()}), status


def _cells_form_posted() -> tuple[PackageCellsForm, dict | None]:
    """The posted twelve cells: the form, and the mapping when it validates (None otherwise)."""
    form = PackageCellsForm()
    form_choices = [SelectChoice(code) for code in PACKAGES]
    for tier in TIERS:
        for risk_class in RISK_CLASSES:
            getattr(form, cell_field_name(tier, risk_class)).choices = form_choices
    if not form.validate_on_submit():
        return form, None
    return form, {(tier, risk_class): getattr(form, cell_field_name(tier, risk_class)).data
                  for tier in TIERS for risk_class in RISK_CLASSES}


@bp.route("/admin/packages/cells/preview", methods=["POST"])
@allow("admin")
def preview_cells():
    """What saving the grid would do to clients' packages (nothing is saved): the form again, with the preview."""
    form, mapping = _cells_form_posted()
    if mapping is None:
        flash(_("Choose one of the three service packages for each of the twelve cells."), "danger")
        return _render_packages(cells_form=form, status=400)
    preview = preview_package_grid(mapping)
    grid_args = {cell_field_name(tier, risk_class): code for (tier, risk_class), code in mapping.items()}
    return _render_packages(cells_form=form, preview=preview, grid_args=grid_args)


@bp.route("/admin/packages/cells/preview/clients")
@allow("admin", "compliance")
def package_movers_page():
    """Who would change package under the grid in the query (optionally from one package to another), with exports."""
    grid = {(tier, risk_class): request.args.get(cell_field_name(tier, risk_class), "")
            for tier in TIERS for risk_class in RISK_CLASSES}
    source = request.args.get("from") or None
    target = request.args.get("to") or None
    if (source and source not in PACKAGES) or (target and target not in PACKAGES):
        abort(400)
    language = portal_language()
    names = {code: package_ops.package_name(package, language)
             for code, package in package_ops.service_packages().items()}
    try:
        fmt = request.args.get("export")
        if fmt in ("csv", "xlsx"):
            rows, _total = package_movers(grid, source, target)
            header = [_("Client number"), _("Name"), _("Branch"), _("Manager number"), _("Manager"), _("Tier"),
                      _("Risk class"), _("Package now"), _("Package after the change"), _("Total assets")]
            cells = [[r.client_no, r.name, r.branch, r.manager_no or "", r.manager_name or "", r.asset_tier,
                      str(labels()["risk_class"][r.risk_class]), names.get(old, old), names.get(new, new),
                      r.total_assets] for r, old, new in rows]
            return download(fmt, "package-grid-preview-movers", header, cells, title=_("Package changes"))
        per_page = current_app.config["PER_PAGE"]
        page = page_arg()
        rows, total = package_movers(grid, source, target, limit=per_page, offset=(page - 1) * per_page)
    except OperationError as error:  # a read: nothing to commit or roll back
        return render_template("suitability/package_movers.html", error=error.message, pagination=None,
                               names=names), 400
    return render_template("suitability/package_movers.html", error=None, pagination=Page(rows, page, per_page, total),
                           names=names, export_url=lambda fmt: url_for(
                               "suitability.package_movers_page",
                               **{**request.args.to_dict(), "export": fmt, "page": None}))


@bp.route("/admin/packages")
@allow("admin")
def packages():
    return _render_packages()


@bp.route("/admin/packages/cells", methods=["POST"])
@allow("admin")
def update_cells():
    form = PackageCellsForm()
    form_choices = [SelectChoice(code) for code in PACKAGES]
    for tier in TIERS:
        for risk_class in RISK_CLASSES:
            getattr(form, cell_field_name(tier, risk_class)).choices = form_choices
    if not form.validate_on_submit():
        flash(_("Choose one of the three service packages for each of the twelve cells."), "danger")
        return _render_packages(cells_form=form, status=400)
    mapping = {(tier, risk_class): getattr(form, cell_field_name(tier, risk_class)).data
               for tier in TIERS for risk_class in RISK_CLASSES}
    with unit_of_work(flash=True) as work:
        changed = package_ops.update_cells(mapping)
    if not work.ok:
        return _render_packages(cells_form=form, status=400)
    if changed:
        flash(_("The service packages of %(n)d cells were changed.", n=len(changed)), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("suitability.packages"))


@bp.route("/admin/packages/<package_code>", methods=["POST"])
@allow("admin")
def update_package(package_code: str):
    if package_code not in PACKAGES:
        abort(404)
    form = PackageForm(prefix=package_code)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            changed = package_ops.update_package(package_code, name_zh=form.name_zh.data, name_en=form.name_en.data,
                                                 services_zh=form.services_zh.data,
                                                 services_en=form.services_en.data)
        if work.ok:
            flash(_("The package was saved.") if changed else _("Nothing changed."), "success" if changed else "info")
            return redirect(url_for("suitability.packages") + f"#package-{package_code}")
    return _render_packages(package_forms={package_code: form}, status=400)


# --- the product catalogue ---------------------------------------------------------------------------------

def _kind_choices() -> list[SelectChoice]:
    kinds = suitability_labels()["kind"]
    return [SelectChoice(kind, str(kinds[kind])) for kind in ops.PRODUCT_KINDS]


@bp.route("/admin/products")
@allow("admin", "compliance")
def products():
    level = request.args.get("level", type=int)
    level = level if level in RISK_LEVELS else None
    state = request.args.get("state", "active")
    state = state if state in ("active", "inactive", "all") else "active"
    q = (request.args.get("q") or "").strip()[:50]
    active = {"active": True, "inactive": False, "all": None}[state]
    pagination = paginate(ops.products_query(level, active, q), page_arg(), current_app.config["PER_PAGE"])
    return render_template("suitability/products.html", pagination=pagination, level=level, state=state, q=q,
                           slabels=suitability_labels(), toggle=ToggleForm(),
                           can_edit=current_user.role == "admin")


@bp.route("/admin/products/new", methods=["GET", "POST"])
@allow("admin")
def new_product():
    form = ProductForm()
    form.kind.choices = _kind_choices()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            product = ops.create_product(form.code.data, form.name_zh.data, form.name_en.data, form.kind.data,
                                         form.risk_level.data)
        if work.ok:
            flash(_("The product %(code)s was added to the catalogue.", code=product.code), "success")
            return redirect(url_for("suitability.products"))
    return render_template("suitability/product_form.html", form=form, product=None), 400 if form.errors else 200


def _product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id) if 0 < product_id <= MAX_DB_INT else None
    if product is None:
        abort(404)
    return product


@bp.route("/admin/products/<int:product_id>/edit", methods=["GET", "POST"])
@allow("admin")
def edit_product(product_id: int):
    product = _product_or_404(product_id)
    form = ProductForm(obj=product)
    form.kind.choices = _kind_choices()
    form.code.data = product.code  # the code never changes: records refer to it
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            changed = ops.update_product(product, name_zh=form.name_zh.data, name_en=form.name_en.data,
                                         kind=form.kind.data, risk_level=form.risk_level.data)
        if work.ok:
            flash(_("The product %(code)s was saved.", code=product.code) if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("suitability.products"))
    return render_template("suitability/product_form.html", form=form, product=product), 400 if form.errors else 200


def _toggle_product(product_id: int, active: bool):
    product = _product_or_404(product_id)
    if ToggleForm().validate_on_submit():
        with unit_of_work():
            changed = ops.set_product_active(product, active)
        if changed:
            flash(_("%(code)s is offered again.", code=product.code) if active
                  else _("%(code)s was withdrawn: it can no longer be recommended or subscribed.", code=product.code),
                  "success")
    else:
        flash(_("The form has expired. Please try again."), "danger")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("suitability.products"))


@bp.route("/admin/products/<int:product_id>/deactivate", methods=["POST"])
@allow("admin")
def deactivate_product(product_id: int):
    return _toggle_product(product_id, False)


@bp.route("/admin/products/<int:product_id>/activate", methods=["POST"])
@allow("admin")
def activate_product(product_id: int):
    return _toggle_product(product_id, True)


# --- a client's records: staff ---------------------------------------------------------------------------------

def _product_choices(products: list[Product]) -> list[SelectChoice]:
    language = portal_language()
    kinds = suitability_labels()["kind"]
    return [SelectChoice(p.id, f"R{p.risk_level} · {p.code} · {p.name_zh if language == 'zh_CN' else p.name_en} "
                         f"({kinds.get(p.kind, p.kind)})") for p in products]


def _history_rows(client: Client, page: int):
    pagination = paginate(ops.history_query(client), page, current_app.config["PER_PAGE"])
    profile_id_now = ops.current_profile_id(client)
    rows = [{"record": entry, "status": ops.record_status(entry, profile_id_now),
             "reasons": [texts.reason_text(reason) for reason in entry.reasons or []]}
            for entry in pagination.items]
    return pagination, rows


def _can_record(client: Client) -> bool:
    return current_user.role in ("rm", "supervisor") and client.manager_id is not None


def _render_client(client: Client, form: RecordForm | None = None, preview: ops.Assessment | None = None,
                   status: int = 200):
    can_record = _can_record(client)
    today = business_today()
    products = ops.active_products() if can_record else []
    if form is None:
        form = RecordForm(formdata=None)
    form.product.choices = _product_choices(products)
    pagination, rows = _history_rows(client, page_arg())
    profile = ops.profile_as_of(client, today)
    age = rules.age_on(client.birth_date, today)
    preview_reasons = [texts.reason_text(reason) for reason in preview.result.reasons] if preview else []
    return render_template(
        "suitability/client.html", client=client, form=form, can_record=can_record, pagination=pagination,
        rows=rows, profile=profile, age=age, elderly=age >= rules.ELDERLY_AGE, preview=preview,
        preview_reasons=preview_reasons, elderly_text=texts.elderly_prompt_for_manager(age),
        slabels=suitability_labels(), badge=texts.STATUS_BADGE, today=today, has_products=bool(products),
    ), status


@bp.route("/clients/<client_no>/suitability")
@allow("rm", "supervisor", "compliance", "admin")
def client_records(client_no: str):
    return _render_client(client_or_404(client_no))


@bp.route("/clients/<client_no>/suitability", methods=["POST"])
@allow("rm", "supervisor")
def record(client_no: str):
    client = client_or_404(client_no)  # rm: own book; supervisor: own team
    if not _can_record(client):
        abort(404)
    form = RecordForm()
    form.product.choices = _product_choices(ops.active_products())
    if not form.validate_on_submit():
        return _render_client(client, form, status=400)
    check_only = form.check.data and not form.save.data
    with unit_of_work(form, commit=not check_only) as work:  # a check only shows the assessment, never stores
        product = ops.product_for_record(form.product.data)
        if check_only:
            return _render_client(client, form, preview=ops.assess(client, product))
        entry = ops.record_suitability(client, product, action=form.action.data, amount=form.amount.data,
                                       note=form.note.data, extra_care_given=bool(form.extra_care.data),
                                       by_user=current_user)
    if not work.ok:
        preview = None
        if work.error.code == "extra_care_required":
            preview = ops.assess(client, db.session.get(Product, form.product.data))
        return _render_client(client, form, preview=preview, status=400)
    outcome = entry.outcome
    if outcome == "allowed":
        flash(_("Recorded: %(code)s is suitable for this client.", code=entry.product.code), "success")
    elif outcome == "warning":
        flash(_("Recorded with a special risk warning: %(code)s goes ahead only once the client confirms it.",
                code=entry.product.code), "warning")
    else:
        flash(_("Refused and recorded as refused: %(code)s cannot be recommended or sold to this client.",
                code=entry.product.code), "danger")
    return redirect(url_for("suitability.record_detail", record_id=entry.id))


# --- one record: everyone who may see the client ---------------------------------------------------------------

def _record_or_404(record_id: int) -> tuple[SuitabilityRecord, Client]:
    entry = db.session.get(SuitabilityRecord, record_id) if 0 < record_id <= MAX_DB_INT else None
    if entry is None:
        abort(404)
    client = db.session.get(Client, entry.client_id)
    if not can_see_client(current_user, client):
        deny("suitability_record", record_id)
    return entry, client


def _render_record(entry: SuitabilityRecord, client: Client, paper_form: PaperConfirmationForm | None = None,
                   confirm_form: ConfirmWarningForm | None = None, status: int = 200):
    state = ops.record_status(entry, ops.current_profile_id(client))
    is_client = current_user.role == "client"
    language = portal_language()
    product_name = entry.product.name_zh if language == "zh_CN" else entry.product.name_en
    paper_enabled = current_app.config.get("ASSISTED_PAPER_CONFIRMATION", True)
    return render_template(
        "suitability/record.html", entry=entry, client=client, state=state, is_client=is_client,
        product_name=product_name, reasons=[texts.reason_text(reason) for reason in entry.reasons or []],
        warning_text=texts.warning_for_client(product_name, entry.product_risk_level, entry.client_grade,
                                              entry.action),
        elderly_text=(texts.elderly_prompt_for_client(entry.client_age, entry.product_risk_level) if is_client
                      else texts.elderly_prompt_for_manager(entry.client_age)),
        can_confirm=is_client and state == "awaiting",
        can_record_paper=current_user.role in ("rm", "supervisor") and state == "awaiting" and paper_enabled,
        paper_form=paper_form or PaperConfirmationForm(), confirm_form=confirm_form or ConfirmWarningForm(),
        slabels=suitability_labels(), badge=texts.STATUS_BADGE,
    ), status


@bp.route("/suitability/records/<int:record_id>")
@allow("client", "rm", "supervisor", "compliance", "admin")
def record_detail(record_id: int):
    entry, client = _record_or_404(record_id)
    return _render_record(entry, client)


@bp.route("/suitability/records/<int:record_id>/paper-confirmation", methods=["POST"])
@allow("rm", "supervisor")
def paper_confirmation(record_id: int):
    entry, client = _record_or_404(record_id)
    if not current_app.config.get("ASSISTED_PAPER_CONFIRMATION", True):
        flash(_("Confirmation by signed paper form is not enabled: the client confirms on their own login."),
              "warning")
        return redirect(url_for("suitability.record_detail", record_id=entry.id))
    form = PaperConfirmationForm()
    if not form.validate_on_submit():
        return _render_record(entry, client, paper_form=form, status=400)
    with unit_of_work() as work:
        ops.confirm_warning(entry, client, current_user, method="paper", paper_reference=form.paper_reference.data)
    if work.error is not None and work.error.field == "paper_reference":
        attach_error(form, work.error)
        return _render_record(entry, client, paper_form=form, status=400)
    if not work.ok:
        flash(work.error.message, "danger")
        return redirect(url_for("suitability.record_detail", record_id=record_id))
    flash(_("The client's signed paper form was recorded: the warning is confirmed."), "success")
    return redirect(url_for("suitability.record_detail", record_id=entry.id))


# --- the client's own warnings ---------------------------------------------------------------------------------

@bp.route("/me/suitability")
@allow("client")
def my_records():
    client = _own_client()
    pending = ops.pending_warnings(client)
    language = portal_language()
    warnings = []
    for entry in pending:
        name = entry.product.name_zh if language == "zh_CN" else entry.product.name_en
        warnings.append({"record": entry, "product_name": name,
                         "text": texts.warning_for_client(name, entry.product_risk_level, entry.client_grade,
                                                          entry.action),
                         "elderly": (texts.elderly_prompt_for_client(entry.client_age, entry.product_risk_level)
                                     if entry.elderly_prompt else None)})
    pagination, rows = _history_rows(client, page_arg())
    return render_template("suitability/mine.html", client=client, warnings=warnings, pagination=pagination,
                           rows=rows, confirm_form=ConfirmWarningForm(), slabels=suitability_labels(),
                           badge=texts.STATUS_BADGE, language=language)


@bp.route("/me/suitability/<int:record_id>/confirm", methods=["POST"])
@allow("client")
def confirm(record_id: int):
    client = _own_client()
    entry, _client = _record_or_404(record_id)  # someone else's record: 404, logged
    form = ConfirmWarningForm()
    if not form.validate_on_submit():
        return _render_record(entry, client, confirm_form=form, status=400)
    with unit_of_work(flash=True) as work:
        ops.confirm_warning(entry, client, current_user, method="client")
    if not work.ok:
        return redirect(url_for("suitability.record_detail", record_id=record_id))
    flash(_("Thank you: you confirmed the special risk warning. Your relationship manager can now go ahead."),
          "success")
    return redirect(url_for("suitability.my_records"))

