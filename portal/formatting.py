"""Labels and filters templates use, so every user-visible word passes through Babel."""
from __future__ import annotations

from datetime import date, datetime

from models.clients import mask_id_number
from flask_babel import format_date, format_datetime, get_locale, lazy_gettext as _l


def portal_language() -> str:
    """The portal's language code for the current request: `zh_CN` or `en`.

    Babel canonicalises zh_CN to zh_Hans_CN; translations/zh_Hans_CN is a link to the zh_CN catalog.
    """
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def labels() -> dict:
    """Display names of coded values; lazy strings, so one dict serves every language."""
    global _LABELS
    if _LABELS is None:
        _LABELS = _build_labels()
    return _LABELS


_LABELS: dict | None = None


def _build_labels() -> dict:
    return {
        "role": {
            "client": _l("Client"), "rm": _l("Relationship manager"), "supervisor": _l("Supervisor"),
            "compliance": _l("Compliance officer"), "admin": _l("Administrator"),
        },
        "level": {
            "junior": _l("Junior relationship manager"), "mid": _l("Mid-level relationship manager"),
            "senior": _l("Senior relationship manager"), "principal": _l("Principal relationship manager"),
        },
        "status": {"active": _l("Active"), "on_leave": _l("On leave"), "left": _l("Left")},
        "id_type": {
            "resident_id": _l("Resident ID card"), "passport": _l("Passport"),
            "hk_macau_permit": _l("Mainland travel permit for Hong Kong and Macao residents"),
            "taiwan_permit": _l("Mainland travel permit for Taiwan residents"),
            "foreign_permanent": _l("Foreign permanent resident ID card"),
        },
        "outcome": {"ok": _l("Succeeded"), "denied": _l("Refused"), "failed": _l("Failed")},
        "risk_class": {"conservative": _l("Conservative"), "balanced": _l("Balanced"),
                       "aggressive": _l("Aggressive")},
        "profile_status": {"valid": _l("Valid"), "expiring": _l("Expiring"), "expired": _l("Expired"),
                           "none": _l("No profile")},
        "investor_category": {"ordinary": _l("Ordinary investor"), "professional": _l("Professional investor")},
        "language": {"zh_CN": "简体中文", "en": "English"},
    }


def dash(value):
    """Empty values show as an em dash, never as 'None'."""
    return "—" if value is None or value == "" else value


def fmt_date(value):
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "medium") if isinstance(value, date) else value


def fmt_datetime(value):
    return "—" if value is None else format_datetime(value, "medium")


def iso_date(value):
    return "" if value is None else value.isoformat()


FILTERS = {"dash": dash, "date": fmt_date, "datetime": fmt_datetime, "iso": iso_date, "mask_id": mask_id_number}
