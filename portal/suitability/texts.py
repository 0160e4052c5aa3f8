"""What the suitability pages say: reasons, the special risk warning and the extra-care prompt."""
from __future__ import annotations

from flask_babel import gettext as _

from portal.rules import suitability as rules
from portal.rules.vocabulary import GRADES, level_name, max_level_of

STATUS_BADGE = {"allowed": "text-bg-success", "awaiting": "text-bg-warning", "confirmed": "text-bg-primary",
                "refused": "text-bg-danger", "lapsed": "text-bg-secondary"}


def reason_text(reason: dict) -> str:
    """One stored reason, with its figures, as a sentence."""
    code = reason.get("code")
    level, grade, most = reason.get("product_level", ""), reason.get("grade", ""), reason.get("max_level", "")
    if code == rules.NO_VALID_PROFILE:
        return _("No valid risk profile on the date checked: no product may be recommended or sold until the risk "
                 "questionnaire is completed (product %(level)s).", level=level)
    if code == rules.LOWEST_CATEGORY:
        return _("Lowest risk-tolerance category: only %(max)s products may be taken; %(level)s is refused "
                 "outright (grade %(grade)s).", max=most, level=level, grade=grade)
    if code == rules.ABOVE_TOLERANCE:
        return _("Risk level %(level)s is above the client's risk tolerance (%(grade)s, products up to %(max)s): "
                 "special risk warning; it goes ahead only with the client's recorded confirmation.",
                 level=level, grade=grade, max=most)
    if code == rules.WITHIN_TOLERANCE:
        return _("Risk level %(level)s is within the client's risk tolerance (%(grade)s, products up to %(max)s).",
                 level=level, grade=grade, max=most)
    if code == rules.PROFESSIONAL:
        return _("Professional investor: products of any risk level may be taken (%(level)s; grade %(grade)s).",
                 level=level, grade=grade)
    if code == rules.ELDERLY:
        return _("The client is %(age)s years old and the product is %(level)s: extra care is required.",
                 age=reason.get("age", ""), level=level)
    return str(code)


def elderly_prompt_for_manager(age: int) -> str:
    return _("The client is %(age)d years old. Before recording a product of risk level R4 or R5, give the "
             "extra-care explanation: explain in plain words what the product invests in, how much could be lost "
             "and how easily it can be sold; check that the client has understood; suggest that a family member "
             "be present.", age=age)


def elderly_prompt_for_client(age: int, level: int) -> str:
    return _("You are %(age)d years old and this product is of risk level R%(level)d. Please take extra care: "
             "read the product documents in full, ask your relationship manager to explain anything that is not "
             "clear, and consider having a family member with you before you decide.", age=age, level=level)


def warning_for_client(product_name: str, level: int, grade: str | None, action: str) -> str:
    """The special risk warning the client reads before confirming."""
    most = level_name(max_level_of(grade)) if grade in GRADES else "—"
    what = _("recommendation") if action == "recommendation" else _("subscription")
    return _("The product %(product)s is of risk level R%(level)d. Your risk tolerance is %(grade)s, which suits "
             "products up to %(max)s: this product is above it, and you could lose part or all of the money you "
             "put in, more than you told us you could bear. Your relationship manager recorded this %(what)s for "
             "you; it goes ahead only if you confirm that you have read this warning, understand the risks, and "
             "still wish to go ahead of your own choice.", product=product_name, level=level, grade=grade or "—",
             max=most, what=what)
